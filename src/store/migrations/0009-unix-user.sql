-- 0009-unix-user.sql - the Unix account each user's jobs run as, and why
-- the pilot cannot run them now.
--
-- account.unix_user is the login name of the account a job of this user
-- runs as (local processes take its uid, gid and groups; Kubernetes Jobs
-- its uid and gid).  `user add` sets it, by default to the username; the
-- rows of an older database take their username.  account.hold is written
-- by the pilot only: NULL while it can run the user's jobs, else why it
-- cannot ("user alice has no Unix account 'alice' on node vm"); the
-- scheduler places none of that user's jobs meanwhile, and `queue`, `task
-- show` and the API give it as the reason they wait.
ALTER TABLE account ADD COLUMN unix_user TEXT NOT NULL DEFAULT '';
UPDATE account SET unix_user = username;
ALTER TABLE account ADD COLUMN hold TEXT;
