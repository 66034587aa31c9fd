//! Product search: query terms, filters, sort orders and keyset positions. The SQL adapters turn
//! a [`ProductSearch`] into PostgreSQL full-text search or SQLite FTS5; both read the same
//! normalised terms, so they agree on what matches.

use serde::{Deserialize, Serialize};
use shopnow_money::Currency;

/// Most terms a query may have (more are ignored).
pub const MAX_TERMS: usize = 8;
/// Longest `q`, in characters.
pub const MAX_QUERY_LEN: usize = 200;

/// PostgreSQL's `english` stop words (the Snowball list). Dropped from every query on both
/// backends: PostgreSQL ignores them, SQLite FTS5 would otherwise require them, and the two
/// backends must return the same results.
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

/// Why a search was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// `q` longer than [`MAX_QUERY_LEN`].
    #[error("q must be at most 200 characters")]
    QueryTooLong,
    /// `sort=relevance` without `q`.
    #[error("sort=relevance needs q")]
    RelevanceWithoutQuery,
    /// A price bound without `currency`.
    #[error("min_price and max_price need currency")]
    PriceWithoutCurrency,
    /// `min_price` above `max_price`.
    #[error("min_price must not exceed max_price")]
    EmptyPriceRange,
}

/// Normalised query terms: lower-case runs of letters and digits, stop words removed, each
/// term once, at most [`MAX_TERMS`]. Every term is alphanumeric, so it is safe to splice into
/// an FTS expression (it is still passed as a parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// Splits `q` into terms.
    ///
    /// # Errors
    /// [`SearchError::QueryTooLong`].
    pub fn parse(q: &str) -> Result<Self, SearchError> {
        if q.chars().count() > MAX_QUERY_LEN {
            return Err(SearchError::QueryTooLong);
        }
        let mut terms: Vec<String> = Vec::new();
        for word in q.split(|c: char| !c.is_alphanumeric()) {
            let word = word.to_lowercase();
            if word.is_empty() || STOP_WORDS.contains(&word.as_str()) || terms.contains(&word) {
                continue;
            }
            if terms.len() == MAX_TERMS {
                break;
            }
            terms.push(word);
        }
        Ok(Self(terms))
    }

    /// The terms.
    pub fn terms(&self) -> &[String] {
        &self.0
    }

    /// Whether nothing searchable is left (only stop words or punctuation): matches nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    /// Title matches first, then newest (needs `q`).
    #[serde(rename = "relevance")]
    Relevance,
    /// Cheapest first.
    #[serde(rename = "price")]
    PriceAsc,
    /// Dearest first.
    #[serde(rename = "-price")]
    PriceDesc,
    /// Newest first.
    #[serde(rename = "newest")]
    Newest,
    /// Most units sold first (placed orders minus cancelled ones).
    #[serde(rename = "bestselling")]
    Bestselling,
}

impl Sort {
    /// Parses the `sort` parameter.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "relevance" => Some(Self::Relevance),
            "price" => Some(Self::PriceAsc),
            "-price" => Some(Self::PriceDesc),
            "newest" => Some(Self::Newest),
            "bestselling" => Some(Self::Bestselling),
            _ => None,
        }
    }

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::PriceAsc => "price",
            Self::PriceDesc => "-price",
            Self::Newest => "newest",
            Self::Bestselling => "bestselling",
        }
    }
}

/// The sort key of the last row of a page; the next page starts strictly after it. Every sort
/// ends with the unique id, so the order is total and inserts while paging cause no duplicates
/// and no gaps. Relevance is an integer tier (title match or not) rather than a floating rank:
/// SQLite's bm25 depends on corpus statistics and would shift under concurrent inserts, and the
/// two backends' ranks differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyset {
    /// 1 when every term is in the title, else 0 (relevance sort only).
    #[serde(rename = "t")]
    pub tier: i64,
    /// Price in minor units (price sorts only).
    #[serde(rename = "p")]
    pub price: i64,
    /// Creation time (newest and relevance sorts).
    #[serde(rename = "c")]
    pub created_at_ms: i64,
    /// Units sold (bestselling sort only; absent in cursors made before it existed).
    #[serde(rename = "s", default)]
    pub units_sold: i64,
    /// Product id.
    #[serde(rename = "i")]
    pub id: String,
}

/// A validated product search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSearch {
    /// Text terms (`q`), if given.
    pub terms: Option<SearchTerms>,
    /// Category id; subcategories are included.
    pub category_id: Option<String>,
    /// Seller id.
    pub seller_id: Option<String>,
    /// Lowest price, minor units, inclusive.
    pub min_price: Option<i64>,
    /// Highest price, minor units, inclusive.
    pub max_price: Option<i64>,
    /// Currency filter.
    pub currency: Option<Currency>,
    /// Order.
    pub sort: Sort,
    /// Page size.
    pub limit: u32,
    /// Start after this position.
    pub after: Option<Keyset>,
}

