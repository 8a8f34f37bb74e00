//! A person's own portal API tokens: listed, created and revoked on the
//! page "API-Tokens", under `/api/v1/tokens` (and by `kontor token create`).
//! Only the hash of a token is stored (`auth::tokens`); its secret is
//! answered once.

use jiff::civil::Date;
use serde_json::json;

use super::{Begun, Change, Created, FieldErrors, Result};
use crate::{
    auth::tokens,
    db::{self, Db, api_tokens::TokenRow, audit},
    domain::{
        actor::CurrentUser,
        calendar,
        idempotency::Key,
        text::{Text, TextError},
    },
    i18n::{Arg, t, t_with},
};

/// A token lives at most a year: long-lived secrets in CI systems are how
/// leaks stay useful.
pub const MAX_DAYS: i64 = 366;
/// What the form suggests.
pub const DEFAULT_DAYS: i64 = 90;
/// Longest name of a token.
pub const MAX_NAME: usize = 80;

/// A new token, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: Text,
    /// The first second after its last valid day (Berlin time).
    pub expires_at: i64,
}

impl NewToken {
    /// The token named `name` valid through the day `expires_on`
    /// (`YYYY-MM-DD`, from tomorrow to a year ahead), or a message per field.
    pub fn parse(
        name: &str,
        expires_on: &str,
        now: i64,
    ) -> std::result::Result<NewToken, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = match Text::parse(name, MAX_NAME) {
            Ok(name) => Some(name),
            Err(TextError::Empty) => {
                errors.add("name", t("invalid-token-name"));
                None
            }
            Err(TextError::TooLong(_)) => {
                errors.add(
                    "name",
                    t_with("invalid-token-name-long", &[("max", Arg::from(MAX_NAME))]),
                );
                None
            }
            Err(e) => {
                errors.add("name", e.to_string());
                None
            }
        };
        let today = calendar::berlin_date(now);
        let expires = match expires_on.trim().parse::<Date>() {
            Err(_) => {
                errors.add("expires_on", t("form-date"));
                None
            }
            Ok(date) if date <= today => {
                errors.add("expires_on", t("invalid-token-expiry-past"));
                None
            }
            Ok(date) if last_day(today).is_some_and(|max| date > max) => {
                errors.add("expires_on", t("invalid-token-expiry-year"));
                None
            }
            Ok(date) => date.tomorrow().ok().map(calendar::berlin_midnight),
        };
        match (errors.is_empty(), name, expires) {
            (true, Some(name), Some(expires_at)) => Ok(NewToken { name, expires_at }),
            _ => Err(errors),
        }
    }
}

/// The last day a token made `today` may be valid through.
pub fn last_day(today: Date) -> Option<Date> {
    today.checked_add(jiff::Span::new().days(MAX_DAYS)).ok()
}

/// The person's tokens, newest first.
pub async fn list(db: &Db, user: &CurrentUser) -> Result<Vec<TokenRow>> {
    Ok(db::api_tokens::list(&db.pool, user.id).await?)
}

/// Creates a token for `user`: its id and secret, to be shown once. A retry
/// with the same idempotency `key` answers the first token's id and no
/// secret (it is not stored, so it cannot be answered twice).
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    new: &NewToken,
    key: Option<&Key>,
    now: i64,
) -> Result<(Created, Option<String>)> {
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok((Created::Replayed(id), None)),
    };
    let token = tokens::generate();
    let id = db::api_tokens::insert(
        change.tx(),
        user.id,
        new.name.as_str(),
        &token.hash,
        now,
        Some(new.expires_at),
    )
    .await?;
    change
        .audit(audit::Entry {
            customer_id: user.customer_id,
            action: "token.created",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"name": new.name, "expires_at": new.expires_at})),
        })
        .await?;
    Ok((change.commit_created(id).await?, Some(token.secret)))
}

/// One of `user`'s own tokens; another user's id is not found.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<TokenRow> {
    list(db, user)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(super::Error::NotFound)
}

/// Revokes one of `user`'s own tokens; `false` when there is no such token
/// of theirs (another user's id looks the same as a missing one).
pub async fn revoke(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<bool> {
    let mut change = Change::begin(db, user, now).await?;
    if !db::api_tokens::set_revoked(change.tx(), id, user.id, now).await? {
        // Already revoked is fine (a second click); someone else's is not.
        return Ok(db::api_tokens::is_own(change.conn(), id, user.id).await?);
    }
    change
        .audit(audit::Entry {
            customer_id: user.customer_id,
            action: "token.revoked",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"revoked_at": now})),
        })
        .await?;
    change.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22 12:00 UTC
    const NOW: i64 = 1_795_348_800;

    fn field(name: &str, expires_on: &str, field: &str) -> bool {
        NewToken::parse(name, expires_on, NOW)
            .unwrap_err()
            .get(field)
            .is_some()
    }

    #[test]
    fn a_token_expires_at_the_end_of_its_last_day_in_berlin() {
        let new = NewToken::parse(" CI ", "2026-12-31", NOW).unwrap();
        assert_eq!(new.name.as_str(), "CI");
        assert_eq!(
            new.expires_at,
            calendar::berlin_midnight("2027-01-01".parse().unwrap())
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let both = NewToken::parse("", "morgen", NOW).unwrap_err();
        assert!(both.get("name").is_some());
        assert!(both.get("expires_on").is_some());
        assert!(field("x", "2026-11-22", "expires_on"), "today is past");
        assert!(field("x", "2028-01-01", "expires_on"), "over a year");
        assert!(field(&"x".repeat(81), "2026-12-01", "name"));
    }
}
