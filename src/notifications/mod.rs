//! Delivering notifications: the sender takes deliveries from the outbox
//! (`db::notifications`, written with the events by `app::notify`), sends
//! each as an e-mail or a signed webhook, and records the outcome — like the
//! provisioning reconciler: claims with a lease, so replicas never send the
//! same delivery at the same time; retries with exponential backoff and
//! jitter, so nothing is lost while a mail server or a receiver is down;
//! given up only after `KONTOR_NOTIFY_GIVE_UP_HOURS`.
//!
//! - [`email`]: SMTP with `lettre`.
//! - [`webhook`]: Standard Webhooks signing and the POST.

pub mod email;
pub mod webhook;

use std::{sync::Arc, time::Duration};

use futures_util::future::join_all;
use tokio::task::JoinHandle;

use self::email::Mailer;
use crate::{
    config::Settings,
    db::{self, Db, notifications as store},
    domain::notification::Channel,
};

/// Why a delivery did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another try later (no connection, a timeout, 5xx, 4xx of a
    /// webhook receiver).
    Transient(String),
    /// Never going to work (the mail server refused the address, 410 Gone).
    Permanent(String),
}

impl SendError {
    fn message(&self) -> &str {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => m,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub workers: usize,
    pub poll: Duration,
    pub lease: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
    pub webhook_timeout: Duration,
}

impl Options {
    pub fn from_settings(settings: &Settings) -> Options {
        Options {
            workers: settings.notify_workers,
            poll: Duration::from_millis(settings.notify_poll_ms),
            lease: Duration::from_secs(settings.notify_lease_seconds),
            retry_base: Duration::from_millis(settings.notify_retry_base_ms),
            retry_max: Duration::from_millis(settings.notify_retry_max_ms),
            give_up_after: Duration::from_secs(settings.notify_give_up_hours * 3600),
            webhook_timeout: Duration::from_secs(settings.webhook_timeout_seconds),
        }
    }
}

/// The sender of one process.
pub struct Sender {
    db: Db,
    mailer: Option<Mailer>,
    http: reqwest::Client,
    /// Links in messages start with it (`KONTOR_PUBLIC_URL`).
    public_url: String,
    /// This process's name on its claims.
    worker: String,
    options: Options,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Sender {
    pub fn new(
        db: Db,
        mailer: Option<Mailer>,
        public_url: String,
        options: Options,
    ) -> anyhow::Result<Sender> {
        let http = reqwest::Client::builder()
            // The specification: a redirect is a failure, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.webhook_timeout)
            .build()?;
        Ok(Sender {
            db,
            mailer,
            http,
            public_url: public_url.trim_end_matches('/').to_owned(),
            worker: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "kontor".into()),
                crate::secret::random_id(8)
            ),
            options,
            stopping: tokio::sync::watch::Sender::new(false),
        })
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Works until [`Sender::stop`]: claims what is due (up to `workers`
    /// at once), sends it, records the outcome; with nothing due it waits
    /// for a wake-up from this process or the next poll.
    pub async fn run(self: Arc<Self>) {
        let mut stopping = self.stopping.subscribe();
        loop {
            if *stopping.borrow() {
                break;
            }
            let claims = match store::claim(
                &self.db,
                &self.worker,
                i64::try_from(self.options.workers.max(1)).unwrap_or(1),
                db::now_ms(),
                i64::try_from(self.options.lease.as_millis()).unwrap_or(i64::MAX / 2),
            )
            .await
            {
                Ok(claims) => claims,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the notification outbox failed");
                    Vec::new()
                }
            };
            if claims.is_empty() {
                tokio::select! {
                    _ = self.db.notifications_woken() => {}
                    _ = tokio::time::sleep(self.options.poll) => {}
                    _ = stopping.changed() => {}
                }
                continue;
            }
            join_all(claims.into_iter().map(|c| self.handle(c))).await;
        }
    }

