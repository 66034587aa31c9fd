//! Money: an amount in integer minor units (cents, pence, yen) with its ISO 4217 currency.
//!
//! Pure: no I/O and no spin-sdk. Floating point never touches an amount; arithmetic is checked
//! and mixing currencies is an error, not a conversion.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a currency code or an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The code is not one of the ISO 4217 currencies ShopNow trades in.
    #[error("`{0}` is not a supported ISO 4217 currency code")]
    UnknownCurrency(String),
    /// Amounts are never negative.
    #[error("an amount cannot be negative")]
    Negative,
    /// The amount is above [`Money::MAX_MINOR`].
    #[error("the amount is too large")]
    TooLarge,
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
}

/// An ISO 4217 currency that ShopNow accepts, with its number of minor-unit digits.
///
/// A closed list rather than any three letters: a typo (`EUT`) must be refused, and the number of
/// minor digits decides how an amount is shown and rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

/// The supported currencies: code and minor-unit digits, from ISO 4217.
const CURRENCIES: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("ZAR", 2),
];

impl Currency {
    /// Parses an upper-case ISO 4217 code.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] when the code is not in the supported list (lower case is
    /// refused too: the wire format is the canonical upper-case code).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .and_then(|(known, digits)| {
                let bytes: [u8; 3] = known.as_bytes().try_into().ok()?;
                Some(Self {
                    code: bytes,
                    minor_digits: *digits,
                })
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(8).collect()))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes come from the ASCII table above, so this never falls back.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// How many digits the minor unit has (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn minor_digits(&self) -> u8 {
        self.minor_digits
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// A non-negative amount of one currency, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// The largest amount accepted: 10^15 minor units (ten trillion dollars), far above any
    /// order, and low enough that a line total (amount × 99) cannot overflow an `i64`.
    pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

    /// Builds an amount from minor units.
    ///
    /// # Errors
    /// [`MoneyError::Negative`] below zero, [`MoneyError::TooLarge`] above [`Self::MAX_MINOR`].
    pub fn parse(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        if amount > Self::MAX_MINOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self { amount, currency })
    }

    /// Zero of a currency.
    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: 0,
            currency,
        }
    }

    /// The amount in minor units.
    pub fn amount(&self) -> i64 {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] for different currencies, [`MoneyError::TooLarge`] when
    /// the sum passes [`Self::MAX_MINOR`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::TooLarge)?;
        Money::parse(sum, self.currency)
    }

    /// Multiplies by a quantity (a line total).
    ///
    /// # Errors
    /// [`MoneyError::TooLarge`] when the product passes [`Self::MAX_MINOR`].
    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::TooLarge)?;
        Money::parse(product, self.currency)
    }

    /// Sums amounts that must all share `currency`; an empty list is zero.
    ///
    /// # Errors
    /// As [`Self::checked_add`].
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

impl fmt::Display for Money {
    /// `12.34 EUR`, `1500 JPY`: the amount with the currency's minor digits, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = u32::from(self.currency.minor_digits);
        if digits == 0 {
            return write!(f, "{} {}", self.amount, self.currency);
        }
        let scale = 10_i64.pow(digits);
        write!(
            f,
            "{}.{:0width$} {}",
            self.amount / scale,
            self.amount % scale,
            self.currency,
            width = digits as usize
        )
    }
}

/// The wire form, `{amount, currency}`, validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyWire {
    amount: i64,
    currency: String,
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        let currency = Currency::parse(&wire.currency).map_err(serde::de::Error::custom)?;
        Money::parse(wire.amount, currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn currency_parse_accepts_known_codes_and_refuses_others() {
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_digits(), 3);
        for bad in ["eur", "EU", "EURO", "XXX", "", "€"] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn money_refuses_negative_and_huge_amounts() {
        assert_eq!(Money::parse(-1, eur()), Err(MoneyError::Negative));
        assert_eq!(
            Money::parse(Money::MAX_MINOR + 1, eur()),
            Err(MoneyError::TooLarge)
        );
        assert!(Money::parse(Money::MAX_MINOR, eur()).is_ok());
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let usd = Currency::parse("USD").unwrap();
        let result = Money::zero(eur()).checked_add(Money::zero(usd));
        assert!(matches!(result, Err(MoneyError::CurrencyMismatch(..))));
    }

    #[test]
    fn display_uses_minor_digits() {
        assert_eq!(Money::parse(1234, eur()).unwrap().to_string(), "12.34 EUR");
        assert_eq!(Money::parse(5, eur()).unwrap().to_string(), "0.05 EUR");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse(1500, jpy).unwrap().to_string(), "1500 JPY");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse(1005, kwd).unwrap().to_string(), "1.005 KWD");
    }

    #[test]
    fn wire_form_round_trips_and_rejects_unknown_fields() {
        let money: Money = serde_json::from_str(r#"{"amount":1999,"currency":"EUR"}"#).unwrap();
        assert_eq!(money.amount(), 1999);
        assert_eq!(
            serde_json::to_string(&money).unwrap(),
            r#"{"amount":1999,"currency":"EUR"}"#
        );
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"EUR","x":1}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":-1,"currency":"EUR"}"#).is_err());
    }

    proptest! {
        #[test]
        fn addition_is_exact_and_commutative(a in 0..Money::MAX_MINOR / 2, b in 0..Money::MAX_MINOR / 2) {
            let x = Money::parse(a, eur()).unwrap();
            let y = Money::parse(b, eur()).unwrap();
            let sum = x.checked_add(y).unwrap();
            prop_assert_eq!(sum.amount(), a + b);
            prop_assert_eq!(sum, y.checked_add(x).unwrap());
        }

        #[test]
        fn multiplication_never_overflows_silently(a in 0..=Money::MAX_MINOR, q in 0u32..=1_000) {
            let x = Money::parse(a, eur()).unwrap();
            match x.checked_mul(q) {
                Ok(total) => prop_assert_eq!(i128::from(total.amount()), i128::from(a) * i128::from(q)),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::TooLarge);
                    prop_assert!(i128::from(a) * i128::from(q) > i128::from(Money::MAX_MINOR));
                }
            }
        }

        #[test]
        fn any_amount_in_range_round_trips_through_json(a in 0..=Money::MAX_MINOR) {
            let x = Money::parse(a, eur()).unwrap();
            let back: Money = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            prop_assert_eq!(back, x);
        }
    }
}
