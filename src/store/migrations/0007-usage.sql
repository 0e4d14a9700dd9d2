-- 0007-usage.sql - the usage history the dashboard charts: how many jobs
-- of each user held a slot (running: pending, running, kill) and how many
-- waited (waiting: registered, assigned), sampled by the pilot at most
-- once a minute.  One row per user with any job at that time, plus one
-- row of zeros when a user's jobs are all gone (so a chart falls to zero
-- instead of stopping in mid-air); idle users write nothing after that.
-- The pilot deletes samples older than 8 days.
CREATE TABLE usage (
	at_ms BIGINT NOT NULL,
	username TEXT NOT NULL,
	running BIGINT NOT NULL,
	waiting BIGINT NOT NULL,
	PRIMARY KEY (at_ms, username)
);
