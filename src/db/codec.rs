//! How domain values are stored: id enums as their text ids, so that rows
//! decode straight into `Stage`, `Size`, `BookingState`, … A value the enum
//! does not know is a decode error, never a default.

use sqlx::{
    Any, Database, Decode, Encode, Type, any::AnyTypeInfo, encode::IsNull, error::BoxDynError,
};

use crate::domain::{
    BookingState, Lifecycle, Role, Size, Stage,
    actor::Via,
    approval::{ApprovalKind, ApprovalState},
    billing::LineKind,
    contract::BillingModel,
    notification::{Channel, DeliveryState, EventKind},
    release::{Checkup, DeploymentState},
};

/// Stores an id enum (see `domain::ids`) as its text id.
macro_rules! text_column {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl Type<Any> for $ty {
                fn type_info() -> AnyTypeInfo {
                    <str as Type<Any>>::type_info()
                }
            }

            impl<'q> Encode<'q, Any> for $ty {
                fn encode_by_ref(
                    &self,
                    buf: &mut <Any as Database>::ArgumentBuffer,
                ) -> Result<IsNull, BoxDynError> {
                    <&str as Encode<'q, Any>>::encode(self.as_str(), buf)
                }
            }

            impl<'r> Decode<'r, Any> for $ty {
                fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                    Ok(<&str as Decode<'r, Any>>::decode(value)?.parse::<$ty>()?)
                }
            }
        )+
    };
}

text_column!(
    Stage,
    Size,
    BookingState,
    Lifecycle,
    Role,
    Via,
    LineKind,
    BillingModel,
    Checkup,
    ApprovalState,
    ApprovalKind,
    DeploymentState,
    EventKind,
    Channel,
    DeliveryState,
);

/// A civil date stored as `YYYY-MM-DD` text; rows read it as a
/// `jiff::civil::Date` through `#[sqlx(try_from = "DateText")]`.
#[derive(Debug, Clone)]
pub struct DateText(String);

impl Type<Any> for DateText {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for DateText {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DateText(<String as Decode<'r, Any>>::decode(value)?))
    }
}

impl TryFrom<DateText> for jiff::civil::Date {
    type Error = jiff::Error;
    fn try_from(text: DateText) -> Result<Self, Self::Error> {
        text.0.parse()
    }
}

/// A JSON document stored as text; rows read it as the value it holds
/// through `#[sqlx(try_from = "JsonText")]`, so a document that does not
/// parse is a decode error, not an empty value.
#[derive(Debug, Clone)]
pub struct JsonText(String);

impl Type<Any> for JsonText {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for JsonText {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(JsonText(<String as Decode<'r, Any>>::decode(value)?))
    }
}

impl TryFrom<JsonText> for std::collections::BTreeMap<String, String> {
    type Error = serde_json::Error;
    fn try_from(text: JsonText) -> Result<Self, Self::Error> {
        serde_json::from_str(&text.0)
    }
}
