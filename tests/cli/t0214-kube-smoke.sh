#!/bin/bash
# t0214-kube-smoke.sh - scripts/kube-smoke.sh, the smoke test an admin
# runs on a real cluster (docs/admin-guide.md), against the API simulator:
# with a CPU node and a GPU node it runs a CPU task and a GPU task end to
# end as Jobs in the smoke user's namespace, checks every output and
# leaves no Job, task or input behind; it fails, naming the cause, when
# the API server cannot be reached and when a job cannot run (an image
# that cannot be pulled); with no GPU node it leaves the GPU task out.
# The script keeps a SQLite database of its own: the PostgreSQL run skips.

. "$(dirname "$0")/lib.sh"
on_pg && skip_all "kube-smoke.sh keeps a SQLite database of its own"
kube_skip_unless_able
cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "4", "memory": "8Gi"}},
 {"name": "gpu-a", "capacity": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "2"}}]
NODES
kube_sim_start "$TMP/nodes.json"
export ORCHESTRA_VOLUME=$ORCHESTRA_HOME/volume ORCHESTRA_KUBE_PULL_WAIT=2
lib_user_volume orchestra-smoke
# A smoke that fails keeps its files for the admin to read (kube-smoke.sh
# says where); here they go with the test's own.
export TMPDIR=$TMP
SMOKE=("$SRCDIR/scripts/kube-smoke.sh" --bin "$ORCHESTRA_BIN"
    --unix-user "$ME" --nfs-server sim.invalid
    --nfs-path "$ORCHESTRA_VOLUME/orchestra-smoke" --jobs 3 --timeout 180)

# The Jobs the simulator was asked to create, as "NAMESPACE GPU" lines.
jobs_made() {
	kube_jobs_made | python3 -c '
import json, sys
for line in sys.stdin:
    j = json.loads(line)
    c = j["spec"]["template"]["spec"]["containers"][0]
    gpu = c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu", "0")
    print(j["metadata"]["namespace"], gpu)' | sort | uniq -c |
	    awk '{print $2, $3, $1}' | tr '\n' ';'
}

smoke_passes() {
	expect_exit 0 bash "${SMOKE[@]}"
	expect_stdout_line '^kube-smoke: nodes: .*gpu-a \(4 CPU, 2 GPU slots\)'
	expect_stdout_line '^kube-smoke: task smoke-cpu-.*: 3 outputs checked'
	expect_stdout_line '^kube-smoke: task smoke-gpu-.*: 3 outputs checked'
	expect_stdout_line '^kube-smoke: no Job of the smoke left in namespace orchestra-smoke$'
	expect_stdout_line '^kube-smoke: PASS: 2 task\(s\) of 3 jobs'
	[ "$(jobs_made)" = "orchestra-smoke 0 3;orchestra-smoke 1 3;" ] ||
	    fail "Jobs made: $(jobs_made)"
	# Its outputs, inputs and temporary files are gone.
	[ -z "$(ls -A "$ORCHESTRA_VOLUME/orchestra-smoke")" ] ||
	    fail "left in the volume: $(ls -A "$ORCHESTRA_VOLUME/orchestra-smoke")"
	kube_state 'd["objects"].get("jobs", 0) == 0 and d["processes"] == 0' ||
	    fail "the simulator still has Jobs of the smoke"
}
test_case "a CPU and a GPU task run end to end, checked and cleaned up" \
    smoke_passes

unreachable() {
	sed 's#server: https://[^ ]*#server: https://127.0.0.1:9#' \
	    "$KUBECONFIG" >"$TMP/dead.kubeconfig"
	KUBECONFIG=$TMP/dead.kubeconfig expect_exit 1 bash "${SMOKE[@]}"
	grep -q '^kube-smoke: FAIL: orchestra node sync: the API server cannot be reached' "$ERR" ||
	    fail "no reason given: $(cat "$ERR")"
}
test_case "an API server that cannot be reached fails the smoke, said so" \
    unreachable

bad_image() {
	expect_exit 1 bash "${SMOKE[@]}" --image registry.invalid/none:pull-error \
	    --timeout 120
	grep -Eq '^kube-smoke: FAIL: task smoke-cpu-[0-9-]+ ended (broken|failed)$' \
	    "$ERR" || fail "no reason given: $(cat "$ERR")"
}
test_case "a job that cannot run fails the smoke, naming its task" bad_image

no_gpu() {
	expect_exit 0 bash "${SMOKE[@]}" --node node-a --jobs 1
	expect_stdout_line '^kube-smoke: no node offers nvidia.com/gpu: the GPU task is left out$'
	expect_stdout_line 'drained: .*gpu-a'
	expect_stdout_line '^kube-smoke: PASS: 1 task\(s\) of 1 jobs'
}
test_case "with --node of a CPU node only, the GPU task is left out" no_gpu

usage() {
	expect_exit 2 bash "$SRCDIR/scripts/kube-smoke.sh" --bogus
	expect_exit 1 bash "$SRCDIR/scripts/kube-smoke.sh" --nfs-server x
	grep -q 'go together' "$ERR" || fail "no reason given: $(cat "$ERR")"
}
test_case "usage errors" usage
