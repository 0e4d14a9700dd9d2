#!/bin/bash
# t0320-remote-cli.sh - the command line through the API: with
# ORCHESTRA_URL and a token (variable or file) every user command prints
# byte for byte what it prints on the database itself, errors included
# (exit code and the one stderr line), while the database it would open
# (ORCHESTRA_DB) does not exist and is not created.  Commands that need
# the database itself refuse in one line; a wrong token, a server that
# does not answer and another user's refusal are exit 1 with the reason.
# The config file's keys (url, token, token_file) do what the variables
# do.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

expect_exit 0 orch init
expect_exit 0 orch user add bob --unix-user "$ME"
NODE=$(db_query "SELECT name FROM node")
mkdir -p "$TMP/in"
for i in 0 1 2; do
	echo "$i" >"$TMP/in/f$i"
done
expect_exit 0 orch task submit l1 --exec 'cat %IN' --inputs "$TMP/in"
expect_exit 0 orch task submit l2 --exec 'true' --skip-test
# A job of l1 runs on the node, so that node list shows it.
db_query "UPDATE job SET status = 'running', started_ms = 1700000000000,
    node_id = (SELECT id FROM node) WHERE idx = 0
    AND task_id = (SELECT id FROM task WHERE name = 'l1')"
TOKEN=$(orch user token tester 2>/dev/null)
BOB=$(orch user token bob 2>/dev/null)
# A token's use is written at most once a minute, by the remote run of a
# pair: marked used (an hour ahead) for the whole test, so that no write
# falls between the two runs of a pair listing the tokens.
db_query "UPDATE token SET last_used_ms = $((($(date +%s) + 3600) * 1000))"
serve_start

NODB="$TMP/absent/orchestra.db"
# Run the command line through the API, as tester, with no database.
remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" "$@"
}
remote_bob() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$BOB" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" "$@"
}

# ARGS... run both ways: same exit code, stdout and stderr, byte for byte.
same() {
	local rc=0
	"$ORCHESTRA_BIN" "$@" >"$TMP/l.out" 2>"$TMP/l.err" || rc=$?
	expect_exit "$rc" remote "$@"
	if ! cmp -s "$TMP/l.out" "$OUT" || ! cmp -s "$TMP/l.err" "$ERR"; then
		diff "$TMP/l.out" "$OUT" | sed 's/^/#   /' >&2
		diff "$TMP/l.err" "$ERR" | sed 's/^/#   /' >&2
		fail "$(lib_show "$@"): the remote output differs"
	fi
	[ ! -e "$NODB" ] && [ ! -e "$TMP/absent" ] ||
	    fail "$(lib_show "$@"): the remote run made a database"
}

# One request as a warm-up: the token's first use is noted (last used),
# so that the token listings compare equal afterwards.
expect_exit 0 remote user show tester

reads() {
	for j in "" --json; do
		same task list $j
		same task list --all $j
		same task list --user bob $j
		same task list --status registered $j
		same task show l1 $j
		same task show user.tester.l2 $j
		same queue $j
		same queue --user tester --queue default $j
		same node list $j
		same user show tester $j
		same user show bob $j
		same user list $j
		same user tokens tester $j
	done
	# Not the same failure twice: the reads did read.
	same task show l1
	expect_stdout_contains "task:      user.tester.l1"
	same queue
	expect_stdout_contains "tester  l1"
	same node list --json
	json_check 'd[0]["name"] == "'"$NODE"'" and
	    d[0]["jobs"][0]["task"] == "user.tester.l1"'
}
test_case "reads print the same through the API" reads

# Plain http:// is read by util/http.c: libcurl and its libraries are not
# loaded for it (issue 18); a proxy in the environment is libcurl's, so
# with one set the command goes through libcurl, and no_proxy still holds.
loads() {
	LD_DEBUG=files remote task show l1 >"$TMP/ld.out" 2>"$TMP/ld.err"
	grep -q "l1" "$TMP/ld.out" || fail "task show l1 printed no l1"
	! grep -q "libcurl" "$TMP/ld.err" || fail "libcurl loaded for http://"
	http_proxy=http://127.0.0.1:1 no_proxy=127.0.0.1 LD_DEBUG=files \
	    remote task show l1 >"$TMP/ld.out" 2>"$TMP/ld.err"
	grep -q "l1" "$TMP/ld.out" || fail "task show l1 printed no l1"
	grep -q "libcurl" "$TMP/ld.err" || fail "libcurl not loaded for a proxy"
}
test_case "plain http goes without libcurl, a proxy through it" loads

