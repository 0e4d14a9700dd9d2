-- 0021-job-task-idx.sql - a task's jobs of one state in index order
-- (issue 18).  A chunk of a task's jobs is queued lowest index first:
-- the index past the chunk, its events and its update each read the
-- task's jobs of one state by index.  job_task (task_id, status,
-- priority) gave them in priority order, so each chunk read and sorted
-- every job of that state left (100,000 at the first), and on PostgreSQL
-- queueing 100,000 jobs in chunks of 325 took 307 cycles and 45 s, most
-- of each cycle in those three statements; with this index, the same
-- took 53 cycles and 7 s, each statement reading only its chunk.
CREATE INDEX job_task_idx ON job (task_id, status, idx);
