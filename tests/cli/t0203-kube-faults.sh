#!/bin/bash
# t0203-kube-faults.sh - the kubernetes backend against a sick API server:
# a 300-job task runs to `done` while the simulator answers 10% of the
# requests with 500, lets 5% time out (some after doing the work, so a
# create "fails" that went through), answers some with 429 Retry-After: 1,
# drops some connections, and cuts the watch streams and compacts its
# history every few seconds.  Every job runs exactly once, none is ever
# marked failed or lost, and no Kubernetes Job is ever created twice.

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able

cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "16", "memory": "32Gi"}}]
NODES
kube_sim_start "$TMP/nodes.json"
# A request that has no answer in 1 s has timed out; a create may be held
# 2 s: no Job is deleted sooner than 4 s after its last create was sent.
export ORCHESTRA_KUBE_TIMEOUT=1s
export ORCHESTRA_KUBE_CREATE_HOLD=4s

kube_init
orch node add node-a --max-cpu-slots 16 --cpu-slots 16 >/dev/null

RUNS=$USER_VOL/runs
: >"$RUNS"
seq 1 300 >"$TMP/inputs"

faults() {
	# Rules are tried in order; each takes its share of what is left.
	kube_admin POST /faults '{"kind": "500", "probability": 0.10, "watch": false}'
	kube_admin POST /faults '{"kind": "delay_after", "probability": 0.03, "seconds": 2, "watch": false}'
	kube_admin POST /faults '{"kind": "delay", "probability": 0.02, "seconds": 2, "watch": false}'
	kube_admin POST /faults '{"kind": "429", "probability": 0.03, "retry_after": 1, "watch": false}'
	kube_admin POST /faults '{"kind": "drop", "probability": 0.02, "watch": false}'
	kube_admin POST /faults '{"kind": "500", "probability": 0.10, "watch": true}'
	kube_admin POST /chaos '{"cut_watches_every": 3, "compact_every": 5}'
} >/dev/null
faults

pilot_start --interval 1
pilot_wait_started

runs_through() {
	expect_exit 0 orch task submit sick --exec "echo %IN >>$RUNS" \
	    --inputs "@$TMP/inputs"
	wait_until 500 task_is sick done
}
test_case "a 300-job task ends done through the faults" runs_through

pilot_stop
kube_admin DELETE /faults >/dev/null

faults_happened() {
	python3 - "$KUBE_SIM/requests.log" <<'PY'
import collections, json, sys
seen = collections.Counter(json.loads(l).get("fault") for l in open(sys.argv[1]))
print("# faults injected: %s" % dict(seen))
for kind in ("500", "delay_after", "delay", "429", "drop"):
    if not seen[kind]:
        sys.exit("no %s fault was injected" % kind)
PY
}
test_case "every kind of fault was injected" faults_happened

once_each() {
	[ "$(wc -l <"$RUNS")" -eq 300 ] || fail "$(wc -l <"$RUNS") runs for 300 jobs"
	[ "$(sort -u "$RUNS" | wc -l)" -eq 300 ] || fail "some job ran twice"
	expect_exit 0 orch task show sick --json
	json_check 'd["counts"]["done"] == 300 and
	    all(j["status"] == "done" and j["attempts"] == 1 for j in d["job_list"])'
	[ "$(db_value "SELECT count(*) FROM job WHERE lost > 0")" -eq 0 ] ||
	    fail "a job was lost"
	[ "$(db_value "SELECT count(*) FROM event
	    WHERE kind = 'job' AND new_status IN ('failed', 'lost', 'assigned')
	    AND old_status IN ('pending', 'running')")" -eq 0 ] ||
	    fail "a job was marked failed or lost"
}
test_case "every job ran once, none failed or was lost" once_each

no_duplicates() {
	kube_admin GET /state >"$TMP/state"
	python3 - "$TMP/state" <<'PY'
import json, sys
created = json.load(open(sys.argv[1]))["created"]
jobs = {k: n for k, n in created.items() if k.startswith("jobs/")}
twice = [k for k, n in jobs.items() if n > 1]
if twice:
    sys.exit("Jobs created more than once: %s" % twice[:5])
if len(jobs) != 300:
    sys.exit("%d Jobs created for 300 jobs" % len(jobs))
PY
}
test_case "no Kubernetes Job was ever created twice" no_duplicates
