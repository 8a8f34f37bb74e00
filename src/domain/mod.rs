//! Pure domain types and rules: no HTTP, no SQL. Values are parsed once at the
//! edge (`FromStr`/`parse`) and trusted everywhere else.

pub mod actor;
pub mod approval;
pub mod audit;
pub mod billing;
pub mod booking;
pub mod calendar;
pub mod contract;
pub mod environment;
pub mod idempotency;
pub mod ids;
pub mod kontingent;
pub mod money;
pub mod notification;
pub mod policy;
pub mod pricing;
pub mod quantity;
pub mod release;
pub mod resources;
pub mod rightsizing;
pub mod role;
pub mod size;
pub mod slug;
pub mod stage;
pub mod text;
mod words;

pub use booking::BookingState;
pub use environment::Lifecycle;
pub use kontingent::{Kontingent, KontingentExceeded, Limit};
pub use money::{Cents, HourlyRate};
pub use resources::Resources;
pub use role::Role;
pub use size::Size;
pub use slug::Slug;
pub use stage::Stage;
