-- 0016-history-runs.sql - `orchestra history` lists each run (issue 16),
-- as Slurm's sacct does, besides the totals: the job's index in its task
-- (what `task logs NAME JOB` takes) and the GPU device it held, copied
-- with the rest when the run ends (store_history_record()).  Runs
-- recorded before have them from their job where it is still there,
-- else NULL ("-").
--
-- The listing pages by id (the order the pilot recorded the ends) within
-- a range of ends, a user's own the common ask: job_history_user.
ALTER TABLE job_history ADD COLUMN idx BIGINT;
ALTER TABLE job_history ADD COLUMN gpu_index BIGINT;
UPDATE job_history SET idx = (SELECT j.idx FROM job j
    WHERE j.id = job_history.job_id);
UPDATE job_history SET gpu_index = (SELECT j.gpu_index FROM job j
    WHERE j.id = job_history.job_id AND j.attempts = job_history.attempt);
CREATE INDEX job_history_user ON job_history (username, ended_ms);
