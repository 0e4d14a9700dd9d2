#!/bin/bash
# t0124-history.sh - accounting (`orchestra history`, GET /api/v1/history
# and /api/v1/history/totals): the pilot records each run as it ends
# (table job_history); after the tasks are removed, one by `task delete`,
# one by retention (the test-only ORCHESTRA_TEST_NOW_OFFSET moves the
# clock of a `pilot --once`), each run is listed with the job, node, GPU
# and times its job row held (run time to the millisecond), and the jobs
# and the CPU and GPU slot seconds per user, node and queue equal, to the
# second, the runs' times the job rows held; filters, --csv, --json and
# pages of the API; a user who is not an admin sees only their own; the
# same through ORCHESTRA_URL; a year later (history_retention) the pilot
# forgets them.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
NODE=$(hostname)
orch node set "$NODE" --cpu-slots 4 --max-gpu-slots 2 --gpu-slots 2 \
    >/dev/null
printf '/a\n/b\n/c\n' >"$TMP/three"
printf '/a\n/b\n' >"$TMP/two"
orch task submit cpu --skip-test --exec 'sleep 1 # %IN' \
    --inputs "@$TMP/three" >/dev/null
orch task submit gpu --gpu --skip-test --exec 'sleep 1.5 # %IN' \
    --inputs "@$TMP/two" >/dev/null

pilot_start
wait_until 120 task_is cpu done
wait_until 120 task_is gpu done
pilot_stop

# What the job rows say, before they go: ms of CPU and of GPU runs.
CPU_MS=$(db_value "SELECT sum(ended_ms - started_ms) FROM job WHERE gpu = 0")
GPU_MS=$(db_value "SELECT sum(ended_ms - started_ms) FROM job WHERE gpu = 1")
CPU_S=$(((CPU_MS + 500) / 1000))
GPU_S=$(((GPU_MS + 500) / 1000))
echo "# cpu ${CPU_MS} ms, gpu ${GPU_MS} ms"
# Each run as its job row held it: task, index, attempt, GPU, run ms.
db_query "SELECT t.name, j.idx, j.attempts, coalesce(j.gpu_index, -1),
    j.ended_ms - j.started_ms, j.status, j.exit_code FROM job j
    JOIN task t ON t.id = j.task_id ORDER BY t.name, j.idx" >"$TMP/jobs"

# One removed by delete, one by retention (its 10 days are over).
tasks() {
	db_value "SELECT count(*) FROM task"
}
cycle_at() { # OFFSET
	ORCHESTRA_TEST_NOW_OFFSET=$1 "$ORCHESTRA_BIN" pilot --once \
	    2>>"$TMP/pilot-once.log"
}
removed() { # N OFFSET
	cycle_at "$2"
	[ "$(tasks)" -eq "$1" ]
}
orch task delete cpu >/dev/null
wait_until 60 removed 1 0
wait_until 60 removed 0 14450m
test_case "both tasks and their jobs are gone" eval \
    '[ "$(db_value "SELECT count(*) FROM job")" -eq 0 ]'

runs() {
	expect_exit 0 orch history --json
	python3 - "$OUT" "$TMP/jobs" "$NODE" <<'PY' || fail "runs differ"
import json, sys
d = json.load(open(sys.argv[1]))
want = sorted(tuple(l.strip().split("|")) for l in open(sys.argv[2]))
got = sorted((r["task"].split(".")[-1], str(r["index"]), str(r["attempt"]),
    str(-1 if r["gpu_index"] is None else r["gpu_index"]), str(r["run_ms"]),
    r["status"], str(r["exit_code"])) for r in d["runs"])
assert got == want, (got, want)
for r in d["runs"]:
    assert r["user"] == "tester" and r["node"] == sys.argv[3], r
    assert r["task"].startswith("user.tester."), r
    assert r["gpu"] == (r["gpu_index"] is not None), r
    assert r["started"] <= r["ended"], r
PY
	# The table: a row per run, the GPU device of the GPU runs.
	expect_exit 0 orch history
	[ "$(grep -c "^tester  user.tester.cpu  " "$OUT")" = 3 ] ||
	    fail "not 3 cpu rows: $(cat "$OUT")"
	expect_stdout_line "^tester +user.tester.gpu +[01] +1 +$NODE +[01] +"
	expect_stdout_line "^USER +TASK +JOB +ATTEMPT +NODE +GPU +START +END +RUN +STATE +EXIT +PEAK MEM / LIMIT +CPU$"
}
test_case "history: each run, as its job row held it, after removal" runs

filters() {
	expect_exit 0 orch history --task gpu --json
	json_check "len(d['runs']) == 2 and
	    {r['task'] for r in d['runs']} == {'user.tester.gpu'}"
	expect_exit 0 orch history --task user.tester.cpu --state done --json
	json_check "len(d['runs']) == 3"
	expect_exit 0 orch history --state failed --json
	json_check "d['runs'] == []"
	expect_exit 0 orch history --user tester --limit 2 --json
	json_check "len(d['runs']) == 2 and d['runs'][0]['id'] < d['runs'][1]['id']"
	expect_exit 0 orch history --task gpu --totals --json
	json_check "d['totals'] == [{'group': 'tester', 'jobs': 2,
	    'cpu_seconds': 0, 'gpu_seconds': $GPU_S}]"
}
test_case "--task, --state, --user and --limit pick runs" filters

