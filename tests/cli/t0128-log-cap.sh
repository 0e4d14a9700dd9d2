#!/bin/bash
# t0128-log-cap.sh - a job's log is bounded by log_max (issue 17, finding
# 8): past it, the local backend keeps the head and the tail, frees the
# blocks in between, and `task logs` shows a line saying how many bytes
# were cut, also while the job runs and when followed across the cut; a
# log under the bound is left whole.

. "$(dirname "$0")/lib.sh"

! on_kube || skip_all "the local backend's log bound, not on Kubernetes"

# 64 KiB: a head of 32 KiB, a tail of 32 to 48 KiB.
export ORCHESTRA_LOG_MAX=64K
orch init >/dev/null
pilot_start
pilot_wait_started

job_file() { # TASK
	local id
	id=$(db_value "SELECT j.id FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = '$1' AND j.idx = 0")
	echo "$ORCHESTRA_HOME/jobs/$id-1.job"
}
has_line() { # FILE LINE
	grep -qx -- "$2" "$1" 2>/dev/null
}

# 10 MB: 1,000,000 lines "line N" padded to 10 bytes ("line      1"...).
big() {
	local f log size disk cut
	orch task submit big --skip-test \
	    --exec 'seq -f "%9.0f" 1 1000000' >/dev/null 2>&1
	wait_until 120 task_is big done
	expect_exit 0 orch task logs big 0
	log=$OUT
	[ "$(head -n 1 "$log")" = "        1" ] || fail "first line: $(head -n 1 "$log")"
	[ "$(tail -n 1 "$log")" = "  1000000" ] || fail "last line: $(tail -n 1 "$log")"
	cut=$(grep -c '^\[orchestra: [0-9]* bytes cut here\]$' "$log")
	[ "$cut" = 1 ] || fail "$cut cut lines"
	# Shown: everything but what was cut, plus the line (and perhaps a
	# newline ending a head cut mid-line).
	n=$(sed -n 's/^\[orchestra: \([0-9]*\) bytes cut here\]$/\1/p' "$log")
	size=$(wc -c <"$log")
	line=$(grep '^\[orchestra' "$log" | wc -c)
	[ $((size - line)) -eq $((10000000 - n)) ] ||
	    [ $((size - line - 1)) -eq $((10000000 - n)) ] ||
	    fail "shown $size bytes with a line of $line, cut $n of 10000000"
	[ "$n" -ge $((10000000 - 65536)) ] || fail "cut only $n bytes"
	awk 'length($0) == 9' "$log" | sort -c -n -u ||
	    fail "lines out of order"
	# The file holds about the bound (its blocks; its size is the log's).
	f=$(job_file big)
	disk=$(($(stat -c %b "$f") * $(stat -c %B "$f")))
	[ "$disk" -le $((100 * 1024)) ] || fail "the file takes $disk bytes"
	# The stored tail and --tail read the tail.
	expect_exit 0 orch task logs big 0 --tail 2
	printf '   999999\n  1000000\n' | cmp -s - "$OUT" || fail "--tail 2: $(cat "$OUT")"
}
test_case "a 10 MB log keeps its head, its tail and says what was cut" big

small() {
	orch task submit small --skip-test \
	    --exec 'seq 1 5000' >/dev/null 2>&1
	wait_until 60 task_is small done
	expect_exit 0 orch task logs small 0
	seq 1 5000 | cmp -s - "$OUT" || fail "a log under the bound changed"
	! head -c 4096 "$(job_file small)" | grep -q '^cut ' ||
	    fail "a cut recorded"
}
test_case "a log under the bound is whole" small

follower_gone() {
	! kill -0 "$1" 2>/dev/null
}

# Followed from its start while it writes past the bound: the follower
# gets the head, one cut line, and the tail up to the end.
follow() {
	local pid rc=0
	orch task submit fol --skip-test --exec "seq -f '%9.0f' 1 2000;
	    while [ ! -e '$TMP/gate' ]; do sleep 0.05; done;
	    for i in \$(seq 1 99); do
	        seq -f '%9.0f' \$((i * 2000 + 1)) \$((i * 2000 + 2000));
	        sleep 0.01; done" >/dev/null 2>&1
	wait_until 60 task_is fol running
	orch task logs fol 0 --follow >"$TMP/fol.out" 2>"$TMP/fol.err" &
	pid=$!
	wait_until 30 has_line "$TMP/fol.out" "     2000"
	: >"$TMP/gate"
	wait_until 120 follower_gone "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "--follow exited $rc: $(cat "$TMP/fol.err")"
	[ "$(head -n 1 "$TMP/fol.out")" = "        1" ] || fail "head"
	[ "$(tail -n 1 "$TMP/fol.out")" = "   200000" ] || fail "tail: $(tail -n 1 "$TMP/fol.out")"
	# A follower slower than the job may be told of more than one cut
	# (what was cut before it read it): what it got and what it was told
	# was cut add up to what the job wrote, with perhaps a newline
	# before each line.
	grep -q '^\[orchestra: [0-9]* bytes cut here\]$' "$TMP/fol.out" ||
	    fail "no cut line"
	cuts=$(grep -c '^\[orchestra' "$TMP/fol.out")
	told=$(sed -n 's/^\[orchestra: \([0-9]*\) bytes cut here\]$/\1/p' \
	    "$TMP/fol.out" | awk "{ s += \$1 } END { print s + 0 }")
	got=$(grep -v '^\[orchestra' "$TMP/fol.out" | wc -c)
	[ $((got + told)) -ge 2000000 ] &&
	    [ $((got + told)) -le $((2000000 + cuts)) ] ||
	    fail "got $got bytes and $told cut of 2000000"
	# In order, nothing twice (whole lines: a cut may split one).
	awk 'length($0) == 9' "$TMP/fol.out" | sort -c -n -u ||
	    fail "lines out of order"
}
test_case "--follow reads across the cut" follow

bad_setting() {
	ORCHESTRA_LOG_MAX=1K expect_exit 1 orch node list
	expect_stderr_line "^orchestra: invalid log_max '1K': "
	ORCHESTRA_LOG_MAX=12x expect_exit 1 orch node list
	ORCHESTRA_LOG_MAX='64 ' expect_exit 1 orch node list
	ORCHESTRA_LOG_MAX=9999999999999G expect_exit 1 orch node list
}
test_case "log_max below 16K or not a size is refused" bad_setting

pilot_stop
