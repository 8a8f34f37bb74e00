//! Builds the application: database, migrations, demo seed, router, server.
//! `Application::build` binds the listener first so tests can ask for port 0.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;

use axum::{
    Router,
    extract::State,
    http::{HeaderName, HeaderValue, header},
    middleware,
    routing::get,
};
use tokio::net::TcpListener;
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{SameSite, time::Duration as CookieDuration},
};

use crate::{
    auth::oidc::Oidc, config::Settings, db, db::Db, provisioning::Provisioner,
    ratelimit::RateLimiter, state::AppState,
};

pub struct Application {
    listener: TcpListener,
    /// The metrics listener and its router, unless switched off.
    metrics: Option<(TcpListener, Router)>,
    router: Router,
    db: Db,
    settings: Arc<Settings>,
    provisioner: Arc<Provisioner>,
    /// Where links in messages point (`KONTOR_PUBLIC_URL`, else the
    /// address listened on).
    public_base: String,
}

/// Security headers for every response. The CSP forbids inline script and
/// style; KERN draws its icons as `data:` SVG masks, hence `img-src data:`.
/// `form-action` also names the OpenID provider: browsers apply it to the
/// redirect after a form, and "Abmelden" posts to Kontor, which redirects to
/// the provider's logout page.
fn content_security_policy(issuer: Option<&str>) -> String {
    let provider = issuer
        .and_then(|i| url::Url::parse(i).ok())
        .map(|u| format!(" {}", u.origin().ascii_serialization()))
        .unwrap_or_default();
    format!(
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; \
         font-src 'self'; form-action 'self'{provider}; frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'"
    )
}

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = crate::secret::random_id(16);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = Db::connect_with(
            &settings.database_url(),
            settings.database_max_connections,
            Duration::from_secs(settings.database_acquire_timeout_seconds.max(1)),
        )
        .await?;
        db.migrate().await?;
        let sealed = crate::app::revision::chain::seal_backlog(&db)
            .await
            .map_err(|e| anyhow::anyhow!("chaining the older audit entries: {e}"))?;
        if sealed > 0 {
            tracing::info!(
                entries = sealed,
                "chained the audit entries written before the hash chain"
            );
        }
        if settings.seed_demo && crate::seed::demo(&db).await? {
            tracing::info!("seeded demo data into the empty database");
        }
        let settled = crate::app::bookings::settle_unsettled(&db, crate::db::now()).await?;
        if settled > 0 {
            tracing::info!(
                periods = settled,
                "stored the month's cost of periods closed without it"
            );
        }
        let provisioner = Arc::new(Provisioner::from_settings(&settings).await?);
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics_listener = match settings.metrics_address()? {
            Some(address) => Some(TcpListener::bind(address).await.with_context(|| {
                format!("the metrics listener (KONTOR_METRICS_LISTEN) on {address}")
            })?),
            None => None,
        };
        // Without a public URL the provider sends the browser back to the
        // address Kontor really listens on (the port may have been 0).
        let public_base = match &settings.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let oidc = Oidc::from_settings(&settings, &public_base)?.map(Arc::new);
        db.set_email_enabled(settings.email_enabled());
        let limiter = Arc::new(RateLimiter::new(db.pool.clone()));
        let state = AppState {
            db,
            settings: Arc::new(settings),
            provisioner,
            oidc,
            limiter,
        };
        let (db, settings, provisioner) = (
            state.db.clone(),
            state.settings.clone(),
            state.provisioner.clone(),
        );
        let state_for_metrics = state.clone();
        let router = router(state);
        let metrics = metrics_listener.map(|l| (l, metrics_router(state_for_metrics)));
        Ok(Application {
            listener,
            metrics,
            router,
            db,
            settings,
            provisioner,
            public_base,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The port of the metrics listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        let (listener, _) = self.metrics.as_ref()?;
        listener.local_addr().ok().map(|a| a.port())
    }

    /// The database handle, for tests and batch jobs in the same process.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(address = %self.listener.local_addr()?, "Kontor listening");
        let billing_close_every = self.settings.billing_close_every_minutes;
        if billing_close_every > 0 {
            crate::billing::close::spawn_scheduled(
                self.db.clone(),
                std::time::Duration::from_secs(billing_close_every * 60),
            );
        }
        let provisioning =
            crate::provisioning::spawn(self.db.clone(), self.provisioner, &self.settings);
        let notifications =
            crate::notifications::spawn(self.db.clone(), &self.settings, &self.public_base)?;
        crate::jobs::spawn_rate_limit_prune(self.db.clone());
        if let Some((listener, router)) = self.metrics {
            tracing::info!(address = %listener.local_addr()?, "metrics listening");
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }
        crate::jobs::spawn_session_prune(
            self.db.clone(),
            Duration::from_secs(self.settings.session_prune_every_seconds.max(1)),
        );
        spawn_audit_jobs(&self.db, &self.settings);
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        provisioning.stop().await;
        notifications.stop().await;
        Ok(())
    }
}