csv() {
	expect_exit 0 orch history --csv
	python3 - "$OUT" <<'PY' || fail "bad CSV: $(cat "$OUT")"
import csv, sys
raw = open(sys.argv[1], newline="").read()
assert raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", ""), raw
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 5, rows
assert rows[0].keys() >= {"user", "task", "index", "attempt", "node",
    "gpu_index", "started", "ended", "run_ms", "status", "exit_code"}
assert {r["gpu_index"] for r in rows if r["gpu"] == "false"} == {""}
PY
	expect_exit 0 orch history --totals --csv
	[ "$(cat "$OUT")" = "$(printf 'group,jobs,cpu_seconds,gpu_seconds\r\ntester,5,%s,%s\r' "$CPU_S" "$GPU_S")" ] ||
	    fail "totals CSV: $(cat -A "$OUT")"
	expect_exit 2 orch history --csv --json
	expect_stderr_usage "^orchestra: history: --json and --csv: pick one$"
}
test_case "--csv: RFC 4180, a header line, CRLF" csv

totals() {
	expect_exit 0 orch history --totals --json
	json_check "d['by'] == 'user' and len(d['totals']) == 1 and
	    d['totals'][0] == {'group': 'tester', 'jobs': 5,
	        'cpu_seconds': $CPU_S, 'gpu_seconds': $GPU_S}"
}
test_case "history --json: the jobs and slot seconds, after removal" totals

by_node_queue() {
	expect_exit 0 orch history --by node --json
	json_check "[(t['group'], t['jobs'], t['cpu_seconds'], t['gpu_seconds'])
	    for t in d['totals']] == [('$NODE', 5, $CPU_S, $GPU_S)]"
	expect_exit 0 orch history --totals --by queue --user tester
	expect_stdout_contains "QUEUE"
	grep -Eq "^default +5 +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}$" "$OUT" ||
	    fail "no line for queue default: $(cat "$OUT")"
}
test_case "history --by node and --by queue" by_node_queue

ranges() {
	# Runs ended today: none before yesterday, none from tomorrow on.
	expect_exit 0 orch history --totals --json \
	    --until "$(date -u -d yesterday +%F)"
	json_check "d['totals'] == []"
	expect_exit 0 orch history --totals --json \
	    --since "$(date -u -d tomorrow +%F)" --until "$(date -u -d '2 days' +%F)"
	json_check "d['totals'] == []"
	expect_exit 0 orch history --totals --json \
	    --since "$(date -u -d yesterday +%F)" --until "$(date -u -d tomorrow +%F)"
	json_check "d['totals'][0]['jobs'] == 5"
	expect_exit 0 orch history --json --until "$(date -u -d yesterday +%F)"
	json_check "d['runs'] == []"
}
test_case "--since and --until bound the ends" ranges

refusals() {
	expect_exit 2 orch history --by task
	expect_stderr_usage "^orchestra: history: invalid --by 'task': expected user, queue or node$"
	expect_exit 2 orch history --since yesterday
	expect_stderr_usage "^orchestra: history: invalid --since: "
	expect_exit 1 orch history --user nobody
	expect_stderr_line "^orchestra: .*'nobody'"
	expect_exit 1 orch history --since 2026-01-02 --until 2026-01-01
	expect_stderr_line "^orchestra: 'until' is not after 'since': nothing ended in between"
	expect_exit 2 orch history --state over
	expect_stderr_usage "^orchestra: history: invalid --state: unknown job status 'over'$"
	expect_exit 2 orch history --limit 0
	expect_stderr_usage "^orchestra: history: "
	expect_exit 2 orch history --totals --limit 3
	expect_stderr_usage "^orchestra: history: --limit counts runs: not with --totals$"
}
test_case "refusals" refusals

TOKEN=$(orch user token tester 2>/dev/null)
orch user add alice >/dev/null
ALICE=$(orch user token alice 2>/dev/null)
serve_start
remote() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$TOKEN" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" "$ORCHESTRA_BIN" "$@"
}
remote_alice() {
	ORCHESTRA_URL="$API" ORCHESTRA_TOKEN="$ALICE" \
	    ORCHESTRA_DB="sqlite:$TMP/absent/orchestra.db" "$ORCHESTRA_BIN" "$@"
}
over_api() {
	local range="--since 2020-01-01 --until 2100-01-01" args
	# shellcheck disable=SC2086 # two options each
	for args in "--totals --by node --json" "--totals" "--totals --csv" \
	    "" "--json" "--csv" "--task cpu --state done --limit 2 --json"; do
		orch history $range $args >"$TMP/local.out"
		remote history $range $args >"$TMP/remote.out" ||
		    fail "remote history $args failed"
		cmp -s "$TMP/local.out" "$TMP/remote.out" || {
			diff -u "$TMP/local.out" "$TMP/remote.out" >&2
			fail "history $args: the remote output differs"
		}
	done
	api GET "/api/v1/history/totals?by=user&since=2020-01-01&until=2100-01-01" \
	    --token "$TOKEN"
	[ "$STATUS" = 200 ] || fail "status $STATUS"
	api_json "d['totals'][0]['gpu_seconds'] == $GPU_S"
	api GET "/api/v1/history/totals?by=task" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "by=task: status $STATUS"
	api GET "/api/v1/history?state=over" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "state=over: status $STATUS"
	api GET "/api/v1/history?limit=1001" --token "$TOKEN"
	[ "$STATUS" = 400 ] || fail "limit=1001: status $STATUS"
}
test_case "the same through the API and ORCHESTRA_URL" over_api