# Who the token is is asked once, and only where the name is needed: a
# submit makes its own request and the pilot's check, a task's show by
# its bare name asks first.
asks() {
	local before
	me() { grep -c 'request method=GET path=/api/v1/me ' "$SERVE_LOG" || :; }
	before=$(me)
	expect_exit 0 remote task submit asks --exec true --skip-test
	[ "$(me)" = "$before" ] || fail "a submit asked who the token is"
	expect_exit 0 remote task show asks
	[ "$(me)" = $((before + 1)) ] || fail "task show asked $(($(me) - before)) times"
	expect_exit 0 remote task show user.tester.asks
	[ "$(me)" = $((before + 1)) ] || fail "a full name needed the token's owner"
}
test_case "the token's owner is asked only when a name needs it" asks

errors() {
	same task show nope
	expect_stderr_line "^orchestra: no task 'nope' of user 'tester'$"
	same task show nope --json
	same task show user.nobody.x
	same task logs nope 0
	same task retry l2
	same task delete l2
	same task list --status nonsense
	same user show nobody
	same node set nonode --cpu-slots 1
	same node set "$NODE" --cpu-slots 99999
}
test_case "refusals give the same exit code and message" errors

changes() {
	# Submit and kill one task each way; the same words, other names.
	expect_exit 0 orch task submit l3 --exec 'cat %IN' --inputs "$TMP/in"
	cp "$OUT" "$TMP/l.out"
	expect_exit 0 remote task submit r3 --exec 'cat %IN' --inputs "$TMP/in"
	sed 's/r3/l3/g' "$OUT" | cmp -s - "$TMP/l.out" ||
	    fail "submit: '$(cat "$OUT")' vs '$(cat "$TMP/l.out")'"
	same task show r3
	same task show r3 --json
	expect_exit 0 orch task kill l3
	cp "$OUT" "$TMP/l.out"
	expect_exit 0 remote task kill r3
	sed 's/r3/l3/g' "$OUT" | cmp -s - "$TMP/l.out" || fail "kill differs"
	same task kill l3 --json
	expect_exit 0 remote task show r3 --json
	json_check 'd["full_name"] == "user.tester.r3" and d["signal"] == "kill"'
	# A relative --inputs is the client's directory, not the server's.
	(cd "$TMP" && expect_exit 0 remote task submit r4 --exec 'cat %IN' \
	    --inputs in --json)
	json_check 'd["inputs"] == "'"$TMP"'/in" and d["jobs"] == 3'
	# Node slots, drain and resume (tester is an admin).
	same node set "$NODE" --cpu-slots 2
	same node drain "$NODE" --json
	same node resume "$NODE"
	same user set bob --email bob@lab.example.org
	# A token of one's own: issued, listed, revoked through the API.
	expect_exit 0 remote user token tester --expires 1h
	[[ $(cat "$OUT") =~ ^orc_ ]] || fail "no token printed"
	expect_stderr_line "^token [0-9]+ for user 'tester' \(expires: .*\); it is shown only this once$"
	ID=$(db_query "SELECT max(id) FROM token")
	expect_exit 0 remote user revoke tester "$ID"
	[ "$(cat "$OUT")" = "revoked token $ID of user 'tester'" ] ||
	    fail "revoke: $(cat "$OUT")"
	same user tokens tester --json
}
test_case "changes through the API act and print as locally" changes