/// The search parameters before validation (from the query string).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// `q`.
    pub q: Option<String>,
    /// `category`.
    pub category_id: Option<String>,
    /// `seller`.
    pub seller_id: Option<String>,
    /// `min_price`.
    pub min_price: Option<i64>,
    /// `max_price`.
    pub max_price: Option<i64>,
    /// `currency`.
    pub currency: Option<Currency>,
    /// `sort`.
    pub sort: Option<Sort>,
    /// Page size, already clamped.
    pub limit: u32,
}

impl ProductSearch {
    /// Validates the parameters; `after` is set later from the cursor.
    ///
    /// # Errors
    /// [`SearchError`] for a long `q`, relevance without `q`, price bounds without a currency,
    /// or an empty price range.
    pub fn parse(params: SearchParams) -> Result<Self, SearchError> {
        let terms = params.q.as_deref().map(SearchTerms::parse).transpose()?;
        let sort = match (params.sort, &terms) {
            (Some(Sort::Relevance), None) => return Err(SearchError::RelevanceWithoutQuery),
            (Some(sort), _) => sort,
            (None, Some(_)) => Sort::Relevance,
            (None, None) => Sort::Newest,
        };
        if (params.min_price.is_some() || params.max_price.is_some()) && params.currency.is_none() {
            return Err(SearchError::PriceWithoutCurrency);
        }
        if let (Some(min), Some(max)) = (params.min_price, params.max_price)
            && min > max
        {
            return Err(SearchError::EmptyPriceRange);
        }
        Ok(Self {
            terms,
            category_id: params.category_id,
            seller_id: params.seller_id,
            min_price: params.min_price,
            max_price: params.max_price,
            currency: params.currency,
            sort,
            limit: params.limit,
            after: None,
        })
    }

    /// A digest of the filters and sort (not the page size), sealed into cursors so a cursor
    /// cannot be replayed against another search.
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            self.terms.as_ref().map(SearchTerms::terms),
            self.category_id,
            self.seller_id,
            self.min_price,
            self.max_price,
            self.currency.map(|c| c.code().to_owned()),
            self.sort.as_str()
        );
        let digest = hmac_sha256::Hash::hash(text.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// What a cursor carries: the search it belongs to and where the page ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPosition {
    /// [`ProductSearch::fingerprint`] of the search.
    #[serde(rename = "f")]
    pub fingerprint: String,
    /// The last row's sort key.
    #[serde(rename = "k")]
    pub after: Keyset,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SearchParams {
        SearchParams {
            limit: 20,
            ..SearchParams::default()
        }
    }

    #[test]
    fn terms_are_lowercased_deduplicated_and_stripped_of_stop_words() {
        let terms = SearchTerms::parse("The Brass LAMP, brass-lamp & a shade!").unwrap();
        assert_eq!(terms.terms(), ["brass", "lamp", "shade"]);
        assert!(SearchTerms::parse("the of and").unwrap().is_empty());
        assert!(SearchTerms::parse(&"x".repeat(201)).is_err());
        let many = SearchTerms::parse("a1 a2 a3 a4 a5 a6 a7 a8 a9 a10").unwrap();
        assert_eq!(many.terms().len(), MAX_TERMS);
    }

    #[test]
    fn terms_are_only_letters_and_digits() {
        let terms = SearchTerms::parse("\"lamp\" OR NEAR(x) * ' ; -- ü40w").unwrap();
        for term in terms.terms() {
            assert!(term.chars().all(char::is_alphanumeric), "{term}");
        }
    }

    #[test]
    fn default_sort_depends_on_q() {
        assert_eq!(ProductSearch::parse(params()).unwrap().sort, Sort::Newest);
        let with_q = SearchParams {
            q: Some("lamp".into()),
            ..params()
        };
        assert_eq!(ProductSearch::parse(with_q).unwrap().sort, Sort::Relevance);
        let relevance_alone = SearchParams {
            sort: Some(Sort::Relevance),
            ..params()
        };
        assert_eq!(
            ProductSearch::parse(relevance_alone),
            Err(SearchError::RelevanceWithoutQuery)
        );
    }

    #[test]
    fn price_bounds_need_a_currency_and_a_non_empty_range() {
        let no_currency = SearchParams {
            min_price: Some(1),
            ..params()
        };
        assert_eq!(
            ProductSearch::parse(no_currency),
            Err(SearchError::PriceWithoutCurrency)
        );
        let inverted = SearchParams {
            min_price: Some(10),
            max_price: Some(5),
            currency: Currency::parse("EUR").ok(),
            ..params()
        };
        assert_eq!(
            ProductSearch::parse(inverted),
            Err(SearchError::EmptyPriceRange)
        );
    }

    #[test]
    fn fingerprints_differ_by_filter_but_not_by_page_size() {
        let a = ProductSearch::parse(params()).unwrap();
        let b = ProductSearch::parse(SearchParams {
            limit: 5,
            ..params()
        })
        .unwrap();
        let c = ProductSearch::parse(SearchParams {
            seller_id: Some("s".into()),
            ..params()
        })
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn sorts_round_trip() {
        for sort in [
            Sort::Relevance,
            Sort::PriceAsc,
            Sort::PriceDesc,
            Sort::Newest,
            Sort::Bestselling,
        ] {
            assert_eq!(Sort::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(Sort::parse("cheapest"), None);
    }
}
