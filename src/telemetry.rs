use tracing_subscriber::{EnvFilter, fmt};

/// A short random id (request ids, error ids shown to users), `len` ≤ 43
/// URL-safe characters from 256 random bits.
pub fn random_id(len: usize) -> String {
    let mut id = crate::web::csrf::new_token();
    id.truncate(len);
    id
}

/// Installs the global tracing subscriber; `RUST_LOG` overrides the setting.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = fmt().with_env_filter(filter).with_target(false);
    // A second init (tests spawn many apps in one process) is not an error.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
