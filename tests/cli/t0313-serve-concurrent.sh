#!/bin/bash
# t0313-serve-concurrent.sh - a slow request holds its own worker, not
# the server: while one user's request is held (the test-only hold,
# ORCHESTRA_TEST_HOLD_ROUTE and _FILE: the request waits while the file
# exists), /healthz and another user's task list answer at once, and
# the held one is provably still pending; with every worker but one
# held, the last still answers.  On a server with one thread both
# would wait for the hold, and these checks time out.  At most two
# password checks run at once, off the workers: with both held, a third
# sign-in is refused with 503 at once while a token's requests answer;
# a flood of wrong passwords gets 401 or a quick 503, nothing else;
# many clients at once on every route kind are all answered, and so are
# 32 at once behind one address (a lab's reverse proxy).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
orch user add bob >/dev/null
ALICE=$(orch user token alice 2>/dev/null)
BOB=$(orch user token bob 2>/dev/null)
HOLD="$TMP/hold"
export ORCHESTRA_TEST_HOLD_ROUTE=/api/v1/queue
export ORCHESTRA_TEST_HOLD_FILE="$HOLD"
serve_start
unset ORCHESTRA_TEST_HOLD_ROUTE ORCHESTRA_TEST_HOLD_FILE
# A failing case leaves nothing held for the server's stop to wait on.
hold_at_exit() {
	rm -f "$HOLD"
}
lib_at_exit hold_at_exit
WORKERS=$(sed -n 's/.*serving threads=\([0-9]*\).*/\1/p' "$SERVE_LOG")
[ -n "$WORKERS" ] || fail "serve logged no 'serving threads=N'"

# One request with TOKEN ("none": no token), and BODY (JSON) from the
# loopback address SOURCE when given, giving up after SECS: prints
# "STATUS MS BODY" (status 0 when no answer came in time).
timed() { # METHOD PATH TOKEN SECS [BODY [SOURCE]]
	python3 - "$API" "$@" <<'PY'
import http.client, sys, time
base, method, path, token, secs = sys.argv[1:6]
body = sys.argv[6] if len(sys.argv) > 6 else None
source = sys.argv[7] if len(sys.argv) > 7 else None
host, port = base.split("//", 1)[1].rsplit(":", 1)
t0 = time.monotonic()
status, data = 0, b""
try:
    c = http.client.HTTPConnection(host, int(port), timeout=float(secs),
                                   source_address=(source, 0) if source else None)
    h = {} if token == "none" else {"Authorization": "Bearer " + token}
    if body is not None:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    status = r.status
except OSError:
    pass
print(status, int((time.monotonic() - t0) * 1000),
      data.decode(errors="replace").replace("\n", " "))
PY
}
timed_get() { # PATH TOKEN SECS
	timed GET "$@"
}

nheld() {
	grep -c 'test hold: holding route=/api/v1/queue' "$SERVE_LOG" || :
}
nreleased() {
	grep -c 'test hold: released route=/api/v1/queue' "$SERVE_LOG" || :
}

held_at_least() { # N
	[ "$(nheld)" -ge "$1" ]
}

# Start N held requests of alice's in the background, each printing to
# $TMP/held.I, one at a time: each is held before the next is sent, so
# that it goes to a worker no held request blocks (sent at once, two
# may land on one worker, the second behind the first: server.c).
HELD_PIDS=""
hold_start() { # N
	local i before
	before=$(nheld)
	touch "$HOLD"
	for i in $(seq 1 "$1"); do
		timed_get /api/v1/queue "$ALICE" 120 >"$TMP/held.$i" &
		HELD_PIDS="$HELD_PIDS $!"
		wait_until 30 held_at_least $((before + i))
	done
}

# Each still pending: its client runs and has no answer yet.
hold_pending() { # N
	local i
	[ "$(nreleased)" -eq "$(($(nheld) - $1))" ] ||
	    fail "a held request was let go early"
	for i in $(seq 1 "$1"); do
		[ ! -s "$TMP/held.$i" ] ||
		    fail "held request $i answered: $(cat "$TMP/held.$i")"
	done
	for i in $HELD_PIDS; do
		kill -0 "$i" 2>/dev/null || fail "a held request's client ended"
	done
}

