//! Settings from an optional TOML file and `KONTOR_*` environment variables;
//! the environment wins. Every setting has a working embedded default.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use figment::{
    Figment,
    providers::{Env, Format as _, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::domain::Stage;

/// The provisioning target that writes manifests instead of calling a
/// cluster.
pub const MANIFESTS: &str = "manifests";
/// The name of the `KONTOR_KUBECONFIG` cluster.
pub const DEFAULT_CLUSTER: &str = "standard";

/// How to reach one Kubernetes cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// A kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// The context in it; default: its current context.
    pub context: Option<String>,
    /// Use the pod's service account (Kontor runs in this cluster).
    pub in_cluster: bool,
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host, or tests.
    None,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// Whether demo users may log in, which every page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoMode {
    Off,
    /// The embedded default: no identity provider at all.
    Only,
    /// Kept on beside a provider (`KONTOR_DEMO_LOGIN=true`), for test systems.
    BesideProvider,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address to listen on (`KONTOR_LISTEN`).
    pub listen: SocketAddr,
    /// Address of the Prometheus endpoint `/metrics`, a listener of its own
    /// so that it is never reachable where the portal is
    /// (`KONTOR_METRICS_LISTEN`); `off` serves no metrics.
    pub metrics_listen: String,
    /// Directory for the SQLite file and the manifest directory (`KONTOR_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…` (`KONTOR_DATABASE_URL`); default: SQLite in the data dir.
    pub database_url: Option<String>,
    /// Maximum database connections per process (`KONTOR_DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// Seconds a request waits for a free database connection before it
    /// is answered 503 (`KONTOR_DATABASE_ACQUIRE_TIMEOUT_SECONDS`).
    pub database_acquire_timeout_seconds: u64,
    /// Public base URL, e.g. `https://kontor.example.de` (`KONTOR_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// OpenID Connect issuer (`KONTOR_OIDC_ISSUER`); without it, demo login.
    pub oidc_issuer: Option<String>,
    /// The client Kontor is at the provider (`KONTOR_OIDC_CLIENT_ID`) and its
    /// secret (`KONTOR_OIDC_CLIENT_SECRET`; none for a public client).
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// Scopes asked for at login (`KONTOR_OIDC_SCOPES`, space-separated).
    pub oidc_scopes: String,
    /// The `aud` an access token of the issuer must carry to be accepted on
    /// the API (`KONTOR_OIDC_AUDIENCE`); default: the client id.
    pub oidc_audience: Option<String>,
    /// The claim that lists the user's groups (`KONTOR_OIDC_GROUPS_CLAIM`).
    pub oidc_groups_claim: String,
    /// A prefix every Kontor group carries at the provider, stripped before
    /// mapping (`KONTOR_OIDC_GROUP_PREFIX`, e.g. `kontor/`); default none.
    pub oidc_group_prefix: String,
    /// The provider's groups of the Betreiber and of provider finance
    /// (`KONTOR_OIDC_BETREIBER_GROUP`, `KONTOR_OIDC_FINANZEN_GROUP`).
    pub oidc_betreiber_group: String,
    pub oidc_finanzen_group: String,
    /// At most one fetch of the provider's keys this often when tokens name
    /// an unknown key (`KONTOR_OIDC_JWKS_MIN_REFRESH_SECONDS`).
    pub oidc_jwks_min_refresh_seconds: u64,
    /// Login attempts per client address and minute, shared by all replicas
    /// (`KONTOR_RATE_LIMIT_LOGIN_PER_MINUTE`); 0 switches the limit off.
    pub rate_limit_login_per_minute: u32,
    /// API requests per caller (token or user) and minute, shared by all
    /// replicas (`KONTOR_RATE_LIMIT_API_PER_MINUTE`); 0 switches it off.
    pub rate_limit_api_per_minute: u32,
    /// Reverse proxies in front of Kontor whose `X-Forwarded-For` entry is
    /// trusted (`KONTOR_TRUSTED_PROXY_HOPS`): 0 uses the peer address, 1
    /// the address the ingress saw, and so on.
    pub trusted_proxy_hops: usize,
    /// Where rendered manifests go (`KONTOR_MANIFEST_DIR`); default `<data_dir>/manifests`.
    pub manifest_dir: Option<PathBuf>,
    /// Offer the demo users on the login page (`KONTOR_DEMO_LOGIN`); default:
    /// on exactly when no OIDC issuer is configured.
    pub demo_login: Option<bool>,
    /// Seed demo data into an empty database at start (`KONTOR_SEED_DEMO`).
    pub seed_demo: bool,
    /// A Kontingent request that raises the monthly budget needs the second
    /// signature of the customer's Finanzen before the Betreiber may
    /// approve it (`KONTOR_KONTINGENT_BUDGET_COSIGN`); default off.
    pub kontingent_budget_cosign: bool,
    /// Minutes between runs of the job that closes finished billing months
    /// (`KONTOR_BILLING_CLOSE_EVERY_MINUTES`); 0 switches it off.
    pub billing_close_every_minutes: u64,
    /// Seconds between runs of the job that deletes expired sessions
    /// (`KONTOR_SESSION_PRUNE_EVERY_SECONDS`), once per interval across all
    /// replicas.
    pub session_prune_every_seconds: u64,
    /// Days the Revision keeps its entries (`KONTOR_AUDIT_RETENTION_DAYS`);
    /// unset keeps everything. Older entries are deleted once a day, behind
    /// a checkpoint that keeps the hash chain verifiable.
    pub audit_retention_days: Option<u32>,
    /// Minutes between verifications of the Revision's hash chain
    /// (`KONTOR_AUDIT_VERIFY_EVERY_MINUTES`); 0 switches the job off.
    pub audit_verify_every_minutes: u64,
    /// Kubernetes clusters by name (`[clusters.<name>]` in the file,
    /// `KONTOR_CLUSTERS__<NAME>__KUBECONFIG` etc. in the environment).
    pub clusters: BTreeMap<String, ClusterSettings>,
    /// Where each stage is provisioned: a cluster name or `manifests`
    /// (`KONTOR_STAGES__PRODUKTION=zone-b`). A stage not named here goes to
    /// the `KONTOR_KUBECONFIG` cluster if there is one, else to the
    /// manifest directory.
    pub stages: BTreeMap<String, String>,
    /// Shorthand for one cluster serving every stage not mapped otherwise
    /// (`KONTOR_KUBECONFIG`, with `KONTOR_KUBE_CONTEXT`).
    pub kubeconfig: Option<PathBuf>,
    pub kube_context: Option<String>,
    /// Seconds a single call to a Kubernetes API server may take
    /// (`KONTOR_KUBE_TIMEOUT_SECONDS`).
    pub kube_timeout_seconds: u64,
    /// Environments reconciled at the same time per process
    /// (`KONTOR_RECONCILE_WORKERS`); 0 switches the reconciler off.
    pub reconcile_workers: usize,
    /// Milliseconds between looks at the outbox when nothing woke the
    /// reconciler (`KONTOR_RECONCILE_POLL_MS`): how soon another replica's
    /// work and due retries are picked up.
    pub reconcile_poll_ms: u64,
    /// How long a claim on an environment holds before another replica may
    /// take it over (`KONTOR_RECONCILE_LEASE_SECONDS`). Far longer than a
    /// reconciliation can take (eight calls of at most the kube timeout).
    pub reconcile_lease_seconds: u64,
    /// First retry delay and ceiling, in milliseconds; the delay doubles per
    /// failed attempt, with jitter (`KONTOR_RETRY_BASE_MS`, `KONTOR_RETRY_MAX_MS`).
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Seconds between comparisons of every cluster with the database
    /// (`KONTOR_RESYNC_EVERY_SECONDS`); 0 switches it off.
    pub resync_every_seconds: u64,
    /// Seconds between samples of each namespace's used resources
    /// (`KONTOR_METERING_EVERY_SECONDS`); 0 switches it off.
    pub metering_every_seconds: u64,
    /// Registries releases may come from, comma-separated host names
    /// (`KONTOR_REGISTRIES`); the Checkup refuses every other.
    pub registries: String,
    /// Seconds a rollout may take before its deployment counts as failed
    /// (`KONTOR_ROLLOUT_TIMEOUT_SECONDS`).
    pub rollout_timeout_seconds: u64,
    /// The mail server notifications are sent through (`KONTOR_SMTP_HOST`);
    /// without it e-mail is off (and the pages say so).
    pub smtp_host: Option<String>,
    /// Its port (`KONTOR_SMTP_PORT`); default 587 with STARTTLS, 465 with
    /// TLS, 25 without.
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS, "SMTPS") or `none`
    /// (`KONTOR_SMTP_TLS`; `none` only for a relay on the same host or a
    /// test).
    pub smtp_tls: SmtpTls,
    /// Login at the mail server (`KONTOR_SMTP_USERNAME`,
    /// `KONTOR_SMTP_PASSWORD`); none without.
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// The sender address, e.g. `Kontor <kontor@rz.example.de>`
    /// (`KONTOR_SMTP_FROM`); needed with `KONTOR_SMTP_HOST`.
    pub smtp_from: Option<String>,
    /// Seconds one e-mail may take to send, connecting included
    /// (`KONTOR_SMTP_TIMEOUT_SECONDS`): every send runs under a timeout of
    /// its own, since the client's own timeout covers only the connection.
    pub smtp_timeout_seconds: u64,
    /// Seconds an idle pooled connection to the mail server is kept
    /// (`KONTOR_SMTP_IDLE_SECONDS`); below the server's own idle limit.
    pub smtp_idle_seconds: u64,
    /// Seconds one webhook call may take (`KONTOR_WEBHOOK_TIMEOUT_SECONDS`).
    pub webhook_timeout_seconds: u64,
    /// Allow `http://` webhook endpoints (`KONTOR_WEBHOOK_ALLOW_HTTP`), for
    /// test systems; default only `https://`.
    pub webhook_allow_http: bool,
    /// Deliveries sent at the same time per process
    /// (`KONTOR_NOTIFY_WORKERS`); 0 switches the sender off.
    pub notify_workers: usize,
    /// Milliseconds between looks at the delivery outbox when nothing woke
    /// the sender (`KONTOR_NOTIFY_POLL_MS`).
    pub notify_poll_ms: u64,
    /// How long a claim on a delivery holds before another replica may take
    /// it over (`KONTOR_NOTIFY_LEASE_SECONDS`); longer than two sends.
    pub notify_lease_seconds: u64,
    /// First retry delay and ceiling of a failed delivery, in milliseconds
    /// (`KONTOR_NOTIFY_RETRY_BASE_MS`, `KONTOR_NOTIFY_RETRY_MAX_MS`).
    pub notify_retry_base_ms: u64,
    pub notify_retry_max_ms: u64,
    /// Hours a delivery is retried before it is given up
    /// (`KONTOR_NOTIFY_GIVE_UP_HOURS`).
    pub notify_give_up_hours: u64,
    /// Seconds between looks at every contract's budget forecast
    /// (`KONTOR_BUDGET_WATCH_EVERY_SECONDS`); 0 switches it off.
    pub budget_watch_every_seconds: u64,
    /// Who runs this portal, as the accessibility statement names it
    /// (`KONTOR_PROVIDER_NAME`).
    pub provider_name: String,
    /// The provider's Impressum and Datenschutzerklärung, linked in every
    /// footer (`KONTOR_IMPRINT_URL`, `KONTOR_PRIVACY_URL`).
    pub imprint_url: Option<String>,
    pub privacy_url: Option<String>,
    /// Where people report barriers (`KONTOR_ACCESSIBILITY_CONTACT`): an
    /// e-mail address, the feedback route the Barrierefreiheitserklärung
    /// names (BITV 2.0 § 7).
    pub accessibility_contact: Option<String>,
    /// The provider's own "Stand der Vereinbarkeit", paragraphs separated by
    /// blank lines (`KONTOR_ACCESSIBILITY_STATEMENT_FILE`); else Kontor's.
    pub accessibility_statement_file: Option<std::path::PathBuf>,
    /// Log filter in `tracing` syntax (`KONTOR_LOG`).
    pub log: String,
    /// Log as JSON lines (`KONTOR_LOG_JSON`).
    pub log_json: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: "127.0.0.1:9464".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 16,
            database_acquire_timeout_seconds: 10,
            public_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_scopes: "openid profile email".into(),
            oidc_audience: None,
            oidc_groups_claim: "groups".into(),
            oidc_group_prefix: String::new(),
            oidc_betreiber_group: "kontor-betreiber".into(),
            oidc_finanzen_group: "kontor-finanzen".into(),
            oidc_jwks_min_refresh_seconds: 10,
            rate_limit_login_per_minute: 60,
            rate_limit_api_per_minute: 600,
            trusted_proxy_hops: 0,
            manifest_dir: None,
            demo_login: None,
            seed_demo: true,
            kontingent_budget_cosign: false,
            billing_close_every_minutes: 60,
            session_prune_every_seconds: 600,
            audit_retention_days: None,
            audit_verify_every_minutes: 1440,
            clusters: BTreeMap::new(),
            stages: BTreeMap::new(),
            kubeconfig: None,
            kube_context: None,
            kube_timeout_seconds: 10,
            reconcile_workers: 8,
            reconcile_poll_ms: 1000,
            reconcile_lease_seconds: 120,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            resync_every_seconds: 300,
            metering_every_seconds: 300,
            registries: "registry.rz.example".into(),
            rollout_timeout_seconds: 600,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_from: None,
            smtp_timeout_seconds: 30,
            smtp_idle_seconds: 30,
            webhook_timeout_seconds: 10,
            webhook_allow_http: false,
            provider_name: "Der Betreiber dieses Portals".into(),
            imprint_url: None,
            privacy_url: None,
            accessibility_contact: None,
            accessibility_statement_file: None,
            notify_workers: 4,
            notify_poll_ms: 1000,
            notify_lease_seconds: 120,
            notify_retry_base_ms: 2000,
            notify_retry_max_ms: 600_000,
            notify_give_up_hours: 72,
            budget_watch_every_seconds: 300,
            log: "info,sqlx=warn,tower_http=info".into(),
            log_json: false,
        }
    }
}

