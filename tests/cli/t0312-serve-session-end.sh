#!/bin/bash
# t0312-serve-session-end.sh - a dashboard session is no more than what
# it was signed in with: one made from a token ends when the token is
# revoked (by the command line, or by hand in SQL) or expires; a password
# change ends the password's sessions but not those made from tokens;
# `user revoke NAME --all` (locally, or through ORCHESTRA_URL by an
# admin or the user) revokes every token and ends every session.  Open
# event streams of what ended are closed within a second.  And the
# limiter of failed authentications still answers 429 once 1,100
# addresses have filled its table.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
orch user add bob >/dev/null
PW_ALICE="pw-$RANDOM-$RANDOM-alice"
PW_BOB="pw-$RANDOM-$RANDOM-bob"
PW_ALICE2="pw-$RANDOM-$RANDOM-alice-2"
orch user passwd alice <<<"$PW_ALICE" >/dev/null
orch user passwd bob <<<"$PW_BOB" >/dev/null
T1=$(orch user token alice 2>/dev/null)
T2=$(orch user token alice 2>/dev/null)
TB=$(orch user token bob 2>/dev/null)
ADMIN=$(orch user token tester 2>/dev/null)
serve_start

# Requests expected to be refused come each from an address of its own,
# so that the per-address limiter never mixes in.
NREFUSED=0
refused_from() {
	NREFUSED=$((NREFUSED + 1))
	echo "127.0.4.$NREFUSED"
}

# Sign in with BODY: the cookie in $COOKIE.
sign_in() { # BODY
	api POST /api/v1/session --body "$1" --headers "$TMP/h"
	[ "$STATUS" = 200 ] || fail "sign-in: $STATUS $(cat "$OUT")"
	COOKIE=$(sed -n 's/^Set-Cookie: orchestra_session=\([^;]*\);.*/\1/p' "$TMP/h")
}

