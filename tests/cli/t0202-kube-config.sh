#!/bin/bash
# t0202-kube-config.sh - how the kubernetes backend finds and proves itself
# to the API server, against the simulator (tests/kube/kube-sim.py), with
# `orchestra node sync` as the command that asks it: every credential form
# of a kubeconfig works (token, tokenFile, client certificate and key as
# files or data, CA as file or data, insecure-skip-tls-verify, a named
# context), and so does the in-cluster service account; each mistake (no
# kubeconfig, an unknown context, a wrong or unreadable CA, a wrong or
# expired token, a client certificate the server does not trust, an exec
# plugin) gives exit 1, one line on stderr saying what is wrong, and
# stores nothing.

. "$(dirname "$0")/lib.sh"

kube_skip_unless_able
kube_sim_start
SIMDIR=$KUBE_SIM
# Each case says how to reach the server.
unset KUBECONFIG
SERVER=https://127.0.0.1:$(cat "$SIMDIR/port")
PKI=$SIMDIR/state/pki
TOKEN=$(cat "$SIMDIR/state/token")
export ORCHESTRA_BACKEND=kubernetes
# No ~/.kube/config of the machine's: only what each case sets.
export HOME=$TMP/home-dir
mkdir -p "$HOME"

# A kubeconfig of one cluster, one user and the context "test" of both,
# current; CLUSTER and USER are YAML flow mappings.
KC=$TMP/kc
mkdir -p "$KC"
write_kc() { # FILE CLUSTER USER
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: sim
  cluster: $2
contexts:
- name: test
  context: {cluster: sim, user: me}
users:
- name: me
  user: $3
EOF
}

# Who the simulator took the last request for: "token", "cert:CN", or
# "None" when it was refused.
last_user() {
	tail -n 1 "$SIMDIR/requests.log" |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["user"])'
}

# node sync works with the settings of the environment, and the simulator
# authenticated it as $1.
synced_as() {
	expect_exit 0 orch node sync --json
	expect_stderr_empty
	json_check '[n["name"] for n in d] == ["sim-node"]'
	[ "$(last_user)" = "$1" ] || fail "authenticated as '$(last_user)', not '$1'"
}

orch init >/dev/null
# This machine's node is no concern of these tests.
orch node drain "$(hostname)" >/dev/null

# ---- each credential form works

token_ca_data() {
	# The simulator's own kubeconfig: current-context, a token, the CA
	# inline.
	export KUBECONFIG=$SIMDIR/kubeconfig
	synced_as token
}
test_case "a token, the CA as certificate-authority-data" token_ca_data

token_file() {
	# Relative paths are the kubeconfig's directory's, not the working
	# directory's (as kubectl takes them).
	mkdir -p "$KC/tf/secrets"
	cp "$PKI/ca.crt" "$KC/tf/secrets/ca.crt"
	printf '%s\n' "$TOKEN" >"$KC/tf/secrets/token"
	write_kc "$KC/tf/config" \
	    "{server: '$SERVER', certificate-authority: secrets/ca.crt}" \
	    "{tokenFile: secrets/token}"
	export KUBECONFIG=$KC/tf/config
	cd /
	synced_as token
}
test_case "tokenFile and certificate-authority, relative to the kubeconfig" \
    token_file

cert_files() {
	mkdir -p "$KC/cf"
	cp "$PKI/client.crt" "$PKI/client.key" "$KC/cf/"
	write_kc "$KC/cf/config" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{client-certificate: client.crt, client-key: client.key}"
	export KUBECONFIG=$KC/cf/config
	synced_as cert:kube-sim-admin
}
test_case "client-certificate and client-key files" cert_files

named_context_cert_data() {
	# The simulator's kubeconfig has a second context, not the current
	# one: its user has client-certificate-data and client-key-data.
	export KUBECONFIG=$SIMDIR/kubeconfig ORCHESTRA_KUBE_CONTEXT=kube-sim-cert
	grep -q '^current-context: kube-sim$' "$KUBECONFIG" ||
	    fail "kube-sim-cert is the current context"
	synced_as cert:kube-sim-admin
}
test_case "a named context: client-certificate-data and client-key-data" \
    named_context_cert_data

insecure() {
	write_kc "$KC/insecure" \
	    "{server: '$SERVER', insecure-skip-tls-verify: true}" \
	    "{token: '$TOKEN'}"
	export KUBECONFIG=$KC/insecure
	synced_as token
}
test_case "insecure-skip-tls-verify, no CA" insecure

