//! A real Keycloak (`scripts/keycloak.sh`, realm file
//! `tests/keycloak/realm-verwaltung.json`) for the tests in
//! `identity_keycloak`: one per test process, shared by its tests, or the
//! one the test command started (`KONTOR_TEST_KEYCLOAK_URL`). Its admin REST
//! API, and a browser-like walk through Keycloak's own login form.
//!
//! The process is started with its stdin as a pipe that this process keeps
//! open and `--exit-with-stdin`: when the test process ends, however it
//! ends, the pipe closes and the script stops Keycloak.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use base64::Engine as _;
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::{Backend, TestApp};

/// The realm the README sets up, as the realm file has it.
pub const REALM: &str = "verwaltung";
/// The password of every user in the realm file (and of those tests create).
pub const PASSWORD: &str = "Kontor-Test-1";
pub const CLIENT_SECRET: &str = "kontor-keycloak-test-secret";
/// Another application of the realm: the same groups mapper, no audience
/// mapper for `kontor`.
pub const OTHER_CLIENT: (&str, &str) = ("andere-anwendung", "andere-anwendung-test-secret");

/// A running Keycloak.
pub struct Keycloak {
    pub url: String,
    admin_user: String,
    admin_password: String,
    /// Our end of the script's stdin (never written, never closed while the
    /// process lives) and the script itself; both live as long as the
    /// process, since statics are never dropped.
    _process: Option<Mutex<(Child, ChildStdin)>>,
}

static KEYCLOAK: OnceLock<Result<Keycloak, String>> = OnceLock::new();

