#!/usr/bin/env bash
# pg-start.sh DIR - start a private PostgreSQL server for the tests.
#
# A new cluster in DIR/data, owned by an unprivileged user (the running
# user, or 'postgres' when we are root), listening on a free loopback port
# with trust authentication for loopback only.  Writes the admin URL (the
# 'postgres' database) to DIR/url and the port to DIR/port.  Idempotent: a
# server already running from DIR is kept.
set -euo pipefail
dir=$1
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pg-start: no PostgreSQL server installed" >&2; exit 1; }

as=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	owner=postgres
	as=(runuser -u postgres --)
fi
mkdir -p "$dir"
chown "$owner" "$dir"
chmod 700 "$dir"

if [ -f "$dir/port" ] && "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
	exit 0
fi
rm -rf "$dir/data"
"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
	-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }

# A free port: ask the kernel by trying, a few times.
for try in $(seq 1 20); do
	port=$((20000 + (RANDOM % 20000)))
	if "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
		start >/dev/null 2>&1; then
		echo "$port" >"$dir/port"
		echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
		exit 0
	fi
done
echo "pg-start: could not start PostgreSQL; see $dir/server.log" >&2
tail -n 20 "$dir/server.log" >&2 || true
exit 1
