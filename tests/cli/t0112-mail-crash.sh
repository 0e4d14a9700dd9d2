#!/bin/bash
# t0112-mail-crash.sh - the pilot killed with SIGKILL, again and again,
# while it drains 300 queued mails to a real SMTP server that takes 10 ms
# to answer each: in the end every mail arrived, none is left unsent, and
# a mail arrived twice only where a kill fell between the server's answer
# and the pilot's record of it (at most one a kill: each mail is marked
# sent in its own transaction as soon as the server took it).

. "$(dirname "$0")/lib.sh"

N=300
KILLS=6
orch init >/dev/null
smtp_sink_start --delay 10

# 300 mails as the pilot's own events write them (store-mail.c).
now=$(($(date +%s) * 1000))
values=""
for i in $(seq $N); do
	values="$values${values:+,}($now, 'task-end', 'user$i@lab.example', 'mail $i', 'body $i', $now)"
done
db_query "INSERT INTO mail (created_ms, kind, rcpt, subject, body, next_ms)
    VALUES $values"

received() {
	find "$SMTP_SINK/mail" -name '*.eml' | wc -l
}
more_than() { # N
	[ "$(received)" -gt "$1" ]
}

cycles() {
	grep -c 'cycle: .* took' "$PILOT_LOG" || :
}

# The mail thread drains beside the cycles: the first cycle hands it the
# outbox, and its own commits wake no one, so the pilot idles while 50
# mails go out (a drain inside the cycles, or a wake per commit, would
# show as a cycle per mail or per batch).
c0=$(cycles)
pilot_start --interval 60 --verbose
wait_until 60 more_than 50
c1=$(cycles)
pilot_kill9
test_case "50 mails sent in the pilot's first cycles ($((c1 - c0)) cycles)" \
    eval '[ $((c1 - c0)) -ge 1 ] && [ $((c1 - c0)) -le 3 ]'
kills=1

while [ $kills -lt $KILLS ]; do
	before=$(received)
	[ "$before" -lt $((N - 20)) ] || break
	pilot_start --interval 1
	# Some mails go out, then the pilot dies mid-stream.
	wait_until 60 more_than $((before + 10 + kills * 7 % 13))
	pilot_kill9
	kills=$((kills + 1))
done
pilot_start --interval 1
pilot_wait_started
all_sent() {
	[ "$(db_value "SELECT count(*) FROM mail WHERE sent_ms IS NULL")" -eq 0 ]
}
wait_until 120 all_sent
pilot_stop

check_all() {
	sink_mails >"$TMP/got"
	# Every mail, by its Message-ID (the outbox row), at least once.
	cut -d'|' -f3 "$TMP/got" | sort -u >"$TMP/ids"
	[ "$(wc -l <"$TMP/ids")" -eq $N ] ||
	    fail "$(wc -l <"$TMP/ids") distinct mails of $N"
	# Each to the address its row names, with its subject.
	awk -F'|' '{ split($1, a, "@"); sub("user", "", a[1]);
	    if ($2 != "mail " a[1]) bad++ } END { exit bad > 0 }' "$TMP/got" ||
	    fail "a mail went to the wrong address"
	dups=$(($(wc -l <"$TMP/got") - N))
	echo "# $kills kills, $dups mail(s) received twice"
	[ "$dups" -le "$kills" ] || fail "$dups duplicates for $kills kills"
}
test_case "$KILLS kills while sending: every mail arrived, at most one twice a kill" \
    check_all
test_case "every row is marked sent" eval '
	[ "$(db_value "SELECT count(*) FROM mail WHERE sent_ms IS NOT NULL")" -eq $N ]'
