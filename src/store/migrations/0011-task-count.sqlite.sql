-- 0011-task-count.sqlite.sql - each task's jobs counted by status, kept
-- by the database itself (the PostgreSQL spelling is the .postgresql.sql
-- file of the same number).
--
-- A page of the task list shows every task's counts; counting them from
-- the job table read every job of the page's tasks, a million rows for a
-- page of large tasks.  task_count holds one row per task and status
-- that a job of the task has had, its count kept by triggers on job, so
-- no path that writes jobs (the pilot, a submit, a task's deletion, an
-- admin's SQL) can leave it behind.  Rows at 0 stay; readers skip them.
--
-- job_task gains priority, so that the highest priority of a task's
-- running jobs is one seek, not a read of each.
CREATE TABLE task_count (
	task_id BIGINT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (task_id, status)
);
INSERT INTO task_count (task_id, status, n)
    SELECT task_id, status, count(*) FROM job GROUP BY task_id, status;
CREATE TRIGGER job_count_insert AFTER INSERT ON job
BEGIN
	INSERT INTO task_count (task_id, status, n)
	    VALUES (NEW.task_id, NEW.status, 1)
	    ON CONFLICT (task_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_count_update AFTER UPDATE OF status, task_id ON job
    WHEN OLD.status IS NOT NEW.status OR OLD.task_id IS NOT NEW.task_id
BEGIN
	UPDATE task_count SET n = n - 1
	    WHERE task_id = OLD.task_id AND status = OLD.status;
	INSERT INTO task_count (task_id, status, n)
	    VALUES (NEW.task_id, NEW.status, 1)
	    ON CONFLICT (task_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_count_delete AFTER DELETE ON job
BEGIN
	UPDATE task_count SET n = n - 1
	    WHERE task_id = OLD.task_id AND status = OLD.status;
END;
DROP INDEX job_task;
CREATE INDEX job_task ON job (task_id, status, priority);
