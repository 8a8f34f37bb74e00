-- Closed billing months (SQLite). Kept column-for-column identical to
-- migrations/postgres/0002_billing.sql.
--
-- A statement is written once, when its month is closed, with the names and
-- contract data of that moment copied in: later renames, bookings or price
-- edits never change it. Both tables are append-only, enforced below.

CREATE TABLE statements (
    id              INTEGER PRIMARY KEY,
    contract_id     BIGINT NOT NULL REFERENCES contracts(id),
    month           TEXT NOT NULL,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    customer_name   TEXT NOT NULL,
    contract_number TEXT NOT NULL,
    contract_title  TEXT NOT NULL,
    kostenstelle    TEXT NOT NULL,
    haushaltsstelle TEXT NOT NULL,
    leitweg_id      TEXT NOT NULL,
    total_cents     BIGINT NOT NULL,
    line_count      BIGINT NOT NULL,
    closed_at       BIGINT NOT NULL,
    -- The Kontingent's monthly budget at closing, for the budget figures.
    monthly_budget_cents BIGINT NOT NULL,
    CONSTRAINT statements_contract_month_key UNIQUE (contract_id, month)
);
CREATE INDEX statements_month_idx ON statements (month);

CREATE TABLE statement_lines (
    statement_id     BIGINT NOT NULL REFERENCES statements(id),
    line_no          BIGINT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('nutzung', 'grundgebuehr')),
    booking_id       BIGINT,
    application_name TEXT NOT NULL,
    stage            TEXT,
    product_name     TEXT NOT NULL,
    size             TEXT,
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT NOT NULL,
    seconds          BIGINT NOT NULL,
    rate             BIGINT,
    amount_cents     BIGINT NOT NULL,
    PRIMARY KEY (statement_id, line_no)
);

CREATE TRIGGER statements_no_update BEFORE UPDATE ON statements
BEGIN
    SELECT RAISE(ABORT, 'closed statements are final');
END;

CREATE TRIGGER statements_no_delete BEFORE DELETE ON statements
BEGIN
    SELECT RAISE(ABORT, 'closed statements are final');
END;

CREATE TRIGGER statement_lines_no_update BEFORE UPDATE ON statement_lines
BEGIN
    SELECT RAISE(ABORT, 'closed statements are final');
END;

CREATE TRIGGER statement_lines_no_delete BEFORE DELETE ON statement_lines
BEGIN
    SELECT RAISE(ABORT, 'closed statements are final');
END;
