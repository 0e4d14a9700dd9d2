#!/usr/bin/env bash
# demo.sh - Orchestra's main job on the embedded default (SQLite, local
# backend): install what is missing, build, initialise a throw-away home,
# start the pilot, submit a real 24-job task, and show it test, run and
# finish.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "building…"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bin=$PWD/build/release/orchestra

home=$(mktemp -d /tmp/orchestra-demo-XXXXXX)
export ORCHESTRA_HOME=$home ORCHESTRA_CONF=/dev/null
pilot=
trap '[ -n "$pilot" ] && kill "$pilot" 2>/dev/null; wait 2>/dev/null || true' EXIT
echo "demo home: $home"

# 24 input files of numbers; each job sums one file into %OUT (and takes
# a moment, so that the states can be seen go by).
mkdir -p "$home/inputs"
for i in $(seq -w 1 24); do
	seq 1 "$((10#$i * 1000))" >"$home/inputs/part-$i.txt"
done

"$bin" init
# Each job runs as its owner's Unix account; alice has none here, so
# hers run as yours (on a shared install: `--unix-user` her own login).
"$bin" user add alice --email alice@example.org --unix-user "$(id -un)"
"$bin" pilot --interval 5 2>"$home/pilot.log" &
pilot=$!
"$bin" --user alice task submit sums --inputs "$home/inputs" \
	--exec 'sleep 0.3; awk "{ s += \$1 } END { print s }" %IN > %OUT/$(basename %IN .txt).sum'

# Watch it: registered -> testing (job 0 alone) -> running -> done.
last= deadline=$((SECONDS + 100))
while :; do
	json=$("$bin" --user alice task show sums --json)
	status=$(sed -n 's/^  "status": "\(.*\)",$/\1/p' <<<"$json")
	jobs=$(sed -n '/"counts"/,/}/s/^ *"\([a-z]*\)": \([1-9][0-9]*\),\{0,1\}$/\2 \1/p' \
		<<<"$json" | paste -sd, | sed 's/,/, /g')
	now="$status ($jobs)"
	[ "$now" != "$last" ] && echo "task user.alice.sums: $now" && last=$now
	case $status in
	done) break ;;
	broken | finalized | killed)
		echo "demo: the task ended $status; see $home/pilot.log" >&2
		exit 1 ;;
	esac
	if [ $SECONDS -ge $deadline ]; then
		echo "demo: the task did not finish in time" >&2
		exit 1
	fi
	sleep 0.2
done

echo
"$bin" task list --all
echo
"$bin" --user alice task show sums | sed -n '1,14p'
echo "…"
echo
total=$(cat "$home/volume/alice/sums/"*.sum | awk '{ s += $1 } END { printf "%.0f", s }')
echo "result: the 24 jobs summed $(ls "$home/volume/alice/sums" | wc -l) files;" \
	"grand total $total"
