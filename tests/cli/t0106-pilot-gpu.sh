#!/bin/bash
# t0106-pilot-gpu.sh - GPU slots: with 2 GPU slots, a GPU task's jobs each
# get one device (0 or 1) in the database, two jobs running at once never
# share a device, and both devices are used; a CPU job sees
# CUDA_VISIBLE_DEVICES set and empty, whatever the pilot's own environment
# says.
#
# On the local backend a GPU job sees its device in CUDA_VISIBLE_DEVICES,
# the one the database says.  On Kubernetes the device plugin picks the
# device and shows it to the container: a GPU Job asks for
# nvidia.com/gpu: 1 and Orchestra sets neither NVIDIA_VISIBLE_DEVICES nor
# CUDA_VISIBLE_DEVICES (the simulator has no device plugin: the job sees
# neither); a CPU job also sees NVIDIA_VISIBLE_DEVICES=none, and its Job
# asks for no GPU.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
lib_backend_ready
orch node set "$(hostname)" --max-cpu-slots 8 --cpu-slots 2 \
    --max-gpu-slots 2 --gpu-slots 2 >/dev/null
RUNS="$USER_VOL/runs"
NV="$USER_VOL/nvidia"
: >"$RUNS"
: >"$NV"

mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5 6 7; do
	: >"$TMP/in/a$i"
done

# "<task> <index> <CUDA_VISIBLE_DEVICES or 'unset'> <start ns> <end ns>"
# in $RUNS, "<task> <index> <NVIDIA_VISIBLE_DEVICES or 'unset'>" in $NV.
cat >"$TMP/job.sh" <<EOF
t0=\$(date +%s%N)
sleep 0.4
echo "\$1 \$2 \${NVIDIA_VISIBLE_DEVICES-unset}" >>"$NV"
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

# On Kubernetes, where a job sees no device from Orchestra, its device is
# the database's.
gpu_jobs() {
	expect_exit 0 orch task show gjobs --json
	cp "$OUT" "$TMP/gjobs.json"
	python3 - "$RUNS" "$TMP/gjobs.json" "$(! on_kube || echo kube)" <<'EOF'
import json, sys
runs = [l.split() for l in open(sys.argv[1]) if l.startswith("gpu ")]
if sorted(int(r[1]) for r in runs) != list(range(8)):
    sys.exit("GPU jobs that ran: %r" % sorted(r[1] for r in runs))
db = {j["index"]: j["gpu"] for j in json.load(open(sys.argv[2]))["job_list"]}
for r in runs:
    if sys.argv[3] == "kube":
        if r[2] != "unset":
            sys.exit("job %s saw CUDA_VISIBLE_DEVICES=%r" % (r[1], r[2]))
        r[2] = str(db[int(r[1])])
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
test_case "GPU jobs get one device each, 0 or 1, never shared at once" gpu_jobs

# The container of each Job made for the acting user's task $1 (once if
# its POST was repeated), one JSON object a line.
kube_containers_of() {
	kube_jobs_made | python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    job = json.loads(line)
    if job["metadata"]["labels"]["orchestra/task"] == sys.argv[1] and \
            job["metadata"]["name"] not in seen:
        seen.add(job["metadata"]["name"])
        print(json.dumps(job["spec"]["template"]["spec"]["containers"][0]))
' "user.$ORCHESTRA_USER.$1"
}

# $2: a Python condition on a container `c` and its env `env` (a dict).
kube_all_containers() {
	kube_containers_of "$1" >"$TMP/containers.$1"
	python3 - "$TMP/containers.$1" "$2" <<'EOF'
import json, sys
made = [json.loads(l) for l in open(sys.argv[1])]
if len(made) != 8:
    sys.exit("%d Jobs made" % len(made))
for c in made:
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    limits = c.get("resources", {}).get("limits", {})
    if not eval("(" + sys.argv[2] + "\n)"):
        sys.exit("not %s: %r" % (sys.argv[2], c))
EOF
}

kube_gpu_jobs() {
	kube_all_containers gjobs 'limits.get("nvidia.com/gpu") == "1" and
	    "NVIDIA_VISIBLE_DEVICES" not in env and
	    "CUDA_VISIBLE_DEVICES" not in env'
	[ "$(grep -c '^gpu [0-9]* unset$' "$NV")" -eq 8 ] ||
	    fail "GPU jobs' NVIDIA_VISIBLE_DEVICES: $(grep '^gpu' "$NV")"
}
if on_kube; then
	test_case "GPU Jobs ask for nvidia.com/gpu: 1 and set no device" \
	    kube_gpu_jobs
fi

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

kube_cpu_jobs() {
	kube_all_containers cjobs '"nvidia.com/gpu" not in limits and
	    env["NVIDIA_VISIBLE_DEVICES"] == "none" and
	    env["CUDA_VISIBLE_DEVICES"] == ""'
	[ "$(grep -c '^cpu [0-9]* none$' "$NV")" -eq 8 ] ||
	    fail "CPU jobs' NVIDIA_VISIBLE_DEVICES: $(grep '^cpu' "$NV")"
}
if on_kube; then
	test_case "CPU Jobs ask for no GPU and see NVIDIA_VISIBLE_DEVICES=none" \
	    kube_cpu_jobs
fi

test_case "no supervisor or job process is left" wait_until 30 no_job_procs
