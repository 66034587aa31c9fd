//! The page frame and the pieces every page shares: header with search and account links, money,
//! field errors, problems in words, and the error pages. Templates are `maud` (escaped by
//! default, checked at compile time). Pure: no I/O.

use maud::{DOCTYPE, Markup, html};
use shopnow_money::Currency;

use crate::api::Problem;
use crate::session::Session;

/// What the frame needs to know about the visitor.
pub struct Chrome<'a> {
    /// The signed-in user.
    pub user: Option<&'a Session>,
    /// The CSRF token for this page's forms.
    pub csrf: &'a str,
    /// The search box's text.
    pub query: &'a str,
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(crate::csrf::FIELD) value=(token); }
}

/// A whole page: `title`, then `main`.
pub fn page(chrome: &Chrome<'_>, title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ShopNow" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="site" {
                    a class="brand" href="/" { "ShopNow" }
                    form class="search" role="search" method="get" action="/search" {
                        label for="site-q" class="visually-hidden" { "Search products" }
                        input id="site-q" type="search" name="q" value=(chrome.query) placeholder="Search products" maxlength="200";
                        button type="submit" { "Search" }
                    }
                    nav aria-label="Account" {
                        ul {
                            @if let Some(user) = chrome.user {
                                li { a href="/cart" { "Cart" } }
                                li { a href="/orders" { "Orders" } }
                                @if user.has_role("seller") || user.has_role("admin") {
                                    li { a href="/seller/products" { "My products" } }
                                    li { a href="/seller/fulfilments" { "Fulfilments" } }
                                }
                                @if user.has_role("admin") {
                                    li { a href="/admin/categories" { "Categories" } }
                                }
                                li { a href="/account" { "Account (" (user.display_name) ")" } }
                                li {
                                    form method="post" action="/sign-out" class="inline" {
                                        (csrf_field(chrome.csrf))
                                        button type="submit" class="link" { "Sign out" }
                                    }
                                }
                            } @else {
                                li { a href="/sign-in" { "Sign in" } }
                                li { a href="/sign-up" { "Create account" } }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (main) }
                footer class="site" { p { "ShopNow marketplace" } }
            }
        }
    }
}

/// `amount` minor units of `currency` as text (`12.50 EUR`, `1200 JPY`).
pub fn money(amount: i64, currency: &str) -> String {
    let digits = Currency::parse(currency).map_or(2, |c| c.minor_digits());
    if digits == 0 {
        return format!("{amount} {currency}");
    }
    let scale = 10_i64.pow(u32::from(digits));
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$} {currency}",
        abs / scale,
        abs % scale,
        width = usize::from(digits)
    )
}

/// Parses a price typed in major units (`12.5`) into minor units of `currency`.
///
/// # Errors
/// A message for the field when the text is not a non-negative amount with at most the
/// currency's decimals, or the currency is unknown.
pub fn parse_price(text: &str, currency: &str) -> Result<i64, &'static str> {
    let currency = Currency::parse(currency).map_err(|_| "choose a currency")?;
    let digits = usize::from(currency.minor_digits());
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let valid = !whole.is_empty()
        && whole.len() <= 13
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= digits
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(if digits == 0 {
            "enter a whole amount, e.g. 1200"
        } else {
            "enter an amount such as 12.50"
        });
    }
    let padded = format!("{fraction:0<digits$}");
    format!("{whole}{padded}")
        .parse::<i64>()
        .map_err(|_| "the amount is too large")
}

/// The field's error message, linked to its input by `aria-describedby` = `<id>-error`.
pub fn field_error(id: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p class="field-error" id=(format!("{id}-error")) { (message) }
        }
    }
}

/// A labelled text input with its error.
pub fn text_input(
    id: &str,
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    error: Option<&str>,
) -> Markup {
    let described = error.map(|_| format!("{id}-error"));
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            (field_error(id, error))
        }
    }
}

/// A problem shown in words, with what to do about it.
pub fn problem_box(problem: &Problem) -> Markup {
    let advice = match problem.slug.as_str() {
        "validation-failed" => "Correct the fields marked below and send the form again.",
        "out-of-stock" => "Lower the quantity or remove the item, then try again.",
        "payment-declined" => "Your payment was declined. Choose another payment method.",
        "precondition-failed" => {
            "Someone changed this in the meantime. Review the current values and save again."
        }
        "conflict" => "That conflicts with what is already there.",
        "too-many-requests" => "Too many attempts. Wait a few minutes and try again.",
        "invalid-credentials" => "The email address or password is not right.",
        "forbidden" => "Your account is not allowed to do this.",
        "not-found" => "It does not exist, or no longer does.",
        "idempotency-key-in-use" => {
            "Your order is still being placed. Look at your orders in a moment."
        }
        _ => "The request could not be completed.",
    };
    html! {
        div class="problem" role="alert" {
            p { strong { (problem.title) } }
            @if !problem.detail.is_empty() && problem.slug != "validation-failed" { p { (problem.detail) } }
            p { (advice) }
            @if !problem.errors.is_empty() {
                ul {
                    @for e in &problem.errors { li { (e.field) ": " (e.message) } }
                }
            }
        }
    }
}

/// The body of an error page.
pub fn error_body(
    heading: &str,
    message: &str,
    request_id: Option<&str>,
    retry: Option<&str>,
) -> Markup {
    html! {
        h1 { (heading) }
        p { (message) }
        @if let Some(url) = retry { p { a class="button" href=(url) { "Try again" } } }
        @if let Some(id) = request_id {
            p class="request-id" { "Reference: " code { (id) } }
        }
        p { a href="/" { "Back to the shop" } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_with_the_currency_decimals() {
        assert_eq!(money(1250, "EUR"), "12.50 EUR");
        assert_eq!(money(5, "USD"), "0.05 USD");
        assert_eq!(money(1200, "JPY"), "1200 JPY");
    }

    #[test]
    fn prices_are_read_in_major_units() {
        assert_eq!(parse_price("12.5", "EUR"), Ok(1250));
        assert_eq!(parse_price("12", "EUR"), Ok(1200));
        assert_eq!(parse_price("0.05", "USD"), Ok(5));
        assert_eq!(parse_price("1200", "JPY"), Ok(1200));
        assert!(parse_price("12.345", "EUR").is_err());
        assert!(parse_price("1.5", "JPY").is_err());
        assert!(parse_price("-1", "EUR").is_err());
        assert!(parse_price("", "EUR").is_err());
        assert!(parse_price("1e3", "EUR").is_err());
        assert!(parse_price("12", "XXX").is_err());
    }

    #[test]
    fn text_is_escaped() {
        let markup = text_input(
            "t",
            "title",
            "Title",
            "<script>x</script>",
            "text",
            Some("<b>"),
        );
        let html = markup.into_string();
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(html.contains("aria-describedby=\"t-error\""));
    }
}
