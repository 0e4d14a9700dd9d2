-- 0001-schema.sql - the tables of SPEC.md.
--
-- Written in the SQL that SQLite and PostgreSQL share; "@ID@" is an
-- auto-numbered BIGINT primary key, spelled by each driver.  Times are
-- integer epoch milliseconds (UTC).  Booleans are 0/1 integers.

CREATE TABLE account (
	id @ID@,
	username TEXT NOT NULL UNIQUE,
	email TEXT NOT NULL DEFAULT '',
	max_priority BIGINT NOT NULL DEFAULT 1000
	    CHECK (max_priority >= 0 AND max_priority <= 1000000000),
	role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	created_ms BIGINT NOT NULL
);

-- cpu_slots <= max_cpu_slots and gpu_slots <= max_gpu_slots hold whoever
-- writes the row: the command line, the API, or an admin's UPDATE.
CREATE TABLE node (
	id @ID@,
	name TEXT NOT NULL UNIQUE,
	queue TEXT NOT NULL DEFAULT 'default',
	cpu_slots BIGINT NOT NULL DEFAULT 0,
	gpu_slots BIGINT NOT NULL DEFAULT 0,
	max_cpu_slots BIGINT NOT NULL DEFAULT 30,
	max_gpu_slots BIGINT NOT NULL DEFAULT 0,
	enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	ready INTEGER NOT NULL DEFAULT 1 CHECK (ready IN (0, 1)),
	memory_pressure INTEGER NOT NULL DEFAULT 0
	    CHECK (memory_pressure IN (0, 1)),
	disk_pressure INTEGER NOT NULL DEFAULT 0 CHECK (disk_pressure IN (0, 1)),
	last_seen_ms BIGINT,
	completed BIGINT NOT NULL DEFAULT 0,
	failed BIGINT NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	CONSTRAINT node_max_cpu_slots CHECK (max_cpu_slots >= 0),
	CONSTRAINT node_max_gpu_slots
	    CHECK (max_gpu_slots >= 0 AND max_gpu_slots <= 64),
	CONSTRAINT node_cpu_slots
	    CHECK (cpu_slots >= 0 AND cpu_slots <= max_cpu_slots),
	CONSTRAINT node_gpu_slots
	    CHECK (gpu_slots >= 0 AND gpu_slots <= max_gpu_slots)
);

CREATE TABLE task (
	id @ID@,
	account_id BIGINT NOT NULL REFERENCES account (id),
	name TEXT NOT NULL,
	queue TEXT NOT NULL,
	image TEXT NOT NULL DEFAULT '',
	command TEXT NOT NULL,
	inputs TEXT NOT NULL DEFAULT '',
	data_path TEXT,
	out_dir TEXT NOT NULL,
	gpu INTEGER NOT NULL DEFAULT 0 CHECK (gpu IN (0, 1)),
	skip_test INTEGER NOT NULL DEFAULT 0 CHECK (skip_test IN (0, 1)),
	-- delete the output directory too when the task is removed
	remove_files INTEGER NOT NULL DEFAULT 0 CHECK (remove_files IN (0, 1)),
	timeout_ms BIGINT NOT NULL DEFAULT 0 CHECK (timeout_ms >= 0),
	retention_ms BIGINT CHECK (retention_ms IS NULL OR retention_ms >= 0),
	status TEXT NOT NULL DEFAULT 'registered'
	    CHECK (status IN ('registered', 'testing', 'running', 'done',
		'finalized', 'broken', 'killing', 'killed')),
	signal TEXT CHECK (signal IS NULL OR signal IN ('retry', 'kill',
	    'delete')),
	dirty INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1)),
	njobs BIGINT NOT NULL,
	submitted_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL,
	ended_ms BIGINT,
	UNIQUE (account_id, name)
);
CREATE INDEX task_status ON task (status);
-- The pilot looks only at tasks where something happened.
CREATE INDEX task_dirty ON task (dirty) WHERE dirty = 1;

-- account_id, queue, gpu and submitted_ms copy the task's, so that the
-- scheduler reads each user's waiting jobs in order from one index.
CREATE TABLE job (
	id @ID@,
	task_id BIGINT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	idx BIGINT NOT NULL,
	account_id BIGINT NOT NULL,
	queue TEXT NOT NULL,
	gpu INTEGER NOT NULL CHECK (gpu IN (0, 1)),
	submitted_ms BIGINT NOT NULL,
	input TEXT,
	command TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'registered'
	    CHECK (status IN ('registered', 'assigned', 'pending', 'running',
		'done', 'failed', 'kill', 'killed', 'broken')),
	is_test INTEGER NOT NULL DEFAULT 0 CHECK (is_test IN (0, 1)),
	priority DOUBLE PRECISION NOT NULL DEFAULT 0,
	node_id BIGINT REFERENCES node (id),
	gpu_index BIGINT,
	handle TEXT,
	attempts BIGINT NOT NULL DEFAULT 0,
	exit_code BIGINT,
	queued_ms BIGINT,
	started_ms BIGINT,
	ended_ms BIGINT,
	UNIQUE (task_id, idx)
);
CREATE INDEX job_wait ON job (status, queue, gpu, account_id, is_test,
    submitted_ms, task_id, idx);
CREATE INDEX job_task ON job (task_id, status);
CREATE INDEX job_node ON job (node_id, status);

-- Append-only history; no foreign keys, so it outlives what it describes.
CREATE TABLE event (
	id @ID@,
	time_ms BIGINT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('task', 'job', 'node', 'account')),
	account_id BIGINT,
	task_id BIGINT,
	job_id BIGINT,
	node_id BIGINT,
	old_status TEXT,
	new_status TEXT,
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX event_time ON event (time_ms);
CREATE INDEX event_task ON event (task_id, time_ms);
