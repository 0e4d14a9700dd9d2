#!/bin/bash
# t0304-serve-api.sh - what the API does, beyond who may: keyset pages of
# tasks and jobs that neither skip nor repeat, a submit with the command
# line's validation and result, why a job waits, a node's slots changed
# through the API as the database sees them, and HTTPS with
# --tls-cert/--tls-key.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
mkdir -p "$TMP/in"
for i in 0 1 2 3 4; do
	echo "$i" >"$TMP/in/f$i"
done
for t in p1 p2 p3 p4 p5; do
	orch task submit "$t" --exec 'cat %IN' --inputs "$TMP/in" >/dev/null
done
TOKEN=$(orch user token tester 2>/dev/null)
serve_start

# All pages of LIST-PATH (KEY: the array), following next_after.
pages() { # PATH KEY FIELD LIMIT
	local after="" sep="?" all=""
	case $1 in *\?*) sep="&" ;; esac
	while :; do
		api GET "$1${sep}limit=$4${after:+&after=$after}" --token "$TOKEN"
		[ "$STATUS" = 200 ] || fail "GET $1: $STATUS"
		all="$all $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(str(x[sys.argv[3]]) for x in d[sys.argv[2]]))' "$OUT" "$2" "$3")"
		after=$(python3 -c 'import json,sys; n=json.load(open(sys.argv[1]))["next_after"]; print("" if n is None else n)' "$OUT")
		[ -n "$after" ] || break
	done
	echo $all
}

keyset() {
	[ "$(pages /api/v1/tasks tasks name 2)" = "p1 p2 p3 p4 p5" ] ||
	    fail "task pages: $(pages /api/v1/tasks tasks name 2)"
	[ "$(pages '/api/v1/tasks?user=tester&status=registered' tasks name 3)" = \
	    "p1 p2 p3 p4 p5" ] || fail "filtered task pages"
	[ "$(pages /api/v1/tasks/tester/p3/jobs jobs index 2)" = "0 1 2 3 4" ] ||
	    fail "job pages: $(pages /api/v1/tasks/tester/p3/jobs jobs index 2)"
	api GET '/api/v1/tasks?status=done' --token "$TOKEN"
	api_json 'd == {"tasks": [], "next_after": None}'
}
test_case "keyset pages of tasks and jobs neither skip nor repeat" keyset

job_show() {
	api GET /api/v1/tasks/tester/p3/jobs/2 --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "job show: $STATUS"
	api_json 'd["index"] == 2 and d["status"] == "registered" and d["why"]'
	expect_exit 0 orch task show p3 --json
	cp "$OUT" "$TMP/cli.json"
	api GET /api/v1/tasks/tester/p3/jobs/2 --token "$TOKEN"
	python3 - "$OUT" "$TMP/cli.json" <<'PY' || fail "the job differs from task show's"
import json, sys
api, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert api == [j for j in cli["job_list"] if j["index"] == 2][0], api
PY
	api GET /api/v1/tasks/tester/p3/jobs/5 --token "$TOKEN"
	[ "$STATUS" = 404 ] || fail "a job past the last: $STATUS"
	api GET /api/v1/tasks/tester/p3/jobs/x --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "a bad index: $STATUS"
}
test_case "one job by its index, as task show gives it" job_show

why() {
	api GET /api/v1/tasks/tester/p1 --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "show: $STATUS"
	expect_exit 0 orch task show p1 --json
	cp "$OUT" "$TMP/cli.json"
	api GET /api/v1/tasks/tester/p1 --token "$TOKEN"
	python3 - "$OUT" "$TMP/cli.json" <<'PY' || fail "API and CLI disagree"
import json, sys
api, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert api["counts"] == cli["counts"], (api["counts"], cli["counts"])
assert api["why"] and api["why"] == cli["job_list"][0]["why"], api
for k in ("id", "full_name", "status", "command", "jobs", "output"):
    assert api[k] == cli[k], k
PY
	api GET /api/v1/tasks/tester/p1/jobs --token "$TOKEN"
	api_json 'all(j["why"] for j in d["jobs"])'
}
test_case "a task and its jobs say why they wait, as task show does" why

