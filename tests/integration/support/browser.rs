//! A browser over plain HTTP for the page tests: cookies, the demo login,
//! the session's CSRF token.

use reqwest::{StatusCode, redirect::Policy};

use super::{TestApp, csrf_in};

/// A browser-like client: keeps cookies, does not follow redirects (so the
/// tests see the 303s), knows the current CSRF token.
pub struct Browser {
    app: TestApp,
    pub client: reqwest::Client,
    pub csrf: String,
}

impl Browser {
    pub async fn log_in(app: &TestApp, login: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client");
        let mut browser = Browser {
            app: app.clone(),
            client,
            csrf: String::new(),
        };
        let page = browser.get("/anmelden").await;
        assert_eq!(page.0, StatusCode::OK);
        browser.csrf = csrf_in(&page.1);
        let resp = browser
            .post_raw(
                "/anmelden",
                &[("csrf", browser.csrf.clone()), ("login", login.into())],
            )
            .await;
        assert_eq!(
            resp.0,
            StatusCode::SEE_OTHER,
            "login as {login}: {}",
            resp.1
        );
        // The token is renewed at login; pick up the new one.
        let page = browser.get("/uebersicht").await;
        assert_eq!(page.0, StatusCode::OK, "overview after login");
        browser.csrf = csrf_in(&page.1);
        browser
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.app.address))
            .send()
            .await
            .expect("GET");
        (resp.status(), resp.text().await.expect("body"))
    }

    pub async fn post_raw(&self, path: &str, form: &[(&str, String)]) -> (StatusCode, String) {
        let resp = self
            .client
            .post(format!("{}{path}", self.app.address))
            .form(form)
            .send()
            .await
            .expect("POST");
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.text().await.expect("body");
        (status, if body.is_empty() { location } else { body })
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut fields: Vec<(&str, String)> = vec![("csrf", self.csrf.clone())];
        fields.extend(form.iter().map(|(k, v)| (*k, (*v).to_owned())));
        self.post_raw(path, &fields).await
    }
}
