#!/bin/bash
# t0111-mail.sh - mails against a real SMTP server on loopback (aiosmtpd):
# a task's end mails its owner once (done, finalized, broken, killed) with
# the right subject, to the right address, and nobody who turned mail off
# or has no address; with the server away the mails wait and arrive once
# it is back; a mail not sent within ORCHESTRA_MAIL_GIVE_UP is given up
# with an event; without ORCHESTRA_SMTP_URL nothing is queued; an
# address or subject edited by hand with CR/LF adds no header and no
# recipient.  (The pilot killed while it sends: t0112.)

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
orch user set tester --email tester@lab.example >/dev/null
orch user add alice --email alice@lab.example --unix-user "$ME" >/dev/null
orch user add carol --email carol@lab.example --mail off --unix-user "$ME" >/dev/null
orch user add dave --unix-user "$ME" >/dev/null
export ORCHESTRA_MAIL_FROM=orchestra@lab.example

mail_rows() { # WHERE
	db_value "SELECT count(*) FROM mail WHERE $1"
}

# ---- without a server configured, nothing is queued -------------------------

orch task submit quiet --skip-test --exec 'true' >/dev/null
no_url_done() {
	"$ORCHESTRA_BIN" pilot --once 2>>"$TMP/once.log"
	task_is quiet done
}
wait_until 60 no_url_done
test_case "mail off: no ORCHESTRA_SMTP_URL, the task ended, no mail queued" \
    eval 'grep -q "mail off: ORCHESTRA_SMTP_URL is not set" "$TMP/once.log" &&
	[ "$(mail_rows "1 = 1")" -eq 0 ]'

# ---- the four ends, once each, to the right people --------------------------

smtp_sink_start

orch task submit ok --skip-test --exec 'true' >/dev/null
printf '/a\n/b\n' >"$TMP/two"
orch task submit fin --skip-test --exec 'exit $(( %JOB % 2 )) # %IN' \
    --inputs "@$TMP/two" >/dev/null
orch --user alice task submit brk --exec 'exit 3' >/dev/null
orch --user alice task submit kil --skip-test --exec 'sleep 600' >/dev/null
orch --user carol task submit silent --skip-test --exec 'true' >/dev/null
orch --user dave task submit nobody --skip-test --exec 'true' >/dev/null

pilot_start --interval 1
pilot_wait_started
user_task_is() { # USER TASK STATUS
	[ "$(db_value "SELECT t.status FROM task t JOIN account a
	    ON a.id = t.account_id WHERE a.username = '$1'
	    AND t.name = '$2'")" = "$3" ]
}
kil_running() {
	[ "$(db_value "SELECT count(*) FROM job j JOIN task t ON t.id = j.task_id
	    WHERE t.name = 'kil' AND j.status = 'running'")" -eq 1 ]
}
wait_until 60 kil_running
orch --user alice task kill kil >/dev/null
wait_until 60 task_is ok done
wait_until 60 task_is fin finalized
wait_until 60 user_task_is alice brk broken
wait_until 60 user_task_is alice kil killed
wait_until 60 user_task_is carol silent done
wait_until 60 user_task_is dave nobody done
wait_until 60 sink_count 4

