//! Kontor as an OpenID Connect relying party: discovery, the authorization
//! code flow with PKCE, ID token validation, RP-initiated logout, and the
//! issuer's signing keys for access tokens on the API ([`super::jwt`]).
//!
//! The provider is discovered on first use, not at start: a provider that is
//! down while Kontor starts must not keep the portal (and its API tokens)
//! from coming up. Metadata and keys are cached; the keys are fetched again
//! when a token names a key Kontor does not know (rotation), at most once per
//! `oidc_jwks_min_refresh_seconds`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    AccessToken, AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdToken, IdTokenClaims, IdTokenFields, IssuerUrl, LogoutProviderMetadata, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadata, RedirectUrl, RequestTokenError, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse as _,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
        CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType,
        CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
        CoreRevocableToken, CoreRevocationErrorResponse, CoreSubjectIdentifierType,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::Settings;

/// Every claim of the ID token beyond the standard ones, among them the
/// configurable groups claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// What Kontor reads of the discovery document besides the core fields and
/// the logout endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssParameter {
    /// RFC 9207: the provider names itself (`iss`) in every authorization
    /// response, so a response of another provider (mix-up) is recognised.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}
impl AdditionalProviderMetadata for IssParameter {}

type Metadata = ProviderMetadata<
    LogoutProviderMetadata<IssParameter>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type KontorIdToken = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Only asymmetric signatures: a token signed with the client secret (HS*)
/// could be forged by anyone who has that secret, and `none` by anyone.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Metadata is looked up again after this long even if nothing failed.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A login must come back from the provider within this time.
pub const PENDING_LOGIN_SECS: i64 = 600;
/// Every call to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong with a login or with the provider.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider did not answer or answered nonsense.
    #[error("Der Anmeldedienst ist nicht erreichbar: {0}")]
    Unreachable(String),
    /// The provider refused (e.g. a code used twice).
    #[error("Der Anmeldedienst hat die Anmeldung abgelehnt: {0}")]
    Refused(String),
    /// The ID token did not pass validation.
    #[error("Das Identitätstoken ist ungültig: {0}")]
    InvalidToken(String),
}

impl OidcError {
    /// The catalogue id of what the person (login page) or the caller
    /// (API) is told. The detail (the library's words, with the configured
    /// issuer, audience and the server's clock) is for the log only
    /// (ASVS 7.4.1).
    fn message_id(&self) -> &'static str {
        match self {
            OidcError::Unreachable(_) => "login-provider-unreachable",
            OidcError::Refused(_) => "login-provider-refused",
            OidcError::InvalidToken(_) => "login-provider-invalid",
        }
    }

    /// What the caller is told, in the request's language.
    pub fn public(&self) -> String {
        crate::i18n::t(self.message_id())
    }
}

/// Whom the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// `preferred_username`, else the subject.
    pub login: String,
    /// `name`, else the login.
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// What the session keeps between the redirect to the provider and the
/// way back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub started_at: i64,
}

/// The result of a login: who, and the raw ID token for the logout hint.
pub struct Login {
    pub identity: Identity,
    pub id_token: String,
}

struct Discovered {
    client: OidcClient,
    end_session: Option<openidconnect::EndSessionUrl>,
    /// The provider promises `iss` in its authorization responses.
    iss_parameter: bool,
    /// The same keys for the API's access tokens.
    keys: jsonwebtoken::jwk::JwkSet,
    discovered_at: Instant,
    keys_at: Instant,
}

pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    scopes: Vec<String>,
    groups_claim: String,
    min_key_refresh: Duration,
    http: reqwest::Client,
    cache: Mutex<Option<Arc<Discovered>>>,
}

