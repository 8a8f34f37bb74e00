use serde::{Deserialize, Serialize};

use super::ids::id_enum;

id_enum! {
    /// A standard size (T-shirt size) of a catalogue product.
    #[derive(PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
    pub enum Size ("unknown-size") {
        S = "S",
        M = "M",
        L = "L",
        XL = "XL",
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