# GET /api/v1/me with the cookie C is answered STATUS (and, when given,
# its error holds TEXT).
me_by_cookie() { # C STATUS [TEXT]
	if [ "$2" = 200 ]; then
		api GET /api/v1/me --cookie "$1"
	else
		api GET /api/v1/me --cookie "$1" --source "$(refused_from)"
	fi
	[ "$STATUS" = "$2" ] || fail "GET /me by cookie: $STATUS, expected $2: $(cat "$OUT")"
	[ $# -lt 3 ] || api_json "'$3' in d['error']"
}
me_by_token() { # T STATUS
	if [ "$2" = 200 ]; then
		api GET /api/v1/me --token "$1"
	else
		api GET /api/v1/me --token "$1" --source "$(refused_from)"
	fi
	[ "$STATUS" = "$2" ] || fail "GET /me by token: $STATUS, expected $2"
}

# The streams opened (in a test case: by it; each case begins with
# SSE_PIDS="" and ends with sse_close_all).
SSE_PIDS=""
# Open a stream in the background, its lines in FILE; wait until it is.
sse_open() { # FILE ARGS...
	local file=$1
	shift
	: >"$file"
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --timeout 120 "$@" >"$file" &
	SSE_PIDS="$SSE_PIDS $!"
	wait_until 20 grep -q '^retry: ' "$file"
}
sse_close_all() {
	local pid
	for pid in $SSE_PIDS; do
		kill "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
	SSE_PIDS=""
}
lib_at_exit sse_close_all

now_ms() {
	date +%s%3N
}
# The stream in FILE ends, at most 2 s after SINCE (ms): the hub checks
# credentials every 500 ms and feeds streams every 250 ms, so it takes
# 750 ms at most; the rest is margin for a loaded machine.  Waited on
# with a deadline; the bound only tells a periodic check from none.
ended_within_1s() { # FILE SINCE
	local took
	wait_until 10 grep -qx '# closed' "$1"
	took=$(($(now_ms) - $2))
	echo "# $(basename "$1") ended $took ms after its credential"
	[ "$took" -le 2000 ] ||
	    fail "$1 ended $took ms after its credential, expected within 1 s"
}
still_open() { # FILE
	! grep -qE '^# (closed|timeout|status)' "$1" ||
	    fail "$1 ended: $(tail -n 1 "$1")"
}
# The token of the session signed in last (empty: a password's).
token_id() {
	db_query "SELECT token_id FROM session ORDER BY id DESC LIMIT 1"
}
# The number of NAME's tokens not revoked, and of NAME's sessions.
live_tokens() { # NAME
	db_query "SELECT count(*) FROM token k JOIN account a
	    ON a.id = k.account_id WHERE a.username = '$1'
	    AND k.revoked_ms IS NULL"
}
sessions_of() { # NAME
	db_query "SELECT count(*) FROM session s JOIN account a
	    ON a.id = s.account_id WHERE a.username = '$1'"
}

# A session of alice's from her token T2, and its stream, outlive the
# first cases (each case runs in a subshell of its own).
sign_in "{\"token\": \"$T2\"}"
C2=$COOKIE
sse_open "$TMP/s3" --cookie "$C2"

token_revoked() {
	local id1 id3 t3 start
	SSE_PIDS=""
	sign_in "{\"token\": \"$T1\"}"
	C1=$COOKIE
	id1=$(token_id)
	[ -n "$id1" ] || fail "the session does not record its token"
	sign_in "{\"username\": \"alice\", \"password\": \"$PW_ALICE\"}"
	[ -z "$(token_id)" ] || fail "a password's session records a token"
	sse_open "$TMP/s1" --cookie "$C1"
	sse_open "$TMP/s2" --token "$T1"
	start=$(now_ms)
	orch user revoke alice "$id1" >/dev/null
	ended_within_1s "$TMP/s1" "$start"
	ended_within_1s "$TMP/s2" "$start"
	me_by_cookie "$C1" 401
	[ "$(db_query "SELECT count(*) FROM session WHERE token_id = $id1")" = 0 ] ||
	    fail "the revoked token's sessions are still stored"
	# The session of another token of the same user goes on.
	me_by_cookie "$C2" 200
	still_open "$TMP/s3"

	# Revoked by hand, in SQL: read at each use, through the session.
	t3=$(orch user token alice 2>/dev/null)
	sign_in "{\"token\": \"$t3\"}"
	id3=$(token_id)
	me_by_cookie "$COOKIE" 200
	db_query "UPDATE token SET revoked_ms = $(now_ms) WHERE id = $id3"
	me_by_cookie "$COOKIE" 401 "token $id3, which this session was signed in with, is revoked"
	sse_close_all
}
test_case "revoking a token ends its sessions and their streams within 1 s" \
    token_revoked

token_expired() {
	local t4 id4 c4 expires
	SSE_PIDS=""
	t4=$(orch user token alice --expires 4s 2>/dev/null)
	sign_in "{\"token\": \"$t4\"}"
	c4=$COOKIE
	id4=$(token_id)
	me_by_cookie "$c4" 200
	sse_open "$TMP/s4" --cookie "$c4"
	expires=$(db_query "SELECT expires_ms FROM token WHERE id = $id4")
	wait_until 20 grep -qx '# closed' "$TMP/s4"
	ended_within_1s "$TMP/s4" "$expires"
	me_by_cookie "$c4" 401 "token $id4, which this session was signed in with, has expired"
	sse_close_all
}
test_case "a token's expiry ends its sessions and their streams" token_expired

passwd() {
	local p1 pb start
	SSE_PIDS=""
	sign_in "{\"username\": \"alice\", \"password\": \"$PW_ALICE\"}"
	p1=$COOKIE
	sign_in "{\"username\": \"bob\", \"password\": \"$PW_BOB\"}"
	pb=$COOKIE
	sse_open "$TMP/s5" --cookie "$p1"
	# From the change's commit, at the command's end: hashing the new
	# password comes before it, and takes seconds on a loaded machine.
	orch user passwd alice <<<"$PW_ALICE2" >/dev/null
	start=$(now_ms)
	ended_within_1s "$TMP/s5" "$start"
	me_by_cookie "$p1" 401
	[ "$(db_query "SELECT count(*) FROM session s JOIN account a
	    ON a.id = s.account_id WHERE a.username = 'alice'
	    AND s.token_id IS NULL")" = 0 ] ||
	    fail "alice's password sessions are still stored"
	# A session made from a token stays, and so does its stream; and
	# another user's password session.
	me_by_cookie "$C2" 200
	still_open "$TMP/s3"
	me_by_cookie "$pb" 200
	sign_in "{\"username\": \"alice\", \"password\": \"$PW_ALICE2\"}"
	me_by_cookie "$COOKIE" 200
	sse_close_all
}
test_case "a password change ends the password's sessions, not a token's" \
    passwd

revoke_all() {
	local p2 pb cb start ntokens nsessions
	SSE_PIDS=""
	sign_in "{\"username\": \"alice\", \"password\": \"$PW_ALICE2\"}"
	p2=$COOKIE
	sign_in "{\"username\": \"bob\", \"password\": \"$PW_BOB\"}"
	pb=$COOKIE
	sign_in "{\"token\": \"$TB\"}"
	cb=$COOKIE
	sse_open "$TMP/s6" --cookie "$p2"
	sse_open "$TMP/s7" --token "$T2"
	sse_open "$TMP/s8" --cookie "$pb"
	ntokens=$(live_tokens alice)
	nsessions=$(sessions_of alice)
	[ "$ntokens" -ge 1 ] && [ "$nsessions" -ge 2 ] ||
	    fail "nothing to revoke: $ntokens tokens, $nsessions sessions"
	start=$(now_ms)
	expect_exit 0 orch user revoke alice --all --json
	json_check "d == {'username': 'alice', 'tokens_revoked': $ntokens,
	    'sessions_ended': $nsessions}"
	ended_within_1s "$TMP/s3" "$start"
	ended_within_1s "$TMP/s6" "$start"
	ended_within_1s "$TMP/s7" "$start"
	me_by_cookie "$p2" 401
	me_by_cookie "$C2" 401
	me_by_token "$T2" 401
	[ "$(live_tokens alice)" = 0 ] || fail "a token of alice's is left"
	[ "$(sessions_of alice)" = 0 ] || fail "a session of alice's is left"
	# Bob is untouched.
	me_by_cookie "$pb" 200
	me_by_cookie "$cb" 200
	me_by_token "$TB" 200
	still_open "$TMP/s8"
	# Again: nothing left to revoke is no error.
	expect_exit 0 orch user revoke alice --all
	expect_stdout_contains "revoked 0 tokens of user 'alice'; ended 0 sessions"
	expect_exit 1 orch user revoke nobody --all
	expect_stderr_line "^orchestra: no user 'nobody'$"
	sse_close_all
}
test_case "user revoke NAME --all ends every token and session of NAME" \
    revoke_all