impl Oidc {
    /// `public_base` is the portal's base URL (no trailing slash).
    pub fn from_settings(settings: &Settings, public_base: &str) -> anyhow::Result<Option<Oidc>> {
        let Some(issuer) = &settings.oidc_issuer else {
            return Ok(None);
        };
        // The provider must not redirect Kontor's own calls (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Some(Oidc {
            issuer: IssuerUrl::new(issuer.trim_end_matches('/').to_owned())?,
            client_id: ClientId::new(settings.oidc_client_id.clone().unwrap_or_default()),
            client_secret: settings
                .oidc_client_secret
                .clone()
                .filter(|s| !s.is_empty())
                .map(ClientSecret::new),
            redirect: RedirectUrl::new(format!("{public_base}/anmelden/rueckkehr"))?,
            post_logout: PostLogoutRedirectUrl::new(format!("{public_base}/anmelden"))?,
            scopes: settings
                .oidc_scopes
                .split_whitespace()
                .filter(|s| *s != "openid")
                .map(str::to_owned)
                .collect(),
            groups_claim: settings.oidc_groups_claim.clone(),
            min_key_refresh: Duration::from_secs(settings.oidc_jwks_min_refresh_seconds),
            http,
            cache: Mutex::new(None),
        }))
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    pub fn groups_claim(&self) -> &str {
        &self.groups_claim
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(d) = cache.as_ref()
            && d.discovered_at.elapsed() < METADATA_TTL
        {
            return Ok(d.clone());
        }
        let fresh = Arc::new(self.discover().await?);
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    async fn discover(&self) -> Result<Discovered, OidcError> {
        let metadata = Metadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
        let jwks_uri = metadata.jwks_uri().url().clone();
        let (core_keys, keys) = self.fetch_keys(&jwks_uri).await?;
        Ok(self.build(metadata, core_keys, keys))
    }

    fn build(
        &self,
        metadata: Metadata,
        core_keys: CoreJsonWebKeySet,
        keys: jsonwebtoken::jwk::JwkSet,
    ) -> Discovered {
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let iss_parameter = metadata
            .additional_metadata()
            .additional_metadata
            .authorization_response_iss_parameter_supported;
        let metadata = metadata.set_jwks(core_keys);
        let client = OidcClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        Discovered {
            client,
            end_session,
            iss_parameter,
            keys,
            discovered_at: Instant::now(),
            keys_at: Instant::now(),
        }
    }

    async fn fetch_keys(
        &self,
        jwks_uri: &url::Url,
    ) -> Result<(CoreJsonWebKeySet, jsonwebtoken::jwk::JwkSet), OidcError> {
        let response = self
            .http
            .get(jwks_uri.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
        let body = response
            .bytes()
            .await
            .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
        let core: CoreJsonWebKeySet = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Unreachable(format!("JWKS unlesbar: {e}")))?;
        // Keys of kinds the JWT library does not know (e.g. encryption keys)
        // are skipped rather than failing the whole set.
        let raw: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Unreachable(format!("JWKS unlesbar: {e}")))?;
        let keys = raw
            .get("keys")
            .and_then(|k| k.as_array())
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| serde_json::from_value(k.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok((core, jsonwebtoken::jwk::JwkSet { keys }))
    }

    /// Fetches the keys again, unless that happened very recently; answers
    /// whether anything was fetched.
    async fn refresh_keys(&self) -> Result<bool, OidcError> {
        let mut cache = self.cache.lock().await;
        let Some(current) = cache.clone() else {
            drop(cache);
            self.discovered().await?;
            return Ok(true);
        };
        if current.keys_at.elapsed() < self.min_key_refresh {
            return Ok(false);
        }
        // Discovery again, not only the keys: a provider may move its
        // jwks_uri along with the keys.
        let fresh = self.discover().await?;
        tracing::info!(
            keys = fresh.keys.keys.len(),
            "fetched the OpenID provider's keys again"
        );
        *cache = Some(Arc::new(fresh));
        Ok(true)
    }

    /// The key an access token names, fetching the provider's keys again
    /// once if it is unknown (key rotation).
    pub async fn access_token_key(
        &self,
        kid: &str,
    ) -> Result<Option<jsonwebtoken::jwk::Jwk>, OidcError> {
        let find = |d: &Discovered| {
            d.keys
                .keys
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .cloned()
        };
        if let Some(key) = find(&*self.discovered().await?) {
            return Ok(Some(key));
        }
        if self.refresh_keys().await? {
            return Ok(find(&*self.discovered().await?));
        }
        Ok(None)
    }

    /// RFC 9207: an authorization response's `iss` must name this issuer;
    /// a provider that promises it must send it. (Another provider's
    /// response, slipped into this login, is a mix-up attack.)
    pub async fn check_iss(&self, iss: Option<&str>) -> Result<(), OidcError> {
        let promised = self.discovered().await?.iss_parameter;
        let ours = |iss: &str| iss.trim_end_matches('/') == self.issuer.as_str();
        match iss {
            Some(iss) if ours(iss) => Ok(()),
            Some(iss) => Err(OidcError::Refused(format!(
                "authorization response from issuer {iss}, not {}",
                self.issuer.as_str()
            ))),
            None if promised => Err(OidcError::Refused(
                "authorization response without the iss the provider promises (RFC 9207)".into(),
            )),
            None => Ok(()),
        }
    }

    /// Where to send the browser, and what to remember until it returns.
    pub async fn begin(&self) -> Result<(url::Url, PendingLogin), OidcError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url,
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                started_at: crate::db::now(),
            },
        ))
    }

    /// Exchanges the code and validates the ID token against the pending
    /// login's nonce. The caller has checked `state`.
    pub async fn finish(&self, code: String, pending: &PendingLogin) -> Result<Login, OidcError> {
        let discovered = self.discovered().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Unreachable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => OidcError::Refused(format!(
                    "{}{}",
                    r.error().as_ref(),
                    r.error_description()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                )),
                other => OidcError::Unreachable(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::InvalidToken("die Antwort enthält kein ID-Token".into()))?
            .clone();
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match verify(&discovered.client, &id_token, &nonce) {
            // A key Kontor has not seen yet: the provider may have rotated.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) if self.refresh_keys().await? => {
                let fresh = self.discovered().await?;
                verify(&fresh.client, &id_token, &nonce)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidToken(e.to_string()))?;
        let mut identity = identity(claims, &self.groups_claim);
        if !claims
            .additional_claims()
            .claims
            .contains_key(&self.groups_claim)
        {
            identity.groups = self
                .groups_from_userinfo(&discovered, response.access_token(), claims.subject())
                .await?;
        }
        Ok(Login {
            identity,
            id_token: id_token.to_string(),
        })
    }

    /// Providers that keep groups out of the ID token (a common default)
    /// still hand them out at the userinfo endpoint.
    async fn groups_from_userinfo(
        &self,
        discovered: &Discovered,
        access_token: &AccessToken,
        subject: &openidconnect::SubjectIdentifier,
    ) -> Result<Vec<String>, OidcError> {
        let Ok(request) = discovered
            .client
            .user_info(access_token.clone(), Some(subject.clone()))
        else {
            return Ok(Vec::new());
        };
        // Without groups the user simply has no access, which the page
        // says; a failing userinfo call must not turn that into an error.
        let claims: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> = match request
            .request_async(&self.http)
            .await
        {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "userinfo for the groups claim failed");
                return Ok(Vec::new());
            }
        };
        Ok(super::groups::from_claim(
            claims.additional_claims().claims.get(&self.groups_claim),
        ))
    }

    /// The provider's logout page, which comes back to Kontor's login page;
    /// `None` when the provider has none (then Kontor's own logout is all).
    pub async fn logout_url(&self, id_token: Option<&str>) -> Option<url::Url> {
        let discovered = self.discovered().await.ok()?;
        let endpoint = discovered.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout.clone());
        if let Some(token) = id_token.and_then(|t| t.parse::<KontorIdToken>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url())
    }
}

fn verify<'a>(
    client: &OidcClient,
    token: &'a KontorIdToken,
    nonce: &Nonce,
) -> Result<&'a IdTokenClaims<ExtraClaims, CoreGenderClaim>, openidconnect::ClaimsVerificationError>
{
    let verifier = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
    token.claims(&verifier, nonce)
}

fn identity(claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>, groups_claim: &str) -> Identity {
    let subject = claims.subject().as_str().to_owned();
    let login = claims
        .preferred_username()
        .map(|u| u.as_str().to_owned())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| subject.clone());
    let display_name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| login.clone());
    Identity {
        subject,
        login,
        display_name,
        email: claims.email().map(|e| e.as_str().to_owned()),
        groups: super::groups::from_claim(claims.additional_claims().claims.get(groups_claim)),
    }
}

/// An error with its causes, for messages and logs.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
