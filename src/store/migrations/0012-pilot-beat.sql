-- 0012-pilot-beat.sql - the pilot's heartbeat: when it last ran a cycle,
-- so that everyone else can tell that no pilot is running (and nothing
-- will start) instead of showing jobs that wait for the scheduler.
--
-- One row (id 1), written by the pilot holding the lock in the small
-- transaction that records its measures (pilot.c's pilot_stats_flush,
-- before it sleeps and every few seconds while busy), so a cycle costs no
-- write of its own; stopped_ms is set when it stops on a signal.  Whether
-- a pilot is running is core's pilot_beat_down(): no row, a stop after
-- the last cycle, or a last cycle older than three periods.
CREATE TABLE pilot_beat (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	host TEXT NOT NULL,
	pid BIGINT NOT NULL,
	started_ms BIGINT NOT NULL,
	last_cycle_ms BIGINT NOT NULL,
	interval_ms BIGINT NOT NULL,
	stopped_ms BIGINT
);
