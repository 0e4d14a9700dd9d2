-- 0019-job-usage.sql - what an ended job used (issue 19): its peak
-- memory in bytes and its CPU time in milliseconds, as its backend
-- accounted them, on the job (its last attempt) and on each run of
-- job_history, written with the end (store_job_ended()).  NULL: not
-- known (a job that never started, an end recorded before this, a
-- backend that accounts none: Kubernetes gives no usage in a pod's
-- status).  The local backend's are the kernel's accounting of the job's
-- shell at its end (wait's rusage, docs/internals/pilot.md "What a job
-- used"): ru_maxrss, the largest resident set of the shell or of any one
-- descendant it waited for (not their sum), and user plus system time of
-- the shell and every descendant it waited for.
--
-- job_history.memory: the memory the run was placed with (job.memory of
-- 0018), shown beside what it used; NULL for runs recorded before.
ALTER TABLE job ADD COLUMN peak_memory BIGINT;
ALTER TABLE job ADD COLUMN cpu_ms BIGINT;
ALTER TABLE job_history ADD COLUMN memory BIGINT;
ALTER TABLE job_history ADD COLUMN peak_memory BIGINT;
ALTER TABLE job_history ADD COLUMN cpu_ms BIGINT;
