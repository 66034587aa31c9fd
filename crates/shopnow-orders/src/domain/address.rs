//! The shipping address of an order: validated once, stored as given (trimmed), shown to the
//! buyer and to each seller who ships part of the order.

use serde::{Deserialize, Serialize};

/// A shipping address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    /// Recipient's name.
    pub name: String,
    /// First address line.
    pub line1: String,
    /// Second address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
}

/// The unvalidated parts of an address, as they came off the wire.
#[derive(Debug, Clone, Default)]
pub struct AddressParts<'a> {
    /// Recipient's name.
    pub name: Option<&'a str>,
    /// First line.
    pub line1: Option<&'a str>,
    /// Second line.
    pub line2: Option<&'a str>,
    /// City.
    pub city: Option<&'a str>,
    /// Region.
    pub region: Option<&'a str>,
    /// Postal code.
    pub postal_code: Option<&'a str>,
    /// Country code.
    pub country: Option<&'a str>,
}

/// One invalid address field: its name and why.
pub type AddressFieldError = (&'static str, &'static str);

fn text(
    value: Option<&str>,
    field: &'static str,
    max: usize,
    required: bool,
    errors: &mut Vec<AddressFieldError>,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match value {
        None if required => {
            errors.push((field, "is required"));
            None
        }
        None => None,
        Some(v) if v.chars().count() > max => {
            errors.push((field, "is too long"));
            None
        }
        Some(v) if v.chars().any(char::is_control) => {
            errors.push((field, "must not contain control characters"));
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

impl ShippingAddress {
    /// Validates every part, reporting every bad field at once.
    ///
    /// # Errors
    /// The list of `(field, reason)` pairs: required fields missing or blank, text over its
    /// limit (name, city, region 100; lines 200; postal code 20 characters) or with control
    /// characters, a country that is not two upper-case letters.
    pub fn parse(parts: &AddressParts<'_>) -> Result<Self, Vec<AddressFieldError>> {
        let mut errors = Vec::new();
        let name = text(parts.name, "name", 100, true, &mut errors);
        let line1 = text(parts.line1, "line1", 200, true, &mut errors);
        let line2 = text(parts.line2, "line2", 200, false, &mut errors);
        let city = text(parts.city, "city", 100, true, &mut errors);
        let region = text(parts.region, "region", 100, false, &mut errors);
        let postal_code = text(parts.postal_code, "postal_code", 20, true, &mut errors);
        let country = match parts.country.map(str::trim) {
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                Some(c.to_owned())
            }
            Some(_) => {
                errors.push(("country", "must be an ISO 3166-1 alpha-2 code such as DE"));
                None
            }
            None => {
                errors.push(("country", "is required"));
                None
            }
        };
        match (name, line1, city, postal_code, country) {
            (Some(name), Some(line1), Some(city), Some(postal_code), Some(country))
                if errors.is_empty() =>
            {
                Ok(Self {
                    name,
                    line1,
                    line2,
                    city,
                    region,
                    postal_code,
                    country,
                })
            }
            _ => Err(errors),
        }
    }
}

/// What replaces each personal part of an address when its buyer's account is erased.
pub const REDACTED: &str = "[redacted]";

impl ShippingAddress {
    /// This address with the recipient's name and every line that locates them replaced by
    /// [`REDACTED`] (optional parts dropped); the country stays, for the accounting of the
    /// order (tax is due by destination country), and says nothing about the person.
    pub fn redacted(&self) -> Self {
        Self {
            name: REDACTED.to_owned(),
            line1: REDACTED.to_owned(),
            line2: None,
            city: REDACTED.to_owned(),
            region: None,
            postal_code: REDACTED.to_owned(),
            country: self.country.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> AddressParts<'static> {
        AddressParts {
            name: Some(" Ada Lovelace "),
            line1: Some("12 St James's Square"),
            line2: None,
            city: Some("London"),
            region: None,
            postal_code: Some("SW1Y 4JH"),
            country: Some("GB"),
        }
    }

    #[test]
    fn a_complete_address_is_trimmed_and_accepted() {
        let address = ShippingAddress::parse(&parts()).unwrap();
        assert_eq!(address.name, "Ada Lovelace");
        assert_eq!(address.country, "GB");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut p = parts();
        p.name = Some("  ");
        p.city = None;
        p.country = Some("gb");
        let long = "x".repeat(201);
        p.line1 = Some(&long);
        let errors = ShippingAddress::parse(&p).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["name", "line1", "city", "country"]);
    }

    #[test]
    fn a_redacted_address_keeps_only_the_country_and_redacting_twice_changes_nothing() {
        let address = ShippingAddress {
            name: "Ada Lovelace".into(),
            line1: "12 St James's Square".into(),
            line2: Some("Flat 2".into()),
            city: "London".into(),
            region: Some("Greater London".into()),
            postal_code: "SW1Y 4JH".into(),
            country: "GB".into(),
        };
        let redacted = address.redacted();
        let text = serde_json::to_string(&redacted).unwrap();
        for personal in ["Ada", "James", "Flat", "London", "SW1Y"] {
            assert!(!text.contains(personal), "{text}");
        }
        assert_eq!(redacted.country, "GB");
        assert_eq!(redacted.name, REDACTED);
        assert_eq!(redacted.redacted(), redacted);
    }
}
