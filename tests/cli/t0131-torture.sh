#!/bin/bash
# t0131-torture.sh - the short torture run, `scripts/torture.sh --short`
# (issue 17): 120 jobs in four tasks while the pilot is SIGKILLed at
# random (at least 8 times), on the local backend a few supervisors too,
# on PostgreSQL (cli-pg/, a private server of the script's own) one
# server restart, and on the Kubernetes simulator its fault rules; then
# every job's command ran to its end once, each task is in the state its
# jobs imply, no node ran more jobs than its slots, and every change is
# an event.  On the database of the run (SQLite, or PostgreSQL for
# cli-pg/), each backend in turn; the simulator's part is skipped where
# it cannot run.  The full run (1,000 jobs, 50 kills) is the script's
# default: figures in bench/README.md.

. "$(dirname "$0")/lib.sh"

! on_kube || skip_all "it runs each backend itself"
db=sqlite
! on_pg || db=pg

torture() { # BACKEND
	local out=$TMP/torture-$1.out
	if ! "$SRCDIR/scripts/torture.sh" --short --db "$db" --backend "$1" \
	    --bin "$ORCHESTRA_BIN" >"$out" 2>&1; then
		sed 's/^/#   /' "$out" | tail -n 60 >&2
		fail "torture.sh --short --db $db --backend $1 failed"
	fi
	sed 's/^/# /' "$out"
	grep -q ': PASS$' "$out" || fail "no PASS line"
}
test_case "torture --short, $db, local: every invariant holds" torture local

if ! python3 -c 'import kubernetes' 2>/dev/null &&
    [ ! -d /usr/lib/python3/dist-packages/kubernetes ]; then
	test_skip "torture --short, $db, kube" "python3-kubernetes is missing"
elif ! python3 "$SRCDIR/tests/kube/kube-sim.py" --check-pods >/dev/null 2>&1
then
	test_skip "torture --short, $db, kube" "the simulator cannot run pods"
else
	test_case "torture --short, $db, kube: every invariant holds" \
	    torture kube
fi
