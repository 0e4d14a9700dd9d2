#!/bin/bash
# t0210-kube-accounts.sh - on Kubernetes each job runs as its owner's Unix
# account: a throw-away account (useradd; userdel at exit) owns a task
# whose job prints its `id -u` and `id -g`, and the simulator, which runs
# each pod's process as its runAsUser and runAsGroup, shows that account's;
# every Job the pilot sent carries runAsUser, runAsGroup, runAsNonRoot,
# allowPrivilegeEscalation false and capabilities drop ALL; a pod the
# kubelet will not start (CreateContainerConfigError) ends its job as
# "could not start" instead of holding its slot for ever.

. "$(dirname "$0")/lib.sh"
kube_skip_unless_able
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null; then
	echo "# skip: making a Unix account needs root and useradd"
	exit 77
fi

# A name that is both a login and a Kubernetes namespace.
ACCOUNT=orch-t0210-$$
account_remove() {
	userdel "$ACCOUNT" 2>/dev/null
	return 0
}
lib_at_exit account_remove
useradd --no-create-home --user-group --shell /usr/sbin/nologin \
    "$ACCOUNT" || fail "useradd $ACCOUNT"
ACCOUNT_UID=$(id -u "$ACCOUNT")
ACCOUNT_GID=$(id -g "$ACCOUNT")
[ "$ACCOUNT_UID" -gt 0 ] || fail "$ACCOUNT has uid $ACCOUNT_UID"
# The acting user, tester, has no account here: its jobs run as the
# pilot's own (root, in the tests).
PILOT_UID=$(id -u)

kube_one_node
kube_user_add "$ACCOUNT"
# A pod the kubelet cannot start ends its job after 2 s, not 5 minutes.
export ORCHESTRA_KUBE_PULL_WAIT=2
pilot_start --interval 1
pilot_wait_started

runs_as_owner() {
	expect_exit 0 orch --user "$ACCOUNT" task submit ids --skip-test \
	    --exec 'echo "uid=$(id -u) gid=$(id -g)"'
	wait_until 120 bash -c "\"$ORCHESTRA_BIN\" --user $ACCOUNT task show ids \
	    --json | python3 -c 'import json, sys
sys.exit(json.load(sys.stdin)[\"status\"] != \"done\")'"
	expect_exit 0 orch --user "$ACCOUNT" task logs ids 0
	expect_stdout_contains "uid=$ACCOUNT_UID gid=$ACCOUNT_GID"
}
test_case "a job runs as its owner's uid and gid (id -u in its log)" \
    runs_as_owner

root_owner() {
	expect_exit 0 orch task submit rootid --skip-test --exec 'id -u'
	wait_until 120 task_is rootid done
	expect_exit 0 orch task logs rootid 0
	expect_stdout_contains "$PILOT_UID"
}
test_case "a job of a user with no account runs as the pilot's" root_owner

# The Jobs the pilot sent: in the pod's securityContext and the
# container's, the owner's uid and gid; runAsNonRoot unless it is root; in
# the container's, no escalation and no capabilities.
security_contexts() {
	kube_jobs_made >"$TMP/jobs"
	python3 - "$TMP/jobs" "$ACCOUNT" "$ACCOUNT_UID" "$ACCOUNT_GID" \
	    "$PILOT_UID" "$(id -g)" <<'PY' || fail "a Job's securityContext is wrong"
import json, sys
path, account = sys.argv[1], sys.argv[2]
uid, gid, puid, pgid = map(int, sys.argv[3:])
seen = set()
for line in open(path):
    job = json.loads(line)
    ns = job["metadata"]["namespace"]
    want = (uid, gid) if ns == account else (puid, pgid)
    pod = job["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert (psc["runAsUser"], psc["runAsGroup"]) == want, psc
    assert psc["runAsNonRoot"] is (want[0] != 0), psc
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert (sc["runAsUser"], sc["runAsGroup"]) == want, sc
        assert sc["runAsNonRoot"] is (want[0] != 0), sc
        assert sc["allowPrivilegeEscalation"] is False, sc
        assert sc["capabilities"] == {"drop": ["ALL"]}, sc
        assert "privileged" not in sc, sc
    seen.add(ns)
assert seen == {account, "tester"}, seen
PY
}
test_case "each Job runs as its owner, without privilege escalation or capabilities" \
    security_contexts

pilot_stop

# A template whose container the kubelet cannot make (a secret that is not
# there): the pod waits in CreateContainerConfigError for ever, as would
# one with runAsNonRoot whose image runs as root.
cat >"$TMP/secret-template.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: placeholder}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: job
          image: 'debian:12'
          env:
            - name: PASSWORD
              valueFrom: {secretKeyRef: {name: nowhere, key: password}}
YAML
export ORCHESTRA_JOB_TEMPLATE=$TMP/secret-template.yaml
pilot_start --interval 1
pilot_wait_started

config_error() {
	expect_exit 0 orch task submit noconf --skip-test --exec 'true'
	wait_until 60 task_is noconf finalized
	expect_exit 0 orch task show noconf --json
	json_check 'd["job_list"][0]["end_reason"] == "could not start" and
	    d["job_list"][0]["exit_code"] == 127'
}
test_case "a pod in CreateContainerConfigError ends its job 'could not start'" \
    config_error

pilot_stop
