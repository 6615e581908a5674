-- Jobs submitted to HTTP servers (`POST /v1/jobs`) sharing this database: a job can be cancelled
-- or fail as a whole, and the servers track when work on it started. Times are Unix milliseconds.
ALTER TABLE jobs ADD COLUMN started_at BIGINT;
ALTER TABLE jobs ADD COLUMN cancelled_at BIGINT;
-- Why the job as a whole could not run (e.g. its task needs models the servers have not loaded).
ALTER TABLE jobs ADD COLUMN error TEXT;

CREATE INDEX items_failed ON items (job_id, seq) WHERE state = 'failed';
