//! Exports, streamed: the CSV conventions every Kontor export follows and
//! the hand-over of its bytes in chunks through a small bounded channel,
//! so memory stays flat however many rows there are. Used by the billing
//! export and the Revision's exports; `web::download` makes an [`Export`]
//! an HTTP download.
//!
//! CSV by default is what a German spreadsheet opens without an import
//! dialog: UTF-8 with BOM, `;`, decimal comma, CRLF. `rfc4180` is `,` and a
//! decimal point for machines. Text that a spreadsheet would evaluate as a
//! formula is prefixed with `'`. JSON Lines is one JSON object per line
//! (LF), UTF-8 without BOM.

use std::{
    borrow::Cow,
    io,
    sync::{Arc, Mutex},
};

use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `;`, decimal comma, BOM.
    German,
    /// `,`, decimal point, no BOM.
    Rfc4180,
}

impl Format {
    /// From the `format` query parameter; absent means German.
    pub fn parse(input: Option<&str>) -> Option<Format> {
        match input.map(str::trim) {
            None | Some("") | Some("de") | Some("german") => Some(Format::German),
            Some("rfc4180") => Some(Format::Rfc4180),
            Some(_) => None,
        }
    }

    /// The decimal separator of numbers in this format.
    pub fn decimal(self) -> char {
        match self {
            Format::German => ',',
            Format::Rfc4180 => '.',
        }
    }
}

/// Neutralises text a spreadsheet would run as a formula (OWASP's list of
/// leading characters), by making it a plain string with a leading `'`.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The buffer the CSV writer writes into and [`CsvWriter::take`] empties.
/// Shared because `csv::Writer` only lends its writer out immutably.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // Nothing panics while holding the lock, so it cannot be poisoned.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Flush to the consumer after this many bytes.
const CHUNK: usize = 64 * 1024;

/// Something that collects an export's bytes and hands them out in chunks.
pub trait Chunks {
    /// The bytes written so far, once there are enough of them (or always,
    /// with `force`).
    fn take(&mut self, force: bool) -> Option<Vec<u8>>;
}

/// Writes CSV records into an in-memory buffer that is handed out in
/// chunks; the header row first.
pub struct CsvWriter {
    csv: csv::Writer<Buffer>,
    buffer: Buffer,
    format: Format,
}

impl CsvWriter {
    pub fn new(format: Format, header: &[&str]) -> CsvWriter {
        let buffer = Buffer::default();
        if format == Format::German {
            // Excel reads UTF-8 only with the byte order mark.
            buffer.lock().extend_from_slice("\u{feff}".as_bytes());
        }
        let csv = csv::WriterBuilder::new()
            .delimiter(if format == Format::German { b';' } else { b',' })
            .terminator(csv::Terminator::CRLF)
            .from_writer(buffer.clone());
        let mut w = CsvWriter {
            csv,
            buffer,
            format,
        };
        w.record(header);
        w
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes one record as given; the caller neutralises free text.
    pub fn record(&mut self, record: &[&str]) {
        // Writing into a Vec cannot fail.
        let _ = self.csv.write_record(record);
    }
}

impl Chunks for CsvWriter {
    fn take(&mut self, force: bool) -> Option<Vec<u8>> {
        let _ = self.csv.flush();
        let mut buffer = self.buffer.lock();
        if buffer.is_empty() || (!force && buffer.len() < CHUNK) {
            return None;
        }
        Some(std::mem::replace(
            &mut *buffer,
            Vec::with_capacity(CHUNK * 2),
        ))
    }
}

/// Writes JSON Lines: one value per line.
#[derive(Default)]
pub struct JsonLines {
    buffer: Vec<u8>,
}

impl JsonLines {
    pub fn line(&mut self, value: &impl serde::Serialize) {
        // Serialising plain data into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buffer, value);
        self.buffer.push(b'\n');
    }
}

impl Chunks for JsonLines {
    fn take(&mut self, force: bool) -> Option<Vec<u8>> {
        if self.buffer.is_empty() || (!force && self.buffer.len() < CHUNK) {
            return None;
        }
        Some(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK * 2),
        ))
    }
}

pub type Chunk = Result<Vec<u8>, io::Error>;

/// An export, started: the chunks arrive on `rx`. `web::download` makes
/// it an HTTP download.
pub struct Export {
    pub rx: mpsc::Receiver<Chunk>,
    pub file_name: String,
    /// `text/csv; charset=utf-8` or `application/jsonl`.
    pub content_type: &'static str,
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const JSON_LINES: &str = "application/jsonl";

/// The channel an exporting task writes its chunks into: small, so a slow
/// reader slows the export down instead of filling memory.
pub fn channel() -> (mpsc::Sender<Chunk>, mpsc::Receiver<Chunk>) {
    mpsc::channel(4)
}

/// The consumer is gone (a download cancelled): stop quietly.
pub struct Gone;

/// Hands what `w` has collected to the consumer.
pub async fn send(tx: &mpsc::Sender<Chunk>, w: &mut impl Chunks, force: bool) -> Result<(), Gone> {
    match w.take(force) {
        Some(chunk) => tx.send(Ok(chunk)).await.map_err(|_| Gone),
        None => Ok(()),
    }
}

/// The CSV of a list already in memory (a page's list), every cell
/// neutralised: one chunk.
pub fn table(
    file_name: &str,
    format: Format,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Export {
    let mut w = CsvWriter::new(format, header);
    for row in rows {
        let cells: Vec<Cow<'_, str>> = row.iter().map(|c| neutralise(c)).collect();
        let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
        w.record(&cells);
    }
    let (tx, rx) = channel();
    if let Some(bytes) = w.take(true) {
        // The channel is new and has room: this cannot be refused.
        let _ = tx.try_send(Ok(bytes));
    }
    Export {
        rx,
        file_name: file_name.to_owned(),
        content_type: CSV,
    }
}

/// Ends an export that failed mid-way with an error chunk, so that an HTTP
/// download is cut off rather than looking complete.
pub async fn fail(tx: &mpsc::Sender<Chunk>, e: impl std::fmt::Display) {
    let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
}

/// An instant in ISO 8601 with the German offset, as exports write it:
/// `2026-11-22T14:03:00+01:00`.
pub fn iso(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(crate::domain::calendar::berlin())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A file name of letters, digits and `-` only (the rest becomes `_`).
pub fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_not() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for bad in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("Stadt Musterhausen"), "Stadt Musterhausen");
    }

    #[test]
    fn the_format_parameter_is_strict() {
        assert_eq!(Format::parse(None), Some(Format::German));
        assert_eq!(Format::parse(Some("rfc4180")), Some(Format::Rfc4180));
        assert_eq!(Format::parse(Some("xlsx")), None);
    }

    #[test]
    fn german_csv_has_a_bom_semicolons_and_crlf() {
        let mut w = CsvWriter::new(Format::German, &["Nr.", "Betrag (EUR)"]);
        let bytes = w.take(true).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(text, "\u{feff}Nr.;Betrag (EUR)\r\n");
    }

    #[test]
    fn json_lines_end_each_value_with_a_line_feed() {
        let mut w = JsonLines::default();
        w.line(&serde_json::json!({"a": 1}));
        w.line(&serde_json::json!({"b": "x\ny"}));
        assert_eq!(w.take(true).unwrap(), b"{\"a\":1}\n{\"b\":\"x\\ny\"}\n");
        assert_eq!(w.take(true), None);
    }
}
