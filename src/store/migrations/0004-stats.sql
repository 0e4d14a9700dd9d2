-- 0004-stats.sql - cumulative measures for the metrics (orchestra metrics,
-- /metrics): counters and histogram buckets that only grow.
--
-- The job table forgets (a removed task takes its jobs, a retry overwrites
-- a job's times), and Prometheus reads a histogram or a counter that goes
-- down as a restart.  So whoever observes something adds it here, in the
-- transaction that records it: the pilot a job's wait when it starts and
-- its run time when it ends, and its own cycle durations and backend
-- errors.  One row per (name, label, bucket): `le_us` is the bucket's
-- upper bound in microseconds (-1: +Inf; 0 for a plain counter), `count`
-- the observations in that bucket alone (not cumulative), `sum_us` their
-- sum.  Counting starts when this migration runs.
CREATE TABLE stat (
	name TEXT NOT NULL,
	label TEXT NOT NULL DEFAULT '',
	le_us BIGINT NOT NULL,
	count BIGINT NOT NULL DEFAULT 0,
	sum_us BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (name, label, le_us)
);

-- The age of each queue's oldest queued job, read at every scrape: the
-- minimum comes from the index instead of a visit to every waiting row.
CREATE INDEX job_queued ON job (status, queue, queued_ms);
