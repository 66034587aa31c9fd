//! Orders domain: validated values, the cart, the order aggregate with its fulfilments, their
//! state machines and the events they raise. No I/O and no ports beyond the kernel's `IdSource`.

pub mod address;
pub mod cart;
pub mod events;
pub mod fulfilment;
pub mod idempotency;
pub mod ids;
pub mod order;
pub mod payment;
pub mod quantity;

pub use address::ShippingAddress;
pub use cart::Cart;
pub use events::OrderEvent;
pub use fulfilment::{Fulfilment, FulfilmentStatus};
pub use idempotency::{Fingerprint, IdempotencyKey};
pub use ids::{OrderId, ProductId};
pub use order::{Order, OrderLine, OrderStatus, PaymentStatus};
pub use payment::PaymentToken;
pub use quantity::Quantity;
