-- 0003-accounts.sql - API tokens and passwords, stored only as hashes.
--
-- token.hash is the hex BLAKE2b-256 of the token's 256 random bits: the
-- secret is shown once and never stored.  A token is looked up by its
-- hash (UNIQUE, so indexed); revoked_ms and expires_ms are read on every
-- request, so revoking is effective at once.  account.password is an
-- argon2id string (libsodium crypto_pwhash_str), NULL when none is set.
ALTER TABLE account ADD COLUMN password TEXT;

CREATE TABLE token (
	id @ID@,
	account_id BIGINT NOT NULL REFERENCES account (id),
	hash TEXT NOT NULL UNIQUE,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT,
	last_used_ms BIGINT,
	revoked_ms BIGINT
);
CREATE INDEX token_account ON token (account_id, id);
