#!/bin/bash
# t0211-kube-paths.sh - the path contract of the kubernetes backend
# (docs/kubernetes.md): a job's pod mounts its owner's claim at
# $ORCHESTRA_VOLUME/<user>, where %OUT lies, and the job template's other
# volumes at their mountPaths; a submit whose input, %DATA or secondary
# path lies under none of them is refused in one line, naming the path and
# the mounts, and creates nothing (no row, no directory), whether it comes
# from the command line or through `serve`; a set-up that would run jobs
# blind (ORCHESTRA_VOLUME not absolute, a template whose mountPath is
# relative) is refused at submit too.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

kube_skip_unless_able
kube_one_node
VOL=$ORCHESTRA_HOME/volume
USERVOL=$VOL/tester
DATA=$TMP/data
# The template of a lab: the user's claim, and a data set mounted
# read-only at $DATA (a hostPath here, an NFS share on a cluster).
cat >"$TMP/template.yaml" <<YAML
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
          volumeMounts:
            - {name: volume, mountPath: /volume}
            - {name: data, mountPath: '$DATA', readOnly: true}
      volumes:
        - {name: volume, persistentVolumeClaim: {claimName: volume}}
        - {name: data, hostPath: {path: '$DATA', type: Directory}}
YAML
export ORCHESTRA_JOB_TEMPLATE=$TMP/template.yaml
MOUNTS="$USERVOL, $DATA"

mkdir -p "$USERVOL/in" "$DATA/set" "$TMP/data2" "$TMP/outside"
for i in 1 2; do
	echo "user $i" >"$USERVOL/in/u$i.txt"
	echo "data $i" >"$DATA/set/d$i.txt"
done
echo ref >"$DATA/ref.txt"
echo other >"$TMP/data2/a.txt"
echo away >"$TMP/outside/a.txt"

# What a refused submit must leave as it was: the database and the
# directories of the volume.
state() {
	db_dump
	volume_dirs
}

# orch task submit ARGS is refused with exit 1 and the one line $1 (a
# fixed string), and changes nothing.
refused() {
	local line=$1
	shift
	state >"$TMP/before"
	expect_exit 1 orch task submit "$@"
	[ "$(cat "$ERR")" = "orchestra: $line" ] ||
	    fail "stderr is '$(cat "$ERR")', not 'orchestra: $line'"
	state >"$TMP/after"
	cmp -s "$TMP/before" "$TMP/after" || {
		diff "$TMP/before" "$TMP/after" | sed 's/^/# /' >&2
		fail "a refused submit changed the database or the volume"
	}
}

outside() {
	refused "input $TMP/outside/a.txt is not under a path the jobs mount: $MOUNTS" \
	    t1 --exec 'cat %IN' --inputs "$TMP/outside/a.txt"
	# One bad path among good ones, from a list file.
	printf '%s\n' "$USERVOL/in/u1.txt" "$TMP/outside/a.txt" >"$TMP/list"
	refused "input $TMP/outside/a.txt is not under a path the jobs mount: $MOUNTS" \
	    t1 --exec 'cat %IN' --inputs "@$TMP/list"
	[ "$(db_value "SELECT count(*) FROM task")" = 0 ] || fail "a task row"
	[ ! -e "$USERVOL/t1" ] || fail "the task's directory was made"
}
test_case "an input outside every mount is refused, nothing created" outside

components() {
	refused "input $TMP/data2/a.txt is not under a path the jobs mount: $MOUNTS" \
	    t2 --exec 'cat %IN' --inputs "$TMP/data2/a.txt"
	# '..' leads out of the mount; the name is judged, not the file.
	refused "input $DATA/../outside/a.txt is not under a path the jobs mount: $MOUNTS" \
	    t2 --exec 'cat %IN' --inputs "@$TMP/list-dotdot"
	# Another user's directory is not this user's mount.
	refused "input $VOL/tester2/x is not under a path the jobs mount: $MOUNTS" \
	    t2 --exec 'cat %IN' --inputs "@$TMP/list-other"
}
echo "$DATA/../outside/a.txt" >"$TMP/list-dotdot"
echo "$VOL/tester2/x" >"$TMP/list-other"
test_case "paths compared by components: data2/ is not under data/, nor .. out of it" \
    components

data_secondary() {
	refused "%DATA $TMP/outside is not under a path the jobs mount: $MOUNTS" \
	    t3 --exec 'ls %DATA' --data "$TMP/outside"
	refused "%REF $TMP/data2/a.txt is not under a path the jobs mount: $MOUNTS" \
	    t3 --exec 'cat %REF %IN' --inputs "$USERVOL/in" \
	    --secondary "REF=$TMP/data2/a.txt"
	# Relative: from %OUT, the job's working directory.
	refused "%DATA ../../../outside is not under a path the jobs mount: $MOUNTS" \
	    t3 --exec 'ls %DATA' --data ../../../outside
}
test_case "%DATA and --secondary paths are checked the same way" data_secondary

pilot_start --interval 1
pilot_wait_started

