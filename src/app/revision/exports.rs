//! The Revision exported: CSV (German spreadsheet format or RFC 4180, each
//! entry with its sentence, its comparison, the recorded values and its
//! place in the chain) and JSON Lines (one `EntryView` per line), German
//! whatever the requester's language. Streamed
//! from the database through a bounded channel, so a million entries never
//! sit in memory.

use futures_util::TryStreamExt as _;
use tokio::sync::mpsc;

use super::{Result, describe, view};
use crate::{
    app::export::{
        self, Chunk, Chunks, CsvWriter, Export, Format, JsonLines, iso, neutralise, send,
    },
    db::{
        self, Db,
        audit::{AuditRow, Filter},
    },
    domain::{
        actor::{CurrentUser, Scope},
        audit::Names,
        calendar::berlin_date,
        policy,
    },
    i18n::{self, Lang},
};

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv(Format),
    JsonLines,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Csv(_) => "csv",
            Kind::JsonLines => "jsonl",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::Csv(_) => export::CSV,
            Kind::JsonLines => export::JSON_LINES,
        }
    }
}

/// The CSV columns, in order (docs/revision.md).
pub const COLUMNS: [&str; 20] = [
    "Nr.",
    "Zeitpunkt",
    "Zeitpunkt (Unix)",
    "Person",
    "Personen-Nr.",
    "Kennung beim Identitätsanbieter",
    "Zugang",
    "Kunde",
    "Kunden-Nr.",
    "Aktion",
    "Aktion (Kennung)",
    "Objektart",
    "Objekt-Nr.",
    "Beschreibung",
    "Änderung",
    "Vorher (JSON)",
    "Nachher (JSON)",
    "Position in der Kette",
    "Hash des Vorgängers",
    "Hash",
];

fn csv_row(w: &mut CsvWriter, row: &AuditRow, names: &Names) {
    let d = describe(row, names);
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let text = |v: Option<&str>| neutralise(v.unwrap_or_default()).into_owned();
    w.record(&[
        &row.id.to_string(),
        &iso(row.at),
        &row.at.to_string(),
        &neutralise(&row.actor),
        &opt(row.actor_user_id),
        &text(row.actor_subject.as_deref()),
        row.via.as_str(),
        &text(row.customer_name.as_deref()),
        &opt(row.customer_id),
        &neutralise(&d.action),
        &neutralise(&row.action),
        &neutralise(&crate::domain::audit::object_noun(&row.object_type)),
        &row.object_id.to_string(),
        &neutralise(&d.sentence),
        &neutralise(&d.changes_text()),
        &text(row.before_json.as_deref()),
        &text(row.after_json.as_deref()),
        &opt(row.chain_seq),
        row.prev_hash.as_deref().unwrap_or_default(),
        row.entry_hash.as_deref().unwrap_or_default(),
    ]);
}

/// Starts exporting what `user` reads of the Revision, filtered; the bytes
/// arrive on the returned export's channel.
pub async fn start(
    db: &Db,
    user: &CurrentUser,
    filter: Filter,
    kind: Kind,
    now: i64,
) -> Result<Export> {
    let scope = policy::read_audit(user)?;
    let names = db::audit::names(&db.pool, scope).await?;
    let file_name = format!("revision-{}.{}", berlin_date(now), kind.extension());
    Ok(Export {
        rx: spawn(db.clone(), scope, filter, names, kind),
        file_name,
        content_type: kind.content_type(),
    })
}

/// Runs an export of what `scope` sees in a task of its own.
pub fn spawn(
    db: Db,
    scope: Scope,
    filter: Filter,
    names: Names,
    kind: Kind,
) -> mpsc::Receiver<Chunk> {
    let (tx, rx) = export::channel();
    // An export is a record for auditors, in German whoever asks: the
    // sentences, labels and display words are written in the same words
    // as every export before, never in the requester's language.
    tokio::spawn(i18n::scope(Lang::De, async move {
        let result = match kind {
            Kind::Csv(format) => {
                let mut w = CsvWriter::new(format, &COLUMNS);
                run(&db, scope, &filter, &tx, &mut w, |w, row| {
                    csv_row(w, row, &names)
                })
                .await
            }
            Kind::JsonLines => {
                let mut w = JsonLines::default();
                run(&db, scope, &filter, &tx, &mut w, |w, row| {
                    w.line(&view(row, &names))
                })
                .await
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "Revision export failed");
            export::fail(&tx, e).await;
        }
    }));
    rx
}

async fn run<W: Chunks>(
    db: &Db,
    scope: Scope,
    filter: &Filter,
    tx: &mpsc::Sender<Chunk>,
    w: &mut W,
    mut write: impl FnMut(&mut W, &AuditRow),
) -> sqlx::Result<()> {
    let mut rows = db::audit::stream(&db.pool, scope, filter);
    while let Some(row) = rows.try_next().await? {
        write(w, &row);
        if send(tx, w, false).await.is_err() {
            return Ok(());
        }
    }
    let _ = send(tx, w, true).await;
    Ok(())
}
