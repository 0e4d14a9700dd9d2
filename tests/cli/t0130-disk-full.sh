#!/bin/bash
# t0130-disk-full.sh - a full disk under the database and the jobs'
# files (issue 17, finding 2): the pilot says once that the node is under
# disk pressure and once that the database's disk is full, not every
# cycle; its cycles back off (up to 4 s); jobs that end meanwhile are
# recorded once space returns, each end once; the node's disk pressure,
# kept by the pilot, is written then.  On a tmpfs of 4 MiB: root only.

. "$(dirname "$0")/lib.sh"

! on_kube || skip_all "a full disk: not on Kubernetes"
! on_pg || skip_all "a full disk: the database is on the full file system on SQLite only"
[ "$(id -u)" = 0 ] || skip_all "a full disk: mounting a tmpfs needs root"

mkdir -p "$ORCHESTRA_HOME"
mount -t tmpfs -o size=4m,mode=0711 orchestra-test "$ORCHESTRA_HOME" ||
	skip_all "a full disk: cannot mount a tmpfs here"
lib_umount() {
	umount -l "$ORCHESTRA_HOME"
}
lib_at_exit lib_umount

orch init >/dev/null
pilot_start --verbose
pilot_wait_started

GATE=$TMP/gate
orch task submit gated --skip-test --exec "while [ ! -e '$GATE' ];
    do sleep 0.05; done # %IN" --inputs "$(printf '/a\n/b\n/c')" \
    >/dev/null 2>&1 || orch task submit gated --skip-test \
    --exec "while [ ! -e '$GATE' ]; do sleep 0.05; done" >/dev/null
running_jobs() {
	[ "$(db_value "SELECT count(*) FROM job j JOIN task t
	    ON t.id = j.task_id WHERE t.name = 'gated'
	    AND j.status = 'running'")" -ge 1 ]
}
wait_until 60 running_jobs
NJOBS=$(db_value "SELECT count(*) FROM job j JOIN task t ON t.id = j.task_id
    WHERE t.name = 'gated' AND j.status = 'running'")
wait_until 60 task_is gated running

log_count() {
	grep -c -- "$1" "$PILOT_LOG" || :
}

# 256 KiB to give back first (still under the 10% of disk pressure),
# then the rest filled to the last block.
head -c 262144 /dev/zero >"$ORCHESTRA_HOME/small"
dd if=/dev/zero of="$ORCHESTRA_HOME/big" bs=4096 >/dev/null 2>&1 || :
[ "$(stat -f -c %a "$ORCHESTRA_HOME")" = 0 ] || fail "the tmpfs is not full"
# The jobs end while the disk is full.
: >"$GATE"

full_said() {
	[ "$(log_count "until the database's disk has space")" -ge 1 ]
}
backed_off() {
	[ "$(log_count "retrying in 4000 ms")" -ge 2 ]
}
full() {
	wait_until 60 full_said
	wait_until 60 backed_off
	[ "$(log_count "until the database's disk has space")" = 1 ] ||
	    fail "said $(log_count "until the database's disk has space") times"
	[ "$(log_count "is now unhealthy (disk pressure)")" = 1 ] ||
	    fail "unhealthy said $(log_count "is now unhealthy") times"
	[ "$(log_count "cannot record the nodes' health")" = 1 ] ||
	    fail "health failure said $(log_count "cannot record the nodes' health") times"
	# Backed off: 250, 500, 1000, 2000, 4000, 4000 ms ... not every
	# 250 ms.
	n=$(log_count "cycle failed")
	[ "$n" -le 9 ] || fail "$n failed cycles"
	# Nothing was recorded: the jobs still run in the database.
	running_jobs || fail "an end recorded on a full disk?"
}
test_case "a full disk is said once, and cycles back off" full

pressure_kept() {
	rm -f "$ORCHESTRA_HOME/small"
	wait_until 60 task_is gated done
	[ "$(db_value "SELECT disk_pressure FROM node")" = 1 ] ||
	    fail "disk_pressure $(db_value "SELECT disk_pressure FROM node")"
}
test_case "space back: the ends and the disk pressure are recorded" \
    pressure_kept

ends_once() {
	rm -f "$ORCHESTRA_HOME/big"
	no_pressure() {
		[ "$(db_value "SELECT disk_pressure FROM node")" = 0 ]
	}
	wait_until 60 no_pressure
	[ "$(db_value "SELECT count(*) FROM event e JOIN job j
	    ON j.id = e.job_id JOIN task t ON t.id = j.task_id
	    WHERE t.name = 'gated' AND e.kind = 'job'
	    AND e.new_status = 'done'")" = "$NJOBS" ] ||
	    fail "ends recorded: $(db_value "SELECT count(*) FROM event
	        WHERE kind = 'job' AND new_status = 'done'") of $NJOBS"
	[ "$(log_count "the database has space again")" = 1 ]
	orch node list >/dev/null
}
test_case "each end recorded once; the node healthy again" ends_once

pilot_stop