# Every option of the commands that change users, nodes and tasks, both
# ways: a user's mail switch and hold, each field of user set and node set
# (run twice, so the second run, the remote one, prints the same state),
# "nothing to set" (a usage error both ways), user add and task submit
# with every option they have through the API.
options() {
	local q max_cpu max_gpu opts
	# The mail switch: shown, set off and on, and so in the database.
	same user set bob --mail off
	expect_stdout_contains "mail:         off"
	[ "$(db_value "SELECT mail FROM account WHERE username = 'bob'")" = 0 ] ||
	    fail "bob's mail is not off in the database"
	same user show bob
	expect_stdout_contains "mail:         off"
	same user show bob --json
	json_check 'd["mail"] is False'
	same user set bob --mail on --json
	json_check 'd["mail"] is True'
	[ "$(db_value "SELECT mail FROM account WHERE username = 'bob'")" = 1 ] ||
	    fail "bob's mail is not on in the database"
	same user set bob --mail off --email b2@lab.example.org
	[ "$(db_value "SELECT mail FROM account WHERE username = 'bob'")" = 0 ] ||
	    fail "bob's mail is not off with --email"
	same user set bob --mail bogus
	# Each field of user set, and a hold the pilot put.
	same user set bob --priority 700
	same user set bob --role admin --json
	same user set bob --role user
	same user set bob --unix-user "$ME" --json
	same user set bob --email '' --mail on --priority 1000
	db_query "UPDATE account SET hold = 'no such login' WHERE username = 'bob'"
	same user show bob
	expect_stdout_contains "jobs wait:    no such login"
	same user show bob --json
	json_check 'd["hold"] == "no such login"'
	db_query "UPDATE account SET hold = NULL WHERE username = 'bob'"
	same user list
	# Nothing to set: the service's words, a usage error (2) both ways.
	same user set bob
	expect_stderr_usage "user set: nothing to set: give --email, --mail, --priority, --role or --unix-user"
	same node set "$NODE"
	expect_stderr_usage "node set: nothing to set: give --queue, --cpu-slots, --gpu-slots, --max-cpu-slots, --max-gpu-slots or --memory"
	# Each field of node set, to what it is (no slot moves under a job).
	q=$(db_value "SELECT queue FROM node WHERE name = '$NODE'")
	max_cpu=$(db_value "SELECT max_cpu_slots FROM node WHERE name = '$NODE'")
	max_gpu=$(db_value "SELECT max_gpu_slots FROM node WHERE name = '$NODE'")
	same node set "$NODE" --queue "$q" --json
	same node set "$NODE" --max-cpu-slots "$max_cpu"
	same node set "$NODE" --max-gpu-slots "$max_gpu" --gpu-slots 0 --json
	same node set "$NODE" --cpu-slots 2 --queue "$q" --max-cpu-slots "$max_cpu"
	same node set "$NODE" --gpu-slots 99999
	mem=$(db_value "SELECT memory FROM node WHERE name = '$NODE'")
	same node set "$NODE" --memory 64G --json
	json_check "d['memory'] == 64 << 30"
	same node set "$NODE" --memory 1000
	same node set "$NODE" --memory "$mem"
	same node resume "$NODE" --json
	same node drain "$NODE"
	same node resume "$NODE"
	# user add with every option the API takes: the same words, other
	# names, and the fields through the API as given.
	expect_exit 0 orch user add ladd --email l@lab.example.org \
	    --priority 7 --admin --mail off --unix-user "$ME"
	cp "$OUT" "$TMP/l.out"
	expect_exit 0 remote user add radd --email l@lab.example.org \
	    --priority 7 --admin --mail off --unix-user "$ME"
	sed 's/radd/ladd/g' "$OUT" | cmp -s - "$TMP/l.out" ||
	    fail "user add: '$(cat "$OUT")' vs '$(cat "$TMP/l.out")'"
	same user show radd --json
	json_check 'd["email"] == "l@lab.example.org" and d["max_priority"] == 7
	    and d["role"] == "admin" and d["mail"] is False
	    and d["unix_user"] == "'"$ME"'"'
	same user add radd
	# task submit with every option: the same words, other names.
	echo data >"$TMP/data"
	echo ref >"$TMP/ref"
	opts=(--exec 'cat %IN %DATA %REF' --inputs "$TMP/in"
	    --data "$TMP/data" --secondary REF="$TMP/ref" --image busybox
	    --queue "$q" --skip-test --timeout 1h --retention 2d --memory 1.5G)
	expect_exit 0 orch task submit l7 "${opts[@]}"
	cp "$OUT" "$TMP/l.out"
	expect_exit 0 remote task submit r7 "${opts[@]}"
	sed 's/r7/l7/g' "$OUT" | cmp -s - "$TMP/l.out" ||
	    fail "submit: '$(cat "$OUT")' vs '$(cat "$TMP/l.out")'"
	same task show r7
	same task show r7 --json
	json_check 'd["data"] == "'"$TMP"'/data" and d["image"] == "busybox"
	    and d["skip_test"] and d["timeout_ms"] == 3600000
	    and d["retention_ms"] == 172800000 and d["memory"] == 3 << 29'
	same task submit g7 --exec true --gpu --skip-test
	same task submit m7 --exec true --memory 4X
	same task submit m7 --exec true --memory 4000
	same task submit g7 --exec true --timeout soon
	same task list --status registered --json
	same task list --user bob --status done
	same queue --queue "$q"
	same queue --user bob --json
	same task retry r7 --json
	same task delete r7 --json
	same task logs r7 0 --tail 10
	# Tokens: issued and revoked with --json; all of a user's revoked.
	expect_exit 0 remote user token tester --expires 2h --json
	json_check 'd["username"] == "tester" and d["token"].startswith("orc_")
	    and d["active"] and d["expires"] is not None'
	ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT")
	expect_exit 0 remote user revoke tester "$ID" --json
	json_check 'd["id"] == '"$ID"' and d["revoked"] is not None
	    and not d["active"]'
	same user revoke tester "$ID"
	orch user token radd >/dev/null 2>&1
	orch user token radd >/dev/null 2>&1
	expect_exit 0 orch user revoke radd --all
	cp "$OUT" "$TMP/l.out"
	orch user token radd >/dev/null 2>&1
	orch user token radd >/dev/null 2>&1
	expect_exit 0 remote user revoke radd --all
	cmp -s "$OUT" "$TMP/l.out" ||
	    fail "revoke --all: '$(cat "$OUT")' vs '$(cat "$TMP/l.out")'"
	same user revoke radd --all --json
}
test_case "every option of user, node and task changes, both ways" options

