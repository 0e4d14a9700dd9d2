#!/bin/bash
# t0303-serve-bad-requests.sh - bad requests to `orchestra serve`, from a
# table: malformed JSON, wrong types, unknown fields, oversized bodies,
# cross-site requests of a signed-in browser (no CSRF token, a wrong one,
# a foreign Origin),
# too many requests at once, unknown paths and methods, and path tricks in
# log names ("..", "%2e%2e", "%2f", NUL).  Each gets its 4xx and a JSON
# message saying what is wrong, and the database is unchanged.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(db_query "SELECT name FROM node")
orch user add alice >/dev/null
orch --user alice task submit t --exec 'echo hi' >/dev/null
export TOKEN=$(orch user token tester 2>/dev/null)
serve_start
export NODE API

# Everything but when a token was last used (noted once a minute).
state() {
	local t
	for t in account node task job event; do
		db_query "SELECT * FROM $t ORDER BY id"
	done
	db_query "SELECT id, account_id, hash, created_ms, expires_ms,
	    revoked_ms FROM token ORDER BY id"
}

bad_requests() {
	local before
	api GET /api/v1/me --token "$TOKEN" # notes the token's use first
	before=$(state)
	python3 - "$TMP/cases.out" <<'PY' || { cat "$TMP/cases.out" >&2; fail "unexpected answers"; }
import http.client, json, os, sys

api = os.environ["API"].split("//")[1]
host, port = api.rsplit(":", 1)
auth = {"Authorization": "Bearer " + os.environ["TOKEN"]}
node = os.environ["NODE"]
big = '{"name": "x", "command": "' + "a" * 70000 + '"}'
log = "/api/v1/tasks/alice/t/jobs/%s/log"

# method, path, body, status, words the error message must hold
cases = [
    ("POST", "/api/v1/tasks", "{", 400, "malformed JSON"),
    ("POST", "/api/v1/tasks", "[1]", 400, "must be a JSON object"),
    ("POST", "/api/v1/tasks", '{"name": 5, "command": "x"}', 400,
     "field 'name' must be a string"),
    ("POST", "/api/v1/tasks", '{"name": "x", "command": "y", "gpu": "yes"}',
     400, "field 'gpu' must be true or false"),
    ("POST", "/api/v1/tasks",
     '{"name": "x", "command": "y", "secondary": [1]}', 400,
     "field 'secondary' must be an array of strings"),
    ("POST", "/api/v1/tasks", '{"name": "x", "command": "y", "evil": 1}',
     400, "unknown field 'evil'"),
    ("POST", "/api/v1/tasks", '{"name": "x", "name": "y", "command": "z"}',
     400, "duplicate object key"),
    ("POST", "/api/v1/tasks", '{"name": "a\\u0000b", "command": "y"}', 400,
     "malformed JSON"),
    ("POST", "/api/v1/tasks", '{"command": "y"}', 400,
     "fields 'name' and 'command' are required"),
    ("POST", "/api/v1/tasks", '{"name": "../x", "command": "y"}', 400,
     "invalid task name '../x'"),
    ("POST", "/api/v1/tasks", big, 413, "request body too large"),
    ("POST", "/api/v1/tasks", "x" * (1 << 18), 413,
     "request body too large"),
    ("PATCH", "/api/v1/nodes/" + node, '{"cpu_slots": "3"}', 400,
     "field 'cpu_slots' must be an integer"),
    ("PATCH", "/api/v1/nodes/" + node, '{"cpu_slots": 99999}', 400,
     "cpu-slots 99999 above max-cpu-slots 30"),
    ("PATCH", "/api/v1/nodes/" + node, "{}", 400, "nothing to set"),
    ("POST", "/api/v1/nodes/%s/drain" % node, '{"x": 1}', 400,
     "unknown field 'x'"),
    ("PATCH", "/api/v1/users/alice", '{"role": "root"}', 400,
     "invalid role 'root'"),
    ("PATCH", "/api/v1/users/alice", '{"username": "eve"}', 400,
     "cannot be changed"),
    ("POST", "/api/v1/me/tokens", '{"expires": "soon"}', 400, "soon"),
    ("GET", "/api/v1/tasks?limit=0", None, 400, "'limit' must be"),
    ("GET", "/api/v1/tasks?limit=abc", None, 400, "'limit' must be"),
    ("GET", "/api/v1/tasks?after=-5", None, 400, "'after' must be"),
    ("GET", "/api/v1/tasks?status=bogus", None, 400,
     "unknown task status 'bogus'"),
    ("GET", "/api/v1/tasks?user=%00", None, 400, "malformed query"),
    ("GET", "/api/v1/tasks?user=nobody", None, 404, "no user 'nobody'"),
    ("GET", "/api/v1/usage?since=soon", None, 400, "invalid time 'soon'"),
    ("GET", "/api/v1/usage?since=2026-02-30T25:00:00Z", None, 400,
     "invalid time"),
    ("GET", "/api/v1/usage?since=0", None, 400, "more than 8 days ago"),
    ("GET", "/api/v1/usage?user=nobody", None, 404, "no user 'nobody'"),
    ("GET", "/api/v1/history?since=soon", None, 400, "invalid time 'soon'"),
    ("GET", "/api/v1/history?state=over", None, 400,
     "unknown job status 'over'"),
    ("GET", "/api/v1/history?limit=0", None, 400, "'limit' must be"),
    ("GET", "/api/v1/history?limit=1001", None, 400, "'limit' must be"),
    ("GET", "/api/v1/history?after=-1", None, 400, "'after' must be"),
    ("GET", "/api/v1/history?task=%00", None, 400, "malformed query"),
    ("GET", "/api/v1/history?user=nobody", None, 404, "no user 'nobody'"),
    ("GET", "/api/v1/history?since=2026-01-02&until=2026-01-01", None, 400,
     "'until' is not after 'since'"),
    ("GET", "/api/v1/history/totals?by=task", None, 400,
     "expected user, queue or node"),
    ("GET", log % "..", None, 400, "malformed path"),
    ("GET", log % "%2e%2e", None, 400, "malformed path"),
    ("GET", log % "%2E%2e", None, 400, "malformed path"),
    ("GET", log % "%00", None, 400, "malformed path"),
    ("GET", log % "0%00", None, 400, "malformed path"),
    ("GET", log % "0%2f..%2f..%2fetc", None, 400, "malformed path"),
    ("GET", log % "0%", None, 400, "malformed path"),
    ("GET", log % "0%zz", None, 400, "malformed path"),
    ("GET", log % "abc", None, 400, "invalid job index 'abc'"),
    ("GET", log % "-1", None, 400, "invalid job index '-1'"),
    ("GET", log % "99", None, 404, "has no job 99"),
    ("GET", log % "0" + "?tail=0", None, 400, "'tail' must be a whole number"),
    ("GET", log % "0" + "?tail=x", None, 400, "'tail' must be a whole number"),
    ("GET", "/api/v1/tasks/alice/..%2f..%2fetc/jobs/0/log", None, 400,
     "malformed path"),
    ("GET", "/api/v1/tasks/alice/../alice/t", None, 400, "malformed path"),
    ("GET", "/api/v1/tasks/alice//t", None, 400, "malformed path"),
    ("GET", "/api/v1/tasks/a.b/t/jobs/0/log", None, 404, "no user 'a.b'"),
    ("GET", "/api/v1/tasks/alice/nope/jobs/0/log", None, 404,
     "no task 'nope'"),
    ("POST", "/api/v1/session", "{", 400, "malformed JSON"),
    ("POST", "/api/v1/session", '{"username": "alice"}', 400,
     "give 'username' and 'password', or 'token'"),
    ("POST", "/api/v1/session", '{"token": "t", "username": "alice"}', 400,
     "give 'username' and 'password', or 'token'"),
    ("POST", "/api/v1/session", '{"token": 5}', 400,
     "field 'token' must be a string"),
    ("POST", "/api/v1/session", '{"token": "t", "remember": true}', 400,
     "unknown field 'remember'"),
    ("PUT", "/api/v1/tasks", "{}", 405, "method PUT not allowed"),
    ("DELETE", "/api/v1/nodes", None, 405, "method DELETE not allowed"),
    ("GET", "/api/v1/nope", None, 404, "no such resource"),
    ("GET", "/api/v1/tasks/a/b/c/d/e/f/g/h/i/j/k", None, 400,
     "malformed path"),
]

def ask(method, path, body, headers, chunked=False):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    h = dict(headers)
    if chunked:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for i in range(0, len(body), 8192):
            part = body[i:i + 8192].encode()
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
    else:
        c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data

out = open(sys.argv[1], "w")
bad = 0
for method, path, body, want, words in cases:
    status, data = ask(method, path, body, auth)
    try:
        msg = json.loads(data)["error"]
    except (ValueError, KeyError, TypeError):
        msg = None
    if status != want or msg is None or words not in msg:
        bad += 1
        out.write("# %s %s: %d %r, expected %d with %r\n" %
                  (method, path[:80], status, data[:200], want, words))
# A signed-in browser's cross-site requests: no CSRF token, a wrong one,
# or a foreign Origin.
c = http.client.HTTPConnection(host, int(port), timeout=30)
c.request("POST", "/api/v1/session",
          body=json.dumps({"token": os.environ["TOKEN"]}))
r = c.getresponse()
data = r.read()
c.close()
if r.status != 200:
    bad += 1
    out.write("# sign-in: %d %r\n" % (r.status, data[:200]))
else:
    cookie = {"Cookie": r.getheader("Set-Cookie").split(";")[0]}
    csrf = json.loads(ask("GET", "/api/v1/session", None, cookie)[1])["csrf"]
    evil = {"Origin": "http://evil.example.org"}
    submit = '{"name": "x", "command": "y"}'
    cross = [
        ("POST", "/api/v1/tasks", submit, {}, "missing X-CSRF-Token"),
        ("POST", "/api/v1/tasks", submit, {"X-CSRF-Token": "0" * 64},
         "wrong X-CSRF-Token"),
        ("POST", "/api/v1/tasks", submit, dict(evil, **{"X-CSRF-Token": csrf}),
         "cross-site request refused"),
        ("POST", "/api/v1/tasks/alice/t/kill", None, evil,
         "missing X-CSRF-Token"),
        ("PATCH", "/api/v1/nodes/" + node, '{"cpu_slots": 1}',
         {"Origin": "null", "X-CSRF-Token": csrf},
         "cross-site request refused"),
        ("DELETE", "/api/v1/tasks/alice/t", None, {}, "missing X-CSRF-Token"),
        ("POST", "/api/v1/session", json.dumps({"token": os.environ["TOKEN"]}),
         evil, "cross-site request refused"),
    ]
    for method, path, body, extra, words in cross:
        status, data = ask(method, path, body, dict(cookie, **extra))
        try:
            msg = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            msg = None
        if status != 403 or msg is None or words not in msg:
            bad += 1
            out.write("# cross-site %s %s: %d %r, expected 403 with %r\n" %
                      (method, path, status, data[:200], words))
    cases += cross
# A body over the cap without a length announced: chunks.
status, data = ask("POST", "/api/v1/tasks", big, auth, chunked=True)
if status != 413:
    bad += 1
    out.write("# chunked oversized body: %d %r\n" % (status, data[:200]))
out.write("# %d cases, %d unexpected\n" % (len(cases) + 1, bad))
sys.exit(1 if bad else 0)
PY
	[ "$(state)" = "$before" ] || fail "a refused request changed the database"
}
test_case "bad requests get a 4xx with a clear message and change nothing" bad_requests

