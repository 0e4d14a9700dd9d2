#!/bin/bash
# t0126-db-readonly.sh - an SQLite database on a read-only file system:
# every command says so ("Read-only file system"), not SQLite's bare
# "unable to open database file", and exits 1.  Needs root, for a
# read-only tmpfs mounted in a mount namespace of its own (unshare -m),
# so nothing is left mounted whatever happens.

. "$(dirname "$0")/lib.sh"

if on_pg; then
	echo "# skip: an SQLite file's case"
	exit 77
fi
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "# skip: needs root and unshare -m to mount a read-only file system"
	exit 77
fi

ro="$TMP/ro"
mkdir -p "$ro"
# In a private mount namespace: mount a tmpfs on $ro, make a database in
# it, remount it read-only, then run "$@" with ORCHESTRA_HOME in it.
cat >"$TMP/in-ro.sh" <<EOF2
set -e
mount -t tmpfs -o size=64m tmpfs "$ro"
export ORCHESTRA_HOME="$ro/home"
"$ORCHESTRA_BIN" init >/dev/null 2>&1
"$ORCHESTRA_BIN" task submit t1 --exec true --skip-test >/dev/null 2>&1
mount -o remount,ro "$ro"
exec "\$@"
EOF2

readonly_named() {
	local cmd
	for cmd in queue "task submit t2 --exec true --skip-test" \
	    "pilot --once"; do
		# shellcheck disable=SC2086 # the command's words
		expect_exit 1 unshare -m sh "$TMP/in-ro.sh" "$ORCHESTRA_BIN" $cmd
		expect_stderr_line "^orchestra: .*: Read-only file system$"
	done
}
test_case "a read-only file system is named as such" readonly_named