# Let them go: each answers 200.
hold_release() { # N
	local i
	rm -f "$HOLD"
	for i in $HELD_PIDS; do
		wait "$i"
	done
	HELD_PIDS=""
	for i in $(seq 1 "$1"); do
		read -r st ms _ <"$TMP/held.$i"
		[ "$st" = 200 ] || fail "held request $i answered '$st'"
	done
}

# Must answer 200 within 5 s (a generous bound: it takes milliseconds).
prompt() { # LABEL PATH TOKEN
	local st ms
	read -r st ms _ <<<"$(timed_get "$2" "$3" 5)"
	echo "# $1 answered $st in $ms ms"
	[ "$st" = 200 ] || fail "$1: status '$st' after $ms ms, expected 200"
}

one_held() {
	hold_start 1
	prompt "/healthz" /healthz none
	prompt "bob's GET /api/v1/tasks" /api/v1/tasks "$BOB"
	prompt "alice's GET /api/v1/tasks" /api/v1/tasks "$ALICE"
	hold_pending 1
	hold_release 1
}
test_case "while one request is held, /healthz and others' answer" one_held

all_but_one_held() {
	hold_start $((WORKERS - 1))
	prompt "/healthz" /healthz none
	prompt "bob's GET /api/v1/tasks" /api/v1/tasks "$BOB"
	hold_pending $((WORKERS - 1))
	hold_release $((WORKERS - 1))
}
test_case "with all workers but one held, the last one answers" \
    all_but_one_held
serve_stop

# Sign-ins, held while they hold a password check's slot.
PASSWORD="correct horse battery staple"
orch user passwd alice <<<"$PASSWORD" >/dev/null
WRONG='{"username": "alice", "password": "wrong-wrong"}'
RIGHT="{\"username\": \"alice\", \"password\": \"$PASSWORD\"}"
export ORCHESTRA_TEST_HOLD_ROUTE=/api/v1/session
export ORCHESTRA_TEST_HOLD_FILE="$HOLD"
serve_start
unset ORCHESTRA_TEST_HOLD_ROUTE ORCHESTRA_TEST_HOLD_FILE

signins_held() { # N
	[ "$(grep -c 'test hold: holding route=/api/v1/session' \
	    "$SERVE_LOG")" -ge "$1" ]
}

slots_full() {
	local i p st ms msg pids=""
	touch "$HOLD"
	for i in 1 2; do
		timed POST /api/v1/session none 120 "$WRONG" "127.0.9.$i" \
		    >"$TMP/signin.$i" &
		pids="$pids $!"
	done
	wait_until 30 signins_held 2
	read -r st ms msg <<<"$(timed POST /api/v1/session none 5 "$RIGHT" \
	    127.0.9.3)"
	echo "# a third sign-in answered $st in $ms ms"
	[ "$st" = 503 ] || fail "a third sign-in: status '$st', expected 503"
	[ "$ms" -lt 2000 ] || fail "a third sign-in took $ms ms"
	case $msg in
	*"too many sign-ins are being checked at once"*) ;;
	*) fail "a third sign-in: message $msg" ;;
	esac
	prompt "alice's GET /api/v1/me" /api/v1/me "$ALICE"
	prompt "/healthz" /healthz none
	for i in 1 2; do
		[ ! -s "$TMP/signin.$i" ] ||
		    fail "held sign-in $i answered: $(cat "$TMP/signin.$i")"
	done
	rm -f "$HOLD"
	for p in $pids; do
		wait "$p"
	done
	for i in 1 2; do
		read -r st ms msg <"$TMP/signin.$i"
		[ "$st" = 401 ] || fail "held sign-in $i: status '$st'"
	done
	# The slots are free again.
	read -r st ms msg <<<"$(timed POST /api/v1/session none 30 "$RIGHT" \
	    127.0.9.4)"
	[ "$st" = 200 ] || fail "a sign-in after: status '$st': $msg"
}
test_case "two password checks at most: a third sign-in gets 503 at once" \
    slots_full

