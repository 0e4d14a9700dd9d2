#!/bin/bash
# t0212-kube-held-create.sh - a create the API server holds past the
# client's timeout (1 s here) is done late, whatever happened meanwhile:
# the client found no Job by name and created it again.  The held create
# lands (a) between the client's look and its second create, (b) while
# the Job made by the second create runs, (c) after that Job's job ended
# and its end was recorded, when the pilot used to delete the Job at
# once.  In each order the job runs once and its Job is created once (the
# simulator counts every creation of a name, a name made again after its
# delete too), and the ended Jobs are deleted all the same, once no create
# can still land (issue 17, finding 7).  (d) A kill while the create is
# held suspends the Job the retry made rather than deleting it, so the
# held create finds its name taken.

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able
kube_one_node

export ORCHESTRA_KUBE_TIMEOUT=1s
# No Job is deleted sooner than this after its last create was sent: more
# than the holds below.
export ORCHESTRA_KUBE_CREATE_HOLD=5s
RUNS=$USER_VOL/runs
: >"$RUNS"
echo one >"$TMP/one"

pilot_start --interval 1
pilot_wait_started

# Every held create was received more than $1 + 1 seconds ago: done.
holds_over() {
	python3 - "$KUBE_SIM/requests.log" "$1" <<'PY'
import json, sys, time
held = [r for r in map(json.loads, open(sys.argv[1]))
        if r.get("fault") == "delay"]
sys.exit(0 if held and
         all(time.time() > r["time"] + float(sys.argv[2]) + 1
             for r in held) else 1)
PY
}

# Each Job made once, and $1 Jobs made in all.
made_once() {
	kube_admin GET /state >"$TMP/state"
	python3 - "$TMP/state" "$1" <<'PY'
import json, sys
created = json.load(open(sys.argv[1]))["created"]
jobs = {k: n for k, n in created.items() if k.startswith("jobs/")}
twice = [k for k, n in jobs.items() if n > 1]
if twice:
    sys.exit("Jobs created more than once: %s" % twice)
if len(jobs) != int(sys.argv[2]):
    sys.exit("%d Jobs created, not %s" % (len(jobs), sys.argv[2]))
PY
}

# held TASK SECONDS COMMAND [JOBS]: the first create of TASK's job is held
# SECONDS; the job runs COMMAND, then appends its name to the ledger;
# JOBS Jobs are made in all by then.
held() {
	kube_admin POST /faults '{"kind": "delay", "count": 1, "seconds": '"$2"',
	    "method": "POST", "path": "/jobs$"}' >/dev/null
	expect_exit 0 orch task submit "$1" --skip-test \
	    --exec "$3; echo $1 %IN >>$RUNS" --inputs "@$TMP/one"
	wait_until 60 task_is "$1" done
	wait_until 30 holds_over "$2"
	[ "$(grep -c "^$1 " "$RUNS")" -eq 1 ] ||
	    fail "$1 ran $(grep -c "^$1 " "$RUNS") times"
	expect_exit 0 orch task show "$1" --json
	json_check 'd["job_list"][0]["attempts"] == 1 and
	    d["job_list"][0]["status"] == "done"'
	made_once "$4"
}

test_case "a create held 1.3 s: it lands between the look and the retry" \
    held between 1.3 true 1
test_case "a create held 3 s lands while the retry's Job runs" \
    held running 3 "sleep 4" 2
test_case "a create held 3 s lands after the job ended: no second Job" \
    held ended 3 true 3

# A kill while a create is still held: the Job the retry made is
# suspended, not deleted, so the held create, landing after the kill,
# finds the name taken; the job's command never ends, nor runs again.
job_started() {
	[ "$(grep -c "^killed-start " "$RUNS")" -ge 1 ]
}
killed() {
	kube_admin POST /faults '{"kind": "delay", "count": 1, "seconds": 3,
	    "method": "POST", "path": "/jobs$"}' >/dev/null
	expect_exit 0 orch task submit killed --skip-test \
	    --exec "echo killed-start %IN >>$RUNS; sleep 30; echo killed %IN >>$RUNS" \
	    --inputs "@$TMP/one"
	wait_until 60 job_started
	expect_exit 0 orch task kill killed
	wait_until 60 task_is killed killed
	wait_until 30 holds_over 3
	[ "$(grep -c "^killed-start " "$RUNS")" -eq 1 ] ||
	    fail "the killed job started $(grep -c "^killed-start " "$RUNS") times"
	[ "$(grep -c "^killed " "$RUNS")" -eq 0 ] ||
	    fail "the killed job ran to its end"
	made_once 4
	# It was suspended, not deleted, while a create could land.
	python3 - "$KUBE_SIM/requests.log" <<'PY' || fail "no suspend"
import json, sys
sys.exit(0 if any(r["method"] == "PATCH" and r["path"].endswith("/jobs/" +
    r["path"].rsplit("/", 1)[1]) and r.get("body") == {"spec": {"suspend": True}}
    for r in map(json.loads, open(sys.argv[1]))) else 1)
PY
}
test_case "a kill while a create is held suspends the Job: no second Job" \
    killed

kube_no_jobs() {
	kube_state 'd["objects"].get("jobs", 0) == 0'
}
test_case "the ended Jobs are deleted once no create can land" \
    wait_until 60 kube_no_jobs
pilot_stop
