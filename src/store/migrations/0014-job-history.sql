-- 0014-job-history.sql - accounting (Slurm's sacct): one row per run of a
-- job that ended on a node, written by the pilot in the transaction that
-- records the end (store_job_ended()), copied out of job, task, account
-- and node so that it outlives them: ended tasks are removed after their
-- retention (10 days), this after one year (PILOT_HISTORY_KEEP_MS).
--
-- Written at each end rather than when the task is removed: the figures
-- are there at once, not ten days later; each attempt counts (a job
-- retried twice used its slot three times, and the job row keeps only
-- the last); `task delete` and retention need nothing of their own.
-- A job that never started (killed or broken while it waited) ran on no
-- node and has no row.
--
-- A CPU job holds one CPU slot, a GPU job one GPU slot (core/place.c):
-- its slot time is ended_ms - started_ms of the one or the other.
CREATE TABLE job_history (
	id @ID@,
	job_id BIGINT NOT NULL,
	attempt BIGINT NOT NULL,
	username TEXT NOT NULL,
	task TEXT NOT NULL,
	queue TEXT NOT NULL,
	node TEXT NOT NULL,
	gpu INTEGER NOT NULL CHECK (gpu IN (0, 1)),
	status TEXT NOT NULL,
	exit_code BIGINT,
	end_reason TEXT,
	started_ms BIGINT NOT NULL,
	ended_ms BIGINT NOT NULL,
	UNIQUE (job_id, attempt)
);
CREATE INDEX job_history_ended ON job_history (ended_ms);
