#!/bin/bash
# t0307-serve-log-stream.sh - a job's log of 50 MB, from the local
# backend's file: GET .../jobs/N/log serves all of it, byte for byte, and
# ?tail= its end, while serve's peak resident memory grows by far less
# than the log; `task logs` prints it all in pieces too, and --tail its
# last lines; through ORCHESTRA_URL, all of it a MiB at a time.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
mkdir -p "$TMP/in"
echo 0 >"$TMP/in/f0"
orch task submit big --exec 'cat %IN' --inputs "$TMP/in" --skip-test >/dev/null
# The job ran once (as the pilot would have recorded it) and wrote 50 MB.
db_query "UPDATE job SET status = 'done', attempts = 1, exit_code = 0
    WHERE task_id = (SELECT id FROM task WHERE name = 'big')"
JID=$(db_query "SELECT j.id FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'big'")
LOG="$ORCHESTRA_HOME/jobs/$JID-1.log"
mkdir -p "$ORCHESTRA_HOME/jobs"
python3 -c 'import random, sys
r = random.Random(14)
with open(sys.argv[1], "wb") as f:
    for i in range(50 * 16):
        f.write(r.randbytes(64 * 1024))' "$LOG"
SIZE=$(stat -c %s "$LOG")
SUM=$(sha256sum <"$LOG" | cut -d" " -f1)
TOKEN=$(orch user token tester 2>/dev/null)
serve_start

# GET PATH: "STATUS SHA256 LENGTH" of the body, read in pieces.
get_sum() {
	python3 -c 'import hashlib, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + sys.argv[2],
    headers={"Authorization": "Bearer " + sys.argv[3]})
h, n = hashlib.sha256(), 0
try:
    with urllib.request.urlopen(req, timeout=120) as r:
        status = r.status
        while True:
            b = r.read(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
except urllib.error.HTTPError as e:
    status = e.code
print(status, h.hexdigest(), n)' "$API" "$1" "$TOKEN"
}

hwm_kb() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVE_PID/status"
}

whole() {
	local before after got
	before=$(hwm_kb)
	got=$(get_sum /api/v1/tasks/tester/big/jobs/0/log)
	[ "$got" = "200 $SUM $SIZE" ] ||
	    fail "the log: '$got', expected '200 $SUM $SIZE'"
	after=$(hwm_kb)
	echo "# serve's VmHWM: $before kB before, $after kB after a log of $SIZE bytes"
	# Held whole, the log alone would add its 50 MB.
	[ $(((after - before) * 1024)) -lt $((SIZE / 4)) ] ||
	    fail "serve's peak memory grew by $((after - before)) kB"
}
test_case "a 50 MB log is served whole, in pieces" whole

tail_part() {
	local want got
	want="200 $(tail -c 1000 "$LOG" | sha256sum | cut -d" " -f1) 1000"
	got=$(get_sum '/api/v1/tasks/tester/big/jobs/0/log?tail=1000')
	[ "$got" = "$want" ] || fail "?tail=1000: '$got', expected '$want'"
	# More than the log: all of it.
	got=$(get_sum "/api/v1/tasks/tester/big/jobs/0/log?tail=$((SIZE * 2))")
	[ "$got" = "200 $SUM $SIZE" ] || fail "?tail=2*size: '$got'"
	got=$(get_sum '/api/v1/tasks/tester/big/jobs/0/log?tail=0')
	[ "${got%% *}" = 400 ] || fail "?tail=0: '$got', not 400"
}
test_case "?tail= serves only the log's end" tail_part

cli() {
	local rss
	# The peak resident memory of the command, from its parent.
	rss=$(python3 -c 'import resource, subprocess, sys
with open(sys.argv[2], "wb") as f:
    rc = subprocess.run([sys.argv[1], "task", "logs", "big"], stdout=f).returncode
assert rc == 0, rc
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
	    "$ORCHESTRA_BIN" "$TMP/cli.log")
	[ "$(sha256sum <"$TMP/cli.log" | cut -d" " -f1)" = "$SUM" ] ||
	    fail "task logs printed another log"
	echo "# task logs: peak RSS $rss kB for a log of $SIZE bytes"
	[ $((rss * 1024)) -lt $((SIZE * 3 / 4)) ] ||
	    fail "task logs held $rss kB"
	# --tail counts lines: a few, and more than a 64 KiB piece holds.
	for n in 5 100000; do
		expect_exit 0 orch task logs big --tail $n
		[ "$(sha256sum <"$OUT")" = "$(tail -n $n "$LOG" | sha256sum)" ] ||
		    fail "task logs --tail $n"
	done
}
test_case "task logs prints a 50 MB log in pieces" cli

remote_cli() {
	# Through the API a MiB at a time, from where the last part ended.
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent.db" "$ORCHESTRA_BIN" \
	    task logs big >"$TMP/remote.log" ||
	    fail "remote task logs exited $?"
	[ "$(sha256sum <"$TMP/remote.log" | cut -d" " -f1)" = "$SUM" ] ||
	    fail "remote task logs printed $(stat -c %s "$TMP/remote.log") bytes, not the log"
}
test_case "task logs through ORCHESTRA_URL prints all of a 50 MB log" \
    remote_cli

serve_stop
