//! Settings from an optional TOML file and `KONTOR_*` environment variables;
//! the environment wins. Every setting has a working embedded default.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use figment::{
    Figment,
    providers::{Env, Format as _, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address to listen on (`KONTOR_LISTEN`).
    pub listen: SocketAddr,
    /// Directory for the SQLite file and the manifest directory (`KONTOR_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…` (`KONTOR_DATABASE_URL`); default: SQLite in the data dir.
    pub database_url: Option<String>,
    /// Maximum database connections per process (`KONTOR_DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// Public base URL, e.g. `https://kontor.example.de` (`KONTOR_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// OpenID Connect issuer (`KONTOR_OIDC_ISSUER`); without it, demo login.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// Where rendered manifests go (`KONTOR_MANIFEST_DIR`); default `<data_dir>/manifests`.
    pub manifest_dir: Option<PathBuf>,
    /// Offer the demo users on the login page (`KONTOR_DEMO_LOGIN`); default:
    /// on exactly when no OIDC issuer is configured.
    pub demo_login: Option<bool>,
    /// Seed demo data into an empty database at start (`KONTOR_SEED_DEMO`).
    pub seed_demo: bool,
    /// Minutes between runs of the job that closes finished billing months
    /// (`KONTOR_BILLING_CLOSE_EVERY_MINUTES`); 0 switches it off.
    pub billing_close_every_minutes: u64,
    /// Log filter in `tracing` syntax (`KONTOR_LOG`).
    pub log: String,
    /// Log as JSON lines (`KONTOR_LOG_JSON`).
    pub log_json: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 16,
            public_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            manifest_dir: None,
            demo_login: None,
            seed_demo: true,
            billing_close_every_minutes: 60,
            log: "info,sqlx=warn,tower_http=info".into(),
            log_json: false,
        }
    }
}

impl Settings {
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
            .merge(Env::prefixed("KONTOR_").ignore(&["config", "url", "token"]))
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
        if let Some(public) = &self.public_url {
            url::Url::parse(public).context("KONTOR_PUBLIC_URL is not a URL")?;
        }
        Ok(())
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

    /// Cookies are `Secure` whenever the portal is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}
