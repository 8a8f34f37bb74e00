use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A standard size (T-shirt size) of a catalogue product.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Size {
    S,
    M,
    L,
    XL,
}

impl Size {
    pub const ALL: [Size; 4] = [Size::S, Size::M, Size::L, Size::XL];

    pub fn as_str(self) -> &'static str {
        match self {
            Size::S => "S",
            Size::M => "M",
            Size::L => "L",
            Size::XL => "XL",
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unbekannte Größe „{0}“ (erlaubt: S, M, L, XL)")]
pub struct UnknownSize(pub String);

impl FromStr for Size {
    type Err = UnknownSize;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Size::ALL
            .into_iter()
            .find(|size| size.as_str() == s)
            .ok_or_else(|| UnknownSize(s.chars().take(40).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_exactly() {
        assert_eq!("XL".parse::<Size>().unwrap(), Size::XL);
        assert!("xl".parse::<Size>().is_err());
        assert!("XXL".parse::<Size>().is_err());
    }
}
