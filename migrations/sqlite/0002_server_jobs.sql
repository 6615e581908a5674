-- Jobs submitted to the HTTP server (`POST /v1/jobs`): several jobs share one database, so a job
-- can be cancelled or fail as a whole, and the server tracks when work on it started.
ALTER TABLE jobs ADD COLUMN started_at INTEGER;
ALTER TABLE jobs ADD COLUMN cancelled_at INTEGER;
-- Why the job as a whole could not run (e.g. its task needs models this server has not loaded).
ALTER TABLE jobs ADD COLUMN error TEXT;

CREATE INDEX items_failed ON items (job_id, seq) WHERE state = 'failed';
