use std::collections::{BTreeMap, BTreeSet};

use axum::http::{HeaderMap, HeaderValue, header};
use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

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

/// Every message of a language's catalogue with the variables it uses.
fn catalogue(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let dir = format!("{}/locales/{}", env!("CARGO_MANIFEST_DIR"), lang.code());
    let mut messages = BTreeMap::new();
    for file in std::fs::read_dir(&dir).expect("the catalogue directory") {
        let path = file.expect("a catalogue file").path();
        if path.extension().is_none_or(|e| e != "ftl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("a readable catalogue");
        let resource = fluent_syntax::parser::parse(source.as_str())
            .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
        for entry in resource.body {
            if let Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(value) = &m.value {
                    variables(value, &mut vars);
                }
                let id = m.id.name.to_owned();
                assert!(
                    messages.insert(id.clone(), vars).is_none(),
                    "{id} twice in {}",
                    lang.code()
                );
            }
        }
    }
    messages
}

fn variables(pattern: &Pattern<&str>, into: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, into);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, into: &mut BTreeSet<String>) {
    match expression {
        Expression::Inline(inline) => inline_variables(inline, into),
        Expression::Select { selector, variants } => {
            inline_variables(selector, into);
            for variant in variants {
                variables(&variant.value, into);
            }
        }
    }
}

fn inline_variables(inline: &InlineExpression<&str>, into: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            into.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, into),
        _ => {}
    }
}

#[test]
fn the_german_and_the_english_catalogue_have_the_same_messages_and_variables() {
    let de = catalogue(Lang::De);
    let en = catalogue(Lang::En);
    let only_de: Vec<_> = de.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !de.contains_key(*k)).collect();
    let other_vars: Vec<_> = de
        .iter()
        .filter(|(k, v)| en.get(*k).is_some_and(|e| e != *v))
        .map(|(k, v)| format!("{k}: de {v:?}, en {:?}", en[k]))
        .collect();
    assert!(
        only_de.is_empty() && only_en.is_empty() && other_vars.is_empty(),
        "only German: {only_de:?}\nonly English: {only_en:?}\nother variables: {other_vars:?}"
    );
    assert!(de.len() > 1, "the catalogues are read");
}
