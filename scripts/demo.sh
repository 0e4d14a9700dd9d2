#!/usr/bin/env bash
# demo.sh - Orchestra's main job on the embedded default (SQLite):
# install what is missing, build, initialise a throw-away home, submit a
# real multi-job task, and show it queued in the scheduler's order.
#
# The pilot that runs the jobs comes with the local backend (issue 3);
# until then the demo stops at the queue.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bin=$PWD/build/release/orchestra

home=$(mktemp -d /tmp/orchestra-demo-XXXXXX)
export ORCHESTRA_HOME=$home ORCHESTRA_CONF=/dev/null
echo "demo home: $home"

# 24 input files: each job counts the words of one and writes the count.
mkdir -p "$home/inputs"
for i in $(seq -w 1 24); do
	seq 1 "$((10#$i * 100))" | tr '\n' ' ' >"$home/inputs/part-$i.txt"
done

"$bin" init
"$bin" user add alice --email alice@example.org
"$bin" --user alice task submit wordcount --inputs "$home/inputs" \
	--exec 'wc -w < %IN > %OUT/$(basename %IN .txt).count'
echo
"$bin" task list --all
echo
"$bin" queue