accepted() {
	expect_exit 0 orch task submit mine --exec 'cat %IN > $(basename %IN).out' \
	    --inputs "$USERVOL/in"
	expect_exit 0 orch task submit shared \
	    --exec 'cat %IN %DATA %REF > $(basename %IN).out' \
	    --inputs "$DATA/set/" --data "$DATA/ref.txt" \
	    --secondary "REF=$USERVOL/in/u1.txt"
	expect_exit 0 orch task submit rel --skip-test --exec 'ls %DATA' \
	    --data ../in
	wait_until 120 task_is mine done
	wait_until 120 task_is shared done
	wait_until 120 task_is rel done
	[ "$(cat "$USERVOL/mine/u2.txt.out")" = "user 2" ] ||
	    fail "no output of mine in $USERVOL/mine"
	[ "$(cat "$USERVOL/shared/d1.txt.out")" = "data 1
ref
user 1" ] || fail "no output of shared in $USERVOL/shared"
}
test_case "inputs under the user's volume and under the template's mount run to done" \
    accepted

bodies() {
	kube_jobs_made >"$TMP/bodies"
	python3 - "$TMP/bodies" "$USERVOL" "$DATA" <<'PY' || fail "a Job mounts wrongly"
import json, sys
path, uservol, data = sys.argv[1:]
n = 0
for line in open(path):
    job = json.loads(line)
    pod = job["spec"]["template"]["spec"]
    claims = {v["name"] for v in pod["volumes"]
              if v.get("persistentVolumeClaim", {}).get("claimName") == "volume"}
    c = pod["containers"][0]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert [m["name"] for m in c["volumeMounts"] if m["name"] in claims] == \
        ["volume"], c["volumeMounts"]
    assert mounts[uservol]["name"] == "volume" and \
        not mounts[uservol].get("readOnly"), mounts
    assert mounts[data]["name"] == "data" and mounts[data]["readOnly"], mounts
    assert "/volume" not in mounts, mounts
    assert c["workingDir"].startswith(uservol + "/"), c["workingDir"]
    n += 1
assert n >= 5, "%d Jobs" % n
PY
}
test_case "each Job mounts the claim at \$ORCHESTRA_VOLUME/tester, %OUT under it" \
    bodies

pilot_stop

rows() {
	db_value "SELECT (SELECT count(*) FROM task) || ' ' ||
	    (SELECT count(*) FROM job) || ' ' || (SELECT count(*) FROM event)"
	volume_dirs
}

remote() {
	local token
	token=$(orch user token tester 2>/dev/null)
	serve_start
	rows >"$TMP/before"
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$token" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" \
	    expect_exit 1 "$ORCHESTRA_BIN" task submit r1 --exec 'cat %IN' \
	    --inputs "$TMP/outside/a.txt"
	expect_stderr_line "^orchestra: input $TMP/outside/a.txt is not under a path the jobs mount: $MOUNTS$"
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$token" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" \
	    expect_exit 1 "$ORCHESTRA_BIN" task submit r1 --exec 'cat %DATA' \
	    --data "$TMP/data2"
	expect_stderr_line "^orchestra: %DATA $TMP/data2 is not under a path the jobs mount: $MOUNTS$"
	serve_stop
	# (The token's last use is written: rows, not the whole dump.)
	rows >"$TMP/after"
	cmp -s "$TMP/before" "$TMP/after" ||
	    fail "a remote refused submit made rows or directories"
	[ "$(db_value "SELECT count(*) FROM task WHERE name = 'r1'")" = 0 ] ||
	    fail "a task r1"
	[ ! -e "$USERVOL/r1" ] || fail "r1's directory was made"
}
test_case "through serve, the same refusal" remote

misconfigured() {
	ORCHESTRA_VOLUME=volume refused \
	    "ORCHESTRA_VOLUME 'volume' is not an absolute path: the Kubernetes backend mounts each user's claim at ORCHESTRA_VOLUME/<user> in the user's pods" \
	    t4 --exec 'cat %IN' --inputs "$USERVOL/in"
	sed "s|mountPath: '$DATA'|mountPath: data|" "$TMP/template.yaml" \
	    >"$TMP/relative.yaml"
	ORCHESTRA_JOB_TEMPLATE=$TMP/relative.yaml refused \
	    "$TMP/relative.yaml: the mountPath of volume 'data' is not an absolute path" \
	    t4 --exec 'cat %IN' --inputs "$USERVOL/in"
	ORCHESTRA_JOB_TEMPLATE=$TMP/absent.yaml refused \
	    "cannot read the job template '$TMP/absent.yaml'" \
	    t4 --exec 'cat %IN' --inputs "$USERVOL/in"
}
test_case "a set-up that would run jobs blind is refused at submit" \
    misconfigured

local_unaffected() {
	# The local backend's jobs see this machine: no such check.
	mkdir -p "$TMP/outside"
	ORCHESTRA_BACKEND=local expect_exit 0 orch task submit loc \
	    --exec 'cat %IN' --inputs "$TMP/outside/a.txt"
}
test_case "the local backend does not check" local_unaffected
