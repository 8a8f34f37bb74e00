use tracing_subscriber::{EnvFilter, fmt};

/// Installs the global tracing subscriber; `RUST_LOG` overrides the setting.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Logs go to stderr: stdout belongs to what a command prints (a CSV
    // export, a token), and log lines must never end up inside it.
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    // A second init (tests spawn many apps in one process) is not an error.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
