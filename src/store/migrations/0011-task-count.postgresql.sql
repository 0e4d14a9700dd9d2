-- 0011-task-count.postgresql.sql - each task's jobs counted by status,
-- kept by the database itself.  What and why: the .sqlite.sql file of
-- the same number; this is the same in PostgreSQL's spelling, with
-- triggers per statement rather than per row: the pilot moves a task's
-- jobs in bulk ("every registered job -> assigned"), and one statement
-- of 10,000 rows then costs one grouped upsert, not 10,000 calls.
CREATE TABLE task_count (
	task_id BIGINT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (task_id, status)
);
INSERT INTO task_count (task_id, status, n)
    SELECT task_id, status, count(*) FROM job GROUP BY task_id, status;
-- The rows a statement added (+1) and took away (-1), netted per task and
-- status: an update that changes no status writes nothing.
CREATE FUNCTION job_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO task_count (task_id, status, n)
		    SELECT task_id, status, count(*) FROM job_new
		    GROUP BY task_id, status
		    ON CONFLICT (task_id, status)
		    DO UPDATE SET n = task_count.n + EXCLUDED.n;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE task_count c SET n = c.n - d.k
		    FROM (SELECT task_id, status, count(*) AS k FROM job_old
			GROUP BY task_id, status) d
		    WHERE c.task_id = d.task_id AND c.status = d.status;
	ELSE
		INSERT INTO task_count (task_id, status, n)
		    SELECT task_id, status, sum(k) FROM
			(SELECT task_id, status, 1 AS k FROM job_new
			UNION ALL
			SELECT task_id, status, -1 AS k FROM job_old) d
		    GROUP BY task_id, status HAVING sum(k) <> 0
		    ON CONFLICT (task_id, status)
		    DO UPDATE SET n = task_count.n + EXCLUDED.n;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER job_count_insert AFTER INSERT ON job
    REFERENCING NEW TABLE AS job_new
    FOR EACH STATEMENT EXECUTE FUNCTION job_count();
CREATE TRIGGER job_count_update AFTER UPDATE ON job
    REFERENCING OLD TABLE AS job_old NEW TABLE AS job_new
    FOR EACH STATEMENT EXECUTE FUNCTION job_count();
CREATE TRIGGER job_count_delete AFTER DELETE ON job
    REFERENCING OLD TABLE AS job_old
    FOR EACH STATEMENT EXECUTE FUNCTION job_count();
DROP INDEX job_task;
CREATE INDEX job_task ON job (task_id, status, priority);
