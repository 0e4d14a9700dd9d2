#!/bin/bash
# t0350-metrics.sh - `orchestra metrics` prints what the database knows in
# the Prometheus text format: a finished task and a finalized one run by
# the pilot (jobs by state and queue, tasks by state, completed and failed
# counters per node, the wait and run time histograms the pilot recorded,
# its cycle durations), work left waiting (users' waiting jobs, the age of
# the oldest waiting job), slots and nodes, a label value that needs
# escaping; the exposition passes `promtool check metrics` (Debian's
# prometheus package, installed by scripts/setup.sh --test: its absence is
# a failure, not a skip) and our own rules (HELP and TYPE once per family,
# _total on counters only, no ids as labels); --output writes the file
# atomically for node_exporter's textfile collector.

. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
    fail "promtool is not installed (scripts/setup.sh --test installs prometheus)"

orch init >/dev/null
NODE=$(hostname)
orch node set "$NODE" --max-cpu-slots 8 --cpu-slots 2 >/dev/null
node_add_elsewhere n2 --queue gpu --cpu-slots 1 --max-gpu-slots 2 \
    --gpu-slots 1 >/dev/null
orch user add alice >/dev/null

mkdir -p "$TMP/ok" "$TMP/bad"
for i in 0 1 2 3 4; do
	printf 'good\n' >"$TMP/ok/a$i"
done
for i in 0 1 2; do
	printf 'good\n' >"$TMP/bad/b$i"
done
printf 'bad\n' >"$TMP/bad/b1"
printf 'bad\n' >"$TMP/bad/b2"
# Job 1 of "ok" runs a little over a second: one run outside the first
# bucket.  An input that says "bad" fails with exit code 3.
cat >"$TMP/job.sh" <<'EOF'
if [ "$1" = 1 ] && grep -q good "$2"; then
	sleep 1.2
fi
if grep -q bad "$2"; then
	exit 3
fi
EOF
orch task submit ok --exec "sh $TMP/job.sh %JOB %IN" --inputs "$TMP/ok" \
    >/dev/null
orch task submit bad --exec "sh $TMP/job.sh %JOB %IN" --inputs "$TMP/bad" \
    >/dev/null

pilot_start
wait_until 120 task_is ok "done"
wait_until 120 task_is bad finalized
pilot_stop

# Left waiting: no CPU slot on the node of queue default; one pilot cycle
# queues the jobs of tester's "wait" (no test job) and of alice's task.
orch node set "$NODE" --cpu-slots 0 >/dev/null
mkdir -p "$TMP/w"
for i in 0 1 2; do
	: >"$TMP/w/w$i"
done
orch task submit wait --exec "true %IN" --inputs "$TMP/w" --skip-test \
    >/dev/null
orch --user alice task submit hers --exec "true %IN" --inputs "$TMP/w" \
    --skip-test >/dev/null
expect_exit 0 orch pilot --once
# Registered, not yet queued: tester's test job has not run.
orch task submit later --exec "true %IN" --inputs "$TMP/w" >/dev/null

# A queue name that needs escaping (an admin's SQL may write anything).
db_query "UPDATE node SET queue = 'we\"ird\\q
x' WHERE name = 'n2'" >/dev/null

# The value of one sample: metric NAME with labels exactly LABELS ("" for
# none; as printed, e.g. 'state="done",queue="default"').
sample() {
	python3 - "$OUT" "$1" "$2" <<'PY'
import sys
path, name, labels = sys.argv[1:]
want = name + ("{" + labels + "}" if labels else "")
for line in open(path, encoding="utf-8"):
    if line.startswith("#"):
        continue
    key, _, value = line.rstrip("\n").rpartition(" ")
    if key == want:
        print(value)
        sys.exit(0)
sys.exit(1)
PY
}

expect_sample() {
	local got
	got=$(sample "$1" "$2") || fail "no sample $1{$2}"
	[ "$got" = "$3" ] || fail "$1{$2} is $got, expected $3"
}

scrape() {
	expect_exit 0 orch metrics
	expect_stderr_empty
	cp "$OUT" "$TMP/metrics.txt"
}
test_case "orchestra metrics exits 0 and writes the exposition" scrape

promtool_ok() {
	promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 || {
		sed 's/^/#   /' "$TMP/promtool.out" >&2
		fail "promtool check metrics refused the exposition"
	}
	[ ! -s "$TMP/promtool.out" ] || {
		sed 's/^/#   /' "$TMP/promtool.out" >&2
		fail "promtool check metrics has remarks"
	}
}
test_case "promtool check metrics accepts it, without remarks" promtool_ok

