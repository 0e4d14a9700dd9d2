#!/usr/bin/env bash
# bench-serve.sh - serve's figures of issue 14, with the release build on
# a real SQLite file of --tasks (1,000) tasks and --jobs (1,000,000) jobs,
# one task of them with --big (10,000) jobs, made by bulk SQL:
#
#   tasks   2xx answers a second of GET /api/v1/tasks (the first page,
#           with counts, priority and why), --conns (32) connections from
#           one address, and 16, the most serve lets one address hold
#           (target >= 5,000/s);
#   jobs    the same for the first page of the big task's jobs;
#   queue   the same for GET /api/v1/queue;
#           each again (tasks~, jobs~, queue~) while the database
#           changes 5 times a second;
#   me      the 99th percentile of GET /api/v1/me (4 connections) while
#           --conns clients, each from an address of its own (127.0.1.N),
#           post wrong passwords to /api/v1/session (target <= 50 ms);
#   slow    a fresh client's first answer (GET /healthz) while --slow
#           (600) connections from 10 addresses send their request
#           heads slowly (target <= 1 s);
#   streams --streams (1,000) event streams from 10 addresses, each
#           with a token of its own: from a task submitted through the
#           API to the last stream telling of it (target <= 1 s), and
#           serve's VmRSS and VmHWM with them open (target < 100 MB);
#   tasks2  the tasks figure again on a second database of --tasks2
#           (100,000) tasks and the same --jobs, and its ratio to the
#           first (target: within 20%); --tasks2 0 skips it.
#
#   bench/bench-serve.sh [--tasks N] [--jobs N] [--big N] [--running N]
#                        [--conns C] [--seconds S] [--slow N] [--streams N]
#                        [--tasks2 N] [--bin PATH] [--keep]
#
# wrk (Debian package wrk) measures; the script installs it if missing.
# The answers that are not 2xx (429 from the per-address limits, say) are
# counted and printed beside each figure, not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

tasks=1000 jobs=1000000 big=10000 running=2000 conns=32 seconds=10 bin= keep=
slow=600 streams=1000 tasks2=100000
while [ $# -gt 0 ]; do
	case $1 in
	--tasks) tasks=$2; shift 2 ;;
	--slow) slow=$2; shift 2 ;;
	--streams) streams=$2; shift 2 ;;
	--tasks2) tasks2=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--big) big=$2; shift 2 ;;
	--running) running=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--tasks N] [--jobs N] [--big N] [--running N] [--conns C] [--seconds S] [--slow N] [--streams N] [--tasks2 N] [--bin PATH] [--keep]" >&2
	   exit 2 ;;
	esac
done
if ! command -v wrk >/dev/null; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y wrk >/dev/null
fi
if [ -z "$bin" ]; then
	cmake --preset release >/dev/null
	cmake --build --preset release -j "$(nproc)" >/dev/null
	bin=$PWD/build/release/orchestra
fi

home=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-bench-serve-XXXXXX")
serve= posters=
cleanup() {
	[ -n "$posters" ] && kill "$posters" 2>/dev/null && wait "$posters" 2>/dev/null
	[ -n "$serve" ] && kill "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
	if [ -n "$keep" ]; then
		echo "kept: $home" >&2
	else
		rm -rf "$home"
	fi
}
trap cleanup EXIT
export ORCHESTRA_HOME=$home ORCHESTRA_CONF=/dev/null ORCHESTRA_USER=bench
db=$home/orchestra.db
q() { sqlite3 -cmd '.timeout 10000' "$db" "$1"; }

# The database: the big task through the command line, the others copied
# from it in bulk.
make_db() { # TASKS: in $ORCHESTRA_HOME
local tasks=$1 per t0=$SECONDS
"$bin" init >/dev/null
seq -f "/in/%06g" 1 "$big" >"$home/list"
"$bin" task submit big --skip-test --inputs "@$home/list" \
	--exec 'true %IN' >/dev/null
per=$(((jobs - big + tasks - 2) / (tasks - 1))) # rounded up
# Jobs that hold a slot: about --running (2,000), a tenth of the jobs of
# the first tasks, and the node has that many slots.  (A database with a
# tenth of a million jobs running on one node cannot happen, and would
# make every view that counts slots in use read them all.)
tenth=$((per / 10 > 0 ? per / 10 : 1))
running_tasks=$(((running + tenth - 1) / tenth + 1))
q "BEGIN;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n
	WHERE i < $tasks)
INSERT INTO task (account_id, name, queue, image, command, inputs,
	data_path, out_dir, gpu, skip_test, timeout_ms, retention_ms, njobs,
	submitted_ms, updated_ms, status, dirty)
SELECT t.account_id, 't' || n.i, t.queue, t.image, t.command, t.inputs,
	t.data_path, t.out_dir, t.gpu, t.skip_test, t.timeout_ms,
	t.retention_ms, $per, t.submitted_ms, t.updated_ms, 'running', 0
