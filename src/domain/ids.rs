//! Enums whose values travel as fixed ids: in URLs, JSON, forms and the
//! database (`vorpruefung`, `XL`, `gekuendigt`). [`id_enum!`] gives each one
//! `ALL`, `as_str`, `Display` and a `FromStr` that refuses anything else;
//! `db::codec` stores them by the same ids, so a row with an unknown value
//! fails to decode instead of turning into a default.

use std::fmt;

use crate::i18n::{Arg, t, t_with};

/// A value that is none of an enum's ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownValue {
    /// The message id of what was expected (`unknown-stage`), so that the
    /// refusal reads in the request's language.
    pub what: &'static str,
    /// What came, cut to 40 characters.
    pub value: String,
    /// The ids that would have been understood.
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&t_with(
            "unknown-value",
            &[
                ("what", Arg::from(t(self.what))),
                ("value", Arg::from(self.value.as_str())),
                ("allowed", Arg::from(self.allowed.join(", "))),
            ],
        ))
    }
}

/// Declares an id enum:
///
/// ```ignore
/// id_enum! {
///     /// A stage of the chain.
///     #[derive(Serialize)]
///     pub enum Stage ("unknown-stage") {
///         /// Vorprüfung.
///         Vorpruefung = "vorpruefung",
///         …
///     }
/// }
/// ```
macro_rules! id_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($id),+].len()] = [$($name::$variant),+];
            const IDS: &'static [&'static str] = &[$($id),+];

            /// The id used in URLs, JSON, forms and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $id, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::ids::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $id => Ok($name::$variant), )+
                    _ => Err($crate::domain::ids::UnknownValue {
                        what: $what,
                        value: s.chars().take(40).collect(),
                        allowed: $name::IDS,
                    }),
                }
            }
        }
    };
}

pub(crate) use id_enum;

#[cfg(test)]
mod tests {
    id_enum! {
        // The message of a real enum: the catalogue has no colours.
        enum Colour ("unknown-size") {
            Red = "rot",
            Green = "gruen",
        }
    }

    #[test]
    fn every_value_reads_back_from_its_id() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(c));
        }
    }

    #[test]
    fn an_unknown_id_is_refused_with_the_allowed_ones() {
        let e = "blau".parse::<Colour>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unbekannte Größe „blau“ (erlaubt: rot, gruen)"
        );
    }

    #[test]
    fn every_enum_names_what_it_expected_from_the_catalogue() {
        use crate::domain::*;
        fn refusal<T: std::str::FromStr<Err = super::UnknownValue>>() -> String {
            "?".parse::<T>().err().expect("refused").to_string()
        }
        let all = [
            refusal::<notification::EventKind>(),
            refusal::<notification::Channel>(),
            refusal::<notification::DeliveryState>(),
            refusal::<Role>(),
            refusal::<environment::Lifecycle>(),
            refusal::<Stage>(),
            refusal::<Size>(),
            refusal::<actor::Via>(),
            refusal::<billing::LineKind>(),
            refusal::<release::Checkup>(),
            refusal::<release::DeploymentState>(),
            refusal::<booking::BookingState>(),
            refusal::<contract::BillingModel>(),
            refusal::<approval::ApprovalState>(),
            refusal::<approval::ApprovalKind>(),
        ];
        for message in all {
            assert!(message.starts_with("unbekannte"), "{message}");
        }
    }

    #[test]
    fn ids_are_case_sensitive() {
        assert!("ROT".parse::<Colour>().is_err());
    }
}