# In a pod, the service account's token, CA and namespace are mounted at
# a fixed path.  In a mount namespace of its own, node sync sees a tmpfs
# over /run (/var/run's target) holding them, and the host sees nothing.
SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount
in_sa_mount() { # DIR CMD...: run CMD with DIR mounted at $SA_DIR
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m bash -c '
		run=$(readlink -f /var/run)
		mount -t tmpfs tmpfs "$run" &&
		    mkdir -p "$run/secrets/kubernetes.io/serviceaccount" &&
		    mount --bind "$1" "$run/secrets/kubernetes.io/serviceaccount" &&
		    shift && exec "$@"' in_sa_mount "$@"
}
in_cluster() {
	local sa=$TMP/sa
	mkdir -p "$sa"
	cp "$PKI/ca.crt" "$sa/ca.crt"
	printf '%s' "$TOKEN" >"$sa/token"
	printf 'orchestra' >"$sa/namespace"
	unset KUBECONFIG
	export KUBERNETES_SERVICE_HOST=127.0.0.1
	export KUBERNETES_SERVICE_PORT=${SERVER##*:}
	expect_exit 0 in_sa_mount "$sa" "$ORCHESTRA_BIN" node sync --json
	expect_stderr_empty
	json_check '[n["name"] for n in d] == ["sim-node"]'
	[ "$(last_user)" = token ] || fail "not the service account's token"
	[ ! -e /var/run/secrets/kubernetes.io ] ||
	    fail "the service account directory leaked to the host"
	# In a cluster without the token: said so.
	rm "$sa/token"
	expect_exit 1 in_sa_mount "$sa" "$ORCHESTRA_BIN" node sync
	expect_stderr_line "^orchestra: in a cluster, but no service account token at $SA_DIR/token\$"
}
if unshare -m true 2>/dev/null; then
	test_case "in a cluster: the service account's token and CA" in_cluster
else
	test_skip "in a cluster: the service account's token and CA" \
	    "cannot make a mount namespace here (unshare -m)"
fi

# ---- each mistake: exit 1, one clear line, nothing stored

# From here a successful sync would store a node: a failed one must not.
kube_admin PUT /nodes '[{"name": "sim-node"}, {"name": "new-node"}]' >/dev/null

refused() { # REGEX
	local before
	before=$(db_dump)
	expect_exit 1 orch node sync
	expect_stderr_line "$1"
	[ "$(db_dump)" = "$before" ] || fail "the failed node sync stored something"
}

no_file() {
	export KUBECONFIG=$TMP/no-such-kubeconfig
	refused "^orchestra: cannot read the kubeconfig '$TMP/no-such-kubeconfig' \(KUBECONFIG, or kubeconfig in the config\): No such file or directory\$"
}
test_case "a kubeconfig that is not there" no_file

nothing() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST
	refused "^orchestra: no kubeconfig \(\\\$KUBECONFIG, ~/.kube/config\) and not in a cluster"
}
test_case "no kubeconfig and not in a cluster" nothing

unknown_context() {
	export KUBECONFIG=$SIMDIR/kubeconfig ORCHESTRA_KUBE_CONTEXT=kube-prod
	refused "^orchestra: kubeconfig '$SIMDIR/kubeconfig': no context 'kube-prod' \(it has 'kube-sim', 'kube-sim-cert'\)\$"
}
test_case "an unknown context" unknown_context

wrong_ca() {
	# A CA of our own, which did not sign the simulator's certificate.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$KC/other-ca.key" -out "$KC/other-ca.crt" \
	    -days 2 -subj /CN=other-ca 2>/dev/null
	write_kc "$KC/wrong-ca" \
	    "{server: '$SERVER', certificate-authority: '$KC/other-ca.crt'}" \
	    "{token: '$TOKEN'}"
	export KUBECONFIG=$KC/wrong-ca
	refused "^orchestra: kubernetes.*SSL certificate problem"
	write_kc "$KC/wrong-ca-data" \
	    "{server: '$SERVER', certificate-authority-data: $(base64 -w0 "$KC/other-ca.crt")}" \
	    "{token: '$TOKEN'}"
	export KUBECONFIG=$KC/wrong-ca-data
	refused "^orchestra: kubernetes.*SSL certificate problem"
}
test_case "a CA that did not sign the server's certificate" wrong_ca