impl Keycloak {
    /// The shared Keycloak, started on first use (the first start on a
    /// machine also fetches and prepares it: a minute or two).
    pub async fn shared() -> &'static Keycloak {
        let kc = tokio::task::spawn_blocking(|| KEYCLOAK.get_or_init(Keycloak::start))
            .await
            .expect("Keycloak start");
        match kc {
            Ok(kc) => kc,
            Err(e) => panic!("{e}"),
        }
    }

    fn start() -> Result<Keycloak, String> {
        if let Ok(url) = std::env::var("KONTOR_TEST_KEYCLOAK_URL") {
            return Ok(Keycloak {
                url: url.trim_end_matches('/').to_owned(),
                admin_user: "admin".into(),
                admin_password: std::env::var("KONTOR_TEST_KEYCLOAK_ADMIN_PASSWORD")
                    .unwrap_or_else(|_| "admin".into()),
                _process: None,
            });
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/keycloak.sh");
        let started = Instant::now();
        let mut child = Command::new(script)
            .args(["serve", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Progress and errors of the script go to the test output.
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .map_err(|e| format!("reading from {script}: {e}"))?;
        let ready: Value = serde_json::from_str(&line).map_err(|e| {
            format!("{script} serve did not start Keycloak (its first line {line:?}: {e}); see its messages above")
        })?;
        eprintln!(
            "Keycloak for this test process at {} after {:.1} s",
            ready["url"],
            started.elapsed().as_secs_f64()
        );
        let field = |k: &str| ready[k].as_str().unwrap_or_default().to_owned();
        Ok(Keycloak {
            url: field("url"),
            admin_user: field("admin_user"),
            admin_password: field("admin_password"),
            _process: Some(Mutex::new((child, stdin))),
        })
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.url)
    }

    /// An admin client (a fresh token from the master realm).
    pub async fn admin(&'static self) -> Admin {
        let http = reqwest::Client::new();
        let resp = http
            .post(format!(
                "{}/realms/master/protocol/openid-connect/token",
                self.url
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", self.admin_user.as_str()),
                ("password", self.admin_password.as_str()),
            ])
            .send()
            .await
            .expect("Keycloak's token endpoint");
        let status = resp.status();
        let body: Value = resp.json().await.expect("token JSON");
        assert_eq!(status, StatusCode::OK, "admin token: {body}");
        Admin {
            kc: self,
            http,
            token: body["access_token"].as_str().expect("token").to_owned(),
        }
    }
}

/// Calls to Keycloak's admin REST API (`/admin/realms/…`).
pub struct Admin {
    kc: &'static Keycloak,
    http: reqwest::Client,
    token: String,
}

impl Admin {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(
                method.clone(),
                format!("{}/admin/realms{path}", self.kc.url),
            )
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.expect("Keycloak's admin API");
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        if let Some(location) = location {
            return json!({ "location": location });
        }
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        }
    }

    /// A new realm made from the realm file under another name, for tests
    /// that change the whole realm (its keys); removed by `drop_realm`.
    pub async fn copy_of_the_realm(&self, name: &str) {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/keycloak/realm-verwaltung.json"
        );
        let mut realm: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("realm file"))
                .expect("realm JSON");
        realm["realm"] = json!(name);
        self.call(reqwest::Method::POST, "", Some(realm)).await;
    }

    pub async fn drop_realm(&self, name: &str) {
        self.call(reqwest::Method::DELETE, &format!("/{name}"), None)
            .await;
    }

    /// A user with password [`PASSWORD`] in these groups (full paths);
    /// answers Keycloak's id for it.
    pub async fn create_user(
        &self,
        realm: &str,
        username: &str,
        first: &str,
        last: &str,
        groups: &[&str],
    ) -> String {
        let created = self
            .call(
                reqwest::Method::POST,
                &format!("/{realm}/users"),
                Some(json!({
                    "username": username,
                    "enabled": true,
                    "firstName": first,
                    "lastName": last,
                    "email": format!("{username}@verwaltung.example"),
                    "emailVerified": true,
                    "credentials": [{"type": "password", "value": PASSWORD, "temporary": false}],
                    "groups": groups,
                })),
            )
            .await;
        let location = created["location"].as_str().expect("Location of the user");
        location.rsplit('/').next().unwrap().to_owned()
    }

    async fn group_id(&self, realm: &str, path: &str) -> String {
        let group = self
            .call(
                reqwest::Method::GET,
                &format!("/{realm}/group-by-path/{}", path.trim_start_matches('/')),
                None,
            )
            .await;
        group["id"].as_str().expect("group id").to_owned()
    }

    pub async fn join_group(&self, realm: &str, user_id: &str, path: &str) {
        let group = self.group_id(realm, path).await;
        self.call(
            reqwest::Method::PUT,
            &format!("/{realm}/users/{user_id}/groups/{group}"),
            None,
        )
        .await;
    }

    pub async fn leave_group(&self, realm: &str, user_id: &str, path: &str) {
        let group = self.group_id(realm, path).await;
        self.call(
            reqwest::Method::DELETE,
            &format!("/{realm}/users/{user_id}/groups/{group}"),
            None,
        )
        .await;
    }

    /// The full paths of the user's groups, as Keycloak has them.
    pub async fn groups_of(&self, realm: &str, user_id: &str) -> Vec<String> {
        let groups = self
            .call(
                reqwest::Method::GET,
                &format!("/{realm}/users/{user_id}/groups"),
                None,
            )
            .await;
        let mut paths: Vec<String> = groups
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["path"].as_str().expect("path").to_owned())
            .collect();
        paths.sort();
        paths
    }

    /// The `kid` Keycloak signs RS256 tokens with now.
    pub async fn active_rs256_kid(&self, realm: &str) -> String {
        let keys = self
            .call(reqwest::Method::GET, &format!("/{realm}/keys"), None)
            .await;
        keys["active"]["RS256"]
            .as_str()
            .unwrap_or_else(|| panic!("no active RS256 key: {keys}"))
            .to_owned()
    }

    /// A new generated RSA key of higher priority than the realm's own: it
    /// signs everything from now on, the old key stays published for the
    /// tokens it signed (Keycloak's documented way to rotate keys).
    pub async fn add_rsa_key(&self, realm: &str, name: &str, priority: u32) {
        let realm_id = self
            .call(reqwest::Method::GET, &format!("/{realm}"), None)
            .await["id"]
            .as_str()
            .expect("realm id")
            .to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/{realm}/components"),
            Some(json!({
                "name": name,
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm_id,
                "config": {
                    "priority": [priority.to_string()],
                    "enabled": ["true"],
                    "active": ["true"],
                    "algorithm": ["RS256"],
                    "keySize": ["2048"],
                },
            })),
        )
        .await;
    }
}

