#!/usr/bin/env bash
# setup.sh - install the Debian packages Orchestra needs, if any is missing.
#
#   scripts/setup.sh            what building and running needs
#   scripts/setup.sh --test     also what the test suite needs
#
# Idempotent, and silent when everything is already there.
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config libc6-dev libpq-dev
	libsqlite3-dev sqlite3 libjansson-dev libinih-dev libyaml-dev
	libcurl4-openssl-dev libsodium-dev libmicrohttpd-dev)
test_pkgs=(libcmocka-dev postgresql)
# Tests that run jobs as throw-away Unix accounts read processes with ps.
test_pkgs+=(procps)
# promtool, which checks the metrics exposition (tests/cli/t0350-metrics.sh).
test_pkgs+=(prometheus)
# The Kubernetes API simulator (tests/kube): Python, the official client's
# models for the API schemas, openssl for its certificates, and kubectl to
# check it with a real client.  Any kubectl will do: where one is installed
# already (Google's kubectl package, which kubernetes-client conflicts with),
# it is kept.
test_pkgs+=(python3 python3-kubernetes openssl)
# The SMTP server the mail tests run on loopback (tests/lib/smtp-sink.py).
test_pkgs+=(python3-aiosmtpd)
# tests/install: man renders the installed pages; systemd-analyze verify
# checks the units.
test_pkgs+=(man-db groff-base systemd)
# tests/install/test-image.sh builds deploy/Containerfile with podman (runc
# where crun cannot start a container), on a base that mmdebstrap makes
# from Debian's mirror when no registry can be reached.
test_pkgs+=(podman runc mmdebstrap)
command -v kubectl >/dev/null || test_pkgs+=(kubernetes-client)
# The dashboard's browser test (tests/browser): headless Chromium, driven
# over --remote-debugging-pipe by a client in plain Python.
test_pkgs+=(chromium)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >/tmp/orchestra-setup.log 2>&1; then
	"${sudo[@]}" apt-get update -q >>/tmp/orchestra-setup.log 2>&1
	"${sudo[@]}" apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >>/tmp/orchestra-setup.log 2>&1 || {
		echo "setup: apt-get failed; see /tmp/orchestra-setup.log" >&2
		tail -n 20 /tmp/orchestra-setup.log >&2
		exit 1
	}
fi
