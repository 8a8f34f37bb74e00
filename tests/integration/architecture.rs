//! The layers of `src/` and their direction (docs/architecture.md): a lower
//! layer never imports a higher one. This reads the sources, so a forbidden
//! `use` fails the suite the moment it is written.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Which top-level modules each layer may use besides itself. A module not
/// named here (`web`, `api`, `cli`, `startup`) sits at the top and may use
/// everything. `i18n` (the catalogues and the request's language) stands
/// beneath the layers and uses none: the domain and the app write their
/// messages with it.
const ALLOWED: &[(&str, &[&str])] = &[
    ("i18n", &[]),
    ("domain", &["i18n"]),
    ("secret", &[]),
    ("config", &["domain"]),
    ("telemetry", &[]),
    ("db", &["domain"]),
    ("auth", &["db", "domain", "config", "secret", "i18n"]),
    ("app", &["db", "domain", "auth", "secret", "i18n"]),
    ("billing", &["app", "db", "domain", "jobs", "metrics"]),
    ("jobs", &["db", "domain", "metrics", "ratelimit", "secret"]),
    ("metrics", &["db", "domain"]),
    ("ratelimit", &["db"]),
    ("seed", &["app", "db", "domain"]),
    (
        "provisioning",
        &["app", "db", "domain", "config", "jobs", "secret", "metrics"],
    ),
    (
        "notifications",
        &[
            "app", "db", "domain", "config", "jobs", "secret", "metrics", "billing",
        ],
    ),
    ("client", &[]),
    (
        "state",
        &["auth", "config", "db", "provisioning", "ratelimit"],
    ),
];

/// The crate's top-level modules that `path` (relative to `src/`) belongs to
/// and the module a `super::` in it refers to when it leaves its layer.
fn layer_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// Removes line comments and string literals, which may mention paths
/// without importing them.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut prev = '\0';
        for c in line.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            if c == '/' && prev == '/' {
                out.pop();
                break;
            }
            if c == '"' {
                in_string = true;
            } else {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The crate's top-level modules a piece of code names through `crate::…`
/// (also inside `use crate::{a::…, b::…}` groups).
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded_by_ident = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        rest = &rest[i + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.extend(first_ident(&item));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
        } else {
            found.extend(first_ident(rest));
        }
    }
    found
}

fn first_ident(s: &str) -> Option<String> {
    let ident: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty() && ident != "self").then_some(ident)
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The imports of `code` (a file of `layer`) that its layer may not make.
fn forbidden(layer: &str, code: &str) -> Vec<String> {
    let Some((_, allowed)) = ALLOWED.iter().find(|(l, _)| *l == layer) else {
        return Vec::new();
    };
    crate_modules(&code_only(code))
        .into_iter()
        .filter(|m| m != layer && !allowed.contains(&m.as_str()))
        .collect()
}

#[test]
fn no_layer_of_src_imports_one_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut violations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("below src");
        let layer = layer_of(relative);
        let code = std::fs::read_to_string(file).expect("read source");
        let bad = forbidden(&layer, &code);
        if !bad.is_empty() {
            violations.insert(relative.display().to_string(), bad);
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the direction of the layers (see docs/architecture.md): {violations:#?}"
    );
}

#[test]
fn the_checker_catches_a_forbidden_import_in_every_form() {
    assert_eq!(forbidden("db", "use crate::app::Error;"), ["app"]);
    assert_eq!(
        forbidden(
            "db",
            "use crate::{\n    auth::tokens,\n    domain::Stage,\n};"
        ),
        ["auth"]
    );
    assert_eq!(forbidden("db", "fn f() { crate::web::render(); }"), ["web"]);
    assert_eq!(forbidden("domain", "use crate::db::Db;"), ["db"]);
    assert_eq!(
        forbidden("domain", "use crate::{domain::Stage, billing::Month};"),
        ["billing"]
    );
    assert_eq!(
        forbidden("app", "use crate::{db::{self, Db}, web::PageError};"),
        ["web"]
    );
}

#[test]
fn comments_and_strings_are_not_imports() {
    assert!(forbidden("db", "// see crate::app::bookings\n").is_empty());
    assert!(forbidden("db", "let s = \"crate::web\";").is_empty());
    assert!(forbidden("db", "/// The rules live in `crate::app`.\n").is_empty());
}

#[test]
fn no_source_file_outside_tests_is_longer_than_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let long: Vec<(String, usize)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read source");
            (
                f.strip_prefix(&root).unwrap().display().to_string(),
                text.lines().count(),
            )
        })
        .filter(|(_, n)| *n > 600)
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}
