-- 0024-job-queued.postgresql.sql - job_queued holds only the queued jobs
-- (issue 18).
--
-- It served one read, the age of each queue's oldest queued job
-- (store-stats.c), yet held every job in every state, so that every
-- change of a job's state wrote an entry to it; and before the job table
-- was first analyzed (within a minute of a large submit, by autovacuum),
-- the planner preferred its (status, queue) prefix to job_wait for the
-- scheduler's read of who has a job waiting (store-sched.c) and sorted
-- every queued job of the queue: 7.8 ms a cycle on average while 100,000
-- were queued.  Partial, it holds the queued jobs only, and its order,
-- oldest first and then the queue, gives that read no seek by queue: a
-- (queue, queued_ms) was taken for it all the same, 18 ms at 50,000
-- queued.  The oldest of a queue is the first entry of that queue, the
-- first entry at all with one queue.
DROP INDEX job_queued;
CREATE INDEX job_queued ON job (queued_ms, queue) WHERE status = 'assigned';
