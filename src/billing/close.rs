//! Closing a month: every contract's statement of a finished month is
//! rated once more, written with its lines and audited in one change, and
//! final from then on. Closing again changes nothing; two replicas closing
//! at once write one statement. The scheduled job runs once per slot.

use std::{collections::HashSet, time::Duration};

use serde_json::json;

use super::{
    rating::{Prices, totals},
    statements::{covers, months_of, prices, rate},
};
use crate::{
    app::{Change, Error, FieldErrors, Result},
    db::{
        self, Db, audit,
        contracts::Contract,
        statements::{Of, closed_of_month, periods},
    },
    domain::{actor::Scope, billing::Month},
};

/// What a closing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// Statements written now.
    pub closed: usize,
    /// Statements that were already final (by an earlier run or another
    /// replica) and were left as they are.
    pub already: usize,
    /// Line items written.
    pub lines: usize,
}

impl std::ops::AddAssign for CloseReport {
    fn add_assign(&mut self, o: CloseReport) {
        self.closed += o.closed;
        self.already += o.already;
        self.lines += o.lines;
    }
}

/// Closes `month` for every contract valid in it. Only a month that is over
/// can be closed; closing it again changes nothing.
pub async fn close_month(db: &Db, month: Month, now: i64) -> Result<CloseReport> {
    if month.end() > now {
        return Err(Error::Validation(FieldErrors::single(
            "month",
            format!(
                "{} ist noch nicht zu Ende und kann nicht abgeschlossen werden.",
                month.label()
            ),
        )));
    }
    let prices = prices(&db.pool).await?;
    let contracts = db::contracts::list(&db.pool, Scope::All).await?;
    let done: HashSet<i64> = closed_of_month(&db.pool, month)
        .await?
        .into_keys()
        .collect();
    let mut report = CloseReport::default();
    for k in contracts.iter().filter(|k| covers(k, month)) {
        if done.contains(&k.id) {
            report.already += 1;
        } else {
            report += close_one(db, k, month, &prices, now).await?;
        }
    }
    Ok(report)
}

/// Closes every month that is over and not yet closed, for every contract:
/// the scheduled job. With nothing due it costs two reads.
pub async fn close_due(db: &Db, now: i64) -> Result<CloseReport> {
    let last = Month::containing(now).prev();
    let contracts = db::contracts::list(&db.pool, Scope::All).await?;
    let done = db::statements::closed_months(&db.pool).await?;
    let mut due: Vec<(&Contract, Month)> = Vec::new();
    for k in &contracts {
        for m in months_of(k, now).into_iter().rev().filter(|m| *m <= last) {
            if !done.contains(&(k.id, m.to_string())) {
                due.push((k, m));
            }
        }
    }
    let mut report = CloseReport::default();
    if due.is_empty() {
        return Ok(report);
    }
    let prices = prices(&db.pool).await?;
    for (k, m) in due {
        report += close_one(db, k, m, &prices, now).await?;
    }
    Ok(report)
}

async fn close_one(
    db: &Db,
    k: &Contract,
    month: Month,
    prices: &Prices,
    now: i64,
) -> Result<CloseReport> {
    let mut change = Change::system(db, now).await?;
    let periods = periods(
        change.conn(),
        Of::Contract(k.id),
        month.start(),
        month.end(),
    )
    .await?;
    let lines = rate(
        k,
        periods.get(&k.id).map_or(&[][..], Vec::as_slice),
        prices,
        month,
        month.end(),
    );
    let total = totals(&lines).total;
    let Some(statement_id) =
        db::statements::insert(change.tx(), k, month, total, lines.len() as i64, now).await?
    else {
        return Ok(CloseReport {
            already: 1,
            ..CloseReport::default()
        });
    };
    db::statements::insert_lines(change.tx(), statement_id, &lines).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(k.customer_id),
            action: "statement.closed",
            object_type: "statement",
            object_id: statement_id,
            before: None,
            after: Some(json!({
                "contract_id": k.id,
                "month": month.to_string(),
                "total_cents": total.0,
                "lines": lines.len(),
            })),
        })
        .await?;
    change.commit().await?;
    Ok(CloseReport {
        closed: 1,
        already: 0,
        lines: lines.len(),
    })
}

/// Closes finished billing months, once per `every` across all replicas.
pub fn spawn_scheduled(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    let job_db = db.clone();
    crate::jobs::spawn_scheduled(db, "billing-close", every, move || {
        let db = job_db.clone();
        async move {
            let started = std::time::Instant::now();
            let outcome = close_due(&db, db::now()).await;
            crate::metrics::billing_run(started.elapsed().as_secs_f64());
            match outcome {
                Ok(r) if r.closed > 0 => tracing::info!(
                    statements = r.closed,
                    lines = r.lines,
                    "closed finished billing months"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "closing billing months failed; retrying next slot")
                }
            }
        }
    })
}