/// The Revision's scheduled jobs, each once per slot across replicas: the
/// walk along the hash chain (its outcome shown on /revision) and, with a
/// retention period, the daily deletion of older entries.
fn spawn_audit_jobs(db: &Db, settings: &Settings) {
    use crate::app::revision::chain;
    let every = settings.audit_verify_every_minutes;
    if every > 0 {
        let job_db = db.clone();
        crate::jobs::spawn_scheduled(
            db.clone(),
            "audit-verify",
            Duration::from_secs(every * 60),
            move || {
                let db = job_db.clone();
                async move {
                    match chain::verify(&db, "Kontor (Zeitplan)", db::now()).await {
                        // The head in the log, too: a record outside the
                        // database (docs/revision.md).
                        Ok(v) if v.intact() => tracing::info!(
                            entries = v.entries,
                            head = %format!("{}:{}", v.head_seq, v.head_hash),
                            "audit chain verified: intact"
                        ),
                        Ok(v) => tracing::error!(
                            problem = %v.problem.map(|p| p.message()).unwrap_or_default(),
                            "audit chain verified: BROKEN"
                        ),
                        Err(e) => tracing::warn!(error = %e, "verifying the audit chain failed"),
                    }
                }
            },
        );
    }
    if let Some(days) = settings.audit_retention_days {
        let job_db = db.clone();
        crate::jobs::spawn_scheduled(
            db.clone(),
            "audit-retention",
            Duration::from_secs(24 * 3600),
            move || {
                let db = job_db.clone();
                async move {
                    match chain::prune(&db, days, db::now()).await {
                        Ok(r) => tracing::info!(
                            deleted = r.deleted,
                            checkpoint = r.checkpoint_seq,
                            "audit retention ran"
                        ),
                        Err(e) => tracing::error!(error = %e, "audit retention failed"),
                    }
                }
            },
        );
    }
}

pub fn router(state: AppState) -> Router {
    let store = db::sessions::DbSessionStore::new(state.db.pool.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("kontor_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies())
        .with_expiry(Expiry::OnInactivity(CookieDuration::minutes(30)));
    let x_request_id = HeaderName::from_static(crate::telemetry::REQUEST_ID);

    // Tenant data must not stay in a shared or browser cache; only the
    // static files (no data) may be cached.
    let no_store = SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    let pages = crate::web::router()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::csrf::protect,
        ))
        .layer(sessions)
        .layer(no_store.clone());

    let csp = HeaderValue::from_str(&content_security_policy(
        state.settings.oidc_issuer.as_deref(),
    ))
    .expect("the issuer was checked to be a URL");
    let hsts = state.settings.secure_cookies().then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });

    Router::new()
        .merge(pages)
        .nest("/api/v1", crate::api::router().layer(no_store))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route_layer(middleware::from_fn(crate::metrics::track))
        .nest_service("/static", ServeDir::new(static_dir()))
        .fallback(|| async { crate::web::PageError::NotFound })
        // Around everything, so that every page, also the errors of the CSRF
        // and session layers and the fallback's 404, speaks the person's
        // language.
        .layer(middleware::from_fn(crate::web::lang::scope))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Nothing in Kontor uses the camera, the microphone, the position
        // or payment: no page (nor anything injected into one) may.
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), \
                 microphone=(), payment=(), usb=()",
            ),
        ))
        // HSTS only behind https: sent over plain http it would be ignored
        // at best and lock a test system out of http at worst.
        .layer(tower::util::option_layer(hsts))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, RandomRequestId))
        .with_state(state)
}

/// `/metrics` for Prometheus, on its own listener (`KONTOR_METRICS_LISTEN`):
/// request counts by route and status, queues and job runs are nobody's
/// business outside the data centre.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    crate::metrics::render(&state.db).await,
                )
            }),
        )
        .with_state(state)
}

/// Ready when the database answers and has every migration this binary
/// knows: a replica on an old schema (or a new one before `migrate`) takes
/// no traffic.
async fn ready(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.db.schema_current().await {
        Ok(true) => "ready".into_response(),
        Ok(false) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database migrations missing",
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database not reachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database not reachable",
            )
                .into_response()
        }
    }
}

/// Static files ship next to the binary's crate; `KONTOR_STATIC_DIR`
/// overrides for installed layouts (the container image).
fn static_dir() -> std::path::PathBuf {
    std::env::var_os("KONTOR_STATIC_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::time::sleep(Duration::from_millis(10)).await;
}
