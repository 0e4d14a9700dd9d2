#!/bin/bash
# t0201-kube-pilot.sh - the kubernetes backend against the API simulator
# (tests/kube/kube-sim.py): a task runs to done as Kubernetes Jobs, each
# pinned to its node, in its owner's namespace, with backoffLimit 0 and
# the GPU protection; a failing job has its exit code; kill deletes the
# Jobs; every Job the pilot created carries Orchestra's labels; a Job's
# end reaches a pilot with a long period at once (the watch); the
# ClusterRole of deploy/ grants exactly the requests made.

. "$(dirname "$0")/lib.sh"

kube_skip_unless_able
cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "8", "memory": "16Gi"}},
 {"name": "gpu-a", "capacity": {"cpu": "8", "memory": "16Gi", "nvidia.com/gpu": "2"}},
 {"name": "gpu-b", "capacity": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "4"}}]
NODES
kube_sim_start "$TMP/nodes.json"
SIMDIR=$KUBE_SIM
# A pod that cannot pull its image ends its job after 2 s, not 5 minutes.
export ORCHESTRA_KUBE_PULL_WAIT=2

api() { # METHOD PATH [BODY]: the simulator's answer, as kubectl would see it
	python3 - "$@" <<'PY'
import json, os, ssl, sys, urllib.request, base64
kc = open(os.environ["KUBECONFIG"]).read()
import re
server = re.search(r"server: (\S+)", kc).group(1)
token = re.search(r"token: (\S+)", kc).group(1)
ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", kc).group(1))
ctx = ssl.create_default_context(cadata=ca.decode())
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(server + sys.argv[2], data=body, method=sys.argv[1],
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, context=ctx).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
PY
}
orch init >/dev/null
kube_template_make

namespaces() {
	# The acting user exists (init): this makes its namespace and its
	# claim, of an NFS export that is its directory of the volume (the
	# simulator serves every export from the host's directory of its
	# path; see lib.sh).
	lib_user_volume tester
	expect_exit 0 orch user add tester --kubernetes --nfs-server sim.invalid \
	    --nfs-path "$USER_VOL"
	expect_stdout_contains "namespace is ready"
	expect_exit 0 orch user add carol --kubernetes --nfs-server 10.0.0.5 \
	    --nfs-path /export/carol
	expect_exit 0 orch user add carol --kubernetes --nfs-server 10.0.0.5 \
	    --nfs-path /export/carol
	[ "$(api GET /api/v1/namespaces/carol/persistentvolumeclaims/volume |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["volumeName"])')" = \
	    orchestra-carol ] || fail "no claim 'volume' of carol's volume"
	[ "$(api GET /api/v1/persistentvolumes/orchestra-carol |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["nfs"]["path"])')" = \
	    /export/carol ] || fail "no NFS volume for carol"
	# Not a namespace: refused, and no user stored.
	expect_exit 1 orch user add Dave_B --kubernetes
	expect_stderr_line "cannot be a Kubernetes namespace"
	expect_exit 1 orch user show Dave_B
	expect_exit 2 orch user add erin --nfs-server x --nfs-path /y
}
test_case "user add --kubernetes makes the namespace and the NFS volume, twice harmlessly" \
    namespaces
orch node add node-a --max-cpu-slots 4 --cpu-slots 4 >/dev/null
# SPEC: max_gpu_slots defaults to the GPUs the backend reports (gpu-a's
# capacity: 2), and gpu_slots to its maximum.
node_add_gpus() {
	expect_exit 0 orch node add gpu-a --queue gpu --max-cpu-slots 2 \
	    --cpu-slots 2 --memory 12G --json
	json_check 'd["max_gpu_slots"] == 2 and d["gpu_slots"] == 2'
	[ "$(db_query "SELECT max_gpu_slots FROM node WHERE name = 'node-a'")" = 0 ] ||
	    fail "node-a, with no GPU in the cluster, has GPU slots"
}
test_case "node add takes the GPUs the cluster reports" node_add_gpus
# This machine's node is not in the cluster: drain it.
orch node drain "$(hostname)" >/dev/null

# Memory from status.allocatable.memory, where not known yet (node-a); an
# admin's (gpu-a: 12G) is kept.
node_sync() {
	expect_exit 0 orch node sync --json
	json_check '{n["name"]: (n["sync"], n["max_gpu_slots"], n["cpu_slots"],
	    n["memory"] >> 30) for n in d} == {"node-a": ("changed", 0, 4, 16),
	    "gpu-a": ("unchanged", 2, 2, 12), "gpu-b": ("added", 4, 4, 8)}'
	expect_exit 0 orch node sync --json
	json_check 'all(n["sync"] == "unchanged" for n in d)'
	expect_exit 0 orch node drain gpu-b
}
test_case "node sync imports the cluster's nodes, their GPUs and memory" node_sync

pilot_start --interval 1
pilot_wait_started

runs_done() {
	expect_exit 0 orch task submit calc --exec 'echo job %JOB %IN; test %JOB != 3' \
	    --inputs "@$1"
	wait_until 120 task_is calc finalized
	expect_exit 0 orch task show calc --json
	json_check 'd["counts"]["done"] == 5 and d["counts"]["failed"] == 1 and
	    [j for j in d["job_list"] if j["index"] == 3][0]["exit_code"] == 1 and
	    all(j["node"] == "node-a" for j in d["job_list"])'
	expect_exit 0 orch task logs calc 2
	expect_stdout_contains "job 2"
}
seq -f "$TMP/in/%g" 1 6 >"$TMP/list6"
test_case "a task runs to its end as Kubernetes Jobs, exit codes and logs kept" \
    runs_done "$TMP/list6"

