//! Finance exports: statements as CSV, streamed.
//!
//! The default is what a German spreadsheet opens without an import dialog:
//! UTF-8 with BOM, `;`, decimal comma, CRLF. `rfc4180` is `,` and a decimal
//! point for machines. Dates are ISO 8601 in both. Text that a spreadsheet
//! would evaluate as a formula is prefixed with `'`.
//!
//! The rows are produced by a task and handed over in chunks of about 64 KiB
//! through a small bounded channel, so memory stays flat however many lines
//! a month has: a closed statement's lines are read from the database as a
//! stream, an open month's are rated one contract at a time.

use std::{
    borrow::Cow,
    io,
    sync::{Arc, Mutex},
};

use futures_util::TryStreamExt as _;
use tokio::sync::mpsc;

use super::{
    rating::hours_e4,
    statements::{self, exportable, parse_month},
};
use crate::{
    app::{self, Error, Result},
    db::{
        self, Db,
        contracts::Contract,
        statements::{Header, line_from_row},
    },
    domain::{
        actor::CurrentUser,
        billing::{LineItem, LineKind, Month},
        calendar::berlin,
        money::format_plain,
    },
};

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

    fn decimal(self) -> char {
        match self {
            Format::German => ',',
            Format::Rfc4180 => '.',
        }
    }
}

/// The columns, in order. Documented in `docs/billing.md`.
pub const COLUMNS: [&str; 19] = [
    "Vertragsnummer",
    "Kostenstelle",
    "Haushaltsstelle",
    "Leitweg-ID",
    "Kunde",
    "Monat",
    "Status",
    "Position",
    "Art",
    "Verfahren",
    "Stufe",
    "Produkt",
    "Größe",
    "Buchung",
    "Von",
    "Bis",
    "Stunden",
    "Preis je Stunde (EUR)",
    "Betrag (EUR)",
];

/// Neutralises text a spreadsheet would run as a formula (OWASP's list of
/// leading characters), by making it a plain string with a leading `'`.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn iso(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(berlin())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
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

/// Writes rows into an in-memory buffer that is handed out in chunks.
pub struct CsvWriter {
    csv: csv::Writer<Buffer>,
    buffer: Buffer,
    format: Format,
}

/// Flush to the consumer after this many bytes.
const CHUNK: usize = 64 * 1024;

impl CsvWriter {
    pub fn new(format: Format) -> CsvWriter {
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
        w.write(&COLUMNS);
        w
    }

    fn write(&mut self, record: &[&str]) {
        // Writing into a Vec cannot fail.
        let _ = self.csv.write_record(record);
    }

    pub fn line(
        &mut self,
        header: &Header,
        month: Month,
        is_final: bool,
        no: usize,
        line: &LineItem,
    ) {
        let d = self.format.decimal();
        let no = no.to_string();
        let booking = line.booking_id.map(|b| b.to_string()).unwrap_or_default();
        let hours = format_plain(hours_e4(line.seconds), 4, d);
        let rate = line
            .rate
            .map(|r| format_plain(r.0, 4, d))
            .unwrap_or_default();
        let amount = format_plain(line.amount.0, 2, d);
        let (from, to) = (iso(line.from), iso(line.to));
        let month = month.to_string();
        let kind = match line.kind {
            LineKind::Usage => "Nutzung",
            LineKind::BaseFee => "Grundgebühr",
        };
        self.write(&[
            &neutralise(&header.contract_number),
            &neutralise(&header.kostenstelle),
            &neutralise(&header.haushaltsstelle),
            &neutralise(&header.leitweg_id),
            &neutralise(&header.customer_name),
            &month,
            if is_final { "endgültig" } else { "vorläufig" },
            &no,
            kind,
            &neutralise(&line.application_name),
            line.stage.map(|s| s.label()).unwrap_or_default(),
            &neutralise(&line.product_name),
            line.size
                .map(crate::domain::Size::as_str)
                .unwrap_or_default(),
            &booking,
            &from,
            &to,
            &hours,
            &rate,
            &amount,
        ]);
    }

