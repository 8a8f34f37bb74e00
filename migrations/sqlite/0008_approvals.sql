-- One approval model for everything that waits for someone else's decision:
-- promotions (Freigaben) and Kontingent change requests. The request and its
-- decision live in `approvals` (one state machine, one four-eyes rule); what
-- each kind is about lives in its own table with the same id.

CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('promotion', 'kontingent')),
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    state        TEXT NOT NULL CHECK (state IN ('offen', 'genehmigt', 'abgelehnt', 'zurueckgezogen')),
    -- What an open request is about ('promotion:<application>:<stage>',
    -- 'kontingent:<contract>'): one open request per subject. Cleared when
    -- the request is decided or withdrawn.
    open_key     TEXT CONSTRAINT approvals_open_key UNIQUE,
    requested_by BIGINT NOT NULL REFERENCES users(id),
    requested_at BIGINT NOT NULL,
    decided_by   BIGINT REFERENCES users(id),
    decided_at   BIGINT,
    reason       TEXT,
    -- A second signature of the customer's Finanzen where one is required
    -- (a budget increase with KONTOR_KONTINGENT_BUDGET_COSIGN).
    cosigned_by  BIGINT REFERENCES users(id),
    cosigned_at  BIGINT,
    -- Four eyes, whatever the code above does.
    CHECK (decided_by IS NULL OR state = 'zurueckgezogen' OR decided_by <> requested_by),
    CHECK (cosigned_by IS NULL OR cosigned_by <> requested_by),
    CHECK ((state = 'offen') = (open_key IS NOT NULL))
);
CREATE INDEX approvals_customer_idx ON approvals (customer_id, id);
CREATE INDEX approvals_open_idx ON approvals (kind, id) WHERE state = 'offen';

INSERT INTO approvals (id, kind, customer_id, state, open_key, requested_by, requested_at,
                       decided_by, decided_at, reason)
    SELECT id, 'promotion', customer_id, state,
           CASE WHEN state = 'offen' THEN 'promotion:' || application_id || ':' || to_stage END,
           requested_by, requested_at, decided_by, decided_at, reason
    FROM promotions;

-- A promotion keeps what it is about; its request and decision moved.
CREATE TABLE promotions_new (
    id             INTEGER PRIMARY KEY REFERENCES approvals(id),
    application_id BIGINT NOT NULL REFERENCES applications(id),
    release_id     BIGINT NOT NULL REFERENCES releases(id),
    from_stage     TEXT NOT NULL,
    to_stage       TEXT NOT NULL,
    deployment_id  BIGINT REFERENCES deployments(id)
);
INSERT INTO promotions_new (id, application_id, release_id, from_stage, to_stage, deployment_id)
    SELECT id, application_id, release_id, from_stage, to_stage, deployment_id FROM promotions;
DROP TABLE promotions;
ALTER TABLE promotions_new RENAME TO promotions;
CREATE INDEX promotions_application_idx ON promotions (application_id, id);

-- Kontingent-Änderungsantrag: new ceilings for a contract, asked with a
-- justification instead of a ticket. NULL where a ceiling stays as it is.
CREATE TABLE kontingent_requests (
    id                   INTEGER PRIMARY KEY REFERENCES approvals(id),
    contract_id          BIGINT NOT NULL REFERENCES contracts(id),
    max_millicpu         BIGINT CHECK (max_millicpu >= 0),
    max_memory_mib       BIGINT CHECK (max_memory_mib >= 0),
    max_storage_gib      BIGINT CHECK (max_storage_gib >= 0),
    monthly_budget_cents BIGINT CHECK (monthly_budget_cents >= 0),
    justification        TEXT NOT NULL,
    -- What was granted, when the decider approved other values.
    granted_millicpu             BIGINT CHECK (granted_millicpu >= 0),
    granted_memory_mib           BIGINT CHECK (granted_memory_mib >= 0),
    granted_storage_gib          BIGINT CHECK (granted_storage_gib >= 0),
    granted_monthly_budget_cents BIGINT CHECK (granted_monthly_budget_cents >= 0)
);
CREATE INDEX kontingent_requests_contract_idx ON kontingent_requests (contract_id, id);
