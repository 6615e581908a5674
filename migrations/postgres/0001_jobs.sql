-- Durable batch jobs shared by several dragoman processes: one row per job, one row per input
-- line (item). Item states: queued -> running (claimed by a worker with a lease) -> done | failed.
-- Results live here; OUT.jsonl is a copy of the finished prefix (output_next, output_offset).
-- Times are Unix milliseconds (as in the SQLite schema), except leases, which are compared with
-- the database server's clock so that the workers' clocks do not matter.
CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- SHA-256 of the job's spec: workers running the same command join the same job.
    fingerprint   TEXT   NOT NULL UNIQUE,
    task          TEXT   NOT NULL,
    options       TEXT   NOT NULL,
    input_path    TEXT   NOT NULL,
    input_size    BIGINT NOT NULL,
    input_sha256  TEXT   NOT NULL,
    output_path   TEXT   NOT NULL,
    total         BIGINT NOT NULL,
    -- Items [0, output_next) are in OUT, which is exactly output_offset bytes long.
    output_next   BIGINT NOT NULL DEFAULT 0,
    output_offset BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);

CREATE TABLE items (
    job_id      BIGINT  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- Position in the output (0-based, contiguous).
    seq         BIGINT  NOT NULL,
    -- Physical line of the input file (1-based).
    line        BIGINT  NOT NULL,
    -- The input line (a JSON object with a text); NULL for lines rejected when the job was created.
    input       TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- Times the item was claimed (a model run each).
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- The worker holding the item (running), or the one that finished it (done, failed).
    worker      TEXT,
    -- When the holder's lease runs out (running only).
    lease_until TIMESTAMPTZ,
    -- The output line (JSON, no newline) once done or failed.
    result      TEXT,
    finished_at BIGINT,
    PRIMARY KEY (job_id, seq)
);

-- What claims scan: the unfinished items of a job, in order.
CREATE INDEX items_unfinished ON items (job_id, seq) WHERE state IN ('queued', 'running');
