use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // The developers' commands need no configuration or database.
    if let Some(code) = kontor::cli::run_client().await {
        return code;
    }
    match kontor::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the whole cause chain, not a backtrace: this is
            // what an operator reads when the start fails.
            eprintln!("kontor: {e:#}");
            ExitCode::FAILURE
        }
    }
}
