#!/usr/bin/env bash
# Users are kept apart on the local backend (issue 13): a root pilot runs
# each job as its owner's Unix account, a job reaches nothing of another
# user's nor the service's, a user without an account waits and says why,
# and a pilot that is not root runs only its own account's jobs.  Real
# throw-away accounts, made with useradd: root only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
	echo "# skip: needs root and useradd to make Unix accounts"
	exit 77
fi

# Short, unique, valid login names; removed at exit.
ua="ot$$a"
ub="ot$$b"
users_cleanup() {
	userdel "$ua" 2>/dev/null
	userdel "$ub" 2>/dev/null
	return 0
}
lib_at_exit users_cleanup
useradd -M -d /nonexistent -s /bin/sh "$ua"
useradd -M -d /nonexistent -s /bin/sh "$ub"
uid_a=$(id -u "$ua")
uid_b=$(id -u "$ub")

# The accounts reach what any account may: the test's directory is
# traversable (as /tmp is), its state directory is Orchestra's to set.
chmod 0711 "$TMP"
mkdir -m 0755 "$TMP/in"
echo one >"$TMP/in/a"
echo two >"$TMP/in/b"
chmod 0644 "$TMP/in/a" "$TMP/in/b"

orch init >/dev/null
orch user add alice --unix-user "$ua" >/dev/null
orch user add bob --unix-user "$ub" >/dev/null
orch user add carol >/dev/null # no Unix account 'carol' here

# The pilot carries a secret a job must not read, in its environment.
export ORCHESTRA_TEST_SECRET=pilot-secret-$$
pilot_start
pilot_wait_started
echo "$PILOT_PID" >"$TMP/pilot.pid"
chmod 0644 "$TMP/pilot.pid"
unset ORCHESTRA_TEST_SECRET

# user_task_is USER TASK STATUS
user_task_is() {
	[ "$(db_value "SELECT t.status FROM task t JOIN account a
	    ON a.id = t.account_id WHERE a.username = '$1'
	    AND t.name = '$2'")" = "$3" ]
}
db_has_hold() {
	[ -n "$(db_value "SELECT hold FROM account WHERE username = '$1'")" ]
}

case_show() {
	expect_exit 0 orch user show alice
	expect_stdout_contains "unix_user:    $ua"
	expect_exit 0 orch user show alice --json
	json_check "d[\"unix_user\"] == \"$ua\" and d[\"hold\"] is None"
	expect_exit 0 orch user list --json
	json_check "[u[\"unix_user\"] for u in d if u[\"username\"] == \"carol\"] == [\"carol\"]"
	expect_exit 0 orch user show tester --json
	json_check "d[\"unix_user\"] == \"root\""
}
test_case 'user show and --json give the Unix account' case_show

case_refused() {
	before=$(db_dump)
	expect_exit 1 orch user set alice --unix-user "-x"
	expect_stderr_line "invalid Unix user"
	expect_exit 1 orch user add dave --unix-user "a b"
	expect_stderr_line "invalid Unix user"
	[ "$before" = "$(db_dump)" ]
}
test_case 'an invalid --unix-user is refused and changes nothing' case_refused

# Bob's task first: its outputs are what alice's job then tries to reach.
orch --user bob task submit b1 --inputs "$TMP/in" \
    --exec ': %IN; id -u >%OUT/uid.%JOB; echo secret-of-bob >%OUT/secret' \
    >/dev/null
wait_until 60 user_task_is bob b1 done

