#!/bin/bash
# test-install.sh BUILD_DIR - `cmake --install` into a DESTDIR (prefix
# /usr), as a packager would: the binary, a man page per command and group
# (docs/man/*.1) and orchestra.conf(5), each rendered by man without a
# warning; the bash completion, which completes commands, subcommands
# and options with the installed binary; the example configuration, every
# key commented out, which the installed binary reads; the systemd units
# naming the installed binary.  orchestra.conf(5) names every setting the
# code reads (the keys of util/config.c, each ORCHESTRA_* it reads from
# the environment).  A second install keeps an admin's configuration.
# The installed binary then runs a task to its end, as the README's demo.
set -eu
set -o pipefail

BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/orchestra-install.XXXXXX")
PILOT_PID=
cleanup() {
	[ -z "$PILOT_PID" ] || kill "$PILOT_PID" 2>/dev/null || :
	rm -rf "$TMP"
}
trap cleanup EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() {
	local desc=$1
	shift
	if ("$@") >"$TMP/check.out" 2>&1; then
		ok "$desc"
	else
		sed 's/^/# /' "$TMP/check.out"
		not_ok "$desc"
	fi
}
die() { echo "$*" >&2; exit 1; }

for tool in man groff; do
	if ! command -v $tool >/dev/null; then
		echo "# skip: no $tool (apt-get install man-db groff-base)"
		exit 77
	fi
done

DEST=$TMP/dest
DESTDIR=$DEST cmake --install "$BUILD" --prefix /usr >"$TMP/install.log"
ROOT=$DEST/usr

files() {
	local page f
	for f in bin/orchestra share/man/man5/orchestra.conf.5 \
	    share/bash-completion/completions/orchestra \
	    share/doc/orchestra/orchestra.conf.example \
	    lib/systemd/system/orchestra-pilot.service \
	    lib/systemd/system/orchestra-serve.service; do
		[ -f "$ROOT/$f" ] || die "not installed: /usr/$f"
	done
	[ -x "$ROOT/bin/orchestra" ] || die "/usr/bin/orchestra not executable"
	[ -f "$DEST/etc/orchestra/orchestra.conf" ] ||
	    die "not installed: /etc/orchestra/orchestra.conf"
	for page in "$SRC"/docs/man/*.1; do
		f=$ROOT/share/man/man1/$(basename "$page")
		cmp "$page" "$f" || die "man page not installed: $f"
	done
}
check "every file is installed under DESTDIR" files

man_renders() {
	local page out
	out=$(MANPAGER=cat MANWIDTH=80 man -M "$ROOT/share/man" orchestra)
	grep -q "batch job orchestrator" <<<"$out" ||
	    die "man -M ... orchestra: '$out'"
	out=$(MANPAGER=cat MANWIDTH=80 man -M "$ROOT/share/man" 5 \
	    orchestra.conf)
	grep -q "settings of Orchestra" <<<"$out" ||
	    die "man -M ... 5 orchestra.conf: '$out'"
	out=$(MANPAGER=cat MANWIDTH=80 man -M "$ROOT/share/man" \
	    orchestra-task-submit)
	grep -q "SYNOPSIS" <<<"$out" || die "no orchestra-task-submit(1)"
	for page in "$ROOT"/share/man/man*/*; do
		MANWIDTH=80 man --warnings -l "$page" >/dev/null \
		    2>"$TMP/warnings"
		[ ! -s "$TMP/warnings" ] ||
		    die "$(basename "$page"): $(cat "$TMP/warnings")"
	done
}
check "man renders orchestra, orchestra.conf(5), each page without warnings" \
    man_renders

