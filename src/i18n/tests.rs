use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

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

/// The message ids the code and the templates name literally (doc
/// comments included: an example there should be a real message): the first
/// argument of `t(…)`, `t_with(…)`, `t1(…)`…`t4(…)` and `t_lang(…)`.
fn named_ids() -> BTreeMap<String, String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut ids = BTreeMap::new();
    let mut dirs = vec![format!("{root}/src"), format!("{root}/templates")];
    while let Some(dir) = dirs.pop() {
        for file in std::fs::read_dir(&dir).expect("a source directory") {
            let path = file.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path.display().to_string());
                continue;
            }
            // Tests name ids that are not there on purpose.
            if path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            for id in ids_in(&source) {
                ids.entry(id).or_insert_with(|| path.display().to_string());
            }
        }
    }
    ids
}

fn ids_in(source: &str) -> Vec<String> {
    const CALLS: [&str; 7] = ["t(", "t_with(", "t1(", "t2(", "t3(", "t4(", "t_lang("];
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    for call in CALLS {
        for (at, _) in source.match_indices(call) {
            let before = at.checked_sub(1).map(|b| bytes[b]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                continue;
            }
            let rest = source[at + call.len()..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            if !id.is_empty() && rest[id.len()..].starts_with('"') {
                found.push(id);
            }
        }
    }
    found
}

#[test]
fn every_message_the_code_names_is_in_the_catalogue() {
    let de = catalogue(Lang::De);
    let named = named_ids();
    let missing: Vec<String> = named
        .iter()
        .filter(|(id, _)| !de.contains_key(*id))
        .map(|(id, file)| format!("{id} ({file})"))
        .collect();
    assert!(missing.is_empty(), "not in the catalogue: {missing:#?}");
    assert!(named.len() > 100, "the code is read: {} ids", named.len());
}

#[test]
fn the_scanner_finds_ids_in_calls_only() {
    assert_eq!(
        ids_in(r#"t("a-b") x.t_with("c", &[]) lang.t2("d", "x", 1) at("no") t(id)"#),
        vec!["a-b", "c", "d"]
    );
}