# Each probe prints "ok" when the job could do what it must not.
cat >"$TMP/probe.sh" <<EOF
id -u >"\$ORCHESTRA_OUT/uid.\$ORCHESTRA_JOB_ID"
echo "home=\$HOME user=\$USER logname=\$LOGNAME" >"\$ORCHESTRA_OUT/env"
# The supervisor: the parent of the job's process group leader.
sup=\$(ps -o ppid= -p "\$(ps -o pgid= -p \$\$ | tr -d ' ')" | tr -d ' ')
echo "supervisor \$sup" >&2
probe() { if eval "\$2" >/dev/null 2>&1; then echo "\$1 ok"; else echo "\$1 denied"; fi; }
{
	probe read-bob 'cat $ORCHESTRA_HOME/volume/bob/b1/secret'
	probe write-bob 'echo x >$ORCHESTRA_HOME/volume/bob/b1/planted'
	probe list-volume 'ls $ORCHESTRA_HOME/volume'
	probe read-db 'head -c 16 $ORCHESTRA_HOME/orchestra.db'
	probe list-jobs 'ls $ORCHESTRA_HOME/jobs'
	probe read-record 'cat $ORCHESTRA_HOME/jobs/1-1.log'
	probe pilot-environ 'grep -a pilot-secret /proc/\$(cat $TMP/pilot.pid)/environ'
	probe super-environ 'grep -a ORCHESTRA /proc/\$sup/environ'
	probe super-memory 'head -c 1 /proc/\$sup/mem'
	probe own-environ '[ -n "\$ORCHESTRA_TEST_SECRET" ]'
	probe make-admin '$ORCHESTRA_BIN user set alice --role admin'
} >"\$ORCHESTRA_OUT/probe"
EOF
chmod 0644 "$TMP/probe.sh"
orch --user alice task submit a1 --skip-test --inputs "$TMP/in/a" \
    --exec "sh $TMP/probe.sh %IN" >/dev/null
wait_until 60 user_task_is alice a1 done

case_as_owner() {
	[ "$(cat "$ORCHESTRA_HOME/volume/bob/b1/uid.0")" = "$uid_b" ]
	[ "$(cat "$ORCHESTRA_HOME/volume/bob/b1/uid.1")" = "$uid_b" ]
	[ "$(cat "$ORCHESTRA_HOME"/volume/alice/a1/uid.*)" = "$uid_a" ]
	[ "$(cat "$ORCHESTRA_HOME/volume/alice/a1/env")" = \
	    "home=/nonexistent user=$ua logname=$ua" ]
	[ "$(stat -c %U:%a "$ORCHESTRA_HOME/volume/bob")" = "$ub:700" ]
	[ "$(stat -c %U "$ORCHESTRA_HOME/volume/bob/b1/secret")" = "$ub" ]
}
test_case 'a root pilot runs each job as its owner' case_as_owner

case_apart() {
	cat "$ORCHESTRA_HOME/volume/alice/a1/probe" >&2
	[ "$(grep -c " denied$" "$ORCHESTRA_HOME/volume/alice/a1/probe")" = 11 ]
	[ ! -e "$ORCHESTRA_HOME/volume/bob/b1/planted" ]
	expect_exit 0 orch user show alice --json
	json_check "d[\"role\"] == \"user\" and d[\"max_priority\"] == 1000"
}
test_case 'a job reaches nothing of another user or of the service' case_apart

orch --user carol task submit c1 --inputs "$TMP/in" --exec "true %IN" \
    >/dev/null
wait_until 30 db_has_hold carol

case_no_account() {
	expect_exit 0 orch --user carol task show c1
	expect_stdout_contains "user carol has no Unix account 'carol' on node"
	expect_exit 0 orch queue
	expect_stdout_contains "user carol has no Unix account"
	expect_exit 0 orch user show carol --json
	json_check "\"no Unix account\" in d[\"hold\"]"
	[ "$(db_value "SELECT count(*) FROM job j JOIN account a ON a.id = j.account_id WHERE a.username = 'carol' AND j.status NOT IN ('assigned', 'registered')")" = 0 ]
}
test_case 'a user without a Unix account waits and says why' case_no_account

# More cycles: carol's jobs still never start.
orch --user alice task submit a2 --skip-test --inputs "$TMP/in" \
    --exec "true %IN" >/dev/null
wait_until 60 user_task_is alice a2 done

