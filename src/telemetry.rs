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

/// The header carrying each request's id (set at the edge, echoed in the
/// answer, named in the log).
pub const REQUEST_ID: &str = "x-request-id";

/// The id of the request with these headers, for a message that points
/// to the log entry with the detail.
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}