forbidden() {
	# bob may not touch tester's task nor list users: the server's words.
	api POST /api/v1/tasks/tester/l1/kill --token "$BOB"
	[ "$STATUS" = 403 ] || fail "kill as bob: $STATUS"
	MSG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$OUT")
	expect_exit 1 remote_bob task kill user.tester.l1
	[ "$(cat "$ERR")" = "orchestra: $MSG" ] || fail "stderr: $(cat "$ERR")"
	expect_stdout_empty
	expect_exit 1 remote_bob user list
	expect_stderr_line "^orchestra: user 'bob' is not an admin$"
	expect_exit 1 remote_bob user tokens tester
	expect_stderr_line "^orchestra: through ORCHESTRA_URL only your own tokens \(user 'bob'\)"
	[ "$(db_query "SELECT signal FROM task WHERE name = 'l1'")" = "" ] ||
	    fail "bob's kill left a signal"
	# bob's own: a bare name is bob's task.
	expect_exit 0 remote_bob task submit b1 --exec true --skip-test
	[ "$(cat "$OUT")" = "submitted task 'user.bob.b1': 1 job, output in $(db_query "SELECT out_dir FROM task WHERE name = 'b1'")" ] ||
	    fail "bob's submit: $(cat "$OUT")"
}
expect_stdout_empty() {
	[ ! -s "$OUT" ] || fail "stdout is not empty"
}
test_case "another user's refusal is the server's message, exit 1" forbidden