case_mapped() {
	user_task_is carol c1 testing
	[ "$(db_value "SELECT count(*) FROM job j JOIN account a ON a.id = j.account_id WHERE a.username = 'carol' AND j.started_ms IS NOT NULL")" = 0 ]
	expect_exit 0 orch user set carol --unix-user "$ub"
	wait_until 60 user_task_is carol c1 done
	expect_exit 0 orch user show carol --json
	json_check "d[\"hold\"] is None"
}
test_case 'carol never ran, and runs once mapped to an account' case_mapped

# Through the API, with alice's token: the same.
serve_start
TOKEN_A=$(orch user token alice 2>/dev/null)
as_alice() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN_A" \
	    ORCHESTRA_DB="sqlite:$TMP/nodb" "$ORCHESTRA_BIN" "$@"
}
case_api() {
	expect_exit 0 as_alice task submit a3 --inputs "$TMP/in" \
	    --exec ': %IN; id -u >%OUT/uid.%JOB'
	wait_until 60 user_task_is alice a3 done
	[ "$(cat "$ORCHESTRA_HOME/volume/alice/a3/uid.0")" = "$uid_a" ]
	[ "$(cat "$ORCHESTRA_HOME/volume/alice/a3/uid.1")" = "$uid_a" ]
	expect_exit 1 as_alice user set alice --role admin
	expect_exit 1 as_alice user set alice --unix-user root
	expect_exit 1 as_alice task logs user.bob.b1 0
	expect_exit 0 orch user show alice --json
	json_check "d[\"role\"] == \"user\" and d[\"unix_user\"] == \"$ua\""
}
test_case 'through the API, alice'\''s token runs as alice and no more' case_api

# Removing a task's files: done with its owner's rights, links not
# followed (a link alice planted to a directory of root's).
mkdir -m 0755 "$TMP/victim"
echo keep >"$TMP/victim/file"
case_remove() {
	ln -s "$TMP/victim" "$ORCHESTRA_HOME/volume/alice/a3/link"
	expect_exit 0 orch --user alice task delete a3 --remove-files
	wait_until 60 test ! -e "$ORCHESTRA_HOME/volume/alice/a3"
	[ "$(cat "$TMP/victim/file")" = keep ]
}
test_case 'delete --remove-files removes as the owner, following no link' \
    case_remove
serve_stop
pilot_stop

# A personal install: the pilot runs as alice's account, and runs the
# jobs of users mapped to it only.
home2="$TMP/home2"
mkdir -m 0700 "$home2"
chown "$ua" "$home2"
# as_a ORCHESTRA_USER ARGS...: orchestra ARGS as alice's account
as_a() {
	local actor=$1
	shift
	runuser -u "$ua" -- env ORCHESTRA_HOME="$home2" \
	    ORCHESTRA_CONF="$ORCHESTRA_CONF" ORCHESTRA_USER="$actor" \
	    ORCHESTRA_DB="$home2/orchestra.db" "$ORCHESTRA_BIN" "$@"
}
case_not_root() {
	chmod 0644 "$ORCHESTRA_CONF"
	as_a tester init >/dev/null
	as_a tester user add bob --unix-user "$ub" >/dev/null
	as_a tester task submit mine --skip-test --inputs "$TMP/in" \
	    --exec ": %IN; id -u >%OUT/uid.%JOB" >/dev/null
	as_a bob task submit theirs --skip-test --inputs "$TMP/in" \
	    --exec "true %IN" >/dev/null
	as_a tester pilot --once 2>"$TMP/pilot2.log"
	wait_until 30 test -s "$home2/volume/tester/mine/uid.1"
	as_a tester pilot --once 2>>"$TMP/pilot2.log"
	[ "$(cat "$home2"/volume/tester/mine/uid.*)" = "$uid_a
$uid_a" ]
	as_a bob task show theirs >"$OUT"
	grep -q "the pilot runs as $ua and cannot run jobs as $ub: run it as root to serve several accounts" "$OUT" || { cat "$OUT" >&2; false; }
	[ "$(stat -c %U:%a "$home2/orchestra.db")" = "$ua:600" ]
	! grep -Eq "Sanitizer|runtime error" "$TMP/pilot2.log"
}
test_case 'a pilot that is not root runs its own account'\''s jobs only' case_not_root
