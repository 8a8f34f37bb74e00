//! Finance exports: statements as CSV, streamed, in the conventions of
//! every Kontor export (`app::export`: German spreadsheet format by
//! default, RFC 4180 on request, formulas neutralised). Dates are ISO 8601
//! in both.
//!
//! The rows are produced by a task and handed over in chunks of about 64 KiB
//! through a small bounded channel, so memory stays flat however many lines
//! a month has: a closed statement's lines are read from the database as a
//! stream, an open month's are rated one contract at a time. Reading and
//! formatting are two tasks joined by another small channel, so the two
//! cores of a small server work on one export at once.

use futures_util::TryStreamExt as _;
use tokio::sync::mpsc;

use super::{
    rating::hours_e4,
    statements::{self, exportable, parse_month},
};
pub use crate::app::export::{Chunk, Export, Format, neutralise};
use crate::{
    app::{
        self, Error, Result,
        export::{self, Chunks as _, iso, send},
    },
    db::{
        self, Db,
        contracts::Contract,
        statements::{Header, line_from_row},
    },
    domain::{
        actor::CurrentUser,
        billing::{LineItem, LineKind, Month},
        money::push_plain,
    },
};

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

/// The cells every line of one statement shares, neutralised once per
/// statement rather than once per line.
pub struct Head {
    contract: [String; 5],
    month: String,
    status: &'static str,
}

impl Head {
    pub fn new(header: &Header, month: Month, is_final: bool) -> Head {
        let cell = |text: &str| neutralise(text).into_owned();
        Head {
            contract: [
                cell(&header.contract_number),
                cell(&header.kostenstelle),
                cell(&header.haushaltsstelle),
                cell(&header.leitweg_id),
                cell(&header.customer_name),
            ],
            month: month.to_string(),
            status: if is_final { "endgültig" } else { "vorläufig" },
        }
    }
}

/// An instant in ISO 8601, formatted again only when it changes: most lines
/// of a month begin at its first second and end at its last, and the time
/// zone conversion was an eighth of the export's CPU (docs/benchmarks.md).
#[derive(Default)]
struct Iso {
    at: Option<i64>,
    text: String,
}

impl Iso {
    fn of(&mut self, at: i64) -> &str {
        if self.at != Some(at) {
            self.text = iso(at);
            self.at = Some(at);
        }
        &self.text
    }
}

/// Writes statement lines as CSV rows into a buffer handed out in chunks.
pub struct CsvWriter {
    w: export::CsvWriter,
    from: Iso,
    to: Iso,
    /// Number cells, cleared and refilled for every line.
    numbers: [String; 5],
}

impl CsvWriter {
    pub fn new(format: Format) -> CsvWriter {
        CsvWriter {
            w: export::CsvWriter::new(format, &COLUMNS),
            from: Iso::default(),
            to: Iso::default(),
            numbers: Default::default(),
        }
    }

    pub fn line(&mut self, head: &Head, no: usize, line: &LineItem) {
        use std::fmt::Write as _;
        let d = self.w.format().decimal();
        self.numbers.iter_mut().for_each(String::clear);
        let [no_cell, booking, hours, rate, amount] = &mut self.numbers;
        // Writing into a String cannot fail.
        let _ = write!(no_cell, "{no}");
        if let Some(b) = line.booking_id {
            let _ = write!(booking, "{b}");
        }
        push_plain(hours, hours_e4(line.seconds), 4, d);
        if let Some(r) = line.rate {
            push_plain(rate, r.0, 4, d);
        }
        push_plain(amount, line.amount.0, 2, d);
        let kind = match line.kind {
            LineKind::Usage => "Nutzung",
            LineKind::BaseFee => "Grundgebühr",
        };
        let [number, kostenstelle, haushaltsstelle, leitweg_id, customer] = &head.contract;
        self.w.record(&[
            number,
            kostenstelle,
            haushaltsstelle,
            leitweg_id,
            customer,
            &head.month,
            head.status,
            no_cell,
            kind,
            &neutralise(&line.application_name),
            line.stage.map(|s| s.label()).unwrap_or_default(),
            &neutralise(&line.product_name),
            line.size
                .map(crate::domain::Size::as_str)
                .unwrap_or_default(),
            booking,
            self.from.of(line.from),
            self.to.of(line.to),
            hours,
            rate,
            amount,
        ]);
    }