# Requests held under way from one address (each head sent, its body
# not: counted from its head on), then one request more: 429 once serve
# has read all the heads.  Idle connections are no requests: as many
# again stay open, unrefused.  Another address is served meanwhile.
too_many() {
	python3 - <<'PY'
import http.client, json, os, socket, sys, time
host, port = os.environ["API"].split("//")[1].rsplit(":", 1)
src = ("127.0.6.1", 0)
held, idle = [], []
for _ in range(256):
    s = socket.create_connection((host, int(port)), source_address=src)
    s.sendall(b"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n")
    held.append(s)
for _ in range(64):
    idle.append(socket.create_connection((host, int(port)),
                                         source_address=src))
deadline = time.monotonic() + 30
while True:
    c = http.client.HTTPConnection(host, int(port), timeout=30,
                                   source_address=src)
    c.request("GET", "/healthz")
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    if r.status == 429:
        break
    if r.status != 200 or time.monotonic() > deadline:
        sys.exit("257th request: %d %r" % (r.status, body))
    time.sleep(0.05)
if "too many requests at once from 127.0.6.1" not in body["error"]:
    sys.exit("257th request: %r" % body)
c = http.client.HTTPConnection(host, int(port), timeout=30,
                               source_address=("127.0.6.2", 0))
c.request("GET", "/healthz")
if c.getresponse().status != 200:
    sys.exit("another address is refused too")
for s in held + idle:
    s.close()
PY
	healthy() {
		api GET /healthz --source 127.0.6.1
		[ "$STATUS" = 200 ]
	}
	wait_until 30 healthy
}
test_case "too many requests at once from one address get 429" too_many

serve_stop
