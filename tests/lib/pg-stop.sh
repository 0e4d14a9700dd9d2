#!/usr/bin/env bash
# pg-stop.sh DIR - stop the server pg-start.sh started and remove DIR.
set -uo pipefail
dir=$1
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
if [ -d "$dir/data" ]; then
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
fi
rm -rf "$dir"
exit 0
