#!/usr/bin/env bash
# layers.sh - the module layers of STYLE.md section 1, read from the
# #include lines and calls of src/:
#
#   core/ includes only util/ and core/;
#   only store/db-*.c include sqlite3.h or libpq-fe.h;
#   only backend/kube*.c, notify/smtp.c and service/service-remote.c (the
#   command line's client of the HTTP API) include curl;
#   only web/ includes microhttpd;
#   web/ includes only util/, core/, service/ and web/;
#   cmd/ and web/ (and main.c) reach the store only through service/:
#   no store/ include, no store_*() call;
#   util/ includes nothing of ours but util/;
#   banned functions stay banned (util.h includes banned.h last).
set -uo pipefail
cd "$(dirname "$0")/../../src" || exit 1
fail=0
bad() { echo "not ok - $*"; fail=1; }

check_includes() { # DIR ALLOWED-REGEX
	local f line
	for f in "$1"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r line; do
			inc=${line#*\"}; inc=${inc%%\"*}
			[[ $inc =~ $2 ]] || bad "$f includes \"$inc\""
		done < <(grep -E '^#include "' "$f")
	done
}
check_includes core '^(util|core)/'
check_includes util '^util/'
check_includes store '^(util|core|store)/'
check_includes backend '^(util|backend)/'
check_includes service '^(util|core|store|service|backend)/'
check_includes notify '^(util|core|store|notify)/'
check_includes pilot '^(util|core|store|backend|notify|pilot)/'
check_includes cmd '^(util|core|service|cmd|pilot|web)/'
check_includes web '^(util|core|service|web)/'

while IFS= read -r hit; do
	case $hit in
	store/db-*) ;;
	*) bad "$hit: only store/db-*.c may use the database libraries" ;;
	esac
done < <(grep -lE '#include <(sqlite3|libpq-fe)\.h>' -r . | sed 's|^\./||')
while IFS= read -r hit; do
	case $hit in
	backend/kube* | notify/smtp.c | service/service-remote.c) ;;
	*) bad "$hit: only backend/kube*.c, notify/smtp.c and service/service-remote.c may use curl" ;;
	esac
done < <(grep -lE '#include <curl/' -r . | sed 's|^\./||')
while IFS= read -r hit; do
	case $hit in
	web/*) ;;
	*) bad "$hit: only web/ may use libmicrohttpd" ;;
	esac
done < <(grep -lE '#include <microhttpd\.h>' -r . | sed 's|^\./||')
while IFS= read -r hit; do
	bad "$hit: cmd/ reaches the store only through service/"
done < <(grep -nE '\bstore_[a-z_]+\(' cmd/*.c main.c web/*.c 2>/dev/null)

# Every source file includes util.h (directly or through its module's
# header) before any other header of ours, so banned.h is in force.
tail -n 5 util/util.h | grep -q '#include "util/banned.h"' ||
	bad "util/util.h must include banned.h last"

if [ $fail -eq 0 ]; then
	echo "ok - module layers hold"
fi
exit $fail
