//! The budget watch tells: when a contract's forecast for the running month
//! reaches 80 % or 100 % of its monthly budget, the customer's
//! Systempfleger:in and Finanzen (and the webhooks) hear of it — once per
//! contract, month and level. The event's key
//! (`budget.<level>:<contract>:<month>`) is the record of what was told, so
//! a second run, on this replica or another, sends nothing again.
//!
//! It runs as a scheduled job (`KONTOR_BUDGET_WATCH_EVERY_SECONDS`) rather
//! than after each booking: the forecast moves with bookings *and* with
//! time and prices, and one pass over every contract rates them all in two
//! queries (the open periods; what ended this month is a stored sum, see
//! `live`).

use std::time::Duration;

use super::{BudgetLevel, BudgetWatch, live::budgets};
use crate::{
    app::{self, Change, notify::Event},
    db::{self, Db, contracts::Contract},
    domain::{actor::Scope, notification::EventKind},
};

/// The event of `level` for a contract's month.
fn event(k: &Contract, w: &BudgetWatch, level: BudgetLevel, deliver: bool) -> Option<Event> {
    let kind = match level {
        BudgetLevel::Ok => return None,
        BudgetLevel::Warning => EventKind::BudgetWarning,
        BudgetLevel::Exceeded => EventKind::BudgetExceeded,
    };
    let mut e = Event::new(
        kind,
        format!("{}:{}:{}", kind.as_str(), k.id, w.month),
        Some(k.customer_id),
    );
    let percent = w.forecast_percent();
    let verb = match level {
        BudgetLevel::Exceeded => "überschreitet",
        _ => "erreicht 80 % von",
    };
    e.subject = format!(
        "Budget {}: Prognose {percent} % (Vertrag {})",
        w.month.label(),
        k.number
    );
    e.body = format!(
        "Die Prognose bis Monatsende für den Vertrag {} ({}) {verb} dem Monatsbudget.\n\n\
         Prognose: {} von {} ({percent} %)\nbisher: {} ({} %)",
        k.number,
        k.customer_name,
        w.forecast,
        w.budget,
        w.so_far,
        w.so_far_percent()
    );
    e.link = format!("/abrechnung/{}/vertrag/{}", w.month, k.id);
    e.data = serde_json::json!({
        "contract": {"id": k.id, "number": k.number, "customer_id": k.customer_id},
        "month": w.month.to_string(),
        "level": level.as_str(),
        "forecast_cents": w.forecast.0,
        "so_far_cents": w.so_far.0,
        "budget_cents": w.budget.0,
    });
    e.deliver = deliver;
    Some(e)
}

/// Looks at every contract valid now and records what reached a level;
/// returns how many events were new. A forecast that jumps past both
/// levels is told once, at 100 %, and the 80 % is remembered as passed.
pub async fn check(db: &Db, now: i64) -> app::Result<usize> {
    let contracts: Vec<Contract> = db::contracts::list(&db.pool, Scope::All)
        .await?
        .into_iter()
        .filter(|k| k.is_valid_at(now) && k.monthly_budget_cents > 0)
        .collect();
    if contracts.is_empty() {
        return Ok(0);
    }
    let watches = budgets(&db.pool, &contracts, now).await?;
    let mut told = 0;
    for k in &contracts {
        let Some(w) = watches.get(&k.id) else {
            continue;
        };
        let level = w.level();
        if level == BudgetLevel::Ok {
            continue;
        }
        let mut change = Change::system(db, now).await?;
        let mut events = Vec::new();
        if level == BudgetLevel::Exceeded {
            events.extend(event(k, w, BudgetLevel::Warning, false));
        }
        events.extend(event(k, w, level, true));
        for e in events {
            let deliver = e.deliver;
            if change.notify(e).await? && deliver {
                told += 1;
            }
        }
        change.commit().await?;
    }
    Ok(told)
}

/// Runs [`check`] once per slot of `every` on one replica.
pub fn spawn_scheduled(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    let job_db = db.clone();
    crate::jobs::spawn_scheduled(db, "budget-watch", every, move || {
        let db = job_db.clone();
        async move {
            if let Err(e) = check(&db, db::now()).await {
                tracing::warn!(error = %e, "budget watch failed; trying again next slot");
            }
        }
    })
}
