use axum::http::{HeaderMap, HeaderValue, header};

use super::*;

fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    map
}

fn accept(value: &str) -> Lang {
    Lang::of(&headers(&[(header::ACCEPT_LANGUAGE, value)]))
}

#[test]
fn without_any_preference_the_page_is_german() {
    assert_eq!(Lang::of(&HeaderMap::new()), Lang::De);
    assert_eq!(accept("fr-FR, it;q=0.5"), Lang::De);
    assert_eq!(accept("nonsense;;q=x"), Lang::De);
}

#[test]
fn any_english_in_accept_language_gives_english() {
    assert_eq!(accept("en"), Lang::En);
    assert_eq!(accept("en-GB,en;q=0.9"), Lang::En);
    assert_eq!(accept("fr, en-US;q=0.3"), Lang::En);
}

#[test]
fn accept_language_is_ranked_by_its_q_values() {
    assert_eq!(accept("de;q=0.4, en;q=0.8"), Lang::En);
    assert_eq!(accept("en;q=0.4, de-DE;q=0.8"), Lang::De);
    assert_eq!(accept("en;q=0, de;q=0.1"), Lang::De);
    // Equal weights keep the browser's order.
    assert_eq!(accept("en, de"), Lang::En);
    assert_eq!(accept("de, en"), Lang::De);
}

#[test]
fn the_switchs_cookie_wins_over_accept_language() {
    let map = headers(&[
        (header::ACCEPT_LANGUAGE, "en"),
        (header::COOKIE, "kontor_session=x; kontor_lang=de"),
    ]);
    assert_eq!(Lang::of(&map), Lang::De);
    let map = headers(&[(header::COOKIE, "kontor_lang=en")]);
    assert_eq!(Lang::of(&map), Lang::En);
    // An unknown value is no choice.
    let map = headers(&[
        (header::ACCEPT_LANGUAGE, "en"),
        (header::COOKIE, "kontor_lang=xx"),
    ]);
    assert_eq!(Lang::of(&map), Lang::En);
}

#[test]
fn the_switch_returns_only_to_a_path_of_the_portal() {
    assert_eq!(
        same_origin_path("/katalog?produkt=x"),
        Some("/katalog?produkt=x")
    );
    assert_eq!(same_origin_path(""), Some("/"));
    for bad in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "evil.example",
        "javascript:alert(1)",
        "/\nLocation: x",
        "/ x",
    ] {
        assert_eq!(same_origin_path(bad), None, "{bad:?}");
    }
}

#[test]
fn a_message_is_looked_up_in_the_language_asked_for() {
    assert_eq!(Lang::De.t("nav-overview"), "Übersicht");
    assert_eq!(Lang::En.t("nav-overview"), "Overview");
    assert_eq!(Lang::En.t("no-such-message"), "no-such-message");
}
