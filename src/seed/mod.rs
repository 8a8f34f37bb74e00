//! Data that Kontor writes by itself: the demo (`kontor seed demo`, and on
//! the first start of the embedded default) and the generated benchmark
//! dataset (`kontor seed bench`).
//!
//! The demo goes through the use cases like any person's change, so it has
//! audit entries and obeys the Kontingent. The benchmark generator is the
//! one bulk path that bypasses the use cases: it writes hundreds of
//! thousands of rows with multi-row INSERTs into an empty database, and is
//! built only with the `bench-seed` feature (benchmarks and the test
//! command), never into a production binary.

#[cfg(feature = "bench-seed")]
pub mod bench;
pub mod demo;

pub use demo::{catalogue, demo, is_empty, system_user};
