//! What every request handler can reach: the database, the settings, the
//! provisioner, the OpenID provider and the rate limiter. Built once by
//! `startup`; the web and API layers take it as axum state.

use std::sync::Arc;

use crate::{
    auth::oidc::Oidc, config::Settings, db::Db, provisioning::Provisioner, ratelimit::RateLimiter,
};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub provisioner: Arc<Provisioner>,
    /// The OpenID provider, when one is configured.
    pub oidc: Option<Arc<Oidc>>,
    pub limiter: Arc<RateLimiter>,
}
