#!/bin/bash
# t0313-serve-concurrent.sh - a slow request holds its own worker, not
# the server: while one user's request is held (the test-only hold,
# ORCHESTRA_TEST_HOLD_ROUTE and _FILE: the request waits while the file
# exists), /healthz and another user's task list answer at once, and
# the held one is provably still pending; with every worker but one
# held, the last still answers.  On a server with one thread both
# would wait for the hold, and these checks time out.

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

# GET PATH with TOKEN ("none": no token), giving up after SECS:
# prints "STATUS MS" (status 0 when no answer came in time).
timed_get() { # PATH TOKEN SECS
	python3 - "$API" "$@" <<'PY'
import http.client, sys, time
base, path, token, secs = sys.argv[1:5]
host, port = base.split("//", 1)[1].rsplit(":", 1)
t0 = time.monotonic()
status = 0
try:
    c = http.client.HTTPConnection(host, int(port), timeout=float(secs))
    h = {} if token == "none" else {"Authorization": "Bearer " + token}
    c.request("GET", path, headers=h)
    r = c.getresponse()
    r.read()
    status = r.status
except OSError:
    pass
print(status, int((time.monotonic() - t0) * 1000))
PY
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
# $TMP/held.I, and wait until the server holds them all.
HELD_PIDS=""
hold_start() { # N
	local i before
	before=$(nheld)
	touch "$HOLD"
	for i in $(seq 1 "$1"); do
		timed_get /api/v1/queue "$ALICE" 120 >"$TMP/held.$i" &
		HELD_PIDS="$HELD_PIDS $!"
	done
	wait_until 30 held_at_least $((before + $1))
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
		read -r st ms <"$TMP/held.$i"
		[ "$st" = 200 ] || fail "held request $i answered '$st'"
	done
}

# Must answer 200 within 5 s (a generous bound: it takes milliseconds).
prompt() { # LABEL PATH TOKEN
	local st ms
	read -r st ms <<<"$(timed_get "$2" "$3" 5)"
	echo "# $1 answered $st in $ms ms while held"
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
