//! Notifications, written where something happens: an [`Event`] goes into
//! the transaction of the change that causes it, with one delivery row per
//! recipient — each person of its audience with an e-mail address who did
//! not switch this kind off, and each webhook of the customer (and the
//! Betreiber's for all customers). Committed together with the change or
//! not at all; `notifications::Sender` delivers them afterwards.
//!
//! Once per event: the event's key is unique, so the same event recorded
//! again (a second replica, a second run of a job) writes nothing, and a
//! delivery is unique per event and recipient.

use serde_json::Value;

use super::{Change, Result};
use crate::{
    db::{self, Tx, notifications as store},
    domain::{
        Stage,
        approval::{ApprovalKind, ApprovalState},
        notification::{Audience, Channel, EventKind},
    },
};

/// Something people are told about.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// What makes it once, e.g. `approval.waiting:17`.
    pub key: String,
    /// Whose it is; its webhooks hear of it.
    pub customer_id: Option<i64>,
    /// Who hears of it by e-mail besides those its kind names
    /// (`EventKind::customer_roles`, `EventKind::to_betreiber`).
    pub audience: Vec<Audience>,
    /// Who is left out (the person who caused it).
    pub except: Option<i64>,
    /// German subject line and text; the page it is about (a path).
    pub subject: String,
    pub body: String,
    pub link: String,
    /// What a webhook's receiver gets as `data`.
    pub data: Value,
    /// False: only remember that it happened, send nothing (a lower budget
    /// level passed over by a higher one).
    pub deliver: bool,
}

impl Event {
    pub fn new(kind: EventKind, key: String, customer_id: Option<i64>) -> Event {
        Event {
            kind,
            key,
            customer_id,
            audience: Vec::new(),
            except: None,
            subject: String::new(),
            body: String::new(),
            link: String::from("/uebersicht"),
            data: Value::Null,
            deliver: true,
        }
    }

    /// Everyone who hears of it by e-mail: the event's own audience and
    /// those its kind names.
    fn audiences(&self) -> Vec<Audience> {
        let mut all = self.audience.clone();
        if let Some(customer) = self.customer_id
            && !self.kind.customer_roles().is_empty()
        {
            all.push(Audience::CustomerRoles(
                customer,
                self.kind.customer_roles(),
            ));
        }
        if self.kind.to_betreiber() {
            all.push(Audience::Betreiber);
        }
        all
    }
}

/// Records `event` in `tx` with its deliveries (e-mails only with
/// `email`: e-mail is configured); false when it was recorded before
/// (nothing written then).
pub async fn record(tx: &mut Tx, now: i64, event: &Event, email: bool) -> Result<bool> {
    let data = serde_json::to_string(&event.data).unwrap_or_else(|_| "null".into());
    let Some(event_id) = store::insert_event(
        tx,
        &store::NewEvent {
            kind: event.kind,
            key: &event.key,
            customer_id: event.customer_id,
            subject: &event.subject,
            body: &event.body,
            link: &event.link,
            data: &data,
            now,
        },
    )
    .await?
    else {
        return Ok(false);
    };
    if !event.deliver {
        return Ok(true);
    }
    let due = db::now_ms();
    let mut told = Vec::new();
    let audiences = if email { event.audiences() } else { Vec::new() };
    for audience in audiences {
        for (user_id, address) in store::email_recipients(tx, &audience, event.kind).await? {
            if Some(user_id) == event.except || told.contains(&user_id) {
                continue;
            }
            told.push(user_id);
            store::insert_delivery(
                tx,
                &store::NewDelivery {
                    event_id,
                    channel: Channel::Email,
                    user_id: Some(user_id),
                    webhook_id: None,
                    address: &address,
                    due_at_ms: due,
                },
            )
            .await?;
        }
    }
    for (webhook_id, url) in store::webhooks_for(tx, event.customer_id).await? {
        store::insert_delivery(
            tx,
            &store::NewDelivery {
                event_id,
                channel: Channel::Webhook,
                user_id: None,
                webhook_id: Some(webhook_id),
                address: &url,
                due_at_ms: due,
            },
        )
        .await?;
    }
    Ok(true)
}

// ----- the events of requests ---------------------------------------------------

/// What a kind of request is called in a sentence.
fn request_noun(kind: ApprovalKind) -> &'static str {
    match kind {
        ApprovalKind::Promotion => "Freigabeantrag",
        ApprovalKind::Kontingent => "Kontingent-Änderungsantrag",
    }
}

