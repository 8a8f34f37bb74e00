-- Provisioning state (SQLite). Kept column-for-column identical to
-- migrations/postgres/0004_provisioning.sql.
--
-- The database holds the desired state; these tables say how far the
-- clusters (or the manifest directory) have caught up with it.

-- Whether an environment should exist in its cluster: 'leer' until its first
-- booking, 'aktiv' from then on (also with every booking cancelled, so a
-- quota of zero stays in force), 'aufgeloest' after "Umgebung auflösen"
-- until the next booking.
ALTER TABLE environments ADD COLUMN lifecycle TEXT NOT NULL DEFAULT 'leer'
    CHECK (lifecycle IN ('leer', 'aktiv', 'aufgeloest'));
UPDATE environments SET lifecycle = 'aktiv'
    WHERE id IN (SELECT environment_id FROM bookings);

-- The outbox generation that carries a booking's latest change: the booking
-- is in the cluster once its environment's done_generation reaches it.
ALTER TABLE bookings ADD COLUMN sync_generation BIGINT NOT NULL DEFAULT 0;

-- The outbox: one row per environment, written in the same transaction as
-- every change of its desired state. A change bumps generation; the
-- reconciler that finished a generation records it as done_generation.
-- Changes that arrive while the reconciler works coalesce into one more run.
-- Instants here are Unix milliseconds: retries are scheduled in fractions of
-- a second.
CREATE TABLE provisioning_outbox (
    environment_id   BIGINT PRIMARY KEY REFERENCES environments(id),
    generation       BIGINT NOT NULL,
    done_generation  BIGINT NOT NULL DEFAULT 0,
    -- The latest generation that needs every object applied (a new or
    -- revived environment, a dissolution, drift); changes after it only
    -- touch the quota.
    full_generation  BIGINT NOT NULL DEFAULT 0,
    due_at_ms        BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- The worker that holds the claim and until when; an expired claim is
    -- free again (its process died).
    claimed_by       TEXT,
    claimed_until_ms BIGINT,
    last_error       TEXT,
    last_error_kind  TEXT,
    last_attempt_ms  BIGINT,
    done_at_ms       BIGINT
);
CREATE INDEX provisioning_outbox_pending_idx ON provisioning_outbox (due_at_ms)
    WHERE generation > done_generation;

-- Environments that had bookings before provisioning existed are work too.
INSERT INTO provisioning_outbox (environment_id, generation, full_generation, due_at_ms)
    SELECT id, 1, 1, 0 FROM environments WHERE lifecycle = 'aktiv';
UPDATE bookings SET sync_generation = 1;

-- What each provisioning target (a cluster, or the manifest directory)
-- answered last, for the Betreiber's overview.
CREATE TABLE provisioning_targets (
    name        TEXT PRIMARY KEY,
    reachable   BIGINT NOT NULL,
    checked_at  BIGINT NOT NULL,
    message     TEXT
);
