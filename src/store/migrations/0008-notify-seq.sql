-- 0008-notify-seq.sql - SQLite's stand-in for PostgreSQL's NOTIFY: a
-- counter that every service write that changed rows moves in its own
-- transaction (store_notify()), so the pilot wakes on those commits and
-- not on every commit of another connection (its own mail thread's, or
-- the sqlite3 shell's).  One row; PostgreSQL's driver never touches it.
CREATE TABLE notify_seq (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	n BIGINT NOT NULL
);
INSERT INTO notify_seq (id, n) VALUES (1, 0);
