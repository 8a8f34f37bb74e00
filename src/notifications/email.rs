//! E-mail over SMTP with `lettre`: STARTTLS (default), TLS from the first
//! byte, or (for a local relay or tests) none; authentication when a login
//! is configured; pooled connections.
//!
//! Two things `lettre` leaves to its user: its timeout covers connecting,
//! not the whole conversation — a server that speaks TLS where STARTTLS is
//! expected (or the other way round) would hang the send — so every send
//! runs under a timeout of its own; and a mail server closes connections
//! that stay idle, so pooled connections are dropped before the usual
//! server limits (`KONTOR_SMTP_IDLE_SECONDS`), and a send that fails on a
//! connection the server closed is tried once more at once, on a new one.

use std::time::Duration;

use anyhow::Context as _;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox,
        header::{ContentType, Header, HeaderName, HeaderValue},
    },
    transport::smtp::{PoolConfig, authentication::Credentials, extension::ClientId},
};

use super::SendError;
use crate::{
    config::{Settings, SmtpTls},
    db::notifications::Claimed,
};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    /// The domain of the message ids (the portal's host).
    domain: String,
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no out-of-office replies.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

impl Mailer {
    /// The mailer of the settings; `None` when e-mail is not configured.
    pub fn from_settings(
        settings: &Settings,
        public_url: &str,
        pool_size: u32,
    ) -> anyhow::Result<Option<Mailer>> {
        let Some(host) = settings.smtp_host.as_deref() else {
            return Ok(None);
        };
        let from: Mailbox = settings
            .smtp_from
            .as_deref()
            .unwrap_or_default()
            .parse()
            .context("KONTOR_SMTP_FROM is no sender address")?;
        let domain = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".into());
        let timeout = Duration::from_secs(settings.smtp_timeout_seconds);
        let mut builder = match settings.smtp_tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .with_context(|| format!("KONTOR_SMTP_HOST {host}: no TLS setup"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .with_context(|| format!("KONTOR_SMTP_HOST {host}: no TLS setup"))?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        builder = builder
            .port(
                settings
                    .smtp_port
                    .unwrap_or_else(|| settings.smtp_tls.default_port()),
            )
            .hello_name(ClientId::Domain(domain.clone()))
            .timeout(Some(timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(pool_size.max(1))
                    .idle_timeout(Duration::from_secs(settings.smtp_idle_seconds.max(1))),
            );
        if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            timeout,
            domain,
        }))
    }

    /// The message of a delivery: German text with the link to the page, a
    /// Message-ID of its own that stays the same on retries (so a mail
    /// system that sees it twice can tell).
    pub fn message(&self, d: &Claimed, public_url: &str) -> Result<Message, SendError> {
        let to: Mailbox = d.address.parse().map_err(|_| {
            SendError::Permanent(format!("„{}“ ist keine E-Mail-Adresse", d.address))
        })?;
        let text = format!(
            "{}\n\nIm Portal: {public_url}{}\n\n-- \nKontor – Selbstbedienungsportal des \
             Rechenzentrums\nWelche E-Mails Sie erhalten, stellen Sie hier ein: \
             {public_url}/einstellungen/benachrichtigungen\n",
            d.body, d.link
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&d.subject)
            .message_id(Some(format!(
                "<kontor.{}.{}@{}>",
                d.event_id, d.id, self.domain
            )))
            .header(ContentType::TEXT_PLAIN)
            .header(AutoSubmitted)
            .body(text)
            .map_err(|e| SendError::Permanent(format!("E-Mail nicht erstellbar ({e})")))
    }

    /// Sends a message, each attempt within the timeout; once more at once
    /// when the server closed a pooled connection.
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self.send_once(message).await {
            Err(SendError::Transient(first)) if !first.starts_with("Zeitüberschreitung") => {
                tracing::debug!(error = %first, "e-mail failed; once more on a new connection");
                self.send_once(message).await
            }
            other => other,
        }
    }

    async fn send_once(&self, message: &Message) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, self.transport.send(message.clone())).await {
            Err(_) => Err(SendError::Transient(format!(
                "Zeitüberschreitung: der Mailserver antwortete nicht in {} s",
                self.timeout.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(format!(
                "Der Mailserver lehnte ab: {e}"
            ))),
            Ok(Err(e)) => Err(SendError::Transient(format!("Mailserver: {e}"))),
        }
    }
}