local_only() {
	expect_exit 1 remote init
	expect_stderr_line "^orchestra: 'init' works on the database itself, not through ORCHESTRA_URL"
	expect_exit 1 remote pilot
	expect_stderr_line "^orchestra: 'pilot' works on the database itself"
	expect_exit 1 remote node add n2
	expect_stderr_line "^orchestra: node add needs the database itself"
	expect_exit 1 remote node sync
	expect_stderr_line "^orchestra: node sync needs the database itself"
	echo password1 | expect_exit 1 remote user passwd tester
	expect_stderr_line "^orchestra: user passwd needs the database itself"
	[ ! -e "$TMP/absent" ] || fail "a local-only command made a database"
	# Usage errors stay usage errors (2), before anything is reached.
	expect_exit 2 remote task show
}
test_case "commands that need the database refuse in one line" local_only

connection() {
	expect_exit 1 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN=orc_wrong \
	    "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: .*token"
	# The token from a file (ORCHESTRA_TOKEN_FILE), then ~/.config; the
	# file is the owner's alone (0600), as ssh wants of a private key.
	(umask 077 && printf '%s\n' "$TOKEN" >"$TMP/tokfile")
	expect_exit 0 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN_FILE="$TMP/tokfile" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" user show tester
	expect_stdout_contains "username:     tester"
	mkdir -p "$TMP/h/.config/orchestra"
	(umask 077 && printf '%s\n' "$TOKEN" >"$TMP/h/.config/orchestra/token")
	expect_exit 0 env HOME="$TMP/h" ORCHESTRA_URL="$API/" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" node list
	# Any bit for the group or others: refused before any request, the
	# file and the fix named.
	requests() { grep -c 'request method=' "$SERVE_LOG" || true; }
	before=$(requests)
	[ "$before" -gt 0 ] || fail "serve logged no request"
	chmod 644 "$TMP/tokfile"
	expect_exit 1 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN_FILE="$TMP/tokfile" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" user show tester
	expect_stderr_line "^orchestra: token file '$TMP/tokfile' is open to other accounts \(mode 0644\): run 'chmod 600 $TMP/tokfile'$"
	[ ! -s "$OUT" ] || fail "output with a refused token file"
	chmod 620 "$TMP/h/.config/orchestra/token"
	expect_exit 1 env HOME="$TMP/h" ORCHESTRA_URL="$API/" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" node list
	expect_stderr_line "^orchestra: token file '$TMP/h/.config/orchestra/token' is open to other accounts \(mode 0620\): run 'chmod 600 "
	chmod 601 "$TMP/tokfile"
	expect_exit 1 env ORCHESTRA_URL="$API" ORCHESTRA_TOKEN_FILE="$TMP/tokfile" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" task list
	expect_stderr_line "\(mode 0601\)"
	! grep -qF -- "$TOKEN" "$ERR" || fail "the token is in a message"
	[ "$(requests)" = "$before" ] || fail "a refused token file was sent"
	chmod 600 "$TMP/tokfile" "$TMP/h/.config/orchestra/token"
	expect_exit 1 env HOME="$TMP/nohome" ORCHESTRA_URL="$API" \
	    "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: ORCHESTRA_URL is set but no token"
	# Nobody listens on port 1.
	expect_exit 1 env ORCHESTRA_URL=http://127.0.0.1:1 \
	    ORCHESTRA_TOKEN="$TOKEN" "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: cannot reach ORCHESTRA_URL 'http://127.0.0.1:1'"
	! grep -qF -- "$TOKEN" "$ERR" || fail "the token is in a message"
	[ ! -e "$TMP/absent" ] || fail "a failed remote run made a database"
}
test_case "a wrong token, no token, no server: exit 1 and why" connection

