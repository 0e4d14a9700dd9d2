#!/bin/bash
# t0140-doctor.sh - `orchestra doctor` (issue 16): against a good set-up
# (a pilot, serve, an SMTP server that asks for STARTTLS and a login)
# every check says OK and it exits 0, sending no mail; then against each
# broken one, exit 1 and the failed check named, the others as they are:
# a wrong database URL (its password never shown), a database file that
# is no database, a database readable by others, no pilot, serve down,
# bad SMTP credentials (the password never shown), no SMTP server, a
# config file that cannot be read, and a login for a server that offers
# no STARTTLS.  The Kubernetes checks are in t0220.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

# A loopback port nobody listens on (bound, then let go).
closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The line of check $1 in the last doctor's stdout is state $2 and its
# text matches the ERE $3.
check_is() {
	expect_stdout_line "^$1 +$2 +${3:-}"
}

# No line of the last doctor's output holds $1.
never_shown() {
	if grep -Fq -- "$1" "$OUT" "$ERR"; then
		lib_show_output
		fail "'$1' was shown"
	fi
}

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -days 2 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
orch init >/dev/null
orch user add alice --unix-user "$ME" >/dev/null
smtp_sink_start --starttls "$TMP/cert.pem" "$TMP/key.pem" \
    --auth mailer:s3cret-pw
