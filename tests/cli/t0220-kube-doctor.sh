#!/bin/bash
# t0220-kube-doctor.sh - `orchestra doctor` on the kubernetes backend
# (issue 16), against the simulator: with a pilot and serve running,
# every check OK, the nodes line naming the nodes and their GPUs from
# nvidia.com/gpu capacity; then each broken set-up exits 1 with the
# failed check named: a node with more GPU slots than the cluster gives it
# GPUs, a node the cluster does not have, a node not ready, an
# unreachable API server (within seconds), a wrong token (never shown),
# no kubeconfig; the kubeconfig named by the config's key.  The other
# checks are in t0140.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"
kube_skip_unless_able

cat >"$TMP/nodes.json" <<'NODES'
[{"name": "node-a", "capacity": {"cpu": "8", "memory": "16Gi"}},
 {"name": "node-g", "capacity": {"cpu": "8", "memory": "16Gi",
                                 "nvidia.com/gpu": "2"}}]
NODES
kube_sim_start "$TMP/nodes.json"
SIMDIR=$KUBE_SIM
SERVER=https://127.0.0.1:$(cat "$SIMDIR/port")
kube_init
orch node add node-a --max-cpu-slots 4 --cpu-slots 4 >/dev/null
orch node add node-g --max-cpu-slots 4 --cpu-slots 4 --max-gpu-slots 2 \
    --gpu-slots 2 >/dev/null

pilot_start --interval 1
pilot_wait_beat
serve_start
export ORCHESTRA_LISTEN=${API#http://}

check_is() { # CHECK STATE [ERE]
	expect_stdout_line "^$1 +$2 +${3:-}"
}

good() {
	expect_exit 0 orch doctor
	check_is backend OK "kubernetes, opened"
	check_is accounts OK "1 user, each with a Unix account its jobs run as$"
	check_is nodes OK "2 ready: node-a, node-g \(2 GPUs\); the backend sees 2 nodes, 2 GPUs$"
	check_is memory OK "enforced by kubernetes: each job's container asks the memory it was placed with as its request and limit$"
	check_is pilot OK
	check_is serve OK
	expect_stderr_empty
}
test_case "a good cluster: every check OK, the GPUs from nvidia.com/gpu" good

gpu_slots() {
	orch node set node-a --max-gpu-slots 1 >/dev/null
	expect_exit 1 orch doctor
	orch node set node-a --max-gpu-slots 0 >/dev/null
	check_is nodes FAIL "node 'node-a' has more GPU slots than the backend sees GPUs \(nvidia.com/gpu capacity: is the NVIDIA device plugin running there\?\)$"
	expect_exit 0 orch doctor
}
test_case "GPU slots on a node without nvidia.com/gpu: nodes FAIL" gpu_slots

not_in_cluster() {
	orch node add node-z >/dev/null
	expect_exit 1 orch doctor
	check_is nodes FAIL "node 'node-z' is not one the backend runs on$"
	# A drained one is the admin's business.
	orch node drain node-z >/dev/null
	expect_exit 0 orch doctor
}
test_case "a node the cluster does not have: nodes FAIL" not_in_cluster

not_ready() {
	expect_exit 0 kube_admin POST /nodes/node-a '{"ready": false}'
	expect_exit 1 orch doctor
	check_is nodes FAIL "node 'node-a' is not ready$"
	expect_exit 0 kube_admin POST /nodes/node-a '{"ready": true}'
}
test_case "a node not ready: nodes FAIL" not_ready

# The simulator's kubeconfig, with its server's URL or its token changed.
kc_with() { # FILE FROM TO
	sed "s|$2|$3|" "$SIMDIR/kubeconfig" >"$1"
	grep -Fq -- "$3" "$1" || fail "no '$2' in the simulator's kubeconfig"
}

unreachable() {
	local port start
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	kc_with "$TMP/kc-down" "$SERVER" "https://127.0.0.1:$port"
	start=$SECONDS
	expect_exit 1 env KUBECONFIG="$TMP/kc-down" "$ORCHESTRA_BIN" doctor
	[ $((SECONDS - start)) -le 20 ] ||
	    fail "doctor took $((SECONDS - start)) s"
	check_is backend OK
	check_is nodes FAIL "the kubernetes backend cannot list its nodes: kubernetes GET /api/v1/nodes: Failed to connect to 127.0.0.1 port $port"
	check_is database OK
	check_is pilot OK
}
test_case "an unreachable API server: nodes FAIL, within seconds" unreachable

bad_token() {
	kc_with "$TMP/kc-token" "token: .*" "token: not-the-token-5f3a"
	expect_exit 1 env KUBECONFIG="$TMP/kc-token" "$ORCHESTRA_BIN" doctor
	check_is nodes FAIL "the kubernetes backend cannot list its nodes: kubernetes: the API server refused the credentials of kubeconfig '$TMP/kc-token' \(401 Unauthorized"
	if grep -Fq not-the-token-5f3a "$OUT" "$ERR"; then
		fail "the token was shown"
	fi
}
test_case "a wrong token: nodes FAIL, the token not shown" bad_token

# The config's key kubeconfig stands for KUBECONFIG, which overrides it.
config_key() {
	printf '[orchestra]\nkubeconfig = %s\n' "$TMP/kc-token" >"$TMP/kc.conf"
	expect_exit 1 env -u KUBECONFIG ORCHESTRA_CONF="$TMP/kc.conf" \
	    "$ORCHESTRA_BIN" doctor
	check_is nodes FAIL "the kubernetes backend cannot list its nodes: kubernetes: the API server refused the credentials of kubeconfig '$TMP/kc-token' \(401 Unauthorized"
	expect_exit 0 env ORCHESTRA_CONF="$TMP/kc.conf" "$ORCHESTRA_BIN" doctor
	check_is nodes OK
	# A Job TTL under an hour would delete ends the pilot has not read.
	printf '[orchestra]\nkube_job_ttl = 10m\n' >"$TMP/kc.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/kc.conf" "$ORCHESTRA_BIN" doctor
	check_is backend FAIL "kube_job_ttl \(config '$TMP/kc.conf'\) '10m' is not a duration from 1h to 3650d, or 0 \(none\)"
	# The request rate and burst are refused when they are not numbers,
	# as every other setting is, not taken as their defaults.
	printf '[orchestra]\nkube_qps = fast\n' >"$TMP/kc.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/kc.conf" "$ORCHESTRA_BIN" doctor
	check_is backend FAIL "kube_qps \(config '$TMP/kc.conf'\) 'fast' is not a number above 0 and up to 1000000"
	expect_exit 1 env ORCHESTRA_KUBE_BURST=2.5 "$ORCHESTRA_BIN" doctor
	check_is backend FAIL "ORCHESTRA_KUBE_BURST '2.5' is not a whole number from 1 to 1000000"
	expect_exit 0 env ORCHESTRA_KUBE_QPS=0.5 ORCHESTRA_KUBE_BURST=3 \
	    "$ORCHESTRA_BIN" doctor
	check_is backend OK
}
test_case "the config's kubeconfig, kube_job_ttl and kube_qps keys" config_key

no_kubeconfig() {
	expect_exit 1 env KUBECONFIG="$TMP/no-such-kubeconfig" HOME="$TMP" \
	    "$ORCHESTRA_BIN" doctor
	check_is backend FAIL ".*no-such-kubeconfig.* \(backend kubernetes\)$"
	check_is accounts -- "needs the backend$"
	check_is nodes -- "needs the backend$"
	check_is memory -- "needs the backend$"
}
test_case "no kubeconfig: backend FAIL" no_kubeconfig
