//! The languages Kontor speaks: German, the default, and English. The
//! texts are Project Fluent catalogues under `locales/<lang>/`, embedded
//! into the binary at compile time.
//!
//! The language is chosen once per request (`web::lang::scope`, from the
//! header switch's cookie or `Accept-Language`) and kept in a task-local
//! for everything that answers it, like gettext's active language: the
//! pages, the API's problems and the messages the app and the domain
//! produce (refusals, validation messages, the Revision's sentences).
//! Outside a request (jobs, the CLI, exports, notifications) it is German.

use std::{borrow::Cow, collections::HashMap};

use fluent_templates::{LanguageIdentifier, Loader, fluent_bundle::FluentValue, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "de",
        // Both languages run left to right; the bidi isolation marks Fluent
        // puts around every placeable would only end up in copied text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language of the web UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// Runs `work` with `lang` as the current language.
pub async fn scope<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    CURRENT.scope(lang, work).await
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The BCP 47 tag, for `<html lang>` and the cookie.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the switch offers.
    pub const fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    /// The language's own name, the switch's label.
    pub const fn endonym(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        static DE: LanguageIdentifier = langid!("de");
        static EN: LanguageIdentifier = langid!("en");
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }

    /// The language of the request being answered; German outside of one.
    pub fn current() -> Lang {
        CURRENT.try_with(|lang| *lang).unwrap_or_default()
    }

    /// The message `id`. A missing one shows its id (and the catalogue
    /// test fails), never an empty spot.
    pub fn t(self, id: &str) -> String {
        self.lookup(id, None)
    }

    /// The message `id` with its variables.
    pub fn t_with(self, id: &str, args: &[(&'static str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.value()))
            .collect();
        self.lookup(id, Some(&args))
    }

    fn lookup(self, id: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        match LOCALES.try_lookup_complete(self.id(), id, args) {
            Some(text) => text,
            None => {
                tracing::warn!(id, lang = self.code(), "message missing from the catalogue");
                id.to_owned()
            }
        }
    }
}

/// A number written the German way (`2.500,00 €`, `1,5`) in `lang`:
/// English swaps the separators (`2,500.00 €`, `1.5`). For figures that the
/// domain formats (money, booked sizes); never for text around them.
pub fn number_in(lang: Lang, german: impl AsRef<str>) -> String {
    let german = german.as_ref();
    match lang {
        Lang::De => german.to_owned(),
        Lang::En => german
            .chars()
            .map(|c| match c {
                '.' => ',',
                ',' => '.',
                c => c,
            })
            .collect(),
    }
}

/// The message `id` in the language of the request being answered (for
/// the texts that view code builds: form messages, notes).
pub fn t(id: &str) -> String {
    Lang::current().t(id)
}

/// The message `id` with its variables, in the request's language.
pub fn t_with(id: &str, args: &[(&'static str, Arg)]) -> String {
    Lang::current().t_with(id, args)
}

/// A value that goes into a message: a count selects the plural form, a
/// text is put in as it is.
#[derive(Debug, Clone)]
pub enum Arg {
    Number(i64),
    Text(String),
}

impl Arg {
    fn value(&self) -> FluentValue<'static> {
        match self {
            Arg::Number(n) => FluentValue::from(*n),
            Arg::Text(s) => FluentValue::from(s.clone()),
        }
    }
}

/// What templates pass into a message, by value or by any number of
/// references (askama hands over `&&String` inside loops).
pub trait ToArg {
    fn to_arg(&self) -> Arg;
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg {
        (**self).to_arg()
    }
}

impl ToArg for str {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.to_owned())
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.clone())
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
        impl ToArg for $t {
            fn to_arg(&self) -> Arg {
                Arg::from(*self)
            }
        }
    )*};
}
number_arg!(i64, i32, u32, u64, usize);

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

/// A domain value that the pages name with a word of the catalogue
/// (`stage-abnahme`, `role-betreiber`); the domain's own `label()` stays
/// German for the exports and the audit log.
pub trait Worded {
    fn message_id(&self) -> String;
}

/// Implements [`Worded`] for id enums whose message ids are `<prefix>-<id>`.
macro_rules! worded {
    ($($t:ty => $prefix:literal),* $(,)?) => {$(
        impl $crate::i18n::Worded for $t {
            fn message_id(&self) -> String {
                format!(concat!($prefix, "-{}"), self.as_str())
            }
        }
    )*};
}
pub(crate) use worded;

impl<T: Worded> Worded for &T {
    fn message_id(&self) -> String {
        (**self).message_id()
    }
}

#[cfg(test)]
mod tests;
