//! Schemas of query, path and header parameters that the handlers read as
//! text and parse themselves (so that every refusal is a German message per
//! field): documented exactly as strict as that parsing, so that a request
//! that fits the document is one the handler takes (Schemathesis'
//! `positive_data_acceptance`) and one that does not fit is refused
//! (`negative_data_rejection`). Used with `#[param(schema_with = …)]`.

use utoipa::openapi::{
    Object, ObjectBuilder, Schema,
    schema::{AnyOfBuilder, Type},
};

/// What [`super::body::read_whole`] lets through in a query value: no
/// control character except tab and line breaks.
pub const NO_CONTROL: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

/// A one-line text (`Text::optional`): no control character at all.
pub const ONE_LINE: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// `YYYY-MM` from 2000 to 2099 (`Month::parse`).
pub const MONTH: &str = r"^20[0-9]{2}-(0[1-9]|1[0-2])$";

/// A header value of 1 to 255 visible ASCII characters (`Idempotency-Key`).
pub const VISIBLE_ASCII: &str = r"^[!-~]{1,255}$";

/// One strong entity tag as an `ETag` gives it (`If-Match` of a contract).
pub const ENTITY_TAG: &str = r#"^"[ !#-~]+"$"#;

fn text(pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
}

/// The empty value, which these handlers read as "not given".
fn empty() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0))
        .build()
}

fn or_empty(schema: Object) -> Schema {
    AnyOfBuilder::new().item(schema).item(empty()).into()
}

/// Any 64-bit integer or nothing (`application_id` filters: an id that
/// names nothing selects nothing).
pub fn integer_or_empty() -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .build(),
    )
}

/// A positive 64-bit integer or nothing (the Revision's id filters).
pub fn positive_or_empty() -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(1))
            .build(),
    )
}

/// One of `values`, or nothing.
pub fn one_of_or_empty(values: &[&str]) -> Schema {
    let mut all = vec![""];
    all.extend_from_slice(values);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all))
        .into()
}

/// `true`, `false` or nothing (false).
pub fn flag() -> Schema {
    one_of_or_empty(&["true", "false"])
}

/// The state filter of Kontingent requests.
pub fn approval_state() -> Schema {
    one_of_or_empty(&["offen", "genehmigt", "abgelehnt", "zurueckgezogen"])
}

/// The CSV format: German spreadsheet (nothing, `de`, `german`) or `rfc4180`.
pub fn csv_format() -> Schema {
    one_of_or_empty(&["de", "german", "rfc4180"])
}

/// A month `YYYY-MM`.
pub fn month() -> Schema {
    text(MONTH).into()
}

/// A query value that is free text to the handler.
pub fn no_control() -> Schema {
    text(NO_CONTROL).into()
}

/// Free text of one line of at most `max` characters (a search).
pub fn one_line(max: usize) -> Schema {
    text(ONE_LINE).max_length(Some(max)).into()
}

/// A day (`JJJJ-MM-TT`) or an instant (RFC 3339), or nothing.
pub fn day_or_instant() -> Schema {
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(empty())
        .into()
}

/// `Idempotency-Key`.
pub fn idempotency_key() -> Schema {
    text(VISIBLE_ASCII)
        .min_length(Some(1))
        .max_length(Some(255))
        .into()
}

/// `If-Match` of a contract.
pub fn entity_tag() -> Schema {
    text(ENTITY_TAG).into()
}

/// The stages a release can be promoted into (Vorprüfung is reached by
/// delivery).
pub fn target_stage() -> utoipa::openapi::Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["abnahme", "schulung", "produktion"]))
        .into()
}

/// Checksums by name (one line, up to 100 characters), each
/// `sha256:<64 hex>`.
pub fn checksums() -> utoipa::openapi::Schema {
    use utoipa::openapi::{ObjectBuilder, schema::Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(100))
                .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^sha256:[0-9a-f]{64}$")),
        ))
        .into()
}