bad_ca_file() {
	write_kc "$KC/no-ca" \
	    "{server: '$SERVER', certificate-authority: no-ca.crt}" \
	    "{token: '$TOKEN'}"
	export KUBECONFIG=$KC/no-ca
	refused "^orchestra: kubeconfig '$KC/no-ca': cannot read its certificate-authority '$KC/no-ca.crt': No such file or directory\$"
	write_kc "$KC/key-as-ca" \
	    "{server: '$SERVER', certificate-authority: '$PKI/client.key'}" \
	    "{token: '$TOKEN'}"
	export KUBECONFIG=$KC/key-as-ca
	refused "^orchestra: kubeconfig '$KC/key-as-ca': certificate-authority '$PKI/client.key' is not a PEM certificate\$"
}
test_case "a CA file that is missing, or no certificate" bad_ca_file

wrong_token() {
	write_kc "$KC/wrong-token" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{token: not-the-token}"
	export KUBECONFIG=$KC/wrong-token
	refused "^orchestra: kubernetes.*401 Unauthorized"
	if grep -q not-the-token "$ERR"; then
		fail "the token is in the message"
	fi
	[ "$(last_user)" = None ] || fail "the simulator took the wrong token"
}
test_case "a wrong token" wrong_token

past() { # EPOCH: that second is over
	[ "$(date +%s)" -gt "$1" ]
}
expired_token() {
	local tok expires
	# A token good for 15 s (time enough for a loaded machine to use it
	# once): it works, then it does not.
	tok=$(kube_admin POST /tokens '{"ttl": 15}')
	expires=$(printf '%s' "$tok" | python3 -c 'import datetime, json, sys
t = json.load(sys.stdin)["expires"]
print(int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp()) + 1)')
	write_kc "$KC/expiring" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{token: '$(printf '%s' "$tok" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')'}"
	export KUBECONFIG=$KC/expiring
	# Before the new node is added to the store: put the old set back.
	kube_admin PUT /nodes '[{"name": "sim-node"}]' >/dev/null
	synced_as token
	kube_admin PUT /nodes '[{"name": "sim-node"}, {"name": "new-node"}]' >/dev/null
	wait_until 40 past "$expires"
	refused "^orchestra: kubernetes.*401 Unauthorized"
	grep -q 'token is expired' "$SIMDIR/requests.log" ||
	    fail "the simulator did not refuse it as expired"
}
test_case "an expired token" expired_token

untrusted_cert() {
	# Signed by a CA the server does not trust: a real server takes it in
	# the handshake and answers 401 (see kube-sim.py).
	write_kc "$KC/untrusted" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{client-certificate: '$PKI/untrusted-client.crt', client-key: '$PKI/untrusted-client.key'}"
	export KUBECONFIG=$KC/untrusted
	refused "^orchestra: kubernetes.*401 Unauthorized"
	tail -n 1 "$SIMDIR/requests.log" | grep -q 'signed by unknown authority' ||
	    fail "the simulator did not refuse the certificate"
}
test_case "a client certificate the server does not trust" untrusted_cert

bad_cert_files() {
	write_kc "$KC/no-cert" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{client-certificate: gone.crt, client-key: '$PKI/client.key'}"
	export KUBECONFIG=$KC/no-cert
	refused "^orchestra: kubeconfig '$KC/no-cert': cannot read its client-certificate '$KC/gone.crt': No such file or directory\$"
	write_kc "$KC/swapped" \
	    "{server: '$SERVER', certificate-authority: '$PKI/ca.crt'}" \
	    "{client-certificate: '$PKI/client.crt', client-key: '$PKI/client.crt'}"
	export KUBECONFIG=$KC/swapped
	refused "^orchestra: kubeconfig '$KC/swapped': client-key '$PKI/client.crt' is not a PEM private key\$"
}
test_case "a client certificate or key file missing or wrong" bad_cert_files

plugins() {
	write_kc "$KC/exec" "{server: '$SERVER'}" \
	    "{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin}}"
	export KUBECONFIG=$KC/exec
	refused "^orchestra: kubeconfig '$KC/exec': user 'me' uses an exec credential plugin, which orchestra does not run: give it a token \(or tokenFile\) or a client certificate\$"
	write_kc "$KC/auth-provider" "{server: '$SERVER'}" \
	    "{auth-provider: {name: oidc}}"
	export KUBECONFIG=$KC/auth-provider
	refused "^orchestra: kubeconfig '$KC/auth-provider': user 'me' uses an auth-provider plugin"
}
test_case "an exec or auth-provider credential plugin is refused" plugins
