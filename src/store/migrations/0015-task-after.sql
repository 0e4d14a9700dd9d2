-- 0015-task-after.sql - tasks that wait for tasks (issue 19): `task
-- submit B --after A` keeps B registered, none of its jobs queued (its
-- test job neither), until A is done; `--after-any A` until A has ended
-- in any state.
--
-- task_dep holds one row per (B, A): what the pilot's state machine asks
-- of the dirty tasks only (store_task_dirty: one seek on the primary key
-- for B, one on task_dep_after for "does someone wait for A"), so a wait
-- costs the scheduler nothing per job and nothing per cycle: B's jobs are
-- never assigned while it waits, and the pilot marks B dirty when A's
-- status changes (store_task_apply).  A row goes with either task; the
-- service refuses to delete A while B waits for it, and retention keeps
-- A meanwhile.
--
-- `--inputs-of A` (which waits --after A too): inputs_of is A, whose
-- output files become B's inputs once A is done; the pilot lists them
-- then and writes B's jobs (until then B has none, njobs 0), and
-- inputs_of_task keeps A's full name for show.
--
-- after_tasks and after_any_tasks keep what was asked, as the full names
-- (user.alice.prep,user.alice.calib), for show, --json and the API.
CREATE TABLE task_dep (
	task_id BIGINT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	after_id BIGINT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	any_end INTEGER NOT NULL DEFAULT 0 CHECK (any_end IN (0, 1)),
	PRIMARY KEY (task_id, after_id)
);
CREATE INDEX task_dep_after ON task_dep (after_id);
ALTER TABLE task ADD COLUMN after_tasks TEXT NOT NULL DEFAULT '';
ALTER TABLE task ADD COLUMN after_any_tasks TEXT NOT NULL DEFAULT '';
ALTER TABLE task ADD COLUMN inputs_of BIGINT
    REFERENCES task (id) ON DELETE SET NULL;
ALTER TABLE task ADD COLUMN inputs_of_task TEXT NOT NULL DEFAULT '';