FROM task t, n WHERE t.name = 'big';
INSERT INTO job (task_id, idx, account_id, queue, gpu, submitted_ms, input,
	command, status, priority, node_id, attempts, started_ms)
SELECT t.id, j.idx, j.account_id, j.queue, j.gpu, j.submitted_ms, j.input,
	j.command,
	CASE WHEN j.idx % 10 < 7 THEN 'done'
	WHEN j.idx % 10 = 7 AND t.id <= $running_tasks THEN 'running'
	ELSE 'assigned' END,
	CASE WHEN j.idx % 10 = 7 AND t.id <= $running_tasks
	THEN t.id + j.idx / 1000.0 ELSE 0 END,
	CASE WHEN j.idx % 10 < 7 OR (j.idx % 10 = 7 AND t.id <= $running_tasks)
	THEN (SELECT min(id) FROM node) END,
	CASE WHEN j.idx % 10 < 7 OR (j.idx % 10 = 7 AND t.id <= $running_tasks)
	THEN 1 ELSE 0 END,
	CASE WHEN j.idx % 10 < 7 OR (j.idx % 10 = 7 AND t.id <= $running_tasks)
	THEN j.submitted_ms END
FROM task t JOIN job j ON j.task_id = (SELECT id FROM task WHERE name = 'big')
	AND j.idx < $per
WHERE t.name <> 'big';
UPDATE task SET status = 'running', dirty = 0 WHERE name = 'big';
UPDATE node SET max_cpu_slots = $running, cpu_slots = $running;
UPDATE job SET status = 'assigned'
	WHERE task_id = (SELECT id FROM task WHERE name = 'big');
COMMIT;
ANALYZE;"
echo "database: $(q 'SELECT count(*) FROM task') tasks, $(q 'SELECT count(*) FROM job') jobs ($per a task, $big in 'big', $(q "SELECT count(*) FROM job WHERE status = 'running'") running), made in $((SECONDS - t0)) s"
}
make_db "$tasks"

token=$("$bin" user token bench 2>/dev/null)
"$bin" user passwd bench <<<"bench-password-$RANDOM$RANDOM" >/dev/null
# serve on $ORCHESTRA_HOME's database: $serve, $port, $api.
serve_start() {
	"$bin" serve --listen 127.0.0.1:0 2>"$ORCHESTRA_HOME/serve.log" &
	serve=$!
	for _ in $(seq 1 300); do
		grep -q 'listening address=' "$ORCHESTRA_HOME/serve.log" && break
		sleep 0.1
	done
	port=$(sed -n 's/.*listening address=[^ ]*:\([0-9]*\).*/\1/p' \
		"$ORCHESTRA_HOME/serve.log" | head -n 1)
	[ -n "$port" ] || { echo "bench: serve did not start" >&2; exit 1; }
	api=http://127.0.0.1:$port
}
serve_stop() {
	kill "$serve" && wait "$serve" 2>/dev/null || :
	serve=
}
serve_start

# rate NAME PATH C: 2xx a second over --seconds with C connections.
rate() {
	wrk -t2 -c"$3" -d"${seconds}s" --timeout 30s -H "Authorization: Bearer $token" \
		"$api$2" >"$home/wrk-$1-$3.txt"
	awk -v name="$1" -v path="$2" -v c="$3" '
	/requests in/ { n = $1; s = $4; sub(/s,?$/, "", s) }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ { errs = $0; sub(/^ *Socket errors: */, "", errs) }
	END { printf "%-6s GET %s, %d connections: %.0f 2xx/s (target >= " \
	    "5,000); %d requests, %d not 2xx%s\n", name, path, c,
	    (n - bad) / s, n, bad, errs ? "; socket errors: " errs : ""
	    printf "%.0f\n", (n - bad) / s >"/dev/stderr" }' \
		"$home/wrk-$1-$3.txt" 2>"$home/rate-$1-$3.txt"
}
# Each figure also at 16 connections, the most one address could use
# before serve allowed 64 (server.c's WEB_CONN_PER_IP): comparable with
# the figures measured then.
for c in "$conns" 16; do
	rate tasks /api/v1/tasks "$c"
	rate jobs /api/v1/tasks/bench/big/jobs "$c"
	rate queue /api/v1/queue "$c"
done
# Serve keeps answers while the database is unchanged (src/web/cache.c),
# so the figures above are mostly answers kept.  The same again while
# another connection commits a change 5 times a second, as a running
# pilot's heartbeat does: every page is read again after each change.
(while :; do
	q "UPDATE node SET last_seen_ms = coalesce(last_seen_ms, 0) + 1"
	sleep 0.2
done) &
changer=$!
for p in tasks:/api/v1/tasks jobs:/api/v1/tasks/bench/big/jobs \
	queue:/api/v1/queue; do
	rate "${p%%:*}~" "${p#*:}" "$conns" |
		sed 's/$/; the database changing 5 times a second/'
