//! Identity: who is asking. A browser session (OpenID Connect, `oidc`), a
//! portal API token (`tokens`) or an access token of the issuer (`jwt`)
//! becomes a `domain::actor::CurrentUser`; the provider's groups become
//! roles (`groups`). What that person may do is `domain::policy`'s business.

pub mod groups;
pub mod jwt;
pub mod oidc;
pub mod tokens;
