#!/bin/bash
# t0114-mail-tls.sh - mail over TLS with a login, against a real SMTP
# server on loopback that requires STARTTLS and a login (aiosmtpd, with a
# certificate made here): the right login delivers, a wrong one or an
# unchecked certificate holds every mail back (nothing given up); the
# password never reaches a log or the database; a recipient refused for
# good (550) is given up at once with an event, one refused for now (451)
# waits on its own; smtps:// (TLS from the start) delivers too.

. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -days 2 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
orch init >/dev/null
orch user set tester --email tester@lab.example >/dev/null
orch user add bob --email bad@lab.example --unix-user "$ME" >/dev/null
orch user add carl --email later@lab.example --unix-user "$ME" >/dev/null
smtp_sink_start --starttls "$TMP/cert.pem" "$TMP/key.pem" \
    --auth mailer:s3cret-pw --reject bad@lab.example \
    --defer later@lab.example
port=$(cat "$SMTP_SINK/port")
export ORCHESTRA_SMTP_CA=$TMP/cert.pem

once() { # URL
	ORCHESTRA_SMTP_URL=$1 "$ORCHESTRA_BIN" pilot --once \
	    2>>"$TMP/pilot-once.log"
}
mail_of() { # TASK: "attempts|sent|given up|last_error" of its mail
	db_value "SELECT m.attempts,
	    CASE WHEN m.sent_ms IS NULL THEN 0 ELSE 1 END,
	    CASE WHEN m.gave_up_ms IS NULL THEN 0 ELSE 1 END,
	    coalesce(m.last_error, '') FROM mail m
	    JOIN task t ON t.id = m.task_id WHERE t.name = '$1'"
}
ended_until() { # URL TASK
	once "$1"
	[ -n "$(db_value "SELECT 1 FROM mail m JOIN task t ON t.id = m.task_id
	    WHERE t.name = '$2'")" ]
}
due_now() {
	db_query "UPDATE mail SET next_ms = 0 WHERE sent_ms IS NULL"
}

GOOD="smtp://mailer:s3cret-pw@127.0.0.1:$port"
orch task submit t1 --skip-test --exec 'true' >/dev/null
wait_until 60 ended_until "smtp://mailer:wrong-pw@127.0.0.1:$port" t1
test_case "a wrong login: the mail waits, not given up" eval '
	mail_of t1 | grep -Eq "^[0-9]+\|0\|0\|smtp smtp://mailer:\*\*\*@127" &&
	sink_count 0'

due_now
once "smtp://127.0.0.1:$port"
test_case "no login where one is required: the mail waits (530)" eval '
	mail_of t1 | grep -Eq "^[0-9]+\|0\|0\|.*530" && sink_count 0'

due_now
ORCHESTRA_SMTP_CA="" ORCHESTRA_SMTP_URL=$GOOD "$ORCHESTRA_BIN" pilot --once \
    2>>"$TMP/pilot-once.log"
test_case "a certificate the system's CAs do not vouch for: the mail waits" \
    eval 'mail_of t1 | grep -Eq "^[0-9]+\|0\|0\|" && sink_count 0'

due_now
once "$GOOD"
test_case "STARTTLS and the right login: delivered" eval '
	sink_count 1 && mail_of t1 | grep -q "|1|0|$" &&
	sink_mails | grep -q "^tester@lab.example|\[orchestra\] task user.tester.t1 done|"'

orch --user bob task submit t2 --skip-test --exec 'true' >/dev/null
wait_until 60 ended_until "$GOOD" t2
test_case "a recipient refused for good (550): given up at once, with an event" eval '
	mail_of t2 | grep -Eq "^0\|0\|1\|.*RCPT failed: 550" &&
	[ "$(db_value "SELECT count(*) FROM event WHERE new_status =
	    '"'"'mail-given-up'"'"' AND detail LIKE '"'"'%bad@lab.example%550%'"'"'")" -eq 1 ]'

orch --user carl task submit t3 --skip-test --exec 'true' >/dev/null
wait_until 60 ended_until "$GOOD" t3
test_case "a recipient refused for now (451): waits on its own row" eval '
	mail_of t3 | grep -Eq "^1\|0\|0\|.*451" &&
	[ "$(db_value "SELECT count(*) FROM mail m JOIN task t ON t.id = m.task_id
	    WHERE t.name = '"'"'t3'"'"' AND m.next_ms >= m.created_ms + 2000")" -eq 1 ]'

test_case "the password is in no log and nowhere in the database" eval '
	! grep -q "s3cret-pw\|wrong-pw" "$TMP/pilot-once.log" &&
	! db_dump | grep -q "s3cret-pw\|wrong-pw"'

# TLS from the start, on a server of its own.
smtp_sink_stop
rm -f "$SMTP_SINK/port"
smtp_sink_start --smtps "$TMP/cert.pem" "$TMP/key.pem" --auth mailer:s3cret-pw
port=$(cat "$SMTP_SINK/port")
# t4's end mail within two cycles, as issue 8 asks: the cycle that
# queued it, and one more.  On PostgreSQL under load the first sometimes
# did not send it, most likely because t3's mail (451 above), due again
# 2 s after its try, went first (oldest first) and this server's TLS
# handshake and login used up the --once drain's budget (a running
# pilot's mail thread has none).  So t3's mail is put out of the way.
db_query "UPDATE mail SET next_ms = next_ms + 3600000 WHERE task_id =
    (SELECT id FROM task WHERE name = 't3')"
orch task submit t4 --skip-test --exec 'true' >/dev/null
wait_until 60 ended_until "smtps://mailer:s3cret-pw@127.0.0.1:$port" t4
once "smtps://mailer:s3cret-pw@127.0.0.1:$port"
test_case "smtps:// with a login: delivered" eval '
	{ mail_of t4 | grep -q "|1|0|$" ||
	    { mail_of t4 >&2; tail -n 3 "$TMP/pilot-once.log" >&2; false; }; } &&
	sink_mails | grep -q "^tester@lab.example|\[orchestra\] task user.tester.t4 done|"'