check_four() {
	sink_mails >"$TMP/got"
	sort "$TMP/got" | cut -d'|' -f1,2,4,5 >"$TMP/got.sorted"
	cat >"$TMP/want" <<'WANT'
alice@lab.example|[orchestra] task user.alice.brk broken|1|0
alice@lab.example|[orchestra] task user.alice.kil killed|1|0
tester@lab.example|[orchestra] task user.tester.fin finalized|1|0
tester@lab.example|[orchestra] task user.tester.ok done|1|0
WANT
	diff -u "$TMP/want" "$TMP/got.sorted" >&2 || fail "mails differ"
	# The sender, and the body's counts and command.
	grep -l 'Subject: \[orchestra\] task user.tester.fin finalized' \
	    "$SMTP_SINK"/mail/*.eml >"$TMP/fin"
	f=$(cat "$TMP/fin")
	grep -q '^X-Sink-Mail-From: <orchestra@lab.example>' "$f" ||
	    fail "envelope sender"
	grep -q '^From: orchestra@lab.example' "$f" || fail "From header"
	grep -q 'Jobs: 2 (1 done, 1 failed)' "$f" || fail "counts"
	grep -q 'orchestra task show user.tester.fin' "$f" || fail "command"
}
test_case "each end mailed once, to its owner, with its subject" check_four

# Later cycles send nothing again.
pilot_stop
orch pilot --once 2>/dev/null
orch pilot --once 2>/dev/null
test_case "no mail twice: every row sent once, no more messages" eval '
	sink_count 4 &&
	[ "$(mail_rows "sent_ms IS NOT NULL AND attempts = 1")" -eq 4 ] &&
	[ "$(mail_rows "1 = 1")" -eq 4 ]'
pilot_start --interval 1
pilot_wait_started

# ---- the server away for a while --------------------------------------------

smtp_sink_stop
orch task submit late --skip-test --exec 'true' >/dev/null
wait_until 60 task_is late done
tried_once() {
	[ "$(mail_rows "sent_ms IS NULL AND attempts >= 1")" -eq 1 ]
}
wait_until 60 tried_once
test_case "server away: the mail waits, with the error" eval '
	[ "$(db_value "SELECT count(*) FROM mail WHERE sent_ms IS NULL
	    AND last_error LIKE '"'"'%smtp smtp://127.0.0.1:%'"'"'")" -eq 1 ] &&
	grep -q "trying again in" "$PILOT_LOG"'
smtp_sink_start
wait_until 60 sink_count 5
# The server keeps a mail before it answers; the row is marked after.
rows_are() { # N WHERE
	[ "$(mail_rows "$2")" -eq "$1" ]
}
wait_until 30 rows_are 5 "sent_ms IS NOT NULL"
test_case "server back: the mail arrives, once" eval '
	sink_mails | tail -n 1 | grep -q "^tester@lab.example|\[orchestra\] task user.tester.late done|" &&
	[ "$(mail_rows "sent_ms IS NOT NULL")" -eq 5 ]'

# ---- header injection through fields edited by hand -------------------------

# An address changed by SQL around the check: given up, nobody mailed.
db_query "UPDATE account SET email = 'alice@lab.example' || char(13) || char(10) || 'Bcc: eve@evil.example' WHERE username = 'alice'" 2>/dev/null ||
    db_query "UPDATE account SET email = 'alice@lab.example' || chr(13) || chr(10) || 'Bcc: eve@evil.example' WHERE username = 'alice'"
orch --user alice task submit inj --skip-test --exec 'true' >/dev/null
wait_until 60 user_task_is alice inj done
given_up() { # N
	[ "$(db_value "SELECT count(*) FROM event
	    WHERE new_status = 'mail-given-up'")" -ge "$1" ]
}
wait_until 60 given_up 1
# A subject with CR/LF written into the outbox: encoded, one recipient.
now_ms=$(($(date +%s) * 1000))
db_query "INSERT INTO mail (created_ms, kind, rcpt, subject, body, next_ms)
    VALUES ($now_ms, 'task-end', 'tester@lab.example', 'x' || char(13) || char(10) || 'Bcc: eve@evil.example', 'b', 0)" 2>/dev/null ||
    db_query "INSERT INTO mail (created_ms, kind, rcpt, subject, body, next_ms)
    VALUES ($now_ms, 'task-end', 'tester@lab.example', 'x' || chr(13) || chr(10) || 'Bcc: eve@evil.example', 'b', 0)"
wait_until 60 sink_count 6
check_injection() {
	sink_mails >"$TMP/got"
	! grep -q 'eve@' <(cut -d'|' -f1 "$TMP/got") || fail "eve got a mail"
	! grep -qi '^Bcc:' "$SMTP_SINK"/mail/*.eml || fail "a Bcc header"
	tail -n 1 "$TMP/got" | grep -q '^tester@lab.example|x  Bcc: eve@evil.example|.*|1|0$' ||
	    fail "the last mail: $(tail -n 1 "$TMP/got")"
	[ "$(db_value "SELECT count(*) FROM event WHERE new_status =
	    'mail-given-up' AND detail LIKE '%invalid recipient%control%'")" -eq 1 ] ||
	    fail "no event for the bad address"
}
test_case "CR/LF in an address or a subject adds no header, no recipient" \
    check_injection

# A mail older than the give-up time that was never tried (the pilot was
# stopped for days) is tried once, not given up unseen.
db_query "INSERT INTO mail (created_ms, kind, rcpt, subject, body, next_ms)
    VALUES ($(( $(date +%s) * 1000 - 5 * 86400000 )), 'task-end',
    'tester@lab.example', 'five days old', 'b', 0)"
wait_until 60 sink_count 7
wait_until 30 rows_are 1 "subject = 'five days old' AND sent_ms IS NOT NULL"
test_case "an old mail never tried is tried once, and sent" eval '
	sink_mails | tail -n 1 | grep -q "^tester@lab.example|five days old|" &&
	[ "$(mail_rows "subject = '"'"'five days old'"'"' AND sent_ms IS NOT NULL")" -eq 1 ]'

# ---- giving up --------------------------------------------------------------

pilot_stop
smtp_sink_stop
export ORCHESTRA_MAIL_GIVE_UP=3s
pilot_start --interval 1
pilot_wait_started
orch task submit lost --skip-test --exec 'true' >/dev/null
wait_until 60 task_is lost done
wait_until 60 given_up 2
test_case "not sent within ORCHESTRA_MAIL_GIVE_UP: given up, with an event" eval '
	[ "$(db_value "SELECT count(*) FROM event WHERE new_status =
	    '"'"'mail-given-up'"'"' AND kind = '"'"'task'"'"'
	    AND detail LIKE '"'"'%not sent within 3s%'"'"'")" -eq 1 ] &&
	[ "$(mail_rows "gave_up_ms IS NOT NULL")" -eq 2 ]'
smtp_sink_start
pilot_stop
orch pilot --once 2>/dev/null
test_case "a given-up mail is not sent when the server is back" sink_count 7
