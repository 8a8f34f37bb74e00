//! The test harness: one running Kontor per test, each with its own fresh
//! database (a SQLite file in a temporary directory, or a PostgreSQL
//! database created for the test and dropped afterwards), plus HTTP helpers,
//! fixture builders and problem+json assertions, and the fake Kubernetes
//! API server. Benches reuse `fake_kube` by path.

mod app;
mod assert;
mod browser;
mod cli;
pub mod fake_kube;
mod fixtures;
mod lang;
pub mod notify;
pub mod private_pg;
pub mod real_kube;

pub use app::*;
pub use assert::*;
pub use browser::Browser;
pub use cli::kontor_cli;
pub use fixtures::*;
pub use lang::{ENGLISH, in_english_then_german};

/// Runs each test, written once as `async fn name(app: TestApp)`, on both
/// databases:
///
/// ```ignore
/// api_tests! {
///     a_sentence_saying_what_holds,
/// }
///
/// async fn a_sentence_saying_what_holds(app: TestApp) { … }
/// ```
///
/// expands to a module `a_sentence_saying_what_holds` (modules and functions
/// live in different namespaces) with the tests `sqlite` and `postgres`, so
/// `cargo test --test integration postgres` runs one backend and
/// `cargo test --test integration kontingent` one topic. A test function left out of
/// the list is dead code, which `clippy -D warnings` reports.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread")]
                async fn sqlite() {
                    super::$name($crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await).await;
                }

                #[tokio::test(flavor = "multi_thread")]
                async fn postgres() {
                    super::$name($crate::support::TestApp::spawn($crate::support::Backend::Postgres).await).await;
                }
            }
        )*
    };
}

/// Like `api_tests!`, for tests that start their Kontor themselves (with
/// fake clusters or other settings): `async fn name(backend: Backend)` runs
/// on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! cluster_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread")]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread")]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            }
        )*
    };
}
