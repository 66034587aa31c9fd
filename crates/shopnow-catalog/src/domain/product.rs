//! Products: validated text, the status machine (`active` → `archived`), and the edits a seller
//! may make.

use shopnow_money::Money;

use super::attributes::Attributes;
use super::stock::StockLevel;
use super::text::is_clean;

/// Longest title, in characters.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 5000;

/// Why a product field or transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// Title empty, too long or with control characters.
    #[error("must be 1 to 200 characters without control characters")]
    BadTitle,
    /// Description too long or with control characters other than newlines and tabs.
    #[error("must be at most 5000 characters without control characters")]
    BadDescription,
    /// Price zero (a sale needs a price) or out of range.
    #[error("amount must be a positive integer number of minor units")]
    BadPrice,
    /// The product is archived already.
    #[error("the product is already archived")]
    AlreadyArchived,
    /// Archived products cannot be edited or restocked.
    #[error("the product is archived")]
    Archived,
}

/// A product title: trimmed, 1..=200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Trims and validates `raw`.
    ///
    /// # Errors
    /// [`ProductError::BadTitle`].
    pub fn parse(raw: &str) -> Result<Self, ProductError> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if len == 0 || len > MAX_TITLE_LEN || !is_clean(trimmed, false) {
            return Err(ProductError::BadTitle);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product description: trimmed, up to 5000 characters, may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Trims and validates `raw`.
    ///
    /// # Errors
    /// [`ProductError::BadDescription`].
    pub fn parse(raw: &str) -> Result<Self, ProductError> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_DESCRIPTION_LEN || !is_clean(trimmed, true) {
            return Err(ProductError::BadDescription);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates a product price: positive minor units.
///
/// # Errors
/// [`ProductError::BadPrice`] for zero.
pub fn check_price(price: Money) -> Result<Money, ProductError> {
    if price.amount() > 0 {
        Ok(price)
    } else {
        Err(ProductError::BadPrice)
    }
}

/// Where a product is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    /// Listed: browsable, editable, reservable.
    Active,
    /// Withdrawn by its seller or an admin: hidden from everyone else, not reservable; kept so
    /// orders that reference it stay intact.
    Archived,
}

impl ProductStatus {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    /// Parses the storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }

    /// `active` → `archived`.
    ///
    /// # Errors
    /// [`ProductError::AlreadyArchived`] from `archived`.
    pub fn archive(self) -> Result<Self, ProductError> {
        match self {
            Self::Active => Ok(Self::Archived),
            Self::Archived => Err(ProductError::AlreadyArchived),
        }
    }

    /// Succeeds if a product in this status may be edited or restocked.
    ///
    /// # Errors
    /// [`ProductError::Archived`] for archived products.
    pub fn ensure_editable(self) -> Result<(), ProductError> {
        match self {
            Self::Active => Ok(()),
            Self::Archived => Err(ProductError::Archived),
        }
    }
}

/// A product as stored and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// UUIDv7.
    pub id: String,
    /// The owning seller's user id.
    pub seller_id: String,
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Category id.
    pub category_id: String,
    /// Unit price.
    pub price: Money,
    /// Flexible attributes.
    pub attributes: Attributes,
    /// Stock, with `reserved` counting only live (unexpired) holds.
    pub stock: StockLevel,
    /// Status.
    pub status: ProductStatus,
    /// Increments on every edit by the seller or an admin (fields, stock level, archival);
    /// reservations do not change it.
    pub version: i64,
    /// Creation time, epoch ms.
    pub created_at_ms: i64,
    /// Last edit, epoch ms.
    pub updated_at_ms: i64,
    /// Units sold: placed orders' units minus cancelled ones, as the catalog's consumer of the
    /// orders stream has applied them (docs/events.md, "Consumers"); not an edit (`version`
    /// stays).
    pub units_sold: i64,
}

impl Product {
    /// The entity tag of the product's current representation. It covers `version`, the live
    /// stock figures and the units sold, because those change without a seller edit
    /// (reservations, sales, holds lapsing); everything else in the representation changes only
    /// with `version`.
    pub fn etag(&self) -> String {
        format!(
            "\"{}.{}.{}.{}\"",
            self.version,
            self.stock.on_hand(),
            self.stock.reserved(),
            self.units_sold
        )
    }

    /// Whether `principal_id` owns the product.
    pub fn is_owned_by(&self, principal_id: &str) -> bool {
        self.seller_id == principal_id
    }
}

/// Field changes a seller may make with PATCH. `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChanges {
    /// New title.
    pub title: Option<Title>,
    /// New description.
    pub description: Option<Description>,
    /// New category id (checked to exist by the use case).
    pub category_id: Option<String>,
    /// New price.
    pub price: Option<Money>,
    /// Replacement attributes (the whole object).
    pub attributes: Option<Attributes>,
}