# The config file's keys url, token_file and token stand for
# ORCHESTRA_URL, ORCHESTRA_TOKEN_FILE and ORCHESTRA_TOKEN, and each
# variable overrides its key; a file with a token is the owner's alone.
config_keys() {
	local conf="$TMP/remote.conf"
	(umask 077 && printf '%s\n' "$TOKEN" >"$TMP/tokfile2")
	printf '[orchestra]\nurl = %s\ntoken_file = %s\n' "$API" \
	    "$TMP/tokfile2" >"$conf"
	orch task show l1 >"$TMP/l.out"
	expect_exit 0 env ORCHESTRA_CONF="$conf" ORCHESTRA_DB="sqlite:$NODB" \
	    "$ORCHESTRA_BIN" task show l1
	cmp -s "$TMP/l.out" "$OUT" || fail "task show through url differs"
	[ ! -e "$TMP/absent" ] || fail "a run through url made a database"
	# A command on the database itself names the key and its file.
	expect_exit 1 env ORCHESTRA_CONF="$conf" "$ORCHESTRA_BIN" pilot --once
	expect_stderr_line "^orchestra: 'pilot' works on the database itself, not through url \(config '$conf'\): unset it to run here$"
	# The variable wins: nobody listens on port 1.
	expect_exit 1 env ORCHESTRA_CONF="$conf" \
	    ORCHESTRA_URL=http://127.0.0.1:1 "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: cannot reach ORCHESTRA_URL 'http://127.0.0.1:1'"
	# A URL from the key: its errors name the key and its file.
	printf '[orchestra]\nurl = http://127.0.0.1:1\ntoken_file = %s\n' \
	    "$TMP/tokfile2" >"$TMP/remote1.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/remote1.conf" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: cannot reach url \(config '$TMP/remote1.conf'\) 'http://127.0.0.1:1'"
	printf '[orchestra]\nurl = ftp://127.0.0.1/\n' >"$TMP/remote1.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/remote1.conf" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: url \(config '$TMP/remote1.conf'\) must start with http:// or https://$"
	printf '[orchestra]\nurl = %s\n' "$API" >"$TMP/remote1.conf"
	expect_exit 1 env HOME="$TMP/nohome" ORCHESTRA_CONF="$TMP/remote1.conf" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: url \(config '$TMP/remote1.conf'\) is set but no token"
	printf '[orchestra]\nurl = %s\ntoken_file = %s\n' "$API" \
	    "$TMP/tokfile2" >"$TMP/remote1.conf"
	expect_exit 1 env ORCHESTRA_CONF="$TMP/remote1.conf" \
	    ORCHESTRA_DB="sqlite:$NODB" "$ORCHESTRA_BIN" node sync
	expect_stderr_line "^orchestra: node sync needs the database itself; the API of url \(config '$TMP/remote1.conf'\) does not offer it"
	[ ! -e "$TMP/absent" ] || fail "a failed remote run made a database"
	# A token in the file: refused while others may read the file.
	printf '[orchestra]\nurl = %s\ntoken = %s\n' "$API" "$TOKEN" >"$conf"
	chmod 644 "$conf"
	expect_exit 1 env ORCHESTRA_CONF="$conf" ORCHESTRA_DB="sqlite:$NODB" \
	    "$ORCHESTRA_BIN" task list
	expect_stderr_line "^orchestra: config '$conf' holds a token and is open to other accounts \(mode 0644\): run 'chmod 600 $conf', or name a token_file$"
	! grep -qF -- "$TOKEN" "$ERR" || fail "the token is in a message"
	chmod 600 "$conf"
	expect_exit 0 env ORCHESTRA_CONF="$conf" ORCHESTRA_DB="sqlite:$NODB" \
	    "$ORCHESTRA_BIN" user show tester
	expect_stdout_contains "username:     tester"
	[ ! -e "$TMP/absent" ] || fail "a run through url made a database"
	# A token file named in the environment wins over the file's token.
	printf '[orchestra]\nurl = %s\ntoken = orc_wrong\n' "$API" >"$conf"
	expect_exit 1 env ORCHESTRA_CONF="$conf" ORCHESTRA_DB="sqlite:$NODB" \
	    "$ORCHESTRA_BIN" user show tester
	expect_exit 0 env ORCHESTRA_CONF="$conf" ORCHESTRA_DB="sqlite:$NODB" \
	    ORCHESTRA_TOKEN_FILE="$TMP/tokfile2" "$ORCHESTRA_BIN" user show tester
	expect_stdout_contains "username:     tester"
}
test_case "the config's url, token_file and token keys" config_keys

