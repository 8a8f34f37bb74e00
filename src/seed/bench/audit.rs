//! The audit log of the generated history, as if every change had gone
//! through the use cases: the operator creating customers, contracts and
//! applications at the start, then the customers' Systempfleger:innen
//! creating, resizing and cancelling their bookings.

use serde_json::json;

use super::catalogue::SIZES;
use super::insert::V;
use super::plan::Plan;
use super::write::{Ids, OPERATOR_LABEL};

pub(super) const COLUMNS: [&str; 13] = [
    "at",
    "actor_user_id",
    "actor",
    "via",
    "customer_id",
    "action",
    "object_type",
    "object_id",
    "before_json",
    "after_json",
    "chain_seq",
    "prev_hash",
    "entry_hash",
];

/// Links the entries (the first ten [`COLUMNS`]) into the Revision's hash
/// chain after the entry at `seq` with hash `prev`, as `db::audit::append`
/// would have, by adding the last three columns; returns the new head.
pub(super) fn chain(rows: &mut [Vec<V>], mut seq: i64, mut prev: String) -> (i64, String) {
    use crate::domain::audit::chain::{Content, entry_hash};
    fn int(v: &V) -> Option<i64> {
        match v {
            V::I(i) => Some(*i),
            _ => None,
        }
    }
    fn text(v: &V) -> Option<&str> {
        match v {
            V::T(t) => Some(t),
            _ => None,
        }
    }
    for row in rows.iter_mut() {
        seq += 1;
        let hash = entry_hash(
            seq,
            &prev,
            &Content {
                at: int(&row[0]).unwrap_or_default(),
                actor_user_id: int(&row[1]),
                actor: text(&row[2]).unwrap_or_default(),
                actor_subject: None,
                via: text(&row[3]).unwrap_or_default(),
                customer_id: int(&row[4]),
                action: text(&row[5]).unwrap_or_default(),
                object_type: text(&row[6]).unwrap_or_default(),
                object_id: int(&row[7]).unwrap_or_default(),
                before_json: text(&row[8]),
                after_json: text(&row[9]),
            },
        );
        row.extend([V::I(seq), V::T(prev), V::T(hash.clone())]);
        prev = hash;
    }
    (seq, prev)
}

/// The entries in the first ten [`COLUMNS`], oldest first.
pub(super) fn entries(plan: &Plan, ids: &Ids) -> Vec<Vec<V>> {
    let mut rows: Vec<Vec<V>> = Vec::new();
    let operator =
        |customer: i64, action: &str, object_type: &str, id: i64, after: serde_json::Value| {
            vec![
                plan.start.into(),
                ids.operator.into(),
                OPERATOR_LABEL.into(),
                "sitzung".into(),
                customer.into(),
                action.into(),
                object_type.into(),
                id.into(),
                V::NullText,
                after.to_string().into(),
            ]
        };
    for (i, (c, k)) in plan.customers.iter().zip(&plan.contracts).enumerate() {
        rows.push(operator(
            ids.customers[i],
            "customer.created",
            "customer",
            ids.customers[i],
            json!({"slug": c.slug, "name": c.name}),
        ));
        rows.push(operator(
            ids.customers[i],
            "contract.created",
            "contract",
            ids.contracts[i],
            json!({
                "number": k.number, "valid_from": "2025-01-01", "valid_until": plan.valid_until,
                "billing_model": k.billing_model, "base_fee_cents": c.base_fee_cents,
                "max_millicpu": k.max_millicpu, "max_memory_mib": k.max_memory_mib,
                "max_storage_gib": k.max_storage_gib, "monthly_budget_cents": k.monthly_budget_cents,
            }),
        ));
    }
    for (i, a) in plan.apps.iter().enumerate() {
        let after =
            json!({"slug": a.slug, "name": a.name, "contract_id": ids.contracts[a.customer]});
        rows.push(operator(
            ids.customers[a.customer],
            "application.created",
            "application",
            ids.apps[i],
            after,
        ));
    }
    for (b, &id) in plan.bookings.iter().zip(&ids.bookings) {
        let customer = plan.apps[b.app].customer;
        let (actor_id, actor) = &ids.systempfleger[customer];
        let via = if b.via_token { "token" } else { "sitzung" };
        let audit = |at: i64,
                     action: &str,
                     before: Option<serde_json::Value>,
                     after: serde_json::Value|
         -> Vec<V> {
            vec![
                at.into(),
                (*actor_id).into(),
                actor.as_str().into(),
                via.into(),
                ids.customers[customer].into(),
                action.into(),
                "booking".into(),
                id.into(),
                before.map(|v| v.to_string()).into(),
                after.to_string().into(),
            ]
        };
        let product = &plan.products[b.product];
        for (n, p) in b.periods.iter().enumerate() {
            if n == 0 {
                rows.push(audit(
                    p.starts_at,
                    "booking.created",
                    None,
                    json!({
                        "application_id": ids.apps[b.app], "stage": b.stage.as_str(),
                        "product": product.slug, "size": SIZES[p.size], "state": "aktiv",
                    }),
                ));
            } else {
                let previous = SIZES[b.periods[n - 1].size];
                rows.push(audit(
                    p.starts_at,
                    "booking.resized",
                    Some(json!({"size": previous})),
                    json!({"size": SIZES[p.size]}),
                ));
            }
        }
        if let Some(at) = b.cancelled_at {
            rows.push(audit(
                at,
                "booking.cancelled",
                Some(json!({"state": "aktiv"})),
                json!({"state": "gekuendigt"}),
            ));
        }
    }
    // The log in the order it happened. The sort is stable: entries of the
    // same instant (all those at the start) keep the order they were made in.
    rows.sort_by_key(|r| match r[0] {
        V::I(at) => at,
        _ => 0,
    });
    rows
}
