//! Abrechnung: pay-as-you-go rating per second at the price valid at the
//! time (`rating`), the budget watch against the Kontingent (`budget`),
//! the running month read cheaply for every view (`live`), monthly
//! statements per contract, live while a month is open and final
//! once it is closed (`statements`, `close`), and the CSV exports for
//! finance (`csv`). Money is integer cents, rounded once per line item.
//! The vocabulary rows are read into (`Month`, `LineItem`, `Period`) is in
//! `domain::billing`.

pub mod budget;
pub mod close;
pub mod csv;
pub mod live;
pub mod rating;
pub mod statements;
pub mod watch;

pub use budget::{BudgetLevel, BudgetWatch};
pub use rating::{DayCost, Prices, Totals, daily_by_stage, totals};
pub use statements::{Statement, Summary};