# Jobs that ran: their logs, exit codes and times, both ways.
pilot_start --interval 30
all_done() {
	[ "$(db_value "SELECT count(*) FROM task WHERE name IN ('l1', 'l2', 'r4', 'b1') AND status = 'done'")" = 4 ]
}
wait_until 120 all_done
# Stopped first: a cycle between the two runs of a pair would change the
# nodes' last_seen.
pilot_stop
ran() {
	for j in "" --json; do
		same task show l1 $j
		same task list $j
		same queue $j
		same node list $j
	done
	same task logs l1
	same task logs l1 2
	same task logs user.tester.l1 1 --tail 1
	same task logs l1 7
	expect_stderr_line "^orchestra: "
	same task logs l1 2
	[ "$(cat "$OUT")" = 2 ] || fail "log of job 2: $(cat "$OUT")"
	same task show l1
	expect_stdout_contains "status:    done"
	# The runs and their totals, in every form (a range of its own: the
	# default ends at each run's "now").
	local range="--since 2020-01-01 --until 2100-01-01"
	# shellcheck disable=SC2086 # two options each
	for j in "" --json --csv; do
		same history $range $j
		same history $range --totals $j
		same history $range --totals --by node $j
	done
	# shellcheck disable=SC2086
	same history $range --task l1 --state done --limit 2
	[ "$(grep -c '^tester  user.tester.l1 ' "$OUT")" = 2 ] ||
	    fail "history --task l1: $(cat "$OUT")"
	same history --user nobody
	expect_stderr_line "^orchestra: .*'nobody'"
	expect_exit 1 remote_bob history --user tester
	expect_stderr_line "^orchestra: user 'bob' sees only their own history: not an admin$"
	# Delete one task each way.
	expect_exit 0 orch task delete l2
	cp "$OUT" "$TMP/l.out"
	expect_exit 0 remote task delete r4 --remove-files
	sed 's/r4/l2/g' "$OUT" | cmp -s - "$TMP/l.out" || fail "delete differs"
}
test_case "ended jobs: logs, exits, times and history print the same" ran

# More nodes, users and tokens than one page of the API (the command
# line asks for 1000 a page): the remote lists follow next_after.
many() {
	local j
	local q="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL
	    SELECT i + 1 FROM s WHERE i < 1050)"
	db_query "$q INSERT INTO node (name, created_ms)
	    SELECT 'many-' || (10000 + i), 1700000000000 FROM s"
	db_query "$q INSERT INTO account (username, created_ms)
	    SELECT 'many-' || (10000 + i), 1700000000000 FROM s"
	db_query "$q INSERT INTO token (account_id, hash, created_ms)
	    SELECT (SELECT id FROM account WHERE username = 'tester'),
	    'feed' || i, 1700000000000 FROM s"
	for j in "" --json; do
		same node list $j
		same user list $j
		same user tokens tester $j
	done
	[ "$(grep -c '^many-' "$OUT")" = 0 ] || fail "tokens list users"
	same user list
	[ "$(grep -c '^many-' "$OUT")" = 1050 ] || fail "users missing"
	same node list
	[ "$(grep -c '^many-' "$OUT")" = 1050 ] || fail "nodes missing"
}
test_case "lists longer than a page print the same" many

serve_stop
! grep -qF -- "${TOKEN#orc_}" "$SERVE_LOG" || fail "the token is in serve's log"

# HTTPS: verified against ORCHESTRA_CA_FILE, refused without it.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -days 1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
serve_start --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
API="https://${API#http://}"
https() {
	ORCHESTRA_CA_FILE="$TMP/cert.pem" same task show l1
	ORCHESTRA_CA_FILE="$TMP/cert.pem" same user tokens tester --json
	# The same CA named by the config's key ca_file.
	printf '[orchestra]\nca_file = %s\n' "$TMP/cert.pem" >"$TMP/ca.conf"
	ORCHESTRA_CONF="$TMP/ca.conf" same task show l1
	expect_exit 1 remote task list
	expect_stderr_line "^orchestra: cannot reach ORCHESTRA_URL 'https://127\.0\.0\.1:[0-9]+': .*(SSL|certificate)"
}
test_case "over HTTPS the server's certificate is verified" https
serve_stop
