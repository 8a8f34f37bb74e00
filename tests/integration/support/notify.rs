//! The real counterparts of notifications: an SMTP server (Python's
//! `aiosmtpd`) and a webhook receiver that checks Standard Webhooks
//! signatures with its own implementation (Python's `hmac`), each a process
//! on loopback started by the test (tests/notifications/). The Python with
//! aiosmtpd is the venv `scripts/ensure-deps.sh` makes
//! (`~/.cache/kontor/notify-venv`, or `KONTOR_NOTIFY_VENV`).

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use serde_json::Value;

fn python() -> PathBuf {
    let venv = std::env::var_os("KONTOR_NOTIFY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/kontor/notify-venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/ensure-deps.sh (it installs aiosmtpd for the notification tests)",
        python.display()
    );
    python
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/notifications")
        .join(name)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// Starts a script and waits for its "ready" line.
fn start(args: &[String]) -> Child {
    let mut child = Command::new(python())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Python test server");
    let stdout = child.stdout.take().expect("its stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("its first line");
    assert_eq!(line.trim(), "ready", "the test server did not start");
    child
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A real SMTP server on loopback; every message it accepted is a line.
pub struct SmtpServer {
    pub port: u16,
    out: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start(dir: &Path) -> SmtpServer {
        std::fs::create_dir_all(dir).expect("directory");
        let mut server = SmtpServer {
            port: free_port(),
            out: dir.join(format!("smtp-{}.jsonl", super::unique())),
            child: None,
        };
        server.resume();
        server
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.child = Some(start(&[
            script("smtp_server.py").display().to_string(),
            self.port.to_string(),
            self.out.display().to_string(),
        ]));
    }

    /// Kills it (connections are refused until [`SmtpServer::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The messages received, one per recipient.
    pub fn messages(&self) -> Vec<Value> {
        lines(&self.out)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A webhook receiver on loopback that verifies each request's signature
/// and records it; the first `fail_first` requests are answered 503.
pub struct WebhookReceiver {
    pub url: String,
    out: PathBuf,
    child: Child,
}

impl WebhookReceiver {
    pub fn start(dir: &Path, secret: &str, fail_first: usize) -> WebhookReceiver {
        std::fs::create_dir_all(dir).expect("directory");
        let port = free_port();
        let out = dir.join(format!("webhook-{}.jsonl", super::unique()));
        let child = start(&[
            script("webhook_receiver.py").display().to_string(),
            port.to_string(),
            out.display().to_string(),
            secret.to_owned(),
            fail_first.to_string(),
        ]);
        WebhookReceiver {
            url: format!("http://127.0.0.1:{port}/kontor"),
            out,
            child,
        }
    }

    /// Every request received, with whether its signature held.
    pub fn requests(&self) -> Vec<Value> {
        lines(&self.out)
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
