//! What the commands print: a refusal with Kontor's words, tables with the
//! id first and aligned columns, and fields of one object. Plain text, no
//! colours: it is read in terminals and in pipeline logs alike.

use serde_json::Value;

/// A problem+json answer as one message: kind and detail, then the fields
/// Kontor named and, for `below-booked`, what is booked under each ceiling.
pub(super) fn refusal(status: u16, problem: &Value) -> String {
    let detail = problem["detail"].as_str().unwrap_or("ohne Begründung");
    let kind = problem["type"]
        .as_str()
        .and_then(|t| t.rsplit(':').next())
        .unwrap_or("error");
    let mut message = format!("abgelehnt ({status} {kind}): {detail}");
    if let Some(reason) = problem["reason"].as_str() {
        message.push_str(&format!(" [{reason}]"));
    }
    for e in problem["errors"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}: {}",
            e["field"].as_str().unwrap_or("?"),
            e["message"].as_str().unwrap_or("")
        ));
    }
    for b in problem["below_booked"].as_array().into_iter().flatten() {
        let limit = b["limit"].as_str().unwrap_or("?");
        message.push_str(&format!(
            "\n  {}: Obergrenze {}, gebucht {}",
            limit_label(limit),
            b["ceiling"],
            b["booked"]
        ));
    }
    message
}

/// A Kontingent dimension with the unit its figures are in.
fn limit_label(limit: &str) -> String {
    match limit {
        "vcpu" => "vCPU (Millicores)".into(),
        "memory" => "Arbeitsspeicher (MiB)".into(),
        "storage" => "Speicher (GiB)".into(),
        "monthly_budget" => "Monatsbudget (Cent)".into(),
        other => other.into(),
    }
}

/// A JSON value as a cell: strings without quotes, nothing as `–`.
pub(super) fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        other => other.to_string(),
    }
}

/// Rows under a header, each column as wide as its widest cell; `empty`
/// when there are no rows.
pub(super) fn table(header: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return empty.into();
    }
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// Rows of a JSON list, one per element, the cells `columns` picks.
pub(super) fn rows(list: &Value, columns: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    list.as_array().into_iter().flatten().map(columns).collect()
}

/// One object as `label: value` lines, the values aligned.
pub(super) fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(l, v)| format!("{l}:{} {v}", " ".repeat(width - l.chars().count())))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_lines_end_without_blanks() {
        let out = table(
            &["Id", "Name"],
            &[
                vec!["1".into(), "Stadt Musterhausen".into()],
                vec!["12".into(), "Ämter".into()],
            ],
            "leer",
        );
        assert_eq!(out, "Id  Name\n1   Stadt Musterhausen\n12  Ämter");
    }

    #[test]
    fn an_empty_list_says_so() {
        assert_eq!(table(&["Id"], &[], "Keine Kunden."), "Keine Kunden.");
    }

    #[test]
    fn a_below_booked_refusal_names_each_ceiling_with_what_is_booked() {
        let problem = json!({
            "type": "urn:kontor:problem:below-booked",
            "detail": "Obergrenze unter dem Gebuchten",
            "below_booked": [{"limit": "vcpu", "ceiling": 1000, "booked": 2000}],
        });
        let message = refusal(409, &problem);
        assert!(
            message.starts_with("abgelehnt (409 below-booked)"),
            "{message}"
        );
        assert!(
            message.contains("vCPU (Millicores): Obergrenze 1000, gebucht 2000"),
            "{message}"
        );
    }
}
