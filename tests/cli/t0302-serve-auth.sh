#!/bin/bash
# t0302-serve-auth.sh - `orchestra serve`'s authorization matrix: every
# endpoint as {no token, a bad token, an expired one, a revoked one,
# another user, the owner, an admin} gets exactly its status (any other,
# a success above all, fails); revoking works at once; an address that
# failed too often gets 429; no token or password is ever in the
# server's log or the database.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
SLOTS=$(db_query "SELECT cpu_slots FROM node")
orch user add alice --unix-user "$ME" >/dev/null
orch user add bob --unix-user "$ME" >/dev/null

# A job that ran, for its log: run it before the other tasks exist, so
# that the pilot leaves them as they are submitted.
orch --user alice task submit ran --exec 'echo hello-from-ran' >/dev/null
pilot_start
ran_done() {
	[ "$(db_value "SELECT status FROM task WHERE name = 'ran'")" = done ]
}
wait_until 60 ran_done
pilot_stop
for t in a1 k-owner k-admin; do
	orch --user alice task submit "$t" --exec 'echo hi' >/dev/null
done

token() { # USER [ARGS]
	orch user token "$@" 2>/dev/null
}
export TOKEN_admin TOKEN_owner TOKEN_other TOKEN_revoked TOKEN_expired \
    TOKEN_bad
TOKEN_admin=$(token tester)
TOKEN_owner=$(token alice)
TOKEN_other=$(token bob)
TOKEN_revoked=$(token alice)
orch user revoke alice "$(db_query "SELECT max(id) FROM token")" >/dev/null
TOKEN_expired=$(token alice --expires 1)
# Well formed, never issued.
TOKEN_bad=orc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
token alice >/dev/null
VICTIM=$(db_query "SELECT max(id) FROM token")
PASSWORD="pw-$RANDOM-$RANDOM-secret"
orch user passwd alice <<<"$PASSWORD" >/dev/null

serve_start

expired() {
	api GET /api/v1/me --token "$TOKEN_expired" --source 127.0.9.1
	[ "$STATUS" = 401 ]
}
wait_until 10 expired

# Expected statuses, in the order: none bad expired revoked other owner
# admin.
row() { # METHOD PATH BODY STATUS...
	local m=$1 p=$2 b=$3 who i=0
	shift 3
	for who in none bad expired revoked other owner admin; do
		i=$((i + 1))
		echo "$m | $p | $who | ${!i} | $b"
	done
}
DENY="401 401 401 401"
{
	row GET /healthz "" 200 200 200 200 200 200 200
	row GET /readyz "" 200 200 200 200 200 200 200
	row GET /metrics "" $DENY 200 200 200
	row GET /api/v1/me "" $DENY 200 200 200
	# Signing in needs no token (the body is the credential); the
	# session's own routes need a session cookie, which no token is.
	row POST /api/v1/session '{"username": "alice", "password": "no-{who}"}' \
	    401 401 401 401 401 401 401
	row POST /api/v1/session "{\"username\": \"alice\", \"password\": \"$PASSWORD\"}" \
	    200 200 200 200 200 200 200
	row GET /api/v1/session "" $DENY 401 401 401
	row DELETE /api/v1/session "" $DENY 401 401 401
	row GET /api/v1/me/tokens "" $DENY 200 200 200
	row POST /api/v1/me/tokens '{"expires": "1h"}' $DENY 201 201 201
	row DELETE "/api/v1/me/tokens/$VICTIM" "" $DENY 404 200 404
	row GET /api/v1/users "" $DENY 403 403 200
	row POST /api/v1/users '{"username": "new-{who}"}' $DENY 403 403 201
	row GET /api/v1/users/alice "" $DENY 403 200 200
	row PATCH /api/v1/users/alice '{"email": "a@lab.example.org"}' \
	    $DENY 403 403 200
	row GET /api/v1/tasks "" $DENY 200 200 200
	row GET '/api/v1/tasks?user=alice&status=registered&limit=1' "" \
	    $DENY 200 200 200
	row POST /api/v1/tasks '{"name": "s-{who}", "command": "true"}' \
	    $DENY 201 201 201
	row GET /api/v1/tasks/alice/a1 "" $DENY 200 200 200
	row GET /api/v1/tasks/alice/a1/jobs "" $DENY 200 200 200
	row GET /api/v1/tasks/alice/a1/jobs/0 "" $DENY 200 200 200
	row GET /api/v1/tasks/alice/ran/jobs/0/log "" $DENY 403 200 200
	row POST '/api/v1/tasks/alice/k-{who}/kill' "" $DENY 403 202 202
	row POST /api/v1/tasks/alice/a1/retry "" $DENY 403 409 409
	row DELETE /api/v1/tasks/alice/a1 "" $DENY 403 409 409
	row GET /api/v1/queue "" $DENY 200 200 200
	row GET '/api/v1/queue?queue=default&user=alice' "" $DENY 200 200 200
	row GET /api/v1/usage "" $DENY 200 200 200
	row GET '/api/v1/usage?since=0&user=alice' "" $DENY 400 400 400
	row GET '/api/v1/usage?user=alice' "" $DENY 200 200 200
	row GET /api/v1/nodes "" $DENY 200 200 200
	row PATCH "/api/v1/nodes/$NODE" "{\"cpu_slots\": $SLOTS}" \
	    $DENY 403 403 200
	row POST "/api/v1/nodes/$NODE/drain" "" $DENY 403 403 200
	row POST "/api/v1/nodes/$NODE/resume" "" $DENY 403 403 200
} >"$TMP/matrix"