/// A Kontor whose login goes to `realm` of this Keycloak, with the client
/// `kontor` of the realm file, and the demo data (so the customers the
/// groups name exist).
pub async fn kontor_with_keycloak(backend: Backend, kc: &Keycloak, realm: &str) -> TestApp {
    let issuer = kc.issuer(realm);
    TestApp::spawn_configured(backend, true, move |s| {
        s.oidc_issuer = Some(issuer);
        s.oidc_client_id = Some("kontor".into());
        s.oidc_client_secret = Some(CLIENT_SECRET.into());
        // The audience stays the default, the client id, which is what the
        // README's Audience mapper puts into Keycloak's access tokens.
        // Rotation must not wait for the minimum refresh interval.
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
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("GET")
    }

    /// Follows redirects from `url` until one leads to a URL starting with
    /// `stop` (answered without requesting it), or until a page answers
    /// (then that page).
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

    /// From `start` (a URL that leads to Keycloak) through Keycloak's own
    /// login form, as `username` with `password`, to the redirect URI
    /// starting with `back`, which is answered, not requested. Without a
    /// form (Keycloak still knows this browser) straight there.
    pub async fn through_keycloak(
        &self,
        start: Url,
        back: &str,
        username: &str,
        password: &str,
    ) -> Url {
        let page = match self.follow_until(start, back).await {
            Ok(url) => return url,
            Err(page) => page,
        };
        let page_url = page.url().clone();
        assert_eq!(page.status(), StatusCode::OK, "Keycloak's login page");
        let html = page.text().await.unwrap();
        let action = form_action(&html, "kc-form-login")
            .unwrap_or_else(|| panic!("Keycloak's login form at {page_url}: {html}"));
        let action = page_url.join(&action).expect("form action");
        let resp = self
            .http
            .post(action)
            .form(&[
                ("username", username),
                ("password", password),
                ("credentialId", ""),
            ])
            .send()
            .await
            .expect("login POST");
        let status = resp.status();
        let resp_url = resp.url().clone();
        if !status.is_redirection() {
            let html = resp.text().await.unwrap_or_default();
            panic!(
                "Keycloak did not accept {username}: {status} {}",
                text_of(&html)
            );
        }
        let next = resp_url
            .join(resp.headers()["location"].to_str().unwrap())
            .unwrap();
        self.follow_until(next, back)
            .await
            .unwrap_or_else(|r| panic!("Keycloak did not send the browser back: {}", r.status()))
    }

    /// A login at Kontor through Keycloak's form; answers Kontor's answer
    /// to the callback (303 to /uebersicht, or the "Kein Zugang" page).
    pub async fn log_in(&self, app: &TestApp, username: &str) -> reqwest::Response {
        let start = Url::parse(&format!("{}/anmelden/oidc", app.address)).unwrap();
        let back = format!("{}/anmelden/rueckkehr", app.address);
        let callback = self
            .through_keycloak(start, &back, username, PASSWORD)
            .await;
        self.get(callback.as_str()).await
    }
}

/// Tokens of one login.
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
}

/// The authorization code flow with PKCE for `client` (id, secret) of
/// `realm`, logging in at Keycloak's form as `username`, as an application
/// on the loopback address would (the redirect URI is answered by nobody:
/// the code is read off it). What developers' tools do to get tokens for
/// the API, without a direct grant.
pub async fn tokens_for(
    kc: &Keycloak,
    realm: &str,
    client: (&str, &str),
    redirect_path: &str,
    username: &str,
) -> Tokens {
    let verifier =
        uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state = uuid::Uuid::new_v4().simple().to_string();
    // Any port on the loopback address: Keycloak matches loopback redirect
    // URIs without their port (RFC 8252, section 7.3).
    let redirect = format!(
        "http://127.0.0.1:9/{}",
        redirect_path.trim_start_matches('/')
    );
    let mut start = Url::parse(&format!(
        "{}/protocol/openid-connect/auth",
        kc.issuer(realm)
    ))
    .unwrap();
    start
        .query_pairs_mut()
        .append_pair("client_id", client.0)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let back = Browser::new()
        .through_keycloak(start, &redirect, username, PASSWORD)
        .await;
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {back}"))
    };
    assert_eq!(param("state"), state);
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/protocol/openid-connect/token",
            kc.issuer(realm)
        ))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", param("code").as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token endpoint");
    let status = resp.status();
    let body: Value = resp.json().await.expect("token JSON");
    assert_eq!(status, StatusCode::OK, "token endpoint: {body}");
    Tokens {
        access_token: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        id_token: body["id_token"].as_str().expect("id_token").to_owned(),
    }
}

/// The claims (payload) of a JWT, unverified: for looking, not for trusting.
pub fn claims_of(jwt: &str) -> Value {
    part_of(jwt, 1)
}

/// The header of a JWT.
pub fn header_of(jwt: &str) -> Value {
    part_of(jwt, 0)
}

fn part_of(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The `action` of the form with this id, HTML entities in it undone.
fn form_action(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind("<form")?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let value = tag.split("action=\"").nth(1)?.split('"').next()?;
    Some(value.replace("&amp;", "&"))
}

/// A page's text without its markup, shortened, for failure messages.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(600).collect()
}
