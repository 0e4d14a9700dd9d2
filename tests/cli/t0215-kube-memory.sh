#!/bin/bash
# t0215-kube-memory.sh - a job's memory on the kubernetes backend, against
# the API simulator, which enforces a container's memory limit with a
# memory cgroup as a kubelet does (tests/kube/kube-sim.py): a task with
# --memory 64M gets a Job whose container asks and is limited to 64Mi; its
# job that stays under the limit ends done, and its job that allocates
# 200 MiB on the same node is killed by the kernel (the pod's container
# ends OOMKilled, 137) and ends failed with end_reason "out of memory";
# what either used stays unknown (no metrics API); the simulator leaves no
# cgroup behind.  Skipped when the simulator can enforce no memory limit
# here (no usable memory cgroup).

. "$(dirname "$0")/lib.sh"

kube_skip_unless_able
kube_one_node
if ! kube_state 'd["memory_limits"]["enforced"]'; then
	skip_all "the simulator enforces no memory limit here: $(kube_admin \
	    GET /state | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["memory_limits"]["why"])')"
fi

pilot_start --interval 1
pilot_wait_started

# Job 0 (the test job) allocates 16 MiB, job 1 200 MiB: the inputs say
# how much, in MiB.
mkdir -p "$TMP/in"
echo 16 >"$TMP/in/a-under"
echo 200 >"$TMP/in/b-over"
alloc='python3 -c "import sys; b = bytearray(int(open(sys.argv[1]).read()) << 20)" %IN'

out_of_memory() {
	expect_exit 0 orch task submit hog --memory 64M --exec "$alloc" \
	    --inputs "$TMP/in"
	wait_until 120 task_is hog finalized
	expect_exit 0 orch task show hog --json
	json_check '[(j["index"], j["status"], j["exit_code"], j["end_reason"],
	    j["node"], j["memory"] >> 20) for j in d["job_list"]] ==
	    [(0, "done", 0, "exit", "node-a", 64),
	     (1, "failed", 137, "out of memory", "node-a", 64)]'
	json_check 'all(j["peak_memory"] is None for j in d["job_list"])'
	# Each Job asked for its 64Mi and was limited to it.
	kube_jobs_made | python3 -c '
import json, sys
res = [json.loads(l)["spec"]["template"]["spec"]["containers"][0]["resources"]
       for l in sys.stdin]
assert len(res) == 2, res
assert all(r["requests"]["memory"] == r["limits"]["memory"] == "64Mi"
           for r in res), res' || fail "the Jobs' memory is not 64Mi"
	kube_state 'd["memory_limits"]["containers"] == 0' ||
	    fail "the simulator left a container's memory cgroup"
}
test_case "a job past its --memory is killed, failed \"out of memory\"; one under it is done" \
    out_of_memory

pilot_stop