matrix() {
	api_table "$TMP/matrix" 127.0.1 >"$TMP/matrix.out" ||
	    { cat "$TMP/matrix.out" >&2; fail "unexpected statuses"; }
	# What was allowed happened; what was refused changed nothing.
	[ "$(db_query "SELECT name, signal FROM task WHERE signal IS NOT NULL ORDER BY name")" = \
	    "k-admin|kill
k-owner|kill" ] || fail "kill signals are not exactly the allowed ones"
	[ "$(db_query "SELECT username FROM account WHERE username LIKE 'new-%'")" = new-admin ] ||
	    fail "users were added by others than the admin"
	[ "$(db_query "SELECT t.name FROM task t JOIN account a ON a.id = t.account_id
	    WHERE t.name LIKE 's-%' ORDER BY 1")" = "s-admin
s-other
s-owner" ] || fail "submits are not exactly the allowed ones"
	[ "$(db_query "SELECT count(*) FROM task t JOIN account a ON a.id = t.account_id
	    WHERE t.name = 's-other' AND a.username = 'bob'")" = 1 ] ||
	    fail "a submit did not act as the token's user"
	[ "$(db_query "SELECT count(*) FROM token WHERE id = $VICTIM AND revoked_ms IS NOT NULL")" = 1 ] ||
	    fail "the owner could not revoke her token"
	[ "$(db_query "SELECT enabled FROM node")" = 1 ] || fail "node left drained"
}
test_case "every endpoint gives each identity exactly its status" matrix

# The event stream never ends by itself, so not in the table: a refusal
# is its status, a success its first line.
events() {
	local who want v i=0
	local -a t
	for who in none bad expired revoked other owner admin; do
		i=$((i + 1))
		case $who in
		none) t=() ;;
		*) v=TOKEN_$who; t=(--token "${!v}") ;;
		esac
		python3 "$SRCDIR/tests/cli/sse.py" "$API" "${t[@]}" \
		    --source "127.0.8.$i" --timeout 20 --until 'retry:' \
		    >"$TMP/events.$who" || :
		case $who in
		other | owner | admin) want='# done' ;;
		*) want='# status 401' ;;
		esac
		grep -qx "$want" "$TMP/events.$who" ||
		    fail "GET /api/v1/events as $who: $(tail -n 1 "$TMP/events.$who"), expected $want"
	done
}
test_case "the event stream: 401 without a valid token, open to every user" \
    events

