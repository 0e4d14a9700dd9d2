-- 0005-sessions.sql - the dashboard's sign-in sessions, stored only as
-- hashes.
--
-- session.hash is the hex BLAKE2b-256 of the cookie's 256 random bits,
-- as token.hash is of a token's: the secret lives only in the browser's
-- HttpOnly cookie.  A session ends when it has been idle too long
-- (last_used_ms, compared with the server's limit at each use) or when
-- its user signs out (the row is deleted).  Its CSRF token is derived
-- from the secret (a keyed hash), so it is not stored either.
CREATE TABLE session (
	id @ID@,
	account_id BIGINT NOT NULL REFERENCES account (id),
	hash TEXT NOT NULL UNIQUE,
	created_ms BIGINT NOT NULL,
	last_used_ms BIGINT NOT NULL
);
CREATE INDEX session_used ON session (last_used_ms);
