-- 0022-jobs-counted.postgresql.sql - a submit counts the jobs it adds
-- itself (issue 18): the first use of the plpgsql trigger of 0011 in a
-- connection loads plpgsql and compiles the function, 1.3 to 1.5 ms of
-- every `task submit` (a new connection each); the submit's transaction
-- sets orchestra.jobs_counted (db-pg.c, jobs_counted) and adds its count
-- to task_count with one statement of its own, and the trigger skips the
-- INSERTs of such a transaction.  Any other writer (an admin's SQL, a
-- statement of the pilot's) is counted by the trigger as before.
DROP TRIGGER job_count_insert ON job;
CREATE TRIGGER job_count_insert AFTER INSERT ON job
    REFERENCING NEW TABLE AS job_new
    FOR EACH STATEMENT
    WHEN (current_setting('orchestra.jobs_counted', true)
        IS DISTINCT FROM 'on')
    EXECUTE FUNCTION job_count();
