-- 0005-mail.sql - the outbox of mails, a user's mail switch, and the
-- retention warnings already queued for a task.
--
-- A mail row is written in the same transaction as the event that causes
-- it (a task's end, a node's health change, a retention warning), whole:
-- recipient, subject and body as they will be sent, so that it outlives
-- the task it tells of.  The pilot drains the rows with sent_ms and
-- gave_up_ms NULL whose next_ms has come (docs/internals/mail.md).
CREATE TABLE mail (
	id @ID@,
	created_ms BIGINT NOT NULL,
	kind TEXT NOT NULL,
	account_id BIGINT,
	task_id BIGINT,
	node_id BIGINT,
	rcpt TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	attempts BIGINT NOT NULL DEFAULT 0,
	next_ms BIGINT NOT NULL,
	sent_ms BIGINT,
	gave_up_ms BIGINT,
	last_error TEXT
);
CREATE INDEX mail_due ON mail (next_ms, id)
    WHERE sent_ms IS NULL AND gave_up_ms IS NULL;

-- 0: the user gets no mail (orchestra user set NAME --mail off).
ALTER TABLE account ADD COLUMN mail INTEGER NOT NULL DEFAULT 1
    CHECK (mail IN (0, 1));

-- Retention warnings queued since the task last ended: 0 none, 1 the one
-- at half the period, 2 the one a day before removal too.
ALTER TABLE task ADD COLUMN warned INTEGER NOT NULL DEFAULT 0
    CHECK (warned IN (0, 1, 2));
