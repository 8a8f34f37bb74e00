-- The Revision made tamper-evident (issue 15): every entry of audit_log
-- carries its position in one chain per installation and the SHA-256 of its
-- content and of the entry before it (docs/revision.md). Kontor computes the
-- hashes; this migration adds the columns and the chain's head, and the
-- first start of this version chains the entries already there (the
-- "seal_until" bound below). Kept table by table identical to
-- migrations/postgres/0009_revision.sql.

ALTER TABLE audit_log ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN entry_hash TEXT;
CREATE UNIQUE INDEX audit_log_chain_seq_key ON audit_log (chain_seq);
-- The period filter of the Revision and the retention.
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- The chain's head (the last entry's position and hash), the checkpoint
-- behind which retention has deleted (the position and hash of the last
-- deleted entry; 0 and the genesis hash while nothing was deleted) and the
-- highest id of entries Kontor may still chain afterwards (those written
-- before this migration; 0 once they are chained). One row, locked by every
-- writer of audit entries, which puts them in one order.
CREATE TABLE audit_chain (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    head_seq        BIGINT NOT NULL,
    head_hash       TEXT NOT NULL,
    checkpoint_seq  BIGINT NOT NULL,
    checkpoint_hash TEXT NOT NULL,
    checkpoint_at   BIGINT,
    seal_until      BIGINT NOT NULL CHECK (seal_until >= 0),
    CHECK (checkpoint_seq >= 0 AND checkpoint_seq <= head_seq)
);
INSERT INTO audit_chain (id, head_seq, head_hash, checkpoint_seq, checkpoint_hash, checkpoint_at, seal_until)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0,
            '0000000000000000000000000000000000000000000000000000000000000000', NULL,
            COALESCE((SELECT MAX(id) FROM audit_log), 0));

-- Each walk along the chain (`kontor audit verify`, the scheduled job, the
-- Betreiber's button) and what it found; the newest is shown on /revision.
CREATE TABLE audit_verifications (
    id               INTEGER PRIMARY KEY,
    started_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL,
    by_whom          TEXT NOT NULL,
    intact           BIGINT NOT NULL CHECK (intact IN (0, 1)),
    entries          BIGINT NOT NULL,
    head_seq         BIGINT NOT NULL,
    head_hash        TEXT NOT NULL,
    problem_audit_id BIGINT,
    problem          TEXT
);

-- Still append-only, with exactly two exceptions, each bounded by the row
-- above: an entry written before this migration may be chained once (its
-- chain columns set, nothing else changed), and an entry at or behind the
-- retention checkpoint may be deleted. Every other UPDATE and DELETE is
-- refused; an unknown answer (NULL) refuses too.
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT COALESCE((
    OLD.chain_seq IS NULL AND OLD.entry_hash IS NULL AND OLD.prev_hash IS NULL
    AND OLD.id <= (SELECT seal_until FROM audit_chain WHERE id = 1)
    AND NEW.chain_seq IS NOT NULL AND NEW.entry_hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
    AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_user_id IS OLD.actor_user_id
    AND NEW.actor = OLD.actor AND NEW.actor_subject IS OLD.actor_subject AND NEW.via = OLD.via
    AND NEW.customer_id IS OLD.customer_id AND NEW.action = OLD.action
    AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
    AND NEW.before_json IS OLD.before_json AND NEW.after_json IS OLD.after_json
), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN COALESCE(OLD.chain_seq > (SELECT checkpoint_seq FROM audit_chain WHERE id = 1), 1)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
