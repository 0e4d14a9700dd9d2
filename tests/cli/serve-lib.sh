# serve-lib.sh - sourced (after lib.sh) by the tests of `orchestra serve`.
#
#   serve_start [ARGS]     start `orchestra serve --listen 127.0.0.1:0 ARGS`
#                          in the background ($SERVE_PID, its stderr in
#                          $SERVE_LOG); wait until it logged its port, and
#                          set $API (http://127.0.0.1:PORT).  At exit it is
#                          stopped.  Call it at the top level of a script.
#   serve_stop             SIGTERM it; fail unless it exits 0 with no
#                          sanitizer report
#   api METHOD PATH [--token T] [--body B] [--source IP]
#                          one request: the status in $STATUS, the body in
#                          $OUT
#   api_json PYEXPR        the body of the last api call is JSON `d` and
#                          PYEXPR is true of it
#   api_table FILE [NET]   run tests/cli/api.py's table of requests
#   remote_same TOKEN ARGS...
#                          `orchestra ARGS` through ORCHESTRA_URL (this
#                          serve, TOKEN) prints what it prints on the
#                          database, byte for byte; else fail, with the diff

SERVE_LOG="$TMP/serve.log"
SERVE_PID=""

serve_listening() {
	grep -q 'listening address=' "$SERVE_LOG" 2>/dev/null
}

serve_start() {
	# Emptied here, not by the background job's redirection: a second
	# serve_start would otherwise find the last server's port.
	: >"$SERVE_LOG"
	"$ORCHESTRA_BIN" serve --listen 127.0.0.1:0 "$@" 2>>"$SERVE_LOG" &
	SERVE_PID=$!
	wait_until 30 serve_listening
	API="http://127.0.0.1:$(sed -n 's/.*listening address=[^ ]*:\([0-9]*\).*/\1/p' "$SERVE_LOG" | head -n 1)"
}

serve_stop() {
	local rc=0
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null || :
	wait "$SERVE_PID" || rc=$?
	SERVE_PID=""
	if grep -Eq 'Sanitizer|runtime error:' "$SERVE_LOG"; then
		sed 's/^/#   /' "$SERVE_LOG" | tail -n 40 >&2
		fail "serve: sanitizer report"
	fi
	[ "$rc" -eq 0 ] || fail "serve exited $rc"
}

serve_at_exit() {
	if [ -n "$SERVE_PID" ]; then
		kill -TERM "$SERVE_PID" 2>/dev/null || :
		wait "$SERVE_PID" 2>/dev/null || :
	fi
}
lib_at_exit serve_at_exit

api() {
	python3 "$SRCDIR/tests/cli/api.py" "$API" "$@" >"$TMP/api.out"
	STATUS=$(head -n 1 "$TMP/api.out")
	tail -n +2 "$TMP/api.out" >"$OUT"
}

api_json() {
	json_check "$1"
}

api_table() {
	python3 "$SRCDIR/tests/cli/api.py" "$API" --table "$@"
}

remote_same() {
	local token=$1
	shift
	"$ORCHESTRA_BIN" "$@" >"$TMP/local.out"
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$token" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" "$ORCHESTRA_BIN" "$@" \
	    >"$TMP/remote.out" || fail "remote $(lib_show "$@") failed"
	cmp -s "$TMP/local.out" "$TMP/remote.out" || {
		diff -u "$TMP/local.out" "$TMP/remote.out" >&2
		fail "$(lib_show "$@"): the remote output differs"
	}
}
