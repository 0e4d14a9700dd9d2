#!/bin/bash
# t0301-user-tokens.sh - `user token|tokens|revoke|passwd`: a token is
# printed once and stored only as a digest, listed without its secret,
# revoked once; a password is read from stdin and stored only as argon2id.

. "$(dirname "$0")/lib.sh"

expect_exit 0 orch init
expect_exit 0 orch user add bob

issue() {
	expect_exit 0 orch user token bob --expires 1h
	TOKEN=$(cat "$OUT")
	[[ $TOKEN =~ ^orc_[A-Za-z0-9_-]{43}$ ]] || fail "token '$TOKEN' is malformed"
	expect_stderr_line "^token 1 for user 'bob' \(expires: .*\); it is shown only this once$"
	expect_exit 0 orch user token bob --json
	json_check 'd["id"] == 2 and d["username"] == "bob" and
	    d["expires"] is None and d["revoked"] is None and d["active"] and
	    d["token"].startswith("orc_") and len(d["token"]) == 47'
	TOKEN2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$OUT")
	[ "$TOKEN" != "$TOKEN2" ] || fail "two tokens are the same"
	db_dump >"$TMP/dump"
	for t in "$TOKEN" "$TOKEN2" "${TOKEN#orc_}" "${TOKEN2#orc_}"; do
		! grep -qF -- "$t" "$TMP/dump" || fail "a token is in the database"
	done
	[ "$(db_query "SELECT count(*) FROM token WHERE length(hash) = 64")" = 2 ] ||
	    fail "the digests are not stored"
	echo "$TOKEN" >"$TMP/token1"
}
test_case "token prints a new secret once and stores only its digest" issue

list() {
	expect_exit 0 orch user tokens bob --json
	json_check '[t["id"] for t in d] == [1, 2] and
	    all("token" not in t and "hash" not in t for t in d) and
	    d[0]["expires"] is not None and d[1]["expires"] is None'
	expect_exit 0 orch user tokens bob
	expect_stdout_contains "LAST USED"
	! grep -q orc_ "$OUT" || fail "tokens shows a secret"
}
test_case "tokens lists them without their secrets" list

revoke() {
	expect_exit 0 orch user revoke bob 1
	expect_stdout_contains "revoked token 1 of user 'bob'"
	expect_exit 1 orch user revoke bob 1
	expect_stderr_line "^orchestra: token 1 is revoked already$"
	expect_exit 1 orch user revoke tester 2
	expect_stderr_line "^orchestra: user 'tester' has no token 2$"
	expect_exit 1 orch user revoke bob 99
	expect_stderr_line "^orchestra: user 'bob' has no token 99$"
	expect_exit 2 orch user revoke bob
	expect_stderr_usage "missing user NAME, and TOKEN_ID or --all"
	expect_exit 2 orch user revoke bob 1 --all
	expect_stderr_usage "too many arguments"
	expect_exit 2 orch user revoke --all
	expect_stderr_usage "missing user NAME"
	expect_exit 2 orch user revoke bob x
	expect_stderr_usage "invalid TOKEN_ID 'x'"
	expect_exit 0 orch user tokens bob --json
	json_check 'd[0]["revoked"] is not None and not d[0]["active"] and
	    d[1]["revoked"] is None and d[1]["active"]'
}
test_case "revoke marks one token, once" revoke

passwd() {
	expect_exit 0 orch user passwd bob <<<"correct horse battery"
	expect_stdout_contains "password of user 'bob' set"
	db_dump >"$TMP/dump"
	! grep -qF "correct horse" "$TMP/dump" || fail "the password is in the database"
	[[ $(db_query "SELECT password FROM account WHERE username = 'bob'") == '$argon2id$'* ]] ||
	    fail "the password is not stored as argon2id"
	before=$(db_dump)
	expect_exit 1 orch user passwd bob <<<"short"
	expect_stderr_line "^orchestra: invalid password: must be 8 to 1024 characters$"
	expect_exit 1 orch user passwd bob </dev/null
	expect_stderr_line "^orchestra: no password on standard input$"
	expect_exit 1 orch user passwd nobody <<<"long enough password"
	expect_stderr_line "^orchestra: no user 'nobody'$"
	expect_exit 2 orch user passwd bob extra
	[ "$(db_dump)" = "$before" ] || fail "a refused passwd changed the database"
}
test_case "passwd reads stdin and stores argon2id only" passwd

usage() {
	expect_exit 2 orch user token bob --expires soon
	expect_stderr_usage "--expires"
	expect_exit 1 orch user token nobody
	expect_stderr_line "^orchestra: no user 'nobody'$"
	expect_exit 1 orch user tokens nobody
}
test_case "refusals and usage errors" usage