SMTP_PORT=$(cat "$SMTP_SINK/port")
export ORCHESTRA_SMTP_CA=$TMP/cert.pem
export ORCHESTRA_SMTP_URL="smtp://mailer:s3cret-pw@127.0.0.1:$SMTP_PORT"
pilot_start --interval 1
pilot_wait_beat
serve_start
export ORCHESTRA_LISTEN=${API#http://}

good() {
	expect_exit 0 orch doctor
	[ "$(lib_lines "$OUT")" -eq 10 ] || fail "not one line per check"
	check_is config OK "$ORCHESTRA_CONF read$"
	if on_pg; then
		check_is database OK "postgresql, reachable, schema [0-9]+ \(migrated\)$"
		check_is files -- "the PostgreSQL server keeps them$"
	else
		check_is database OK "sqlite $db, reachable, schema [0-9]+ \(migrated\)$"
		check_is files OK "'$db' and its -wal, -shm are the service's alone$"
	fi
	check_is pilot OK "running on $(hostname), pid $PILOT_PID, last cycle [0-9]+s ago$"
	check_is backend OK "local, opened"
	check_is accounts OK "2 users, each with a Unix account its jobs run as$"
	check_is nodes OK "1 ready: $(hostname); the backend sees 1 node$"
	# Enforced where the pilot has a memory cgroup (the truth of this
	# machine, found as the pilot finds it: its log says which), else
	# said, skipped, no failure.
	wait_until 60 grep -q "jobs' memory .*enforced" "$PILOT_LOG"
	if grep -q "jobs' memory enforced: cgroup v[12] memory at " \
	    "$PILOT_LOG"; then
		check_is memory OK "enforced \(cgroup $(sed -n \
		    "s/.*jobs' memory enforced: cgroup \(v[12] memory at .*\)$/\1/p" \
		    "$PILOT_LOG")\)$"
	else
		check_is memory -- "not enforced: .+; on the local backend a job's memory places it, nothing more; its peak memory is recorded$"
	fi
	check_is serve OK "answers GET /healthz$"
	check_is mail OK "smtp://mailer:\*\*\*@127.0.0.1:$SMTP_PORT answers: "
	never_shown s3cret-pw
	expect_stderr_empty
	# The SMTP server was spoken to, and sent nothing.
	sink_count 0 || fail "doctor sent a mail"
	expect_exit 0 orch doctor --json
	json_check 'd["ok"] is True and d["failed"] == 0 and [c["check"] for c in d["checks"]] == ["config", "database", "files", "pilot", "backend", "accounts", "nodes", "memory", "serve", "mail"] and all(c["state"] in ("ok", "skip") for c in d["checks"])'
}
test_case "a good set-up: every check OK, exit 0, no mail sent" good

wrong_db_url() {
	expect_exit 1 env \
	    ORCHESTRA_DB="postgresql://orch:db-pw-42@127.0.0.1:$(closed_port)/orchestra" \
	    "$ORCHESTRA_BIN" doctor
	check_is database FAIL "cannot connect to PostgreSQL: .*: check ORCHESTRA_DB \(key db\)$"
	check_is pilot -- "needs the database$"
	check_is accounts -- "needs the database$"
	check_is nodes -- "needs the database$"
	check_is serve OK
	check_is mail OK
	never_shown db-pw-42
	expect_exit 1 env ORCHESTRA_DB="$TMP/nowhere/orchestra.db" \
	    "$ORCHESTRA_BIN" doctor
	check_is database FAIL "no database at '$TMP/nowhere/orchestra.db': run 'orchestra init' first$"
	check_is files -- "no file '$TMP/nowhere/orchestra.db'$"
}
test_case "a wrong database URL: database FAIL, its password not shown" \
    wrong_db_url

unreadable_db() {
	head -c 8192 /dev/urandom >"$TMP/garbage.db"
	chmod 600 "$TMP/garbage.db"
	expect_exit 1 env ORCHESTRA_DB="sqlite:$TMP/garbage.db" \
	    "$ORCHESTRA_BIN" doctor
	check_is database FAIL ".*file is not a database.*: check ORCHESTRA_DB \(key db\)$"
	check_is pilot -- "needs the database$"
}
test_case "an unreadable database: database FAIL" unreadable_db

db_modes() {
	if on_pg; then
		return 0
	fi
	chmod 644 "$db"
	expect_exit 1 orch doctor
	chmod 600 "$db"
	check_is database OK
	check_is files FAIL "'$db' is mode 0644: others may read the database: chmod 600 it$"
	chmod 755 "$(dirname "$db")"
	expect_exit 0 orch doctor
	chmod 777 "$(dirname "$db")"
	expect_exit 1 orch doctor
	chmod 700 "$(dirname "$db")"
	check_is files FAIL "'$(dirname "$db")' is mode 0777: others may replace the database: chmod go-w it$"
}
test_case "a database others may read: files FAIL (SQLite)" db_modes

bad_smtp_login() {
	expect_exit 1 env \
	    ORCHESTRA_SMTP_URL="smtp://mailer:wrong-pw-7@127.0.0.1:$SMTP_PORT" \
	    "$ORCHESTRA_BIN" doctor
	check_is mail FAIL "smtp smtp://mailer:\*\*\*@127.0.0.1:$SMTP_PORT: Login denied \(server said 535\): check smtp_url"
	check_is database OK
	check_is pilot OK
	never_shown wrong-pw-7
	sink_count 0 || fail "doctor sent a mail"
}
test_case "bad SMTP credentials: mail FAIL, the password not shown" \
    bad_smtp_login

no_smtp() {
	expect_exit 1 env \
	    ORCHESTRA_SMTP_URL="smtp://127.0.0.1:$(closed_port)" \
	    "$ORCHESTRA_BIN" doctor
	check_is mail FAIL "smtp smtp://127.0.0.1:[0-9]+: .*: check smtp_url"
	expect_exit 0 env -u ORCHESTRA_SMTP_URL "$ORCHESTRA_BIN" doctor
	check_is mail -- "off: no smtp_url"
}
test_case "no SMTP server: mail FAIL; no smtp_url: mail off, no failure" \
    no_smtp

serve_stop
serve_down() {
	expect_exit 1 orch doctor
	check_is serve FAIL "cannot reach 'http://$ORCHESTRA_LISTEN/healthz': .*: start it"
	check_is pilot OK
}
test_case "serve down: serve FAIL" serve_down

pilot_stop
no_pilot() {
	expect_exit 1 orch doctor
	check_is pilot FAIL "no pilot is running \(.*\): start it \(orchestra pilot, or systemctl start orchestra-pilot\)$"
	check_is database OK
	check_is nodes OK
}
test_case "no pilot: pilot FAIL" no_pilot

bad_config() {
	printf '[orchestra]\nno_such_key = 1\n' >"$TMP/bad.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/bad.conf" "$ORCHESTRA_BIN" doctor
	check_is config FAIL ".*bad.conf.*no_such_key"
	[ "$(lib_lines "$OUT")" -eq 1 ] || fail "checks ran without settings"
	# Any other command stops at the settings, as before.
	expect_exit 1 env ORCHESTRA_CONF="$TMP/bad.conf" "$ORCHESTRA_BIN" status
	expect_stderr_line "^orchestra: .*bad.conf.*no_such_key"
}
test_case "a config file that cannot be read: config FAIL, nothing else" \
    bad_config

# A server that offers no STARTTLS: with a login in the URL, doctor will
# not send it in the clear.
smtp_sink_stop
rm -f "$SMTP_SINK/port"
smtp_sink_start
PLAIN_PORT=$(cat "$SMTP_SINK/port")
no_starttls() {
	expect_exit 1 env \
	    ORCHESTRA_SMTP_URL="smtp://mailer:s3cret-pw@127.0.0.1:$PLAIN_PORT" \
	    "$ORCHESTRA_BIN" doctor
	check_is mail FAIL "smtp smtp://mailer:\*\*\*@127.0.0.1:$PLAIN_PORT: .*STARTTLS.*: check smtp_url"
	never_shown s3cret-pw
	# Without a login, a server without TLS is taken as it is.
	expect_exit 1 env ORCHESTRA_SMTP_URL="smtp://127.0.0.1:$PLAIN_PORT" \
	    "$ORCHESTRA_BIN" doctor
	check_is mail OK "smtp://127.0.0.1:$PLAIN_PORT answers: "
	sink_count 0 || fail "doctor sent a mail"
}
test_case "a login but no STARTTLS: mail FAIL, nothing sent in the clear" \
    no_starttls
