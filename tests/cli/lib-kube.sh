# lib-kube.sh - sourced after lib.sh by the tests of the kubernetes backend:
# the API simulator (tests/kube/kube-sim.py) as a fixture.
#
#   kube_skip_unless_able     exit 0 with "# skip" without python3-kubernetes
#   kube_sim_start NODES      start the simulator with the nodes of the JSON
#                             file NODES, wait until it serves, export
#                             KUBECONFIG and ORCHESTRA_BACKEND=kubernetes and
#                             a job template with no volume; stopped at exit.
#                             $SIMDIR holds its port files and requests.log
#   kube_admin METHOD PATH [JSON]
#                             call the simulator's admin endpoint; its answer
#                             on stdout

kube_skip_unless_able() {
	if ! python3 -c 'import kubernetes' 2>/dev/null &&
	    [ ! -d /usr/lib/python3/dist-packages/kubernetes ]; then
		echo "# skip: python3-kubernetes is not installed"
		exit 0
	fi
}

SIMDIR=$TMP/sim
KUBE_SIM_PID=""

lib_kube_stop() {
	if [ -n "$KUBE_SIM_PID" ]; then
		kill -TERM "$KUBE_SIM_PID" 2>/dev/null && wait "$KUBE_SIM_PID" 2>/dev/null
	fi
	return 0
}

lib_kube_up() {
	[ -s "$SIMDIR/port" ] && [ -s "$SIMDIR/admin-port" ] &&
	    [ -s "$SIMDIR/kubeconfig" ]
}

kube_sim_start() {
	mkdir -p "$SIMDIR"
	python3 "$SRCDIR/tests/kube/kube-sim.py" --state-dir "$SIMDIR/state" \
	    --port-file "$SIMDIR/port" --admin-port-file "$SIMDIR/admin-port" \
	    --kubeconfig-out "$SIMDIR/kubeconfig" --log "$SIMDIR/requests.log" \
	    --nodes-file "$1" >/dev/null 2>"$SIMDIR/stderr" &
	KUBE_SIM_PID=$!
	lib_at_exit lib_kube_stop
	wait_until 60 lib_kube_up
	export KUBECONFIG=$SIMDIR/kubeconfig ORCHESTRA_BACKEND=kubernetes
	# No volume: the simulator would hold a pod for a claim nobody made.
	cat >"$TMP/template.yaml" <<'TMPL'
apiVersion: batch/v1
kind: Job
metadata: {name: placeholder}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: job, image: 'debian:12'}]
TMPL
	export ORCHESTRA_JOB_TEMPLATE=$TMP/template.yaml
}

kube_admin() {
	python3 - "$(cat "$SIMDIR/admin-port")" "$@" <<'PY'
import http.client, sys
port, method, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = sys.argv[4] if len(sys.argv) > 4 else None
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request(method, path, body, {"Content-Type": "application/json"})
r = c.getresponse()
out = r.read().decode()
print(out)
sys.exit(0 if r.status < 300 else 1)
PY
}