# Pages of 2: 2, 2, 1, each next_after the page's last id, then null.
pages() {
	local after=0 n=0 got=0 page
	while :; do
		api GET "/api/v1/history?limit=2&after=$after&since=2020-01-01" \
		    --token "$TOKEN"
		[ "$STATUS" = 200 ] || fail "status $STATUS"
		page=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ids = [r["id"] for r in d["runs"]]
n = d["next_after"]
assert ids == sorted(ids) and all(i > int(sys.argv[2]) for i in ids), d
assert n is None or (len(ids) == 2 and n == ids[-1]), d
print(len(ids), "" if n is None else n)' "$OUT" "$after") ||
		    fail "a bad page: $(cat "$OUT")"
		got=$((got + ${page%% *}))
		after=${page#* }
		n=$((n + 1))
		[ -n "$after" ] || break
		[ $n -lt 10 ] || fail "the pages do not end"
	done
	[ $n = 3 ] && [ $got = 5 ] || fail "$n pages, $got runs"
}
test_case "GET /api/v1/history: pages of ?limit= follow next_after" pages

own() {
	# Not an admin: their own runs only, none here.
	expect_exit 0 remote_alice history --json --since 2020-01-01
	json_check "d['runs'] == []"
	expect_exit 0 remote_alice history --totals --json --since 2020-01-01
	json_check "d['totals'] == []"
	expect_exit 1 remote_alice history --user tester
	expect_stderr_line "^orchestra: user 'alice' sees only their own history: not an admin$"
	expect_exit 1 remote_alice history --task user.tester.cpu --totals
	expect_stderr_line "^orchestra: user 'alice' sees only their own history: not an admin$"
	api GET "/api/v1/history?user=tester" --token "$ALICE"
	[ "$STATUS" = 403 ] || fail "alice, user=tester: status $STATUS"
	api GET "/api/v1/history?since=2020-01-01" --token "$ALICE"
	api_json "d['runs'] == []"
	api GET "/api/v1/history?since=2020-01-01&limit=1000" --token "$TOKEN"
	api_json "len(d['runs']) == 5"
}
test_case "a user who is not an admin sees only their own history" own
serve_stop

forgotten() {
	local range="--since 2020-01-01 --until 2100-01-01"
	# 0 keeps them forever; a longer period keeps them longer.
	ORCHESTRA_HISTORY_RETENTION=0 cycle_at 400d
	ORCHESTRA_HISTORY_RETENTION=401d cycle_at 400d
	# shellcheck disable=SC2086 # two options each
	expect_exit 0 orch history --json $range
	json_check "len(d['runs']) == 5"
	cycle_at 400d
	expect_exit 0 orch history --totals --json --since 2020-01-01 \
	    --until 2100-01-01
	json_check "d['totals'] == []"
	expect_exit 0 orch history --json --since 2020-01-01 --until 2100-01-01
	json_check "d['runs'] == []"
}
test_case "a year after (history_retention), the pilot forgets the runs" forgotten

# A field with a comma or a quote is quoted, its quotes doubled (RFC
# 4180); an admin's SQL can write any text.
quoting() {
	# One clock reading for both times: two could straddle a second.
	local now
	now=$(date +%s)
	db_query "INSERT INTO job_history (job_id, attempt, username, task,
	    queue, node, gpu, status, exit_code, end_reason, started_ms,
	    ended_ms, idx, gpu_index) VALUES (999, 1, 'tester', 'q', 'default',
	    'n,\"1\"', 0, 'failed', 3, 'said \"no\", twice',
	    $((now * 1000 - 5000)), $((now * 1000 - 1000)), 0, NULL)"
	expect_exit 0 orch history --csv
	expect_stdout_contains ',"n,""1""",'
	expect_stdout_contains ',"said ""no"", twice"'
	python3 - "$OUT" <<'PY' || fail "bad CSV: $(cat "$OUT")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 1, rows
r = rows[0]
assert r["node"] == 'n,"1"' and r["end_reason"] == 'said "no", twice', r
assert r["run_ms"] == "4000" and r["exit_code"] == "3", r
PY
	expect_exit 0 orch history
	# The table's EXIT says why beside the code, as task show's does.
	expect_stdout_line "^tester +user.tester.q +0 +1 +n,\"1\" +- +.* 0:00:04 +failed +3 \(said \"no\", twice\) +- +-$"
}
test_case "--csv quotes a comma and a quote" quoting
