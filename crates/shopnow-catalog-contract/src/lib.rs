//! The catalog reservation contract as Rust types, generated from
//! `wit/shopnow/catalog-reservations.wit` by `wit-bindgen` at compile time. Pure: serde and the
//! generated records only, no spin-sdk; catalog (server) and orders (client) both depend on it.
//!
//! Why generated types are the wire types, not a hand-written mirror checked by a test: a mirror
//! drifts until someone runs the test, while here a record changed in the WIT file changes the
//! Rust type both services compile against, so a caller that no longer matches fails to build.
//! The records derive serde, and wit-bindgen maps `kebab-case` WIT fields to `snake_case` Rust
//! fields, which are the JSON names. Generated types cannot carry `#[serde(deny_unknown_fields)]`,
//! so the catalog's HTTP layer rejects unknown members by comparing the body with the
//! re-serialised value (see `components/catalog/src/http/strict.rs`); clients reading responses
//! stay lenient, which lets the catalog add response fields compatibly.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/shopnow/catalog-reservations.wit",
        world: "reservations-contract",
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq, Eq],
        generate_all,
        generate_unused_types: true,
    });
}

pub use bindings::shopnow::catalog::reservations::{
    Money, Reservation, ReservationItem, ReservationLine, ReservationRequest, StockShortage,
};

/// Path of the reservation collection on the catalog's internal surface.
pub const RESERVATIONS_PATH: &str = "/internal/v1/reservations";

/// Path committing the reservation of `order_id`.
pub fn commit_path(order_id: &str) -> String {
    format!("{RESERVATIONS_PATH}/{order_id}/commit")
}

/// Path releasing the reservation of `order_id`.
pub fn release_path(order_id: &str) -> String {
    format!("{RESERVATIONS_PATH}/{order_id}")
}

/// Path putting the committed reservation of `order_id` back on hand (a cancelled order).
pub fn restock_path(order_id: &str) -> String {
    format!("{RESERVATIONS_PATH}/{order_id}/restock")
}

/// The service-chaining base URL of the catalog's internal component under Spin.
pub const SPIN_INTERNAL_BASE_URL: &str = "http://catalog-internal.spin.internal";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_use_snake_case_json_names() {
        let request = ReservationRequest {
            order_id: "o-1".into(),
            items: vec![ReservationItem {
                product_id: "p-1".into(),
                quantity: 2,
            }],
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"order_id": "o-1", "items": [{"product_id": "p-1", "quantity": 2}]})
        );
        let back: ReservationRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn reservation_round_trips() {
        let json = serde_json::json!({
            "order_id": "o-1",
            "lines": [{
                "product_id": "p", "seller_id": "s", "title": "Lamp",
                "unit_price": {"amount": 1999, "currency": "EUR"}, "quantity": 1
            }],
            "expires_at": "2026-01-01T00:00:00.000Z"
        });
        let reservation: Reservation = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(reservation.lines[0].unit_price.amount, 1999);
        assert_eq!(serde_json::to_value(&reservation).unwrap(), json);
    }

    #[test]
    fn paths_name_the_order() {
        assert_eq!(commit_path("o-1"), "/internal/v1/reservations/o-1/commit");
        assert_eq!(release_path("o-1"), "/internal/v1/reservations/o-1");
        assert_eq!(restock_path("o-1"), "/internal/v1/reservations/o-1/restock");
    }
}