    /// The bytes written so far, once there are enough of them (or always,
    /// with `force`).
    pub fn take(&mut self, force: bool) -> Option<Vec<u8>> {
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

pub type Chunk = Result<Vec<u8>, io::Error>;

/// Starts exporting the statements of `month` for `contracts`; the CSV
/// arrives on the returned channel. A database error mid-way arrives as an
/// error chunk, so an HTTP download is cut off rather than looking complete.
pub fn spawn(
    db: Db,
    contracts: Vec<Contract>,
    month: Month,
    format: Format,
    now: i64,
) -> mpsc::Receiver<Chunk> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(e) = run(&db, &contracts, month, format, now, &tx).await {
            tracing::error!(error = %e, %month, "billing export failed");
            let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
        }
    });
    rx
}

/// Stops quietly when the consumer is gone (a download cancelled).
struct Gone;

async fn send(tx: &mpsc::Sender<Chunk>, w: &mut CsvWriter, force: bool) -> Result<(), Gone> {
    match w.take(force) {
        Some(chunk) => tx.send(Ok(chunk)).await.map_err(|_| Gone),
        None => Ok(()),
    }
}

async fn run(
    db: &Db,
    contracts: &[Contract],
    month: Month,
    format: Format,
    now: i64,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<()> {
    let mut w = CsvWriter::new(format);
    // Loaded once, and only if an open month needs rating.
    let mut prices = None;
    for k in contracts {
        let closed = db::statements::closed(&db.pool, k.id, month).await?;
        match closed {
            Some(c) => {
                let mut rows = db::statements::closed_lines(&db.pool, c.id);
                let mut no = 0;
                while let Some(row) = rows.try_next().await? {
                    no += 1;
                    w.line(&c.header, month, true, no, &line_from_row(&row)?);
                    if send(tx, &mut w, false).await.is_err() {
                        return Ok(());
                    }
                }
            }
            None => {
                let header = Header::of(k);
                if prices.is_none() {
                    prices = Some(statements::prices(&db.pool).await?);
                }
                let prices = prices.as_ref().expect("loaded just now");
                let lines = statements::live_lines(&db.pool, k, prices, month, now).await?;
                for (i, line) in lines.iter().enumerate() {
                    w.line(&header, month, false, i + 1, line);
                    if send(tx, &mut w, false).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    let _ = send(tx, &mut w, true).await;
    Ok(())
}

/// An export, started: the chunks arrive on `rx`. `web::download` makes
/// it an HTTP download.
pub struct Export {
    pub rx: mpsc::Receiver<Chunk>,
    pub file_name: String,
}

/// Starts the export a user asked for: one contract's statement of a month,
/// or all the user may see. Checks in the order that leaks nothing: another
/// tenant's contract is 404 before anything about month or format is said.
pub async fn start(
    db: &Db,
    user: &CurrentUser,
    contract_id: Option<i64>,
    month: &str,
    format: Option<&str>,
    now: i64,
) -> Result<Export> {
    if let Some(id) = contract_id {
        app::contracts::get(db, user, id).await?;
    }
    let month = parse_month(month, now)?;
    let format = Format::parse(format).ok_or_else(|| {
        Error::validation(
            "format",
            "Unbekanntes Format; erlaubt sind „rfc4180“ oder keine Angabe (deutsches Tabellenformat).",
        )
    })?;
    let contracts = exportable(db, user, contract_id, month).await?;
    let number = contract_id
        .and(contracts.first())
        .map(|k| k.number.as_str());
    let file_name = file_name(number, month);
    Ok(Export {
        rx: spawn(db.clone(), contracts, month, format, now),
        file_name,
    })
}

/// A file name for the download: `abrechnung-2026-11.csv` or
/// `abrechnung-DLV-2026-0042-2026-11.csv`.
pub fn file_name(contract_number: Option<&str>, month: Month) -> String {
    let safe: String = contract_number
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        format!("abrechnung-{month}.csv")
    } else {
        format!("abrechnung-{safe}-{month}.csv")
    }
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
        let mut w = CsvWriter::new(Format::German);
        let bytes = w.take(true).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.ends_with("Betrag (EUR)\r\n"));
        assert!(text.contains("Vertragsnummer;Kostenstelle;"));
    }

    #[test]
    fn file_names_are_safe() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!(
            file_name(Some("DLV-2026/0042"), m),
            "abrechnung-DLV-2026_0042-2026-11.csv"
        );
        assert_eq!(file_name(None, m), "abrechnung-2026-11.csv");
    }
}
