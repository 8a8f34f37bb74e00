//! Access tokens of the configured issuer on the API: a JWT whose signature
//! checks against the issuer's keys, with `iss`, `aud`, `exp` and `nbf`
//! checked. The groups claim in it decides the roles, exactly as at a
//! browser login.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::oidc::{Oidc, OidcError};

/// Clock skew tolerated between Kontor and the provider.
const LEEWAY_SECS: u64 = 30;

/// Why an access token was refused: [`JwtError::public`] goes to the
/// caller, the `Display` with the library's detail to the log.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("Das Token ist kein gültiges JWT: {0}")]
    Malformed(String),
    #[error("Das Token ist nicht mit einem asymmetrischen Verfahren signiert.")]
    Algorithm,
    #[error("Das Token nennt keinen oder einen unbekannten Schlüssel des Anmeldedienstes.")]
    UnknownKey,
    #[error("Das Token wurde abgelehnt: {0}")]
    Invalid(String),
    #[error("Das Token ist ein ID-Token, kein Zugriffstoken.")]
    IdToken,
    #[error(transparent)]
    Provider(#[from] OidcError),
}

impl JwtError {
    /// What the caller is told: enough to act on, nothing of the issuer,
    /// the audience or the server's clock.
    pub fn public(&self) -> String {
        let id = match self {
            JwtError::Malformed(_) | JwtError::Invalid(_) => "token-invalid",
            JwtError::Algorithm => "token-not-asymmetric",
            JwtError::UnknownKey => "token-unknown-key",
            JwtError::IdToken => "token-is-id-token",
            JwtError::Provider(p) => return p.public(),
        };
        crate::i18n::t(id)
    }
}

/// The claims Kontor reads from an access token.
#[derive(Debug, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Everything else, among it the configurable groups claim.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

fn asymmetric(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Verifies `token` as an access token of `oidc`'s issuer for `audience`.
pub async fn verify(oidc: &Oidc, audience: &str, token: &str) -> Result<AccessClaims, JwtError> {
    // `alg: none` does not even parse here: jsonwebtoken has no such
    // algorithm, so such a token is malformed.
    let header = decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
    if !asymmetric(header.alg) {
        return Err(JwtError::Algorithm);
    }
    let kid = header.kid.ok_or(JwtError::UnknownKey)?;
    let jwk = oidc
        .access_token_key(&kid)
        .await?
        .ok_or(JwtError::UnknownKey)?;
    // A key published for one algorithm is used for no other.
    if let Some(key_alg) = jwk.common.key_algorithm
        && key_alg.to_string() != format!("{:?}", header.alg)
    {
        return Err(JwtError::Algorithm);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| JwtError::Invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_issuer(&[oidc.issuer()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<AccessClaims>(token, &key, &validation)
        .map_err(|e| JwtError::Invalid(reason(&e)))?;
    if is_id_token(&data.claims) {
        return Err(JwtError::IdToken);
    }
    Ok(data.claims)
}

/// An ID token proves a login to Kontor; it is no credential for the API,
/// even when its audience is the one access tokens carry (the client id, as
/// with Keycloak's Audience mapper). It also travels through the browser, in
/// the logout redirect's `id_token_hint`. Every ID token of a Kontor login
/// carries the `nonce` Kontor sent, which access tokens never do; Keycloak
/// also names the kind in `typ` (`Bearer` for access tokens, `ID` for ID
/// tokens).
fn is_id_token(claims: &AccessClaims) -> bool {
    claims.other.contains_key("nonce")
        || claims
            .other
            .get("typ")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|typ| typ.eq_ignore_ascii_case("ID"))
}

fn reason(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "abgelaufen (exp)".into(),
        K::ImmatureSignature => "noch nicht gültig (nbf)".into(),
        K::InvalidAudience => "für einen anderen Empfänger ausgestellt (aud)".into(),
        K::InvalidIssuer => "von einem anderen Aussteller (iss)".into(),
        K::InvalidSignature => "Signatur passt nicht".into(),
        K::MissingRequiredClaim(c) => format!("Angabe {c} fehlt"),
        other => format!("{other:?}"),
    }
}

/// Whether a bearer token looks like a JWT rather than a portal token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.starts_with(super::tokens::PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_tokens_are_not_taken_for_jwts() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("kontor_abc"));
        assert!(!looks_like_jwt("a.b"));
    }

    fn claims(other: serde_json::Value) -> AccessClaims {
        let mut all = serde_json::json!({"sub": "s"});
        all.as_object_mut()
            .unwrap()
            .extend(other.as_object().unwrap().clone());
        serde_json::from_value(all).unwrap()
    }

    #[test]
    fn id_tokens_are_not_taken_for_access_tokens() {
        assert!(is_id_token(&claims(
            serde_json::json!({"typ": "ID", "nonce": "n"})
        )));
        assert!(is_id_token(&claims(serde_json::json!({"nonce": "n"}))));
        assert!(is_id_token(&claims(serde_json::json!({"typ": "ID"}))));
        assert!(!is_id_token(&claims(serde_json::json!({"typ": "Bearer"}))));
        assert!(!is_id_token(&claims(serde_json::json!({}))));
    }

    #[test]
    fn symmetric_algorithms_are_refused() {
        assert!(!asymmetric(Algorithm::HS256));
        assert!(asymmetric(Algorithm::RS256));
        assert!(asymmetric(Algorithm::ES256));
    }
}
