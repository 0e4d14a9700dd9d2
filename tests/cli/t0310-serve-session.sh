#!/bin/bash
# t0310-serve-session.sh - the dashboard's sign-in: a session cookie from a
# password or a token (HttpOnly, SameSite=Strict, stored only as a hash),
# used in place of a token; CSRF token and Origin demanded of every
# request that changes something (refused ones change nothing); sign-out
# and an idle session end it; repeated failed sign-ins get 429 before any
# password is hashed; the security headers on every response.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
orch user add bob >/dev/null
PASSWORD="pw-$RANDOM-$RANDOM-secret"
orch user passwd alice <<<"$PASSWORD" >/dev/null
TOKEN=$(orch user token alice 2>/dev/null)
for t in k1 k2 k3; do
	orch --user alice task submit "$t" --exec 'echo hi' >/dev/null
done
serve_start
HOSTPORT=${API#http://}

# Sign in with BODY: $COOKIE and $CSRF, the headers in $TMP/h.
sign_in() { # BODY [ARGS]
	local body=$1
	shift
	api POST /api/v1/session --body "$body" --headers "$TMP/h" "$@"
	[ "$STATUS" = 200 ] || fail "sign-in: $STATUS $(cat "$OUT")"
	COOKIE=$(sed -n 's/^Set-Cookie: orchestra_session=\([^;]*\);.*/\1/p' "$TMP/h")
	CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$OUT")
	echo "$COOKIE" >>"$TMP/secrets"
}

password() {
	sign_in "{\"username\": \"alice\", \"password\": \"$PASSWORD\"}"
	api_json 'd["user"]["username"] == "alice" and d["user"]["role"] == "user"'
	api_json 'len(d["csrf"]) == 64 and set(d["csrf"]) <= set("0123456789abcdef")'
	grep -qx "Set-Cookie: orchestra_session=$COOKIE; HttpOnly; SameSite=Strict; Path=/" \
	    "$TMP/h" || { cat "$TMP/h" >&2; fail "cookie flags"; }
	[ ${#COOKIE} = 43 ] || fail "the cookie is not 256 bits in base64url: $COOKIE"
	[ "$(db_query "SELECT count(*) FROM session s JOIN account a
	    ON a.id = s.account_id WHERE a.username = 'alice'")" = 1 ] ||
	    fail "no session row"
	! db_dump | grep -qF -- "$COOKIE" || fail "the cookie is in the database"
	! db_dump | grep -qF -- "$CSRF" || fail "the CSRF token is in the database"
}
test_case "sign in with a password: the cookie's flags, only a hash stored" \
    password

token_sign_in() {
	sign_in "{\"token\": \"$TOKEN\"}"
	api_json 'd["user"]["username"] == "alice"'
}
test_case "sign in with a token" token_sign_in

wrong() {
	local body
	for body in "{\"username\": \"alice\", \"password\": \"nope-nope\"}" \
	    "{\"username\": \"nobody\", \"password\": \"$PASSWORD\"}" \
	    "{\"username\": \"bob\", \"password\": \"$PASSWORD\"}" \
	    '{"token": "orc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'; do
		api POST /api/v1/session --body "$body" --headers "$TMP/h" \
		    --source 127.0.2.1
		[ "$STATUS" = 401 ] || fail "$body: $STATUS"
		api_json '"error" in d'
		! grep -q '^Set-Cookie' "$TMP/h" || fail "a cookie for $body"
	done
}
test_case "wrong credentials get 401 and no cookie" wrong

use_session() {
	sign_in "{\"token\": \"$TOKEN\"}"
	api GET /api/v1/me --cookie "$COOKIE"
	[ "$STATUS" = 200 ] || fail "GET /me by cookie: $STATUS"
	api_json 'd["username"] == "alice"'
	api GET /api/v1/tasks --cookie "$COOKIE"
	[ "$STATUS" = 200 ] || fail "GET /tasks by cookie: $STATUS"
	api GET /api/v1/session --cookie "$COOKIE"
	[ "$STATUS" = 200 ] || fail "GET /session: $STATUS"
	api_json "d['csrf'] == '$CSRF' and d['user']['username'] == 'alice'"
	api GET /api/v1/session --token "$TOKEN"
	[ "$STATUS" = 401 ] || fail "GET /session by token: $STATUS"
	api GET /api/v1/me --cookie AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
	    --source 127.0.2.2
	[ "$STATUS" = 401 ] || fail "an unknown cookie: $STATUS"
}
test_case "the cookie stands for a token on every GET" use_session

state() {
	local t
	for t in account node task job event token; do
		db_query "SELECT * FROM $t ORDER BY id"
	done
}

csrf() {
	local before wrong
	sign_in "{\"token\": \"$TOKEN\"}"
	before=$(state)
	api POST /api/v1/tasks/alice/k1/kill --cookie "$COOKIE"
	[ "$STATUS" = 403 ] || fail "no CSRF token: $STATUS"
	api_json '"X-CSRF-Token" in d["error"]'
	# Its last character changed (to one it is not).
	case $CSRF in
	*0) wrong=${CSRF%?}1 ;;
	*) wrong=${CSRF%?}0 ;;
	esac
	api POST /api/v1/tasks/alice/k1/kill --cookie "$COOKIE" \
	    --csrf "$wrong"
	[ "$STATUS" = 403 ] || fail "a wrong CSRF token: $STATUS"
	api POST /api/v1/tasks/alice/k1/kill --cookie "$COOKIE" --csrf "$CSRF" \
	    --origin http://evil.example.org
	[ "$STATUS" = 403 ] || fail "a foreign Origin: $STATUS"
	api_json '"Origin" in d["error"]'
	api POST /api/v1/tasks/alice/k1/kill --cookie "$COOKIE" --csrf "$CSRF" \
	    --origin "https://$HOSTPORT"
	[ "$STATUS" = 403 ] || fail "our host, but https: $STATUS"
	api POST /api/v1/tasks --cookie "$COOKIE" \
	    --body '{"name": "csrf", "command": "true"}'
	[ "$STATUS" = 403 ] || fail "a submit without CSRF: $STATUS"
	api PATCH /api/v1/users/alice --cookie "$COOKIE" \
	    --body '{"email": "x@example.org"}'
	[ "$STATUS" = 403 ] || fail "a PATCH without CSRF: $STATUS"
	api DELETE /api/v1/tasks/alice/k3 --cookie "$COOKIE"
	[ "$STATUS" = 403 ] || fail "a DELETE without CSRF: $STATUS"
	[ "$(state)" = "$before" ] || fail "a refused request changed the database"
	# With both, as the dashboard sends them, it is done.
	api POST /api/v1/tasks/alice/k1/kill --cookie "$COOKIE" --csrf "$CSRF" \
	    --origin "http://$HOSTPORT"
	[ "$STATUS" = 202 ] || fail "kill with CSRF and our Origin: $STATUS"
	api POST /api/v1/tasks/alice/k2/kill --cookie "$COOKIE" --csrf "$CSRF"
	[ "$STATUS" = 202 ] || fail "kill with CSRF, no Origin: $STATUS"
	[ "$(db_query "SELECT name FROM task WHERE signal = 'kill' ORDER BY name")" = "k1
k2" ] || fail "the kills did not happen"
	# A token needs no CSRF token: a browser never sends one by itself.
	api POST /api/v1/tasks/alice/k3/kill --token "$TOKEN"
	[ "$STATUS" = 202 ] || fail "kill by token: $STATUS"
	# Nor may another site sign a browser in.
	api POST /api/v1/session --body "{\"token\": \"$TOKEN\"}" \
	    --origin http://evil.example.org
	[ "$STATUS" = 403 ] || fail "a sign-in from another site: $STATUS"
}
test_case "with the cookie, a change needs the CSRF token and our Origin" csrf

sign_out() {
	local other
	sign_in "{\"token\": \"$TOKEN\"}"
	other=$COOKIE
	sign_in "{\"token\": \"$TOKEN\"}"
	api DELETE /api/v1/session --cookie "$COOKIE"
	[ "$STATUS" = 403 ] || fail "sign-out without CSRF: $STATUS"
	api GET /api/v1/me --cookie "$COOKIE"
	[ "$STATUS" = 200 ] || fail "the session ended without CSRF: $STATUS"
	api DELETE /api/v1/session --cookie "$COOKIE" --csrf "$CSRF" \
	    --headers "$TMP/h"
	[ "$STATUS" = 200 ] || fail "sign-out: $STATUS"
	grep -q '^Set-Cookie: orchestra_session=; .*Max-Age=0' "$TMP/h" ||
	    fail "sign-out does not clear the cookie"
	api GET /api/v1/me --cookie "$COOKIE" --source 127.0.2.3
	[ "$STATUS" = 401 ] || fail "a signed-out cookie: $STATUS"
	api_json '"signed out" in d["error"]'
	api GET /api/v1/me --cookie "$other"
	[ "$STATUS" = 200 ] || fail "signing out ended another session: $STATUS"
}
test_case "signing out ends the session, and only it" sign_out

throttle() {
	local i
	# 10 in a burst, less what decayed meanwhile (one every 6 s; each
	# wrong password takes an argon2id verification).
	for i in $(seq 1 30); do
		api POST /api/v1/session --source 127.0.3.1 \
		    --body '{"username": "alice", "password": "wrong-wrong"}'
		[ "$STATUS" = 401 ] || break
	done
	[ "$STATUS" = 429 ] || fail "still $STATUS after $i failures, expected 429"
	[ "$i" -gt 10 ] || fail "429 after only $((i - 1)) failures"
	# The right password from there: refused before it is hashed (a 200
	# would mean it had been checked).
	api POST /api/v1/session --source 127.0.3.1 \
	    --body "{\"username\": \"alice\", \"password\": \"$PASSWORD\"}"
	[ "$STATUS" = 429 ] || fail "the right password from there: $STATUS"
	api_json '"too many failed authentications" in d["error"]'
	api POST /api/v1/session --source 127.0.3.2 \
	    --body "{\"username\": \"alice\", \"password\": \"$PASSWORD\"}"
	[ "$STATUS" = 200 ] || fail "another address: $STATUS"
}
test_case "repeated failed sign-ins get 429, before any hashing" throttle

headers() {
	local path
	for path in /healthz /api/v1/nope /api/v1/me; do
		api GET "$path" --headers "$TMP/h"
		grep -qx "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" "$TMP/h" ||
		    fail "$path: no CSP"
		grep -qx 'X-Frame-Options: DENY' "$TMP/h" || fail "$path: framing"
		grep -qx 'Referrer-Policy: no-referrer' "$TMP/h" ||
		    fail "$path: referrer"
		grep -qx 'X-Content-Type-Options: nosniff' "$TMP/h" ||
		    fail "$path: nosniff"
	done
}
test_case "every response carries the security headers" headers

serve_stop
cp "$SERVE_LOG" "$TMP/serve-1.log"

# An idle session ends: a server whose sessions end after 60 s idle.  The
# session is made idle by moving its last use back in the database, not
# by waiting: a loaded machine can take seconds between two requests.
serve_start --session-idle 60s
expired() {
	db_query "DELETE FROM session" >/dev/null
	sign_in "{\"token\": \"$TOKEN\"}"
	api GET /api/v1/me --cookie "$COOKIE"
	[ "$STATUS" = 200 ] || fail "a fresh session: $STATUS"
	db_query "UPDATE session SET last_used_ms = last_used_ms - 61000" \
	    >/dev/null
	api GET /api/v1/me --cookie "$COOKIE" --source 127.0.2.4
	[ "$STATUS" = 401 ] || fail "an idle session: $STATUS"
	api_json '"expired" in d["error"]'
}
test_case "a session idle too long is refused" expired
serve_stop

# Over TLS the cookie is Secure, and our origin is https://.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -days 1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
cp "$SERVE_LOG" "$TMP/serve-2.log"
serve_start --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
tls() {
	python3 - "${API#http://}" "$TMP/cert.pem" "$TOKEN" <<'PY'
import http.client, json, ssl, sys
hostport, cafile, token = sys.argv[1:4]
host, port = hostport.rsplit(":", 1)
ctx = ssl.create_default_context(cafile=cafile)

def ask(method, path, body=None, headers={}):
    c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data

r, data = ask("POST", "/api/v1/session", json.dumps({"token": token}))
assert r.status == 200, (r.status, data)
cookie = r.getheader("Set-Cookie")
assert cookie.endswith("; HttpOnly; SameSite=Strict; Path=/; Secure"), cookie
h = {"Cookie": cookie.split(";")[0], "X-CSRF-Token": json.loads(data)["csrf"]}
r, data = ask("POST", "/api/v1/tasks/alice/k1/retry",
              headers=dict(h, Origin="http://" + hostport))
assert r.status == 403 and b"cross-site" in data, (r.status, data)
# Past the CSRF and Origin checks: the task's state refuses a retry.
r, data = ask("POST", "/api/v1/tasks/alice/k1/retry",
              headers=dict(h, Origin="https://" + hostport))
assert r.status == 409, (r.status, data)
PY
}
test_case "over TLS the cookie is Secure and our origin is https" tls
serve_stop

no_secrets() {
	local s
	db_dump >"$TMP/dump"
	for s in "$TOKEN" "$PASSWORD" $(cat "$TMP/secrets"); do
		! grep -qF -- "$s" "$TMP/serve-1.log" "$TMP/serve-2.log" \
		    "$SERVE_LOG" ||
		    fail "a secret is in the server's log"
		! grep -qF -- "${s#orc_}" "$TMP/dump" ||
		    fail "a secret is in the database"
	done
}
test_case "no cookie, token or password in the log or the database" no_secrets
