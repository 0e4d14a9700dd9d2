#!/bin/bash
# t0106-pilot-gpu.sh - GPU slots on the local backend: with 2 GPU slots, a
# GPU task's jobs each see one device in CUDA_VISIBLE_DEVICES (0 or 1, the
# one the database says), two jobs running at once never share a device,
# and both devices are used; a CPU job sees CUDA_VISIBLE_DEVICES set and
# empty, whatever the pilot's own environment says.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 2 \
    --max-gpu-slots 2 --gpu-slots 2 >/dev/null
RUNS="$TMP/runs"
: >"$RUNS"

mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5 6 7; do
	: >"$TMP/in/a$i"
done

# "<task> <index> <CUDA_VISIBLE_DEVICES or 'unset'> <start ns> <end ns>"
cat >"$TMP/job.sh" <<EOF
t0=\$(date +%s%N)
sleep 0.4
echo "\$1 \$2 \${CUDA_VISIBLE_DEVICES-unset} \$t0 \$(date +%s%N)" >>"$RUNS"
EOF

setup() {
	expect_exit 0 orch node list --json
	json_check 'd[0]["gpu_slots"] == 2 and d[0]["max_gpu_slots"] == 2'
	expect_exit 0 orch task submit gjobs --gpu \
	    --exec "sh $TMP/job.sh gpu %JOB %IN" --inputs "$TMP/in"
	expect_exit 0 orch task submit cjobs \
	    --exec "sh $TMP/job.sh cpu %JOB %IN" --inputs "$TMP/in"
}
test_case "a GPU task and a CPU task of 8 jobs each" setup

# The pilot's own environment must not leak into the jobs.
CUDA_VISIBLE_DEVICES=0,1,2,3 pilot_start
wait_until 60 task_is gjobs "done"
wait_until 60 task_is cjobs "done"
pilot_stop

gpu_jobs() {
	expect_exit 0 orch task show gjobs --json
	cp "$OUT" "$TMP/gjobs.json"
	python3 - "$RUNS" "$TMP/gjobs.json" <<'EOF'
import json, sys
runs = [l.split() for l in open(sys.argv[1]) if l.startswith("gpu ")]
if sorted(int(r[1]) for r in runs) != list(range(8)):
    sys.exit("GPU jobs that ran: %r" % sorted(r[1] for r in runs))
db = {j["index"]: j["gpu"] for j in json.load(open(sys.argv[2]))["job_list"]}
for _, i, dev, s, e in runs:
    if dev not in ("0", "1"):
        sys.exit("job %s saw CUDA_VISIBLE_DEVICES=%r" % (i, dev))
    if db[int(i)] != int(dev):
        sys.exit("job %s saw device %s, the database says %r" % (i, dev, db[int(i)]))
for a in runs:
    for b in runs:
        if a is not b and a[2] == b[2] and int(a[3]) < int(b[4]) and int(b[3]) < int(a[4]):
            sys.exit("jobs %s and %s ran at once on device %s" % (a[1], b[1], a[2]))
if {r[2] for r in runs} != {"0", "1"}:
    sys.exit("devices used: %r" % {r[2] for r in runs})
EOF
}
test_case "GPU jobs see one device each, 0 or 1, never shared at once" gpu_jobs

cpu_jobs() {
	local n
	n=$(grep -c '^cpu [0-9]* [0-9]' "$RUNS" || :)
	[ "$n" -eq 0 ] || fail "CPU jobs saw a device or 'unset': $(grep '^cpu' "$RUNS")"
	# With CUDA_VISIBLE_DEVICES empty, the line has 4 fields.
	[ "$(awk '$1 == "cpu" && NF == 4' "$RUNS" | wc -l)" -eq 8 ] ||
	    fail "CPU jobs' lines: $(grep '^cpu' "$RUNS")"
	expect_exit 0 orch task show cjobs --json
	json_check 'all(j["gpu"] is None for j in d["job_list"])'
}
test_case "CPU jobs see CUDA_VISIBLE_DEVICES set and empty" cpu_jobs

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
