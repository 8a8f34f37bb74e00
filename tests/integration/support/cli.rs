//! The real `kontor` binary, run as a developer's pipeline or a script would.

/// Runs the real `kontor` binary as a developer's pipeline would, with only
/// `KONTOR_URL` and `KONTOR_TOKEN` (when given): exit code, stdout, stderr.
pub async fn kontor_cli(
    url: Option<&str>,
    token: Option<&str>,
    args: &[&str],
) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kontor"));
    command.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("KONTOR_") {
            command.env_remove(k);
        }
    }
    if let Some(url) = url {
        command.env("KONTOR_URL", url);
    }
    if let Some(token) = token {
        command.env("KONTOR_TOKEN", token);
    }
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run kontor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
