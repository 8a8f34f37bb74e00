-- Identity from the OpenID provider, API-token bookkeeping, the acting
-- identity in the audit log and shared rate-limit counters. Kept
-- column-for-column identical between migrations/sqlite and migrations/postgres.

-- A user who logged in through the OpenID provider is found again by issuer
-- and subject, never by name: names change, `sub` does not. Demo users and
-- users made by `kontor token create` have neither.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
CREATE UNIQUE INDEX users_oidc_identity_key ON users (oidc_issuer, oidc_subject);

-- Written at most once a minute per token, so that a user can tell a token
-- in use from a forgotten one before revoking it.
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);

-- The provider's subject of the acting person, beside the display name.
ALTER TABLE audit_log ADD COLUMN actor_subject TEXT;

-- Fixed-window request counters shared by every replica (login and API).
CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
