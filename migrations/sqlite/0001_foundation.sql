-- Kontor foundation schema (SQLite). Kept column-for-column identical to
-- migrations/postgres/0001_foundation.sql: the same queries run on both.
-- Instants are BIGINT Unix seconds (UTC); calendar dates are TEXT 'YYYY-MM-DD';
-- money is BIGINT cents, hourly prices BIGINT 1/10 000 EUR.

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL CONSTRAINT customers_slug_key UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE contracts (
    id                   INTEGER PRIMARY KEY,
    customer_id          BIGINT NOT NULL REFERENCES customers(id),
    number               TEXT NOT NULL CONSTRAINT contracts_number_key UNIQUE,
    title                TEXT NOT NULL,
    valid_from           TEXT NOT NULL,
    valid_until          TEXT NOT NULL,
    kostenstelle         TEXT NOT NULL,
    haushaltsstelle      TEXT NOT NULL,
    leitweg_id           TEXT NOT NULL,
    billing_model        TEXT NOT NULL CHECK (billing_model IN ('nutzung', 'gemischt')),
    base_fee_cents       BIGINT NOT NULL DEFAULT 0 CHECK (base_fee_cents >= 0),
    max_millicpu         BIGINT NOT NULL CHECK (max_millicpu >= 0),
    max_memory_mib       BIGINT NOT NULL CHECK (max_memory_mib >= 0),
    max_storage_gib      BIGINT NOT NULL CHECK (max_storage_gib >= 0),
    monthly_budget_cents BIGINT NOT NULL CHECK (monthly_budget_cents >= 0),
    created_at           BIGINT NOT NULL,
    CHECK (valid_from <= valid_until)
);
CREATE INDEX contracts_customer_idx ON contracts (customer_id);

CREATE TABLE applications (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT applications_customer_slug_key UNIQUE (customer_id, slug)
);
CREATE INDEX applications_contract_idx ON applications (contract_id);

-- One environment per application and stage; created with the application.
CREATE TABLE environments (
    id             INTEGER PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications(id),
    stage          TEXT NOT NULL CHECK (stage IN ('vorpruefung', 'abnahme', 'schulung', 'produktion')),
    CONSTRAINT environments_application_stage_key UNIQUE (application_id, stage)
);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL CONSTRAINT products_slug_key UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE product_sizes (
    id          INTEGER PRIMARY KEY,
    product_id  BIGINT NOT NULL REFERENCES products(id),
    size        TEXT NOT NULL CHECK (size IN ('S', 'M', 'L', 'XL')),
    millicpu    BIGINT NOT NULL CHECK (millicpu >= 0),
    memory_mib  BIGINT NOT NULL CHECK (memory_mib >= 0),
    storage_gib BIGINT NOT NULL CHECK (storage_gib >= 0),
    pods        BIGINT NOT NULL CHECK (pods >= 0),
    CONSTRAINT product_sizes_product_size_key UNIQUE (product_id, size)
);

-- Versioned prices: the version valid at an instant is the latest valid_from
-- not after it.
CREATE TABLE prices (
    id              INTEGER PRIMARY KEY,
    product_size_id BIGINT NOT NULL REFERENCES product_sizes(id),
    valid_from      BIGINT NOT NULL,
    rate            BIGINT NOT NULL CHECK (rate >= 0),
    created_at      BIGINT NOT NULL,
    CONSTRAINT prices_size_valid_from_key UNIQUE (product_size_id, valid_from)
);

CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    login        TEXT NOT NULL CONSTRAINT users_login_key UNIQUE,
    display_name TEXT NOT NULL,
    customer_id  BIGINT REFERENCES customers(id),
    demo         BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL CHECK (role IN ('betreiber', 'systempfleger', 'verfahrensverantwortlicher', 'entwickler', 'finanzen')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE bookings (
    id             INTEGER PRIMARY KEY,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    contract_id    BIGINT NOT NULL REFERENCES contracts(id),
    application_id BIGINT NOT NULL REFERENCES applications(id),
    environment_id BIGINT NOT NULL REFERENCES environments(id),
    stage          TEXT NOT NULL,
    product_id     BIGINT NOT NULL REFERENCES products(id),
    size           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('beantragt', 'aktiv', 'gekuendigt')),
    created_at     BIGINT NOT NULL,
    created_by     BIGINT REFERENCES users(id),
    cancelled_at   BIGINT
);
CREATE INDEX bookings_customer_idx ON bookings (customer_id, id);
CREATE INDEX bookings_contract_state_idx ON bookings (contract_id, state);
CREATE INDEX bookings_application_idx ON bookings (application_id);

-- A booking's history: each size it had, from when to when. Exactly one open
-- period (ends_at NULL) while the booking is not cancelled. The resource
-- vector is copied so a later catalogue edit never changes a booked promise.
CREATE TABLE booking_periods (
    id              INTEGER PRIMARY KEY,
    booking_id      BIGINT NOT NULL REFERENCES bookings(id),
    product_size_id BIGINT NOT NULL REFERENCES product_sizes(id),
    size            TEXT NOT NULL,
    millicpu        BIGINT NOT NULL,
    memory_mib      BIGINT NOT NULL,
    storage_gib     BIGINT NOT NULL,
    pods            BIGINT NOT NULL,
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT,
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX booking_periods_booking_idx ON booking_periods (booking_id);
CREATE UNIQUE INDEX booking_periods_one_open ON booking_periods (booking_id) WHERE ends_at IS NULL;

-- Append-only audit log (Revision). The triggers below refuse updates and
-- deletes so that not even a bug in Kontor can rewrite history.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor         TEXT NOT NULL,
    via           TEXT NOT NULL,
    customer_id   BIGINT,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     BIGINT NOT NULL,
    before_json   TEXT,
    after_json    TEXT
);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
CREATE INDEX audit_log_customer_idx ON audit_log (customer_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Responses of creating API calls by (user, Idempotency-Key), so a retried
-- request gets the first answer instead of a second booking.
CREATE TABLE idempotency_keys (
    user_id      BIGINT NOT NULL REFERENCES users(id),
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);