    async fn handle(&self, d: store::Claimed) {
        let outcome = self.send(&d).await;
        crate::metrics::notification(
            d.channel.as_str(),
            match &outcome {
                Ok(()) => "zugestellt",
                Err(SendError::Transient(_)) => "fehler",
                Err(SendError::Permanent(_)) => "abgelehnt",
            },
        );
        let now = db::now_ms();
        let recorded = match outcome {
            Ok(()) => store::complete(&self.db.pool, &self.worker, d.id, now)
                .await
                .map(|_| ()),
            Err(e) => {
                let age =
                    Duration::from_millis(u64::try_from(now - d.created_at * 1000).unwrap_or(0));
                let retry_at = match &e {
                    SendError::Permanent(_) => None,
                    SendError::Transient(_) if age >= self.options.give_up_after => None,
                    SendError::Transient(_) => {
                        let delay = crate::jobs::retry_delay(
                            d.attempts,
                            self.options.retry_base,
                            self.options.retry_max,
                        );
                        Some(now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2))
                    }
                };
                tracing::warn!(delivery = d.id, channel = d.channel.as_str(),
                    attempts = d.attempts + 1, given_up = retry_at.is_none(),
                    error = %e.message(), "notification not delivered");
                store::fail(
                    &self.db.pool,
                    &self.worker,
                    d.id,
                    e.message(),
                    now,
                    retry_at,
                )
                .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(delivery = d.id, error = %e,
                "recording a delivery failed; its claim runs out and it is tried again");
        }
    }

    async fn send(&self, d: &store::Claimed) -> Result<(), SendError> {
        match d.channel {
            Channel::Email => {
                let Some(mailer) = &self.mailer else {
                    return Err(SendError::Permanent(
                        "E-Mail-Versand ist nicht eingerichtet (KONTOR_SMTP_HOST).".into(),
                    ));
                };
                let message = mailer.message(d, &self.public_url)?;
                mailer.send(&message).await
            }
            Channel::Webhook => {
                webhook::send(
                    &self.http,
                    d,
                    &self.public_url,
                    self.options.webhook_timeout,
                )
                .await
            }
        }
    }

    /// Gives back this process's claims (at shutdown).
    pub async fn release(&self) -> sqlx::Result<u64> {
        store::release(&self.db.pool, &self.worker).await
    }
}

/// The notification tasks of a serving process.
pub struct Running {
    sender: Option<(Arc<Sender>, JoinHandle<()>)>,
    handles: Vec<JoinHandle<()>>,
}

/// How long a stopping process waits for the deliveries it is sending.
const DRAIN: Duration = Duration::from_secs(15);

impl Running {
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.abort();
        }
        if let Some((sender, mut task)) = self.sender {
            sender.stop();
            if tokio::time::timeout(DRAIN, &mut task).await.is_err() {
                tracing::warn!("deliveries not sent in time; giving them back");
                task.abort();
            }
            match sender.release().await {
                Ok(n) if n > 0 => tracing::info!(claims = n, "released notification claims"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "releasing notification claims failed"),
            }
        }
    }
}

/// Starts the sender and the budget watch as the settings say.
pub fn spawn(db: Db, settings: &Settings, public_url: &str) -> anyhow::Result<Running> {
    let mut handles = Vec::new();
    let mut sender = None;
    if settings.notify_workers > 0 {
        let mailer = Mailer::from_settings(
            settings,
            public_url,
            u32::try_from(settings.notify_workers).unwrap_or(4),
        )?;
        let s = Arc::new(Sender::new(
            db.clone(),
            mailer,
            public_url.to_owned(),
            Options::from_settings(settings),
        )?);
        sender = Some((s.clone(), tokio::spawn(s.run())));
    }
    if settings.budget_watch_every_seconds > 0 {
        handles.push(crate::billing::watch::spawn_scheduled(
            db,
            Duration::from_secs(settings.budget_watch_every_seconds),
        ));
    }
    Ok(Running { sender, handles })
}
