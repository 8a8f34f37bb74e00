-- Measured use per environment (PostgreSQL). Kept column-for-column
-- identical to migrations/sqlite/0003_metering.sql.
--
-- One row per environment and sampling instant: what the namespace's
-- ResourceQuota reported as `status.used`. Written by the metering collector
-- of the provisioning layer; read by the Abrechnung pages (booked vs used).

CREATE TABLE usage_samples (
    environment_id BIGINT NOT NULL REFERENCES environments(id),
    sampled_at     BIGINT NOT NULL,
    millicpu       BIGINT NOT NULL CHECK (millicpu >= 0),
    memory_mib     BIGINT NOT NULL CHECK (memory_mib >= 0),
    storage_gib    BIGINT NOT NULL CHECK (storage_gib >= 0),
    pods           BIGINT NOT NULL CHECK (pods >= 0),
    PRIMARY KEY (environment_id, sampled_at)
);
