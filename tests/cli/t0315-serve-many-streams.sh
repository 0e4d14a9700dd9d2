#!/bin/bash
# t0315-serve-many-streams.sh - many event streams at once: 300 open
# from three addresses, and one change (a task submitted through the
# API) reaches every one of them; an address may hold 256 streams
# (server.c's WEB_SSE_PER_IP), the next one from it gets 429 while its
# requests are still answered and another address opens streams.  No
# timing: every wait is on a condition, with a deadline.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
ALICE=$(orch user token alice 2>/dev/null)
serve_start
grep -q 'serving threads=[0-9]* connections=4096 streams=2048' \
    "$SERVE_LOG" || fail "serve's limits: $(grep 'serving threads' "$SERVE_LOG")"

# sse-many.py's "key value" lines in FILE: the value of KEY.
value() { # FILE KEY
	sed -n "s/^$2 //p" "$1"
}

many() {
	python3 "$SRCDIR/tests/cli/sse-many.py" "$API" --token "$ALICE" \
	    --streams 300 --sources 127.0.5 --naddr 3 --name many \
	    --timeout 120 >"$TMP/many" ||
	    fail "300 streams: $(tr '\n' ' ' <"$TMP/many")"
	[ "$(value "$TMP/many" open)" = 300 ] || fail "$(cat "$TMP/many")"
	[ "$(value "$TMP/many" told)" = 300 ] || fail "$(cat "$TMP/many")"
	echo "# 300 streams told of the task in $(value "$TMP/many" told_ms) ms"
}
test_case "300 streams open, and one change reaches every one" many

open_streams() {
	grep -qx 'held' "$TMP/full"
}
stream_open() { # FILE
	grep -q '^retry: ' "$1"
}
per_address() {
	local pid
	touch "$TMP/hold"
	python3 "$SRCDIR/tests/cli/sse-many.py" "$API" --token "$ALICE" \
	    --streams 256 --sources 127.0.6 --naddr 1 --name full \
	    --hold "$TMP/hold" --timeout 120 >"$TMP/full" &
	pid=$!
	wait_until 120 open_streams
	[ "$(value "$TMP/full" told)" = 256 ] || fail "$(cat "$TMP/full")"
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$ALICE" \
	    --source 127.0.6.1 --timeout 20 >"$TMP/more" || :
	grep -qx '# status 429' "$TMP/more" ||
	    fail "the 257th stream of one address: $(cat "$TMP/more")"
	api GET /api/v1/me --token "$ALICE" --source 127.0.6.1
	[ "$STATUS" = 200 ] || fail "a request beside 256 streams: $STATUS"
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$ALICE" \
	    --source 127.0.6.2 --timeout 20 --until 'retry: ' >"$TMP/other" ||
	    fail "a stream of another address: $(cat "$TMP/other")"
	rm -f "$TMP/hold"
	wait "$pid" || fail "the 256 streams: $(cat "$TMP/full")"
	grep -q 'status=429 ip=127.0.6.1' "$SERVE_LOG" ||
	    fail "no 429 logged for 127.0.6.1"
}
test_case "256 streams from one address; the next gets 429, not its requests" \
    per_address

serve_stop
