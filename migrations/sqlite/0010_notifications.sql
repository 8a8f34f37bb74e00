-- Notifications (issue 15, part 2): events, the delivery outbox, webhooks
-- and each person's choice of e-mails. Kept table by table identical to
-- migrations/postgres/0010_notifications.sql.

-- Where a customer's events are also sent: an HTTPS endpoint that receives
-- JSON signed after the Standard Webhooks specification. Without a customer:
-- the Betreiber's endpoint for the events of every customer. The secret is
-- needed to sign, so it is stored as it is (shown to people only once).
-- Removed endpoints stay (their deliveries refer to them), marked deleted.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT REFERENCES customers(id),
    url         TEXT NOT NULL,
    description TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX webhooks_customer_idx ON webhooks (customer_id);

-- Something happened that people are told about. `event_key` makes it
-- happen once: the same key again (a second replica, a second run of the
-- budget watch) is the same event and is not written again. For the budget
-- watch it is the record of which contract, month and level was notified.
CREATE TABLE notification_events (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('approval.waiting', 'approval.decided',
                    'budget.warning', 'budget.exceeded', 'provisioning.failed',
                    'provisioning.recovered', 'deployment.failed')),
    event_key   TEXT NOT NULL CONSTRAINT notification_events_key UNIQUE,
    customer_id BIGINT REFERENCES customers(id),
    -- German subject line and text of the e-mail, the page it is about
    -- (a path below KONTOR_PUBLIC_URL) and the webhook's `data` (JSON).
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX notification_events_created_idx ON notification_events (created_at);

-- The delivery outbox: one row per event and recipient (a person's
-- address, a webhook), written in the same transaction as the event and
-- claimed by the senders of any replica with a lease, like the
-- provisioning outbox. `recipient` ('user:<id>', 'webhook:<id>') makes each
-- delivery once per event.
CREATE TABLE notification_deliveries (
    id               INTEGER PRIMARY KEY,
    event_id         BIGINT NOT NULL REFERENCES notification_events(id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient        TEXT NOT NULL,
    user_id          BIGINT REFERENCES users(id),
    webhook_id       BIGINT REFERENCES webhooks(id),
    -- The e-mail address or URL at the time of the event.
    address          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('offen', 'zugestellt', 'aufgegeben')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    due_at_ms        BIGINT NOT NULL,
    claimed_by       TEXT,
    claimed_until_ms BIGINT,
    last_error       TEXT,
    last_attempt_ms  BIGINT,
    delivered_at_ms  BIGINT,
    CONSTRAINT notification_deliveries_once UNIQUE (event_id, recipient),
    CHECK ((channel = 'email') = (user_id IS NOT NULL)),
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (due_at_ms)
    WHERE state = 'offen';
CREATE INDEX notification_deliveries_event_idx ON notification_deliveries (event_id);

-- E-mails a person switched off, one row per kind of event (the default is
-- on).
CREATE TABLE notification_opt_outs (
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind    TEXT NOT NULL CHECK (kind IN ('approval.waiting', 'approval.decided',
                'budget.warning', 'budget.exceeded', 'provisioning.failed',
                'provisioning.recovered', 'deployment.failed')),
    PRIMARY KEY (user_id, kind)
);