our_rules() {
	python3 - "$TMP/metrics.txt" <<'PY' || fail "exposition rules broken"
import re, sys
helps, types, seen = {}, {}, []
ok = True
def bad(msg):
    global ok
    ok = False
    print("# " + msg, file=sys.stderr)
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
    if m:
        d = helps if m.group(1) == "HELP" else types
        if m.group(2) in d:
            bad("two %s lines for %s" % (m.group(1), m.group(2)))
        d[m.group(2)] = m.group(3)
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
    if not m:
        bad("not a sample: %r" % line)
        continue
    name, labels = m.group(1), m.group(3) or ""
    if not name.startswith("orchestra_"):
        bad("%s: not an orchestra_ name" % name)
    rest = label_re.sub("", labels).replace(",", "")
    if rest:
        bad("%s: labels not parsed: %r" % (name, labels))
    for key, _ in label_re.findall(labels):
        if key == "id" or key.endswith("_id"):
            bad("%s: an id as a label (%s)" % (name, key))
    float(m.group(4))
    seen.append(name)
for name, t in types.items():
    if name not in helps:
        bad("%s: TYPE without HELP" % name)
    if name.endswith("_total") != (t == "counter"):
        bad("%s: type %s; _total belongs to counters only" % (name, t))
    if t == "histogram":
        for suffix in ("_bucket", "_sum", "_count"):
            if name + suffix not in seen:
                bad("%s: no %s" % (name, suffix))
    if re.search(r"_(milliseconds|ms|minutes|hours)$", name):
        bad("%s: not in base units" % name)
for name in seen:
    family = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in types and family not in types:
        bad("%s: sample without TYPE" % name)
sys.exit(0 if ok else 1)
PY
}
test_case "HELP and TYPE once each, _total on counters only, no id labels" \
    our_rules

jobs_tasks() {
	cp "$TMP/metrics.txt" "$OUT"
	expect_sample orchestra_jobs 'state="done",queue="default"' 6
	expect_sample orchestra_jobs 'state="failed",queue="default"' 2
	expect_sample orchestra_jobs 'state="assigned",queue="default"' 6
	expect_sample orchestra_jobs 'state="registered",queue="default"' 3
	expect_sample orchestra_jobs 'state="running",queue="default"' 0
	expect_sample orchestra_tasks 'state="done"' 1
	expect_sample orchestra_tasks 'state="finalized"' 1
	expect_sample orchestra_tasks 'state="running"' 2
	expect_sample orchestra_tasks 'state="registered"' 1
	! grep -q 'orchestra_tasks{state="removed"}' "$OUT" ||
	    fail "a state no task row can have"
}
test_case "jobs by state and queue, tasks by state" jobs_tasks

users_waiting() {
	local age queued
	cp "$TMP/metrics.txt" "$OUT"
	expect_sample orchestra_user_jobs 'user="tester",state="waiting"' 6
	expect_sample orchestra_user_jobs 'user="tester",state="running"' 0
	expect_sample orchestra_user_jobs 'user="alice",state="waiting"' 3
	expect_sample orchestra_user_jobs 'user="alice",state="running"' 0
	age=$(sample orchestra_oldest_waiting_job_age_seconds 'queue="default"')
	queued=$(db_value "SELECT min(queued_ms) FROM job WHERE status = 'assigned'")
	python3 -c '
import sys, time
age, queued = float(sys.argv[1]), int(sys.argv[2])
# The scrape came after the queueing and before now.
sys.exit(0 if 0 < age <= time.time() - queued / 1000.0 + 0.001 else 1)' \
	    "$age" "$queued" || fail "oldest waiting age $age, queued at $queued"
}
test_case "users' running and waiting jobs; the oldest waiting job's age" \
    users_waiting