impl Settings {
    /// Where `/metrics` is served; `None` when switched off.
    pub fn metrics_address(&self) -> anyhow::Result<Option<SocketAddr>> {
        match self.metrics_listen.trim() {
            "off" | "" => Ok(None),
            address => address.parse().map(Some).with_context(|| {
                format!("KONTOR_METRICS_LISTEN must be an address like 127.0.0.1:9464 or off, not {address:?}")
            }),
        }
    }

    /// Loads `KONTOR_CONFIG` (default `./kontor.toml` if present), then the
    /// environment.
    pub fn load() -> anyhow::Result<Settings> {
        let file = std::env::var("KONTOR_CONFIG").unwrap_or_else(|_| "kontor.toml".into());
        let explicit = std::env::var_os("KONTOR_CONFIG").is_some();
        if explicit && !std::path::Path::new(&file).exists() {
            anyhow::bail!("configuration file {file} (KONTOR_CONFIG) does not exist");
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(
                Env::prefixed("KONTOR_")
                    .ignore(&["config", "url", "token"])
                    .split("__"),
            )
            .extract()
            .context("invalid configuration")?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres"))
        {
            anyhow::bail!("KONTOR_DATABASE_URL must start with sqlite: or postgres://");
        }
        if self.database_max_connections == 0 {
            anyhow::bail!("KONTOR_DATABASE_MAX_CONNECTIONS must be at least 1");
        }
        if self.audit_retention_days == Some(0) {
            anyhow::bail!(
                "KONTOR_AUDIT_RETENTION_DAYS must be at least 1; leave it unset to keep every entry"
            );
        }
        if let Some(public) = &self.public_url {
            url::Url::parse(public).context("KONTOR_PUBLIC_URL is not a URL")?;
        }
        for (name, link) in [
            ("KONTOR_IMPRINT_URL", &self.imprint_url),
            ("KONTOR_PRIVACY_URL", &self.privacy_url),
        ] {
            if let Some(link) = link {
                let parsed =
                    url::Url::parse(link).with_context(|| format!("{name} is not a URL"))?;
                if !matches!(parsed.scheme(), "https" | "http") {
                    anyhow::bail!("{name} must be an https:// (or http://) address");
                }
            }
        }
        if let Some(contact) = &self.accessibility_contact
            && (!contact.contains('@')
                || contact.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            anyhow::bail!("KONTOR_ACCESSIBILITY_CONTACT must be an e-mail address");
        }
        self.metrics_address()?;
        self.check_oidc()?;
        self.check_provisioning()?;
        self.check_notifications()
    }

    fn check_notifications(&self) -> anyhow::Result<()> {
        if let Some(host) = &self.smtp_host {
            if host.trim().is_empty() {
                anyhow::bail!("KONTOR_SMTP_HOST may not be empty");
            }
            let from = self.smtp_from.as_deref().unwrap_or_default();
            if from.parse::<lettre::message::Mailbox>().is_err() {
                anyhow::bail!(
                    "KONTOR_SMTP_FROM must be a sender address such as \
                     \"Kontor <kontor@rz.example.de>\" when KONTOR_SMTP_HOST is set"
                );
            }
            if self.smtp_username.is_some() != self.smtp_password.is_some() {
                anyhow::bail!("KONTOR_SMTP_USERNAME and KONTOR_SMTP_PASSWORD go together");
            }
        }
        if self.smtp_timeout_seconds == 0 || self.webhook_timeout_seconds == 0 {
            anyhow::bail!(
                "KONTOR_SMTP_TIMEOUT_SECONDS and KONTOR_WEBHOOK_TIMEOUT_SECONDS must be at least 1"
            );
        }
        // A claim must outlast a send and its one immediate retry, or a
        // second replica could take it over while it is still being sent.
        let longest = 2 * self.smtp_timeout_seconds.max(self.webhook_timeout_seconds);
        if self.notify_lease_seconds <= longest {
            anyhow::bail!(
                "KONTOR_NOTIFY_LEASE_SECONDS must be longer than twice the longest send \
                 timeout ({longest} s)"
            );
        }
        if self.notify_retry_base_ms == 0 || self.notify_retry_max_ms < self.notify_retry_base_ms {
            anyhow::bail!(
                "KONTOR_NOTIFY_RETRY_BASE_MS must be at least 1 and at most KONTOR_NOTIFY_RETRY_MAX_MS"
            );
        }
        if self.notify_poll_ms == 0 {
            anyhow::bail!("KONTOR_NOTIFY_POLL_MS must be at least 1");
        }
        Ok(())
    }

    /// Whether e-mail is configured.
    pub fn email_enabled(&self) -> bool {
        self.smtp_host.is_some()
    }

    fn check_oidc(&self) -> anyhow::Result<()> {
        let Some(issuer) = &self.oidc_issuer else {
            return Ok(());
        };
        let url = url::Url::parse(issuer).context("KONTOR_OIDC_ISSUER is not a URL")?;
        if !matches!(url.scheme(), "https" | "http") {
            anyhow::bail!("KONTOR_OIDC_ISSUER must be an https:// URL");
        }
        if self.oidc_client_id.as_deref().is_none_or(str::is_empty) {
            anyhow::bail!("KONTOR_OIDC_ISSUER is set, so KONTOR_OIDC_CLIENT_ID is needed too");
        }
        if self.oidc_groups_claim.trim().is_empty() {
            anyhow::bail!("KONTOR_OIDC_GROUPS_CLAIM may not be empty");
        }
        if !self.oidc_scopes.split_whitespace().any(|s| s == "openid") {
            anyhow::bail!("KONTOR_OIDC_SCOPES must contain openid");
        }
        if self.public_url.is_none() && self.listen.ip().is_unspecified() {
            anyhow::bail!(
                "KONTOR_PUBLIC_URL is needed with KONTOR_OIDC_ISSUER when listening on {}: \
                 the provider sends the browser back to it",
                self.listen
            );
        }
        Ok(())
    }

    fn check_provisioning(&self) -> anyhow::Result<()> {
        for (stage, target) in &self.stages {
            if stage.parse::<Stage>().is_err() {
                anyhow::bail!(
                    "KONTOR_STAGES: {stage:?} is no stage (vorpruefung, abnahme, schulung, produktion)"
                );
            }
            if target != MANIFESTS && !self.clusters.contains_key(target) {
                anyhow::bail!(
                    "KONTOR_STAGES__{}: no cluster named {target:?} is configured",
                    stage.to_uppercase()
                );
            }
        }
        for (name, cluster) in &self.clusters {
            if name == MANIFESTS {
                anyhow::bail!("a cluster may not be called {MANIFESTS:?}");
            }
            match (&cluster.kubeconfig, cluster.in_cluster) {
                (Some(_), true) => {
                    anyhow::bail!("cluster {name:?}: either kubeconfig or in_cluster, not both")
                }
                (None, false) => {
                    anyhow::bail!("cluster {name:?}: needs a kubeconfig file or in_cluster = true")
                }
                _ => {}
            }
        }
        if self.kube_timeout_seconds == 0 {
            anyhow::bail!("KONTOR_KUBE_TIMEOUT_SECONDS must be at least 1");
        }
        if self.retry_base_ms == 0 || self.retry_max_ms < self.retry_base_ms {
            anyhow::bail!(
                "KONTOR_RETRY_BASE_MS must be at least 1 and at most KONTOR_RETRY_MAX_MS"
            );
        }
        if self.reconcile_poll_ms == 0 {
            anyhow::bail!("KONTOR_RECONCILE_POLL_MS must be at least 1");
        }
        Ok(())
    }

    /// The provisioning target of every stage: a cluster name, or
    /// [`MANIFESTS`].
    pub fn stage_targets(&self) -> Vec<(Stage, String)> {
        Stage::ALL
            .iter()
            .map(|stage| {
                let target = self.stages.get(stage.as_str()).cloned().unwrap_or_else(|| {
                    if self.kubeconfig.is_some() {
                        DEFAULT_CLUSTER.to_owned()
                    } else {
                        MANIFESTS.to_owned()
                    }
                });
                (*stage, target)
            })
            .collect()
    }

    /// The registries on the allow-list, lower case.
    pub fn allowed_registries(&self) -> Vec<String> {
        self.registries
            .split(',')
            .map(|r| r.trim().to_ascii_lowercase())
            .filter(|r| !r.is_empty())
            .collect()
    }

    /// The configured clusters, including the `KONTOR_KUBECONFIG` shorthand.
    pub fn all_clusters(&self) -> BTreeMap<String, ClusterSettings> {
        let mut clusters = self.clusters.clone();
        if let Some(path) = &self.kubeconfig {
            clusters
                .entry(DEFAULT_CLUSTER.to_owned())
                .or_insert_with(|| ClusterSettings {
                    kubeconfig: Some(path.clone()),
                    context: self.kube_context.clone(),
                    in_cluster: false,
                });
        }
        clusters
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kontor.db").display()
            )
        })
    }

    pub fn manifest_dir(&self) -> PathBuf {
        self.manifest_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("manifests"))
    }

    pub fn demo_login_enabled(&self) -> bool {
        self.demo_login.unwrap_or(self.oidc_issuer.is_none())
    }

    pub fn demo_mode(&self) -> DemoMode {
        match (self.demo_login_enabled(), self.oidc_issuer.is_some()) {
            (false, _) => DemoMode::Off,
            (true, false) => DemoMode::Only,
            (true, true) => DemoMode::BesideProvider,
        }
    }

    /// The audience access tokens of the issuer must carry.
    pub fn oidc_audience(&self) -> Option<&str> {
        self.oidc_audience
            .as_deref()
            .or(self.oidc_client_id.as_deref())
    }

    /// Cookies are `Secure` whenever the portal is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests;
