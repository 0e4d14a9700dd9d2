#!/usr/bin/env bash
# pg-db.sh PREFIX - create a fresh database on the test server that
# pg-start.sh started in $ORCHESTRA_PG_DIR, and print its URL.  Each test
# gets its own, so tests can run side by side.
set -euo pipefail
dir=${ORCHESTRA_PG_DIR:?ORCHESTRA_PG_DIR is not set}
admin=$(cat "$dir/url")
name="$1_$$_${RANDOM}"
psql -q -X -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE \"$name\"" >/dev/null
echo "${admin%/*}/$name"
