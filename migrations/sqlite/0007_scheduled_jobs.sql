-- Scheduled jobs (billing close, metering, resync) run once per schedule
-- however many replicas there are: a replica runs a slot's job only if it
-- inserted that slot's row. Kept identical between sqlite and postgres.
CREATE TABLE job_runs (
    job        TEXT NOT NULL,
    -- Start of the slot, Unix seconds (a multiple of the job's interval).
    slot       BIGINT NOT NULL,
    claimed_by TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (job, slot)
);