submit() {
	local before
	# Inputs are read as the submitter's Unix account (tester: root,
	# who ran init; t0306 reads as other accounts).
	api POST /api/v1/tasks --token "$TOKEN" --body \
	    "{\"name\": \"web\", \"command\": \"cat %IN > %OUT/%JOB\", \"inputs\": \"$TMP/in\", \"skip_test\": true, \"timeout\": \"1h\"}"
	[ "$STATUS" = 201 ] || fail "submit: $STATUS $(cat "$OUT")"
	api_json 'd["full_name"] == "user.tester.web" and d["jobs"] == 5 and
	    d["skip_test"] and d["timeout_ms"] == 3600000'
	[ -d "$ORCHESTRA_HOME/volume/tester/web" ] || fail "no output directory"
	before=$(db_dump)
	api POST /api/v1/tasks --token "$TOKEN" --body \
	    '{"name": "web", "command": "true"}'
	[ "$STATUS" = 409 ] || fail "a taken name: $STATUS"
	api POST /api/v1/tasks --token "$TOKEN" --body \
	    '{"name": "w2", "command": "echo %IN"}'
	[ "$STATUS" = 400 ] || fail "%IN without inputs: $STATUS"
	cp "$OUT" "$TMP/api.json"
	expect_exit 1 orch task submit w2 --exec 'echo %IN'
	python3 -c 'import json, sys
msg = json.load(open(sys.argv[1]))["error"]
assert "orchestra: " + msg + "\n" == open(sys.argv[2]).read(), msg' \
	    "$TMP/api.json" "$ERR" ||
	    fail "the API and the command line say different things"
	api POST /api/v1/tasks --token "$TOKEN" --body \
	    '{"name": "w3", "command": "true", "queue": "nope"}'
	[ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || fail "unknown queue: $STATUS"
	[ "$(db_dump)" = "$before" ] || fail "a refused submit changed the database"
}
test_case "a submit validates as the command line does" submit

slots() {
	api PATCH "/api/v1/nodes/$NODE" --token "$TOKEN" --body \
	    '{"max_cpu_slots": 12, "cpu_slots": 7}'
	[ "$STATUS" = 200 ] || fail "PATCH: $STATUS $(cat "$OUT")"
	api_json 'd["cpu_slots"] == 7 and d["max_cpu_slots"] == 12'
	[ "$(db_query "SELECT cpu_slots, max_cpu_slots FROM node")" = "7|12" ] ||
	    fail "the database has other slots"
	api POST "/api/v1/nodes/$NODE/drain" --token "$TOKEN"
	[ "$(db_query "SELECT enabled FROM node")" = 0 ] || fail "not drained"
	api GET /api/v1/nodes --token "$TOKEN"
	api_json 'd["nodes"][0]["enabled"] is False'
	api POST "/api/v1/nodes/$NODE/resume" --token "$TOKEN"
	[ "$(db_query "SELECT enabled FROM node")" = 1 ] || fail "not resumed"
}
test_case "a node's slots, drain and resume change the database" slots

kill_delete() {
	api POST /api/v1/tasks/tester/p5/kill --token "$TOKEN"
	[ "$STATUS" = 202 ] || fail "kill: $STATUS"
	api_json 'd["signal"] == "kill"'
	api POST /api/v1/tasks/tester/p5/kill --token "$TOKEN"
	[ "$STATUS" = 409 ] || fail "a second kill: $STATUS"
	api_json '"already has a pending signal" in d["error"]'
}
test_case "kill leaves its signal once" kill_delete

metrics() {
	api GET /metrics
	[ "$STATUS" = 401 ] || fail "/metrics without a token: $STATUS"
	api GET /metrics --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "/metrics: $STATUS $(cat "$OUT")"
	# The database's measures, then the server's own counters (the
	# route's pattern, never the path).
	grep -q '^orchestra_jobs{' "$OUT" || fail "no orchestra_jobs"
	grep -q '^orchestra_http_requests_total{method="POST",route="/api/v1/tasks/\*/\*/kill",code="202"} 1$' \
	    "$OUT" || fail "the kill is not counted: $(grep http_requests "$OUT")"
	grep -q '^orchestra_http_auth_failures_total ' "$OUT" ||
	    fail "no auth failures counter"
	grep -q '^orchestra_http_database_errors_total 0$' "$OUT" ||
	    fail "no database errors counter"
	! grep -q 'p5' "$OUT" || fail "a task's name is a label"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$OUT" >"$TMP/promtool.out" 2>&1 ||
		    fail "promtool: $(cat "$TMP/promtool.out")"
		[ ! -s "$TMP/promtool.out" ] ||
		    fail "promtool remarks: $(cat "$TMP/promtool.out")"
	else
		fail "promtool is not installed (setup.sh --test installs prometheus)"
	fi
}
test_case "/metrics: the database's and the server's, promtool accepts it" \
    metrics

serve_stop

tls() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -addext subjectAltName=IP:127.0.0.1 -days 1 \
	    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
	expect_exit 2 orch serve --tls-cert "$TMP/cert.pem"
	expect_stderr_usage "--tls-cert and --tls-key go together"
	expect_exit 1 orch serve --listen 127.0.0.1:0 --tls-cert "$TMP/nope" \
	    --tls-key "$TMP/key.pem"
	expect_stderr_line "^orchestra: cannot read '.*/nope'"
	expect_exit 1 orch serve --listen nowhere:1
	expect_stderr_line "^orchestra: invalid listen address 'nowhere:1'"
}
test_case "TLS files and the listen address are checked" tls

serve_start --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
https() {
	python3 - "${API#http://}" "$TMP/cert.pem" "$TOKEN" <<'PY'
import http.client, json, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
c.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + sys.argv[3]})
r = c.getresponse()
d = json.loads(r.read())
assert r.status == 200 and d["username"] == "tester", (r.status, d)
PY
	STATUS=none
	api GET /healthz 2>/dev/null || :
	[ "$STATUS" != 200 ] || fail "plain HTTP answered on the TLS port"
}
test_case "with --tls-cert and --tls-key it speaks HTTPS only" https
serve_stop