log_body() {
	api GET /api/v1/tasks/alice/ran/jobs/0/log --token "$TOKEN_owner"
	[ "$STATUS" = 200 ] || fail "log: $STATUS"
	grep -q hello-from-ran "$OUT" || fail "the log is not the job's output"
	api GET /api/v1/tasks/alice/ran/jobs/0/log --token "$TOKEN_other"
	[ "$STATUS" = 403 ] || fail "another user read a log: $STATUS"
	! grep -q hello-from-ran "$OUT" || fail "a refusal shows the log"
}
test_case "a job's log is its owner's and the admins'" log_body

revoke_now() {
	local t id
	t=$(token bob)
	id=$(db_query "SELECT max(id) FROM token")
	api GET /api/v1/me --token "$t" --source 127.0.4.1
	[ "$STATUS" = 200 ] || fail "a new token: $STATUS"
	api_json 'd["username"] == "bob"'
	orch user revoke bob "$id" >/dev/null
	api GET /api/v1/me --token "$t" --source 127.0.4.1
	[ "$STATUS" = 401 ] || fail "a revoked token still works: $STATUS"
	api_json "d['error'] == 'token $id is revoked'"
	# The scheme's name in any case, as HTTP says.
	api GET /api/v1/me --token "$TOKEN_other" --scheme bEaReR
	[ "$STATUS" = 200 ] || fail "'bEaReR': $STATUS"
	# Revoking one's own through the API, too.
	api POST /api/v1/me/tokens --token "$TOKEN_other" --body '{}'
	[ "$STATUS" = 201 ] || fail "POST /me/tokens: $STATUS"
	t=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$OUT")
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT")
	echo "$t" >>"$TMP/secrets"
	api DELETE "/api/v1/me/tokens/$id" --token "$t"
	[ "$STATUS" = 200 ] || fail "DELETE /me/tokens/$id: $STATUS"
	api GET /api/v1/me --token "$t" --source 127.0.4.2
	[ "$STATUS" = 401 ] || fail "a token revoked by the API still works"
}
test_case "a revoked token is refused at its next request" revoke_now

throttle() {
	local i
	# 10 failures, less what decayed meanwhile (one every 6 s): the first
	# 9 can never be refused; then keep failing until refused, however
	# slow this machine is (each failure counts more than 6 s of decay
	# would take back, unless a request took longer than that).
	for i in 1 2 3 4 5 6 7 8 9; do
		api GET /api/v1/me --token "$TOKEN_bad" --source 127.0.5.1
		[ "$STATUS" = 401 ] || fail "bad token $i: $STATUS"
	done
	for i in $(seq 10 60); do
		api GET /api/v1/me --token "$TOKEN_bad" --source 127.0.5.1
		[ "$STATUS" = 401 ] || break
	done
	[ "$STATUS" = 429 ] || fail "still $STATUS after $i failures, expected 429"
	api GET /api/v1/me --token "$TOKEN_admin" --source 127.0.5.1
	[ "$STATUS" = 429 ] || fail "a good token from there: $STATUS, expected 429"
	api_json '"too many failed authentications" in d["error"]'
	api GET /api/v1/me --token "$TOKEN_admin" --source 127.0.5.2
	[ "$STATUS" = 200 ] || fail "another address is throttled too: $STATUS"
	api GET /healthz --source 127.0.5.1
	[ "$STATUS" = 200 ] || fail "/healthz is throttled: $STATUS"
}
test_case "repeated failed authentications from one address get 429" throttle

last_used() {
	expect_exit 0 orch user tokens alice --json
	json_check 'd[0]["last_used"] is not None'
}
test_case "tokens note when they were last used" last_used

serve_stop

no_secrets() {
	local s
	db_dump >"$TMP/dump"
	for s in "$TOKEN_admin" "$TOKEN_owner" "$TOKEN_other" "$TOKEN_revoked" \
	    "$TOKEN_expired" "$PASSWORD" $(cat "$TMP/secrets" 2>/dev/null); do
		! grep -qF -- "$s" "$SERVE_LOG" || fail "a secret is in the server's log"
		! grep -qF -- "${s#orc_}" "$TMP/dump" || fail "a secret is in the database"
	done
	grep -q 'request method=GET path=/api/v1/me status=200' "$SERVE_LOG" ||
	    fail "the server's log has no request lines (the check above would pass on an empty log)"
}
test_case "no token or password in the server's log or the database" no_secrets