# Every setting the code reads is in orchestra.conf(5): the keys of
# util/config.c's two tables (a row's key on its first line, with or
# without its [CONFIG_...] index), every ORCHESTRA_* that file names,
# and each ORCHESTRA_* read with getenv() (the test-only ones aside).
conf_page_complete() {
	local page=$ROOT/share/man/man5/orchestra.conf.5 name key n=0
	for key in $(sed -n \
	    's/^\t\(\[CONFIG_[A-Z_]*\] = \)\{0,1\}{ "\([a-z_]*\)",.*/\2/p' \
	    "$SRC/src/util/config.c"); do
		n=$((n + 1))
		grep -q "^\.BR $key \" (\"" "$page" ||
		    die "orchestra.conf(5) has no key '$key'"
		grep -q "^#$key = " "$SRC/deploy/orchestra.conf" ||
		    die "deploy/orchestra.conf has no key '$key'"
	done
	# Both tables: 16 keys and 13 when this was written.
	[ "$n" -ge 29 ] || die "found $n keys in util/config.c, not 29 or more"
	for name in $( (grep -rhoE 'getenv\("ORCHESTRA_[A-Z_]+"' "$SRC/src" ||
	    :; grep -oE 'ORCHESTRA_[A-Z_]+' "$SRC/src/util/config.c") |
	    grep -oE 'ORCHESTRA_[A-Z_]+' | grep -v '^ORCHESTRA_TEST_' |
	    sort -u); do
		grep -q "$name" "$page" ||
		    die "orchestra.conf(5) does not name $name"
	done
}
check "orchestra.conf(5) and the example name every setting the code reads" \
    conf_page_complete

units() {
	local u
	for u in pilot serve; do
		grep -qx "ExecStart=/usr/bin/orchestra $u" \
		    "$ROOT/lib/systemd/system/orchestra-$u.service" ||
		    die "orchestra-$u.service does not run /usr/bin/orchestra"
	done
}
check "the units run the installed binary" units

completion() {
	local got
	mkdir "$TMP/path"
	ln -s "$ROOT/bin/orchestra" "$TMP/path/orchestra"
	# shellcheck disable=SC2016 # expanded by the inner bash
	got=$(PATH="$TMP/path:$PATH" bash -c '
		. "$1"
		COMP_WORDS=(orchestra task "")
		COMP_CWORD=2
		_orchestra
		printf "%s " "${COMPREPLY[@]}"' complete \
	    "$ROOT/share/bash-completion/completions/orchestra")
	[ "$got" = "delete kill list logs retry show submit " ] ||
	    die "orchestra task <TAB>: '$got'"
}
check "the installed completion completes 'orchestra task <TAB>'" completion

export ORCHESTRA_HOME=$TMP/home ORCHESTRA_USER=tester
export ORCHESTRA_CONF=$DEST/etc/orchestra/orchestra.conf
unset ORCHESTRA_DB ORCHESTRA_URL ORCHESTRA_VOLUME ORCHESTRA_BACKEND
orch() { "$ROOT/bin/orchestra" "$@"; }

demo() {
	local deadline status
	orch --version | grep -q '^orchestra ' || die "no version"
	orch init >/dev/null
	orch user add alice --unix-user "$(id -un)" >/dev/null
	mkdir "$TMP/data"
	for i in 1 2 3; do echo "word $i and more" >"$TMP/data/in$i.txt"; done
	orch --user alice task submit wc --inputs "$TMP/data" \
	    --exec 'wc -w < %IN > %OUT/$(basename %IN).count' >/dev/null
	"$ROOT/bin/orchestra" pilot --interval 1 >"$TMP/pilot.log" 2>&1 &
	PILOT_PID=$!
	deadline=$((SECONDS + 120))
	until status=$(orch --user alice task list --json |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])') &&
	    [ "$status" = done ]; do
		[ $SECONDS -lt $deadline ] ||
		    die "task is '$status' after 120 s: $(cat "$TMP/pilot.log")"
		kill -0 "$PILOT_PID" || die "pilot died: $(cat "$TMP/pilot.log")"
		sleep 0.1 # a poll of a condition with a deadline
	done
	kill "$PILOT_PID"
	wait "$PILOT_PID" || die "pilot exited $?"
	PILOT_PID=
	[ "$(cat "$ORCHESTRA_HOME/volume/alice/wc/in2.txt.count")" = 4 ] ||
	    die "wrong output"
}
check "the installed binary, with the example configuration, runs a task to its end" demo

keep_conf() {
	echo "# an admin's" >>"$DEST/etc/orchestra/orchestra.conf"
	DESTDIR=$DEST cmake --install "$BUILD" --prefix /usr >/dev/null
	grep -q "an admin's" "$DEST/etc/orchestra/orchestra.conf" ||
	    die "a second install replaced /etc/orchestra/orchestra.conf"
}
check "a second install keeps the admin's orchestra.conf" keep_conf

echo "1..$n"
exit $failed
