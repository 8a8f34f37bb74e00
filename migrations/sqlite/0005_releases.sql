-- Releases and stage promotions (SQLite). Kept column-for-column identical
-- to migrations/postgres/0005_releases.sql.

-- Every delivery, accepted or refused by the Checkup: the refused ones stay
-- as a record of what was tried (supply chain), with the reason.
CREATE TABLE releases (
    id             INTEGER PRIMARY KEY,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    application_id BIGINT NOT NULL REFERENCES applications(id),
    version        TEXT NOT NULL,
    image          TEXT NOT NULL,
    -- The pinned reference a Deployment runs (registry/path@sha256:…);
    -- empty when refused.
    pinned_image   TEXT NOT NULL,
    checksums_json TEXT NOT NULL,
    checkup        TEXT NOT NULL CHECK (checkup IN ('bestanden', 'abgelehnt')),
    refusal_code   TEXT,
    refusal        TEXT,
    delivered_by   BIGINT REFERENCES users(id),
    delivered_at   BIGINT NOT NULL
);
CREATE INDEX releases_application_idx ON releases (application_id, id);
-- A version is delivered once per application (refused attempts aside).
CREATE UNIQUE INDEX releases_version_key ON releases (application_id, version)
    WHERE checkup = 'bestanden';

-- What runs (or is to run) in each environment, one row per rollout.
CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments(id),
    release_id     BIGINT NOT NULL REFERENCES releases(id),
    -- 'abgeloest': a newer deployment (or the dissolution of the
    -- environment) took its place before its rollout was decided.
    state          TEXT NOT NULL CHECK (state IN ('laeuft', 'erfolgreich', 'fehlgeschlagen', 'abgeloest')),
    -- The outbox generation that carries it into the cluster.
    generation     BIGINT NOT NULL,
    message        TEXT,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT
);
CREATE INDEX deployments_environment_idx ON deployments (environment_id, id);
CREATE INDEX deployments_running_idx ON deployments (state) WHERE state = 'laeuft';

-- The release an environment should run: its latest deployment's.
ALTER TABLE environments ADD COLUMN deployment_id BIGINT REFERENCES deployments(id);

-- Freigaben: a request to move a release one stage on, and its decision.
CREATE TABLE promotions (
    id             INTEGER PRIMARY KEY,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    application_id BIGINT NOT NULL REFERENCES applications(id),
    release_id     BIGINT NOT NULL REFERENCES releases(id),
    from_stage     TEXT NOT NULL,
    to_stage       TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('offen', 'genehmigt', 'abgelehnt', 'zurueckgezogen')),
    requested_by   BIGINT NOT NULL REFERENCES users(id),
    requested_at   BIGINT NOT NULL,
    decided_by     BIGINT REFERENCES users(id),
    decided_at     BIGINT,
    reason         TEXT,
    deployment_id  BIGINT REFERENCES deployments(id),
    -- Four eyes, whatever the code above does.
    CHECK (decided_by IS NULL OR state = 'zurueckgezogen' OR decided_by <> requested_by)
);
CREATE INDEX promotions_application_idx ON promotions (application_id, id);
-- One open request per application and target stage.
CREATE UNIQUE INDEX promotions_open_key ON promotions (application_id, to_stage)
    WHERE state = 'offen';
