-- 0002-job-end.sql - what the pilot records when a job ends.
--
-- log_tail: the last bytes of the job's log; end_reason: why it ended
-- beside its exit code ("exit", "signal", "stopped", "timeout", "could
-- not start", or what the infrastructure did to it); lost: launches of
-- the current run that failed on the infrastructure (bounded; reset by a
-- retry).
ALTER TABLE job ADD COLUMN log_tail TEXT;
ALTER TABLE job ADD COLUMN end_reason TEXT;
ALTER TABLE job ADD COLUMN lost BIGINT NOT NULL DEFAULT 0;
