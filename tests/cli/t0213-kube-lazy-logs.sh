#!/bin/bash
# t0213-kube-lazy-logs.sh - on Kubernetes a job's create is the one API
# request on its way to its end (issue 18): the end is recorded without
# waiting for its log, and the tail of the log is read, kept, and the Job
# deleted afterwards, within the client's spare rate.  With the client
# held to 10 requests a second, 40 trivial jobs end with about one
# request each (three before: create, log, delete); then every job's tail
# is kept, every Job deleted, and `task logs` prints a job's output both
# while its Job is there and after it is gone.

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able
kube_one_node

ORCHESTRA_KUBE_QPS=10 ORCHESTRA_KUBE_BURST=1 pilot_start --interval 1
pilot_wait_started

seq -f "line-%g" 1 40 >"$TMP/inputs"
submit() {
	expect_exit 0 orch task submit lazy --skip-test --exec 'echo out-%IN' \
	    --inputs "@$TMP/inputs"
	wait_until 120 task_is lazy done
}
test_case "40 trivial jobs end" submit

# The requests sent before the last end was recorded, a job.
few_requests() {
	last=$(db_value "SELECT max(time_ms) FROM event
	    WHERE kind = 'job' AND new_status = 'done'")
	python3 - "$KUBE_SIM/requests.log" "$last" <<'PY'
import json, sys
last = int(sys.argv[2]) / 1000.0
reqs = [r for r in map(json.loads, open(sys.argv[1]))
        if r["time"] <= last and not r["watch"]]
creates = sum(1 for r in reqs if r["method"] == "POST" and
              r["path"].endswith("/jobs"))
print("# %d requests (%d creates) before the last end was recorded" %
      (len(reqs), creates))
if creates != 40 or len(reqs) > 60:
    sys.exit("%d requests for 40 jobs: more than 1.5 a job" % len(reqs))
PY
}
test_case "about one request a job until the last end" few_requests

tails_kept() {
	[ "$(db_value "SELECT count(*) FROM job
	    WHERE log_tail LIKE 'out-%line-%'")" -eq 40 ]
}
kube_no_jobs() {
	kube_state 'd["objects"].get("jobs", 0) == 0'
}
later() {
	wait_until 60 tails_kept
	wait_until 60 kube_no_jobs
	expect_exit 0 orch task logs lazy 7
	expect_stdout_contains "out-"
}
test_case "then every tail is kept and every Job deleted; logs still read" later
pilot_stop
