-- 0023-task-queue-from.sql - a first queueing's chunks start where the
-- last one ended (issue 18).
--
-- queue_from: no registered job of the task has an index below it (NULL:
-- 0).  A chunk of registered jobs (registered -> assigned) reads and
-- moves them from it on and sets it past them, or to NULL after the
-- last; any move back to registered (the retry of a broken or killed
-- task) sets it to NULL.  Before it, each chunk read the task's jobs from
-- index 0: on PostgreSQL, once the job table was analyzed (autovacuum,
-- within a minute of a large submit), the planner took the unique (task_id,
-- idx) for the three statements of a chunk and read every job queued
-- before it again (the bound alone: 9 to 13 ms at 6,000 to 8,000 queued,
-- growing with them); from the cursor, either index reads only the
-- chunk.  NULL after the last chunk also means that a registered job
-- below it, were there one, would be found by the next chunk.
ALTER TABLE task ADD COLUMN queue_from BIGINT;