    /// The bytes written so far, once there are enough of them (or always,
    /// with `force`).
    pub fn take(&mut self, force: bool) -> Option<Vec<u8>> {
        self.w.take(force)
    }
}

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
    let (tx, rx) = export::channel();
    tokio::spawn(async move {
        if let Err(e) = run(&db, &contracts, month, format, now, &tx).await {
            tracing::error!(error = %e, %month, "billing export failed");
            export::fail(&tx, e).await;
        }
    });
    rx
}

/// Lines the reader hands to the writer at a time.
const BATCH: usize = 512;
/// Batches in flight between them: enough that neither waits for the
/// other, few enough that memory stays flat.
const IN_FLIGHT: usize = 4;

/// What the reader hands over: a statement's shared cells before its lines.
enum Part {
    Statement(Head),
    Lines(Vec<LineItem>),
}

/// Reading and writing run side by side: one task reads the statements
/// (queries, the driver's row conversion, rating an open month) while this
/// one formats. Done in turns, each waited for the other: nothing was
/// written while the database sorted the next statement, and the formatting
/// held up the reading, so a server's second core sat idle while `COPY`
/// uses both (`docs/benchmarks.md`).
async fn run(
    db: &Db,
    contracts: &[Contract],
    month: Month,
    format: Format,
    now: i64,
    tx: &mpsc::Sender<Chunk>,
) -> anyhow::Result<()> {
    let (parts_tx, mut parts) = mpsc::channel(IN_FLIGHT);
    let reader = tokio::spawn(read(db.clone(), contracts.to_vec(), month, now, parts_tx));
    let mut w = CsvWriter::new(format);
    let mut current = None;
    let mut no = 0;
    while let Some(part) = parts.recv().await {
        match part? {
            Part::Statement(head) => {
                current = Some(head);
                no = 0;
            }
            Part::Lines(lines) => {
                let head = current.as_ref().expect("a statement's cells come first");
                for line in &lines {
                    no += 1;
                    w.line(head, no, line);
                    if send(tx, &mut w.w, false).await.is_err() {
                        // The reader stops at its next hand-over.
                        return Ok(());
                    }
                }
            }
        }
    }
    // The channel closes when the reader is done or has failed; a panic
    // there must not pass for a complete file.
    reader.await?;
    let _ = send(tx, &mut w.w, true).await;
    Ok(())
}

/// Reads the statements of `contracts` in order and hands them over in
/// batches; an error ends the export. Stops when the writer is gone.
async fn read(
    db: Db,
    contracts: Vec<Contract>,
    month: Month,
    now: i64,
    to: mpsc::Sender<anyhow::Result<Part>>,
) {
    if let Err(e) = read_all(&db, &contracts, month, now, &to).await {
        let _ = to.send(Err(e)).await;
    }
}

async fn read_all(
    db: &Db,
    contracts: &[Contract],
    month: Month,
    now: i64,
    to: &mpsc::Sender<anyhow::Result<Part>>,
) -> anyhow::Result<()> {
    // The writer has gone (the download was cut off): nothing more to read.
    let gone = |_| anyhow::anyhow!("the export's writer stopped");
    // Loaded once, and only if an open month needs rating.
    let mut prices = None;
    for k in contracts {
        match db::statements::closed(&db.pool, k.id, month).await? {
            Some(c) => {
                let head = Head::new(&c.header, month, true);
                to.send(Ok(Part::Statement(head))).await.map_err(gone)?;
                let mut rows = db::statements::closed_lines(&db.pool, c.id);
                let mut batch = Vec::with_capacity(BATCH);
                while let Some(row) = rows.try_next().await? {
                    batch.push(line_from_row(&row)?);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        to.send(Ok(Part::Lines(full))).await.map_err(gone)?;
                    }
                }
                if !batch.is_empty() {
                    to.send(Ok(Part::Lines(batch))).await.map_err(gone)?;
                }
            }
            None => {
                let head = Head::new(&Header::of(k), month, false);
                to.send(Ok(Part::Statement(head))).await.map_err(gone)?;
                if prices.is_none() {
                    prices = Some(statements::prices(&db.pool).await?);
                }
                let prices = prices.as_ref().expect("loaded just now");
                let lines = statements::live_lines(&db.pool, k, prices, month, now).await?;
                to.send(Ok(Part::Lines(lines))).await.map_err(gone)?;
            }
        }
    }
    Ok(())
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
        content_type: export::CSV,
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
