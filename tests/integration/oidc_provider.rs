//! The real OpenID provider of the tests (`tests/oidc/provider.mjs`, npm
//! `oidc-provider`) as a child process, its test-control endpoints, and a
//! browser-like walk through its login.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
};

use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

/// One provider process; killed when dropped.
pub struct Provider {
    pub issuer: String,
    child: Child,
    http: reqwest::Client,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    pub async fn start() -> Provider {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "tests/oidc/node_modules is missing: run scripts/ensure-deps.sh (or npm ci in tests/oidc)"
        );
        let (child, issuer) = tokio::task::spawn_blocking(move || {
            let mut child = Command::new("node")
                .arg(format!("{dir}/provider.mjs"))
                .args(["--port", "0", "--exit-with-stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("node must be installed to run the test OpenID provider");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("the provider prints its issuer");
            let ready: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("provider's first line {line:?}: {e}"));
            let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
            (child, issuer)
        })
        .await
        .expect("provider start");
        Provider {
            issuer,
            child,
            http: reqwest::Client::new(),
        }
    }

    async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        let resp = self
            .http
            .post(format!("{}/__test/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("provider control endpoint");
        assert!(
            resp.status().is_success(),
            "provider /__test/{path}: {}",
            resp.status()
        );
        resp
    }

    /// A user with these groups, password `test`; answers the subject.
    pub async fn add_user(&self, username: &str, name: &str, groups: &[&str]) -> String {
        let resp = self
            .control(
                "users",
                json!({"username": username, "password": "test", "name": name, "groups": groups}),
            )
            .await;
        let body: Value = resp.json().await.expect("json");
        body["sub"].as_str().expect("sub").to_owned()
    }

    /// The next ID token from the token endpoint is broken this way.
    pub async fn fault(&self, kind: &str) {
        self.control("fault", json!({"kind": kind})).await;
    }

    /// An access token signed with the provider's current key (or broken
    /// by `kind`), with `claims` over the defaults (iss, iat, exp +300 s,
    /// aud `kontor-api`).
    pub async fn mint(&self, claims: Value, kind: Option<&str>) -> String {
        let mut body = json!({"claims": claims});
        if let Some(kind) = kind {
            body["kind"] = json!(kind);
        }
        let resp = self.control("mint", body).await;
        let body: Value = resp.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// A new signing key; the old one stays published when `keep_old`.
    pub async fn rotate(&self, keep_old: bool) -> String {
        let resp = self.control("rotate", json!({"keep_old": keep_old})).await;
        let body: Value = resp.json().await.expect("json");
        body["kid"].as_str().expect("kid").to_owned()
    }
}

/// A Kontor that logs in through `provider`, with the demo data (demo
/// login off, as it is whenever an issuer is set).
pub async fn kontor_with(backend: Backend, provider: &Provider) -> TestApp {
    let issuer = provider.issuer.clone();
    TestApp::spawn_configured(backend, true, move |s| {
        s.oidc_issuer = Some(issuer);
        s.oidc_client_id = Some("kontor".into());
        s.oidc_client_secret = Some("kontor-test-secret".into());
        s.oidc_audience = Some("kontor-api".into());
        // Rotation tests must not wait for the refresh interval.
        s.oidc_jwks_min_refresh_seconds = 0;
    })
    .await
}

/// A browser: keeps cookies, follows no redirects by itself.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("GET")
    }

    /// Follows redirects from `url` until one leads to `stop` (a URL
    /// prefix) and answers that URL without requesting it, or until a page
    /// answers (then that response).
    async fn follow_until(&self, mut url: Url, stop: &str) -> Result<Url, reqwest::Response> {
        for _ in 0..10 {
            if url.as_str().starts_with(stop) {
                return Ok(url);
            }
            let resp = self.get(url.as_str()).await;
            if !resp.status().is_redirection() {
                return Err(resp);
            }
            let location = resp.headers()["location"].to_str().expect("location");
            url = url.join(location).expect("redirect target");
        }
        panic!("too many redirects")
    }

    /// Starts a login at Kontor, logs in at the provider's form as
    /// `username` (password `test`) and answers the callback URL the
    /// provider sends the browser to, not yet requested.
    pub async fn authorize(&self, app: &TestApp, username: &str) -> Url {
        let start = Url::parse(&format!("{}/anmelden/oidc", app.address)).unwrap();
        let callback = format!("{}/anmelden/rueckkehr", app.address);
        let form = match self.follow_until(start, &callback).await {
            Ok(url) => return url, // still logged in at the provider
            Err(form) => form,
        };
        assert_eq!(form.status(), StatusCode::OK, "the provider's login page");
        let form_url = form.url().clone();
        let html = form.text().await.unwrap();
        assert!(html.contains("name=\"username\""), "a login form: {html}");
        let action = form_url
            .join(&format!("{}/login", form_url.path()))
            .unwrap();
        let resp = self
            .http
            .post(action.clone())
            .form(&[("username", username), ("password", "test")])
            .send()
            .await
            .expect("login POST");
        assert!(
            resp.status().is_redirection(),
            "the provider accepts {username}: {}",
            resp.status()
        );
        let next = action
            .join(resp.headers()["location"].to_str().unwrap())
            .unwrap();
        self.follow_until(next, &callback)
            .await
            .unwrap_or_else(|r| {
                panic!("the provider did not send the browser back: {}", r.status())
            })
    }

    /// The whole login: authorize, then the callback at Kontor.
    pub async fn log_in(&self, app: &TestApp, username: &str) -> reqwest::Response {
        let callback = self.authorize(app, username).await;
        self.get(callback.as_str()).await
    }
}