impl ProductChanges {
    /// Whether no field changes.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.category_id.is_none()
            && self.price.is_none()
            && self.attributes.is_none()
    }

    /// Applies the changes to `product`, bumping its version and update time.
    ///
    /// # Errors
    /// [`ProductError::Archived`] when the product is archived.
    pub fn apply(self, product: &Product, now_ms: i64) -> Result<Product, ProductError> {
        product.status.ensure_editable()?;
        let mut next = product.clone();
        if let Some(title) = self.title {
            next.title = title;
        }
        if let Some(description) = self.description {
            next.description = description;
        }
        if let Some(category_id) = self.category_id {
            next.category_id = category_id;
        }
        if let Some(price) = self.price {
            next.price = price;
        }
        if let Some(attributes) = self.attributes {
            next.attributes = attributes;
        }
        next.version = product.version.saturating_add(1);
        next.updated_at_ms = now_ms.max(product.updated_at_ms);
        Ok(next)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::stock::OnHand;
    use shopnow_money::Currency;

    pub(crate) fn product() -> Product {
        Product {
            id: "0190a000-0000-7000-8000-000000000001".into(),
            seller_id: "seller-1".into(),
            title: Title::parse("Brass desk lamp").unwrap(),
            description: Description::parse("Warm light.").unwrap(),
            category_id: "0190a000-0000-7000-8000-0000000000c1".into(),
            price: Money::parse(4999, Currency::parse("EUR").unwrap()).unwrap(),
            attributes: Attributes::default(),
            stock: StockLevel::new(OnHand::parse(5).unwrap()),
            status: ProductStatus::Active,
            version: 1,
            created_at_ms: 1_000,
            updated_at_ms: 1_000,
            units_sold: 0,
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(Title::parse("  Lamp ").unwrap().as_str(), "Lamp");
        assert_eq!(Title::parse(" "), Err(ProductError::BadTitle));
        assert_eq!(Title::parse(&"t".repeat(201)), Err(ProductError::BadTitle));
        assert!(Title::parse(&"t".repeat(200)).is_ok());
        assert_eq!(Title::parse("a\nb"), Err(ProductError::BadTitle));
    }

    #[test]
    fn descriptions_may_be_empty_and_multiline() {
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert!(Description::parse("line one\nline two").is_ok());
        assert!(Description::parse(&"d".repeat(5001)).is_err());
        assert!(Description::parse("bell\u{7}").is_err());
    }

    #[test]
    fn prices_must_be_positive() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            check_price(Money::parse(0, eur).unwrap()),
            Err(ProductError::BadPrice)
        );
        assert!(check_price(Money::parse(1, eur).unwrap()).is_ok());
    }

    #[test]
    fn archiving_is_one_way_and_only_once() {
        assert_eq!(ProductStatus::Active.archive(), Ok(ProductStatus::Archived));
        assert_eq!(
            ProductStatus::Archived.archive(),
            Err(ProductError::AlreadyArchived)
        );
        assert_eq!(
            ProductStatus::Archived.ensure_editable(),
            Err(ProductError::Archived)
        );
        for status in [ProductStatus::Active, ProductStatus::Archived] {
            assert_eq!(ProductStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ProductStatus::parse("deleted"), None);
    }

    #[test]
    fn changes_bump_the_version_and_keep_untouched_fields() {
        let before = product();
        let changes = ProductChanges {
            title: Some(Title::parse("Brass floor lamp").unwrap()),
            ..ProductChanges::default()
        };
        let after = changes.apply(&before, 2_000).unwrap();
        assert_eq!(after.title.as_str(), "Brass floor lamp");
        assert_eq!(after.description, before.description);
        assert_eq!(after.version, 2);
        assert_eq!(after.updated_at_ms, 2_000);
        assert_ne!(after.etag(), before.etag());
    }

    #[test]
    fn archived_products_cannot_be_changed() {
        let mut archived = product();
        archived.status = ProductStatus::Archived;
        let changes = ProductChanges {
            title: Some(Title::parse("x").unwrap()),
            ..ProductChanges::default()
        };
        assert_eq!(changes.apply(&archived, 5), Err(ProductError::Archived));
    }

    #[test]
    fn the_etag_follows_live_stock_and_sales() {
        let before = product();
        let mut held = before.clone();
        held.stock = StockLevel::from_counts(5, 1);
        assert_ne!(before.etag(), held.etag());
        let mut sold = before.clone();
        sold.units_sold = 2;
        assert_ne!(before.etag(), sold.etag());
        assert_eq!(before.etag(), "\"1.5.0.0\"");
    }
}
