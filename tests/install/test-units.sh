#!/bin/bash
# test-units.sh BUILD_DIR - `systemd-analyze verify` of the installed
# systemd units (deploy/systemd), installed under a prefix of their own so
# that ExecStart names a binary that exists, with their man pages on
# MANPATH (verify checks Documentation=).  Exit 77 without systemd-analyze.
set -eu
BUILD=$(cd "$1" && pwd)
if ! command -v systemd-analyze >/dev/null; then
	echo "# skip: no systemd-analyze (apt-get install systemd)"
	exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-units.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
rc=0
for u in orchestra-pilot orchestra-serve; do
	if MANPATH=$TMP/prefix/share/man SYSTEMD_LOG_LEVEL=notice \
	    systemd-analyze verify "$TMP/prefix/lib/systemd/system/$u.service" \
	    >"$TMP/out" 2>&1 && [ ! -s "$TMP/out" ]; then
		echo "ok - systemd-analyze verify $u.service"
	else
		sed 's/^/# /' "$TMP/out"
		echo "not ok - systemd-analyze verify $u.service"
		rc=1
	fi
done
exit $rc
