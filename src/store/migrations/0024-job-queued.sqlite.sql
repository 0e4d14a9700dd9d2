-- 0024-job-queued.sqlite.sql - job_queued holds only the queued jobs
-- (issue 18; the PostgreSQL file says why).  SQLite takes job_wait for
-- the scheduler's read either way, and a seek by queue to its oldest
-- queued job only from (queue, queued_ms): with (queued_ms, queue), as on
-- PostgreSQL, it read every queued job of the queue through job_wait
-- (10 ms at 50,000).
DROP INDEX job_queued;
CREATE INDEX job_queued ON job (queue, queued_ms) WHERE status = 'assigned';