done
kill "$changer"
wait "$changer" 2>/dev/null || true

# /me while clients post wrong passwords, each from its own address.
cat >"$home/posters.py" <<'EOF'
import http.client, json, sys, threading, time
port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
body = json.dumps({"username": "bench", "password": "wrong"})
counts, lock = {}, threading.Lock()
def post(i):
    end = time.time() + seconds
    c = None
    while time.time() < end:
        try:
            if c is None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                    source_address=("127.0.1.%d" % (i + 1), 0))
            c.request("POST", "/api/v1/session", body,
                {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            k = r.status
        except Exception as e:
            k, c = type(e).__name__, None
        with lock:
            counts[k] = counts.get(k, 0) + 1
ts = [threading.Thread(target=post, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s: %d" % (k, v) for k, v in sorted(counts.items(), key=str)))
EOF
python3 "$home/posters.py" "$port" "$conns" $((seconds + 4)) >"$home/posters.txt" &
posters=$!
sleep 2 # the posters under way before the measure
wrk -t1 -c4 -d"${seconds}s" --timeout 30s --latency -H "Authorization: Bearer $token" \
	"$api/api/v1/me" >"$home/wrk-me.txt"
wait "$posters"
posters=
awk -v c="$conns" -v p="$(cat "$home/posters.txt")" '
	/requests in/ { n = $1 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	$1 == "99%" { p99 = $2 }
	/Socket errors:/ { errs = $0; sub(/^ *Socket errors: */, "", errs) }
	END { printf "me     GET /api/v1/me, 4 connections, while %d clients " \
	    "post wrong passwords: 99th percentile %s (target <= 50 ms); " \
	    "%d requests, %d not 2xx%s; the posts: %s\n", c, p99, n, bad,
	    errs ? "; socket errors: " errs : "", p }' \
	"$home/wrk-me.txt"

# A fresh client among --slow connections sending their heads slowly
# (the request line and one header, then nothing: the head deadline is
# 10 s), from 10 addresses, as t0314 has them.  On a fresh serve: the
# one above may still work on the pages wrk asked for, and /healthz
# waits for a worker.
serve_stop
serve_start
python3 - "$port" "$slow" >"$home/slow.txt" <<'PY'
import http.client, resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
slow = []
for k in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                 source_address=("127.0.3.%d" % (k % 10 + 1), 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
t0 = time.monotonic()
try:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                   source_address=("127.0.3.99", 0))
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    status = r.status
except OSError as e:
    status = type(e).__name__
print("%d %s" % ((time.monotonic() - t0) * 1000, status))
for s in slow:
    s.close()
PY
read -r ms status <"$home/slow.txt"
echo "slow   GET /healthz, a fresh client among $slow slow-header connections from 10 addresses: $ms ms (target <= 1 s), status $status"

# --streams event streams, each with a token of its own, from 10
# addresses; one change (a task submitted through the API) to all.  On
# a fresh serve, so that its VmHWM is theirs.
serve_stop
serve_start
for _ in $(seq 1 "$streams"); do
	"$bin" user token bench 2>/dev/null
done >"$home/tokens"
python3 tests/cli/sse-many.py "$api" --tokens "$home/tokens" \
	--streams "$streams" --sources 127.0.4 --naddr 10 --name streams \
	--pid "$serve" --timeout 120 >"$home/streams.txt" || :
awk -v n="$streams" '
	{ v[$1] = $2 }
	$1 == "refused" { refused = refused " " $2 ": " $3 }
	END { printf "streams %d event streams from 10 addresses, a token " \
	    "each: one change reached %d of them in %s ms, the median in " \
	    "%s ms (target <= 1 s); serve VmRSS %.1f MB, VmHWM %.1f MB " \
	    "(target < 100 MB); %d open, refused:%s\n", n, v["told"],
	    v["told_ms"], v["told_p50_ms"], v["vmrss_kb"] / 1024,
	    v["vmhwm_kb"] / 1024, v["open"], refused ? refused : " none" }' \
	"$home/streams.txt"

# The tasks figure on a second database of --tasks2 tasks.
if [ "$tasks2" -gt 0 ]; then
	serve_stop
	export ORCHESTRA_HOME=$home/tasks2
	mkdir -p "$ORCHESTRA_HOME"
	db=$ORCHESTRA_HOME/orchestra.db
	make_db "$tasks2"
	token=$("$bin" user token bench 2>/dev/null)
	serve_start
	rate tasks2 /api/v1/tasks "$conns"
	awk -v a="$(cat "$home/rate-tasks-$conns.txt")" \
	    -v b="$(cat "$home/rate-tasks2-$conns.txt")" -v t="$tasks" \
	    -v t2="$tasks2" 'BEGIN { printf "tasks2 %d tasks against %d: " \
	    "%.0f%% of the 2xx/s (target: within 20%%)\n", t2, t,
	    (a > 0 ? 100 * b / a : 0) }'
fi