manifests() {
	python3 - "$SIMDIR/requests.log" <<'PY' || fail "a manifest is wrong"
import json, sys
made = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] != "POST" or not r["path"].endswith("/namespaces/tester/jobs"):
        continue
    job = r["body"]
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    if pod["nodeName"] != "node-a":
        continue
    made += 1
    c = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert job["metadata"]["namespace"] == "tester", job["metadata"]
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "orchestra"
    assert spec["backoffLimit"] == 0 and spec["ttlSecondsAfterFinished"] > 0
    assert pod["restartPolicy"] == "Never"
    assert c["command"][:2] == ["/bin/sh", "-c"]
    assert env["NVIDIA_VISIBLE_DEVICES"] == "none" and env["CUDA_VISIBLE_DEVICES"] == ""
    # No --memory: node-a's 16Gi over its 4 slots, asked and bounded; a
    # CPU for its slot.
    res = c["resources"]
    assert res["requests"] == {"cpu": "1", "memory": "4Gi"}, res
    assert res["limits"]["memory"] == "4Gi", res
assert made >= 6, "%d Jobs made on node-a" % made
PY
}
test_case "each Job: owner's namespace, labels, nodeName, backoffLimit 0, no GPU, memory" \
    manifests

# Once a job's end is recorded its Job is deleted (Background).
jobs_deleted() {
	python3 - "$SIMDIR/requests.log" <<'PY'
import json, sys
sys.exit(0 if any(
    r["method"] == "DELETE" and "/jobs/orchestra-" in r["path"] and
    r["query"].get("propagationPolicy") == "Background"
    for r in map(json.loads, open(sys.argv[1]))) else 1)
PY
}
test_case "ended Jobs are deleted with propagation Background" \
    wait_until 60 jobs_deleted

gpu_job() {
	expect_exit 0 orch task submit g --gpu --queue gpu --skip-test \
	    --memory 1536M --exec 'echo gpu'
	wait_until 120 task_is g done
	python3 - "$SIMDIR/requests.log" <<'PY' || fail "the GPU Job is wrong"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"].endswith("/namespaces/tester/jobs"):
        job = r["body"]
        pod = job["spec"]["template"]["spec"]
        if pod["nodeName"] != "gpu-a":
            continue
        c = pod["containers"][0]
        assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert c["resources"]["limits"]["memory"] == "1536Mi"
        assert c["resources"]["requests"]["memory"] == "1536Mi"
        assert not any(e["name"] == "NVIDIA_VISIBLE_DEVICES" for e in c.get("env", []))
        sys.exit(0)
sys.exit("no Job on gpu-a")
PY
}
test_case "a GPU job asks for nvidia.com/gpu: 1 and its --memory on its node" gpu_job

pull_error() {
	expect_exit 0 orch task submit nopull --skip-test --image debian:pull-error \
	    --exec 'true'
	wait_until 60 task_is nopull finalized
	expect_exit 0 orch task show nopull --json
	json_check 'd["job_list"][0]["end_reason"] == "could not start" and
	    d["job_list"][0]["exit_code"] == 127'
}
test_case "a job whose image cannot be pulled ends 'could not start'" \
    pull_error

killed() {
	expect_exit 0 orch task submit long --skip-test --exec 'sleep 300 # %IN' \
	    --inputs "@$TMP/list6"
	wait_until 120 bash -c "[ \"\$(\"$ORCHESTRA_BIN\" task show long --json |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counts\"][\"running\"])')\" -ge 1 ]"
	expect_exit 0 orch task kill long
	wait_until 120 task_is long killed
}
test_case "kill deletes the running Jobs and the task is killed" killed

pilot_stop

# With a 30 s period, a Job's end still reaches the pilot at once: it
# watches the Jobs between cycles.
watches() { # the watch requests logged so far
	python3 - "$SIMDIR/requests.log" <<'PY'
import json, sys
print(sum(1 for r in map(json.loads, open(sys.argv[1]))
          if r["method"] == "GET" and r.get("watch")))
PY
}
watches_before=$(watches)
pilot_start --interval 30
pilot_wait_started

watched() {
	local t0 t1
	# Let the new pilot's first cycle list the Jobs and start its watch.
	watching() {
		[ "$(watches)" -gt "$watches_before" ]
	}
	wait_until 60 watching
	t0=$SECONDS
	expect_exit 0 orch task submit quick --skip-test --exec 'sleep 1'
	wait_until 25 task_is quick done
	t1=$SECONDS
	echo "# submit to done with a 30 s period: $((t1 - t0)) s"
	[ $((t1 - t0)) -le 20 ] || fail "took $((t1 - t0)) s"
}
test_case "a Job's end reaches a pilot with a 30 s period at once (watch)" \
    watched

pilot_stop

# deploy/pilot.yaml's ClusterRole grants every request this run made (a
# run that does all Orchestra does: user add, node sync, jobs, kills,
# logs), and nothing that none used (tests/kube/check-rbac.py says which
# grants a run without faults may not use, and why).
rbac() {
	python3 "$SRCDIR/tests/kube/check-rbac.py" "$SIMDIR/requests.log" \
	    "$SRCDIR/deploy/pilot.yaml" -v >"$TMP/rbac" ||
	    { sed 's/^/#   /' "$TMP/rbac" >&2; fail "deploy/pilot.yaml's ClusterRole is wrong"; }
	cat "$TMP/rbac"
}
test_case "deploy/pilot.yaml's ClusterRole grants exactly the requests made" \
    rbac