flood() {
	local i p st ms n401=0 n503=0 pids=""
	rm -f "$HOLD" # none held, whatever the last case left
	for i in $(seq 1 16); do
		timed POST /api/v1/session none 60 "$WRONG" "127.0.10.$i" \
		    >"$TMP/flood.$i" &
		pids="$pids $!"
	done
	prompt "alice's GET /api/v1/me" /api/v1/me "$ALICE"
	for p in $pids; do
		wait "$p"
	done
	for i in $(seq 1 16); do
		read -r st ms _ <"$TMP/flood.$i"
		case $st in
		401) n401=$((n401 + 1)) ;;
		503)
			n503=$((n503 + 1))
			[ "$ms" -lt 2000 ] || fail "a 503 took $ms ms"
			;;
		*) fail "a wrong password: status '$st' after $ms ms" ;;
		esac
	done
	echo "# 16 wrong passwords at once: $n401 got 401, $n503 got 503"
	[ "$n401" -ge 1 ] || fail "no password was checked at all"
}
test_case "a flood of wrong passwords: 401 or a quick 503, nothing else" \
    flood

# Eight clients at once, 25 requests each, reads and writes (a token's
# sign-in makes a session) on every route kind: each answers 200, and
# the server's stop finds no sanitizer report.
mixed_load() {
	python3 - "$API" "$ALICE" "$BOB" <<'PY'
import http.client, json, sys, threading
base, alice, bob = sys.argv[1:4]
host, port = base.split("//", 1)[1].rsplit(":", 1)
reqs = [("GET", "/healthz", None, None), ("GET", "/readyz", None, None),
        ("GET", "/api/v1/tasks", alice, None),
        ("GET", "/api/v1/tasks", bob, None),
        ("GET", "/api/v1/queue", bob, None),
        ("GET", "/api/v1/me", alice, None),
        ("GET", "/api/v1/nodes", alice, None),
        ("GET", "/api/v1/usage", bob, None),
        ("GET", "/metrics", alice, None),
        ("POST", "/api/v1/session", None, json.dumps({"token": bob}))]
bad = []
def client(k):
    for i in range(25):
        method, path, token, body = reqs[(k + i) % len(reqs)]
        # Each client from its own address: the server answers 429 past
        # 64 open connections of one, and closes take a moment to see.
        c = http.client.HTTPConnection(host, int(port), timeout=30,
                                       source_address=("127.0.12.%d" % (k + 1), 0))
        h = {"Authorization": "Bearer " + token} if token else {}
        if body:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            bad.append("%s %s: %d" % (method, path, r.status))
ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
}
test_case "200 requests from eight clients at once are all answered" \
    mixed_load

# A lab's reverse proxy: 32 clients at once behind one address, each on
# a connection of its own.  Every client connects, then waits until all
# have (a barrier), then asks, then holds its connection open until all
# have their answer: so all 32 are open at the server while each of
# them is answered, whatever the order.  Each answers 200.
proxy() {
	python3 - "$API" "$ALICE" <<'PY'
import http.client, sys, threading
base, token = sys.argv[1:3]
host, port = base.split("//", 1)[1].rsplit(":", 1)
N = 32
connected = threading.Barrier(N, timeout=30)
answered = threading.Barrier(N, timeout=30)
got = [None] * N
def client(k):
    c = http.client.HTTPConnection(host, int(port), timeout=30,
                                   source_address=("127.0.13.1", 0))
    try:
        c.connect()
        connected.wait()
        c.request("GET", "/api/v1/tasks",
                  headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        r.read()
        got[k] = r.status
        answered.wait()
    except Exception as e:
        got[k] = repr(e)
        connected.abort()
        answered.abort()
    c.close()
ts = [threading.Thread(target=client, args=(k,)) for k in range(N)]
for t in ts:
    t.start()
for t in ts:
    t.join()
bad = [s for s in got if s != 200]
print("# %d clients at once from one address: %d got 200" %
      (N, N - len(bad)))
for s in bad:
    print("# got %r" % (s,))
sys.exit(1 if bad else 0)
PY
}
test_case "32 clients at once behind one address are all answered" proxy

serve_stop