remote_revoke_all() {
	local t5 start n
	SSE_PIDS=""
	t5=$(orch user token alice 2>/dev/null)
	sign_in "{\"username\": \"bob\", \"password\": \"$PW_BOB\"}"
	sse_open "$TMP/s9" --cookie "$COOKIE"
	# Not for another user, unless an admin.
	expect_exit 1 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$t5" \
	    "$ORCHESTRA_BIN" user revoke bob --all
	expect_stderr_line "^orchestra: user 'alice' is not an admin$"
	me_by_token "$TB" 200
	still_open "$TMP/s9"
	[ "$(live_tokens bob)" = 1 ] || fail "bob has not one token"
	n=$(sessions_of bob)
	start=$(now_ms)
	expect_exit 0 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$ADMIN" \
	    "$ORCHESTRA_BIN" user revoke bob --all
	expect_stdout_contains "revoked 1 token of user 'bob'; ended $n sessions"
	ended_within_1s "$TMP/s9" "$start"
	me_by_token "$TB" 401
	me_by_cookie "$COOKIE" 401
	# The user themself, with the very token that is revoked.
	expect_exit 0 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$t5" \
	    "$ORCHESTRA_BIN" user revoke alice --all --json
	json_check "d == {'username': 'alice', 'tokens_revoked': 1,
	    'sessions_ended': 0}"
	me_by_token "$t5" 401
	me_by_token "$ADMIN" 200
	sse_close_all
}
test_case "user revoke NAME --all through ORCHESTRA_URL" remote_revoke_all

# 1,100 addresses fail a few times each (keeping their slots 24 s: a
# failure decays in 6 s), more than the limiter's table holds (1,024);
# then an address never seen before is refused at its first attempt:
# it shares the count of the addresses that found no slot.
limiter_full() {
	python3 - "${API#http://}" <<'PY'
import http.client, sys, time
host, port = sys.argv[1].rsplit(":", 1)

def attempts(src, n):
    c = http.client.HTTPConnection(host, int(port), timeout=30,
                                   source_address=(src, 0))
    got = []
    for _ in range(n):
        c.request("GET", "/api/v1/me",
                  headers={"Authorization": "Bearer orc_nope"})
        r = c.getresponse()
        r.read()
        got.append(r.status)
    c.close()
    return got

start = time.monotonic()
for i in range(1100):
    got = attempts("127.0.%d.%d" % (10 + i // 250, i % 250 + 1), 4)
    assert set(got) <= {401, 429}, (i, got)
    assert i >= 1000 or got == [401] * 4, (i, got)
took = time.monotonic() - start
print("# filled in %.1f s" % took)
assert took < 20, "too slow to fill the table in its 24 s: %.1f s" % took
got = attempts("127.0.20.1", 1)
assert got == [429], got
PY
}
test_case "the limiter answers 429 with its table full" limiter_full

sse_close_all
serve_stop
no_secrets() {
	local s
	for s in "$T1" "$T2" "$TB" "$ADMIN" "$PW_ALICE" "$PW_ALICE2" "$PW_BOB"; do
		! grep -qF -- "$s" "$SERVE_LOG" || fail "a secret is in the log"
	done
}
test_case "no token or password in the server's log" no_secrets