nodes() {
	cp "$TMP/metrics.txt" "$OUT"
	expect_sample orchestra_node_jobs_ended_total \
	    "node=\"$NODE\",result=\"completed\"" 6
	expect_sample orchestra_node_jobs_ended_total \
	    "node=\"$NODE\",result=\"failed\"" 2
	expect_sample orchestra_slots "node=\"$NODE\",kind=\"cpu\",state=\"enabled\"" 0
	expect_sample orchestra_slots "node=\"$NODE\",kind=\"cpu\",state=\"max\"" 8
	expect_sample orchestra_slots "node=\"$NODE\",kind=\"cpu\",state=\"used\"" 0
	expect_sample orchestra_slots 'node="n2",kind="gpu",state="enabled"' 1
	expect_sample orchestra_slots 'node="n2",kind="gpu",state="max"' 2
	expect_sample orchestra_node_healthy "node=\"$NODE\"" 1
	expect_sample orchestra_node_enabled 'node="n2"' 1
	expect_sample orchestra_node_condition "node=\"$NODE\",condition=\"ready\"" 1
	# The pilot saw this machine, never n2.
	sample orchestra_node_last_seen_timestamp_seconds "node=\"$NODE\"" \
	    >/dev/null || fail "no last seen time for $NODE"
	! sample orchestra_node_last_seen_timestamp_seconds 'node="n2"' \
	    >/dev/null || fail "a last seen time for a node never seen"
}
test_case "slots, health and completed/failed counters per node" nodes

escaped() {
	cp "$TMP/metrics.txt" "$OUT"
	expect_sample orchestra_node_info 'node="n2",queue="we\"ird\\q\nx"' 1
	expect_sample orchestra_jobs 'state="done",queue="we\"ird\\q\nx"' 0
}
test_case "label values escaped: backslash, double quote, newline" escaped

histograms() {
	cp "$TMP/metrics.txt" "$OUT"
	# 8 jobs of ok and bad ran; the waiting ones never started.
	expect_sample orchestra_job_run_seconds_count "" 8
	expect_sample orchestra_job_run_seconds_bucket 'le="+Inf"' 8
	expect_sample orchestra_job_wait_seconds_count "" 8
	expect_sample orchestra_job_wait_seconds_bucket 'le="+Inf"' 8
	python3 - "$OUT" <<'PY' || fail "histogram figures"
import re, sys
text = open(sys.argv[1]).read()
def val(name, labels=""):
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name),
        re.escape("{" + labels + "}" if labels else "")), text, re.M)
    return float(m.group(1))
# One run took over a second: not in the first bucket; the sum says so.
assert val("orchestra_job_run_seconds_bucket", 'le="1"') <= 7
assert val("orchestra_job_run_seconds_sum") >= 1.2
cycles = val("orchestra_pilot_cycle_duration_seconds_count")
assert cycles >= 2, cycles  # the running pilot's and --once's
assert val("orchestra_pilot_cycle_duration_seconds_sum") > 0
for h in ("job_wait_seconds", "job_run_seconds",
          "pilot_cycle_duration_seconds"):
    b = [float(v) for v in re.findall(
        r"^orchestra_%s_bucket\{le=\"[^\"]+\"\} (\S+)$" % h, text, re.M)]
    assert b == sorted(b) and len(b) >= 10, (h, b)
PY
	expect_sample orchestra_pilot_backend_errors_total 'operation="start"' 0
	expect_sample orchestra_pilot_cycle_failures_total "" 0
}
test_case "wait, run and cycle histograms from what the pilot recorded" \
    histograms

# Removing a task takes its jobs, not the counts: counters and histograms
# never go down.
monotonic() {
	expect_exit 0 orch task delete ok
	expect_exit 0 orch pilot --once
	[ "$(task_status ok)" = "" ] || fail "task ok was not removed"
	expect_exit 0 orch metrics
	expect_sample orchestra_jobs 'state="done",queue="default"' 1
	expect_sample orchestra_job_run_seconds_count "" 8
	expect_sample orchestra_node_jobs_ended_total \
	    "node=\"$NODE\",result=\"completed\"" 6
}
test_case "a removed task leaves the counters and histograms as they were" \
    monotonic

output_file() {
	mkdir -p "$TMP/textfile"
	expect_exit 0 orch metrics --output "$TMP/textfile/orchestra.prom"
	[ ! -s "$OUT" ] || fail "--output also wrote to stdout"
	[ "$(ls "$TMP/textfile")" = "orchestra.prom" ] ||
	    fail "left in the directory: $(ls "$TMP/textfile")"
	[ "$(stat -c %a "$TMP/textfile/orchestra.prom")" = 644 ] ||
	    fail "mode $(stat -c %a "$TMP/textfile/orchestra.prom")"
	promtool check metrics <"$TMP/textfile/orchestra.prom" ||
	    fail "promtool refused the file"
	expect_exit 1 orch metrics --output "$TMP/no-such-dir/x.prom"
	expect_stderr_line "^orchestra: cannot write '$TMP/no-such-dir/x.prom"
	expect_exit 2 orch metrics extra
	expect_stderr_usage "unexpected argument 'extra'"
}
test_case "--output writes the file atomically; errors are exit 1 and 2" \
    output_file
