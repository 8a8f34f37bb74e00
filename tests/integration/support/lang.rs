//! Asking in a language: the `Accept-Language` of an English reader's
//! browser, and requests that carry it when given. No preference (`None`)
//! is answered in German.

use reqwest::{Method, RequestBuilder, Response, header};

use super::TestApp;

/// What a browser set to British English sends.
pub const ENGLISH: &str = "en-GB,en;q=0.9";

impl TestApp {
    /// A request with the bearer token and, when given, `Accept-Language`.
    pub fn request_in(
        &self,
        lang: Option<&str>,
        method: Method,
        path: &str,
        token: &str,
    ) -> RequestBuilder {
        let request = self.request(method, path).bearer_auth(token);
        match lang {
            Some(lang) => request.header(header::ACCEPT_LANGUAGE, lang),
            None => request,
        }
    }
}

/// Sends what `ask` builds for English, then for no preference: the same
/// request twice, so that the two answers differ only by language.
pub async fn in_english_then_german(
    ask: impl Fn(Option<&'static str>) -> RequestBuilder,
) -> (Response, Response) {
    let english = ask(Some(ENGLISH)).send().await.expect("request in English");
    let german = ask(None).send().await.expect("request without a language");
    (english, german)
}
