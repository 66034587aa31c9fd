//! Catalog domain types: validated newtypes, the product status machine, stock rules,
//! reservations and search queries. No I/O.

pub mod attributes;
pub mod category;
pub mod product;
pub mod reservation;
pub mod search;
pub mod stock;
mod text;

pub use attributes::{AttributeError, AttributeValue, Attributes};
pub use category::{Category, CategoryName, CategorySlug};
pub use product::{Description, Product, ProductStatus, Title};
pub use reservation::{OrderId, Reservation, ReservationLine, ReservationState};
pub use stock::{OnHand, Quantity, StockLevel};
