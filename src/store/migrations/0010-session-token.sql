-- 0010-session-token.sql - a dashboard session made from an API token
-- ends with that token.
--
-- session.token_id is the token the session was signed in with, NULL for
-- a password's.  Each use of the session reads the token's revoked_ms and
-- expires_ms through it (store_session_get), so revoking the token, or
-- its expiry, ends the session as it ends the token; revoking it also
-- deletes the sessions made from it.  A password change deletes the
-- user's password sessions (account_id, token_id NULL).
ALTER TABLE session ADD COLUMN token_id BIGINT REFERENCES token (id);
CREATE INDEX session_token ON session (token_id);
CREATE INDEX session_account ON session (account_id);
