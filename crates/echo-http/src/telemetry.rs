//! Logging, to standard error: human-readable lines on a terminal, JSON lines (one object per event,
//! with the request id of the span) when `json` is asked for, as log collectors in scaled
//! deployments expect. Standard output stays for what a command prints as its result.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests starting many servers) are no-ops.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_env("ECHO_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
