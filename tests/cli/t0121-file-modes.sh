#!/usr/bin/env bash
# Whatever the umask, what Orchestra keeps under ORCHESTRA_HOME is its
# account's alone (issue 13): the database, its WAL and SHM, lock files
# and job records are 0600, their directories list for nobody else, and a
# user's output directory is that user's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

umask 022
mkdir -p "$TMP/in"
echo x >"$TMP/in/a"
echo y >"$TMP/in/b"

orch init >/dev/null
orch task submit t --inputs "$TMP/in" --exec ': %IN; echo out >%OUT/o.%JOB' >/dev/null
pilot_start
pilot_wait_started
wait_until 60 task_is t done
serve_start
api GET /healthz

# What others may read, list or write: any file with a group or other
# permission bit, any directory others may list (r) or write (w).  The
# home and the volume's root are 0711 (users pass to their outputs); what
# a job writes into its owner's 0700 directory is the owner's business.
exposed() {
	find "$ORCHESTRA_HOME" -path "$ORCHESTRA_HOME/volume/*/*" -prune -o \
	    \( \( -type f -perm /077 \) -o \( -type d -perm /066 \) \) \
	    -printf '%m %p\n'
}
# While both run (an SQLite database has its WAL and SHM then), and after.
exposed >"$TMP/exposed"

pilot_stop
serve_stop
exposed >>"$TMP/exposed"

private_home() {
	# The job's record, with its log from 4 KiB on.
	[ -e "$ORCHESTRA_HOME/jobs/1-1.job" ]
	on_pg || [ -e "$db" ]
	if [ -s "$TMP/exposed" ]; then
		cat "$TMP/exposed" >&2
		false
	fi
	[ "$(stat -c %a "$ORCHESTRA_HOME")" = 711 ]
	[ "$(stat -c %a "$ORCHESTRA_HOME/jobs")" = 700 ]
	[ "$(stat -c %a "$ORCHESTRA_HOME/volume")" = 711 ]
	[ "$(stat -c %a "$ORCHESTRA_HOME/volume/tester")" = 700 ]
}
test_case 'with umask 022 nothing under ORCHESTRA_HOME is open to others' \
    private_home

job_umask() {
	[ "$(stat -c %a "$ORCHESTRA_HOME/volume/tester/t/o.0")" = 644 ]
}
test_case 'a job still writes its outputs with the usual umask' job_umask