/// "A request waits for my decision", to `deciders` but not the requester.
pub fn waiting(
    kind: ApprovalKind,
    id: i64,
    customer_id: i64,
    requested_by: i64,
    deciders: Audience,
    what: &str,
    link: &str,
) -> Event {
    let noun = request_noun(kind);
    let mut event = Event::new(
        EventKind::ApprovalWaiting,
        format!("approval.waiting:{id}"),
        Some(customer_id),
    );
    event.audience = vec![deciders];
    event.except = Some(requested_by);
    event.subject = format!("{noun} Nr. {id} wartet auf Ihre Entscheidung");
    event.body = format!(
        "Ein {noun} wartet auf Ihre Entscheidung:\n\n{what}\n\n\
         Sie können ihn im Portal genehmigen oder mit Begründung ablehnen."
    );
    event.link = link.to_owned();
    event.data = serde_json::json!({
        "request": {"id": id, "kind": kind, "customer_id": customer_id, "state": ApprovalState::Offen},
        "summary": what,
    });
    event
}

/// "My request was decided", to the requester.
pub fn decided(
    kind: ApprovalKind,
    id: i64,
    customer_id: i64,
    requested_by: i64,
    state: ApprovalState,
    reason: Option<&str>,
) -> Event {
    let noun = request_noun(kind);
    let mut event = Event::new(
        EventKind::ApprovalDecided,
        format!("approval.decided:{id}"),
        Some(customer_id),
    );
    event.audience = vec![Audience::Person(requested_by)];
    event.subject = format!("Ihr {noun} Nr. {id} wurde {}", state.label());
    event.body = match reason {
        Some(reason) => format!(
            "Ihr {noun} Nr. {id} wurde {}.\n\nBegründung:\n{reason}",
            state.label()
        ),
        None => format!("Ihr {noun} Nr. {id} wurde {}.", state.label()),
    };
    event.link = "/freigaben".into();
    event.data = serde_json::json!({
        "request": {"id": id, "kind": kind, "customer_id": customer_id, "state": state},
        "reason": reason,
    });
    event
}

// ----- failures ------------------------------------------------------------------

/// Where an environment is, for messages.
pub struct Place<'a> {
    pub customer_id: i64,
    pub application_id: i64,
    pub application_name: &'a str,
    pub stage: Stage,
    pub namespace: &'a str,
}

/// A deployment failed.
pub fn deployment_failed(id: i64, place: &Place<'_>, message: &str) -> Event {
    let mut event = Event::new(
        EventKind::DeploymentFailed,
        format!("deployment.failed:{id}"),
        Some(place.customer_id),
    );
    event.subject = format!(
        "Bereitstellung fehlgeschlagen: {} in {}",
        place.application_name,
        place.stage.label()
    );
    event.body = format!(
        "Die Bereitstellung Nr. {id} des Verfahrens {} in der Stufe {} (Namespace {}) ist \
         fehlgeschlagen.\n\nMeldung: {message}",
        place.application_name,
        place.stage.label(),
        place.namespace
    );
    event.link = format!("/verfahren/{}/stufen", place.application_id);
    event.data = serde_json::json!({
        "deployment": {"id": id, "application_id": place.application_id, "stage": place.stage,
            "namespace": place.namespace, "message": message},
    });
    event
}

/// An environment's provisioning failed (`recovered`: works again after
/// failing), for the generation the reconciler worked on.
pub fn provisioning(
    environment_id: i64,
    generation: i64,
    place: &Place<'_>,
    recovered: bool,
    message: &str,
) -> Event {
    let (kind, key) = if recovered {
        (EventKind::ProvisioningRecovered, "provisioning.recovered")
    } else {
        (EventKind::ProvisioningFailed, "provisioning.failed")
    };
    let mut event = Event::new(
        kind,
        format!("{key}:{environment_id}:{generation}"),
        Some(place.customer_id),
    );
    if recovered {
        event.subject = format!("Wieder bereitgestellt: {}", place.namespace);
        event.body = format!(
            "Die Umgebung {} (Verfahren {}, Stufe {}) ist nach einem Fehler wieder auf dem \
             Stand der Buchungen.",
            place.namespace,
            place.application_name,
            place.stage.label()
        );
    } else {
        event.subject = format!("Bereitstellung fehlgeschlagen: {}", place.namespace);
        event.body = format!(
            "Die Umgebung {} (Verfahren {}, Stufe {}) konnte nicht bereitgestellt werden. \
             Kontor versucht es weiter.\n\nMeldung: {message}",
            place.namespace,
            place.application_name,
            place.stage.label()
        );
    }
    event.link = format!("/umgebungen/{environment_id}");
    event.data = serde_json::json!({
        "environment": {"id": environment_id, "namespace": place.namespace,
            "application_id": place.application_id, "stage": place.stage,
            "generation": generation},
        "message": if recovered { None } else { Some(message) },
    });
    event
}

impl Change<'_> {
    /// Records `event` in this change, delivered once the change is
    /// committed; false when it had been recorded before.
    pub async fn notify(&mut self, event: Event) -> Result<bool> {
        let (now, email) = (self.now, self.db().email_enabled());
        let new = record(self.tx(), now, &event, email).await?;
        if new {
            self.notified();
        }
        Ok(new)
    }
}
