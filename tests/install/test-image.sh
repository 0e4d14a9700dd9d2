#!/bin/bash
# test-image.sh - deploy/Containerfile builds the image deploy/*.yaml run
# (orchestra:VERSION), and the image is what they expect: `orchestra` on
# its PATH and working (init, a submit and a pilot cycle on SQLite), its
# user the non-root "orchestra", no compiler left in it.
#
#   tests/install/test-image.sh
#
# The builder is podman (docker when it has a daemon); the Debian 12 base
# is $ORCHESTRA_IMAGE_BASE if set, else debian:12 if the builder has it or
# can pull it, else one made by mmdebstrap from Debian's own mirror (the
# only source of packages some machines reach).  Where podman's default
# runtime cannot start a container (crun in a sandbox without cgroup v2
# alone), runc with cgroupfs is tried.  Without a builder that works or a
# base, it prints "# skip: why" and exits 77.  What it makes is removed at
# the end.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's/^project(orchestra VERSION \([^ ]*\).*/\1/p' \
    "$SRC/CMakeLists.txt")
TAG=localhost/orchestra-test:$VERSION-$$
BASE_TAG=localhost/orchestra-test-base:bookworm-$$
LABEL=orchestra-test=$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-image.XXXXXX")
# Limits a sandbox lets a container lower to (crun fails to set its
# defaults where the hard limits are lower).
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
made=()
CLI=()

skip() {
	echo "# skip: $*"
	exit 77
}

cleanup() {
	local i
	if [ ${#CLI[@]} -gt 0 ]; then
		for i in "${made[@]}"; do
			"${CLI[@]}" rmi -f "$i" >/dev/null 2>&1 || :
		done
		# The build stage's image, left unnamed.
		"${CLI[@]}" image prune -f --filter "label=$LABEL" \
		    >/dev/null 2>&1 || :
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

if command -v podman >/dev/null && podman info >"$TMP/info" 2>&1; then
	CLI=(podman)
elif command -v docker >/dev/null && docker info >"$TMP/info" 2>&1; then
	CLI=(docker)
elif command -v podman >/dev/null; then
	skip "podman does not work here: $(tail -n 1 "$TMP/info")"
elif command -v docker >/dev/null; then
	skip "docker has no daemon to talk to: $(tail -n 1 "$TMP/info")"
else
	skip "no container builder (podman, or docker with its daemon)"
fi

has_image() {
	"${CLI[@]}" image inspect "$1" >/dev/null 2>&1
}

# The base: given, present, pulled, or made from Debian's mirror.
BASE=${ORCHESTRA_IMAGE_BASE:-}
for b in docker.io/library/debian:12 debian:12; do
	if [ -z "$BASE" ] && has_image "$b"; then
		BASE=$b
	fi
done
: >"$TMP/pull"
if [ -z "$BASE" ] && timeout 120 "${CLI[@]}" pull -q \
    docker.io/library/debian:12 >"$TMP/pull" 2>&1; then
	BASE=docker.io/library/debian:12
fi
if [ -z "$BASE" ] && command -v mmdebstrap >/dev/null; then
	echo "# no debian:12 to pull: making a base with mmdebstrap"
	if timeout 600 mmdebstrap --quiet --variant=apt \
	    --include=ca-certificates bookworm "$TMP/base.tar" \
	    >"$TMP/mmdebstrap" 2>&1 &&
	    "${CLI[@]}" import "$TMP/base.tar" "$BASE_TAG" \
	    >>"$TMP/mmdebstrap" 2>&1; then
		BASE=$BASE_TAG
		made+=("$BASE_TAG")
	else
		sed 's/^/#   /' "$TMP/mmdebstrap" | tail -n 5
		skip "no debian:12 base image: none to pull, and mmdebstrap failed"
	fi
	rm -f "$TMP/base.tar"
fi
[ -n "$BASE" ] || skip "no debian:12 base image to pull" \
    "($(tail -n 1 "$TMP/pull")), and no mmdebstrap to make one"

# A runtime that can start a container here.
if ! "${CLI[@]}" run --rm --network=none "${LIMITS[@]}" "$BASE" true \
    >"$TMP/run" 2>&1; then
	if [ "${CLI[0]}" = podman ] && command -v runc >/dev/null &&
	    podman --runtime runc --cgroup-manager=cgroupfs run --rm \
	    --network=none "${LIMITS[@]}" "$BASE" true >>"$TMP/run" 2>&1; then
		CLI=(podman --runtime runc --cgroup-manager=cgroupfs)
	else
		skip "${CLI[0]} cannot start a container here: $(head -n 1 "$TMP/run")"
	fi
fi
echo "# builder: ${CLI[*]}; base: $BASE"

rc=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	rc=1
}

made+=("$TAG")
# The host's network: the build installs Debian packages.
if "${CLI[@]}" build --network=host "${LIMITS[@]}" --label "$LABEL" \
    --build-arg "BASE=$BASE" --build-arg JOBS=2 -t "$TAG" \
    -f "$SRC/deploy/Containerfile" "$SRC" >"$TMP/build" 2>&1; then
	ok "deploy/Containerfile builds"
else
	sed 's/^/#   /' "$TMP/build" | tail -n 30
	not_ok "deploy/Containerfile builds"
	exit 1
fi

run() {
	"${CLI[@]}" run --rm --network=none "${LIMITS[@]}" "$TAG" "$@"
}

if run orchestra --help >"$TMP/help" 2>&1 &&
    grep -q '^usage: orchestra' "$TMP/help"; then
	ok "orchestra runs in the image"
else
	sed 's/^/#   /' "$TMP/help"
	not_ok "orchestra runs in the image"
fi
if [ "$(run id -un 2>&1)" = orchestra ] && [ "$(run id -u 2>&1)" != 0 ]; then
	ok "its user is orchestra, not root"
else
	not_ok "its user is orchestra, not root ($(run id 2>&1))"
fi
if run sh -c 'command -v gcc || command -v cmake' >/dev/null 2>&1; then
	not_ok "the runtime image holds no compiler"
else
	ok "the runtime image holds no compiler"
fi
# A round on SQLite as the image's user: init, a submit, a pilot cycle.
if run sh -c 'export ORCHESTRA_HOME=$HOME/o ORCHESTRA_USER=orchestra &&
    orchestra init >/dev/null && orchestra task submit t --exec true \
    --skip-test >/dev/null && orchestra pilot --once >/dev/null 2>&1 &&
    orchestra task list --json' >"$TMP/round" 2>&1 &&
    grep -q '"name": "t"' "$TMP/round"; then
	ok "init, a submit and a pilot cycle work in the image"
else
	sed 's/^/#   /' "$TMP/round"
	not_ok "init, a submit and a pilot cycle work in the image"
fi
exit $rc
