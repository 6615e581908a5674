-- Durable batch jobs: one row per job, one row per input line (item).
-- Item states: queued -> running (claimed with a lease) -> done | failed.
-- Results live here; OUT.jsonl is a copy of the finished prefix (output_next, output_offset).
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    fingerprint   TEXT    NOT NULL UNIQUE,
    task          TEXT    NOT NULL,
    options       TEXT    NOT NULL,
    input_path    TEXT    NOT NULL,
    input_size    INTEGER NOT NULL,
    input_sha256  TEXT    NOT NULL,
    output_path   TEXT    NOT NULL,
    total         INTEGER NOT NULL,
    -- Items [0, output_next) are in OUT, which is exactly output_offset bytes long.
    output_next   INTEGER NOT NULL DEFAULT 0,
    output_offset INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER
);

CREATE TABLE items (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- Position in the output (0-based, contiguous).
    seq         INTEGER NOT NULL,
    -- Physical line of the input file (1-based).
    line        INTEGER NOT NULL,
    -- The input line (a JSON object with a text); NULL for lines rejected when the job was created.
    input       TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- Times the item was claimed (a model run each).
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    -- The output line (JSON, no newline) once done or failed.
    result      TEXT,
    finished_at INTEGER,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE INDEX items_by_state ON items (job_id, state, seq);
