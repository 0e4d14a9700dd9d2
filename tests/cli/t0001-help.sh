#!/bin/bash
# t0001-help.sh - every command and subcommand, found by walking the
# "commands:" sections of --help (so a new one is covered without editing
# this file): --help exits 0 with "usage: orchestra ...", a bad option is
# a usage error (exit 2, one message line and the usage), an unknown
# command is a usage error, and --help's usage equals the SYNOPSIS of the
# command's man page docs/man/orchestra-<cmd>[-<sub>].1, which every
# command and group has (a missing page fails; so does a page of no
# command).

. "$(dirname "$0")/lib.sh"

# Options other than --help open the database first: have one.
orch init >/dev/null

MANDIR="$SRCDIR/docs/man"

# The command names listed in the "commands:" section of help text $1,
# for the command path $2 ("" at the top): the word after the path.
list_commands() {
	local depth
	depth=$(printf '%s' "$2" | wc -w)
	printf '%s\n' "$1" | awk -v d="$depth" '
		/^commands:/ { on = 1; next }
		on && /^$/ { on = 0 }
		on && /^  [^ ]/ { print $(d + 1) }'
}

# The SYNOPSIS of a man page, roff markup removed, on one line.
man_synopsis() {
	python3 - "$1" <<'EOF'
import re, shlex, sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
out, on = [], False
for line in lines:
    if re.match(r'^\.S[HS]\s', line):
        on = re.match(r'^\.SH\s+"?SYNOPSIS"?\s*$', line) is not None
        continue
    if not on or line.startswith('.\\"') or line.startswith("'"):
        continue
    m = re.match(r'^\.([A-Za-z]+)\s*(.*)$', line)
    if m:
        macro, rest = m.group(1), m.group(2)
        try:
            args = shlex.split(rest, posix=True)
        except ValueError:
            args = rest.split()
        if macro in ("B", "I", "SM", "SB"):
            line = " ".join(args)
        elif macro in ("BR", "RB", "IR", "RI", "BI", "IB"):
            line = "".join(args)
        else:
            continue  # .nf, .fi, .PP, .br, .sp, .in, .TP ...
    line = re.sub(r'\\f(\(..|\[[^]]*\]|.)', '', line)
    line = line.replace('\\-', '-').replace('\\ ', ' ').replace('\\&', '')
    line = line.replace('\\e', '\\')
    out.append(line)
print(re.sub(r'\s+', ' ', " ".join(out)).strip())
EOF
}

check_help() {
	local path=$1 usage
	# shellcheck disable=SC2086 # the path is words
	expect_exit 0 orch $path --help
	expect_stderr_empty
	usage=$(head -n 1 "$OUT")
	case $usage in
	"usage: orchestra ${path:+$path }"*) ;;
	*) fail "first line of '$path --help' is '$usage'" ;;
	esac
}

# The man page of command path $1 ("" for orchestra.1, "task" for the
# group): its SYNOPSIS is the usage --help prints.
man_page() {
	printf '%s\n' "$MANDIR/orchestra${1:+-}$(printf '%s' "$1" | tr ' ' '-').1"
}
check_man() {
	local path=$1 usage page synopsis
	# shellcheck disable=SC2086
	orch $path --help >"$OUT"
	usage=$(head -n 1 "$OUT")
	page=$(man_page "$path")
	[ -f "$page" ] || fail "no man page $page"
	synopsis=$(man_synopsis "$page")
	if [ "$synopsis" != "${usage#usage: }" ] &&
	    [ "$synopsis" != "${usage#usage: orchestra }" ]; then
		fail "SYNOPSIS of $page is '$synopsis', --help says '$usage'"
	fi
}

check_bad_option() {
	local path=$1 usage
	# shellcheck disable=SC2086
	usage=$(orch $path --help | head -n 1)
	# shellcheck disable=SC2086
	expect_exit 2 orch $path --no-such-option
	expect_stderr_usage "^orchestra: $path: unknown option '--no-such-option'\$"
	if [ "$(sed -n 2p "$ERR")" != "$usage" ]; then
		fail "usage after the error differs from --help's '$usage'"
	fi
	if [ -s "$OUT" ]; then
		fail "a usage error wrote to stdout"
	fi
}

check_unknown_sub() {
	local path=$1
	# shellcheck disable=SC2086
	expect_exit 2 orch $path no-such-command
	if ! head -n 1 "$ERR" | grep -q \
	    "^orchestra: $path: unknown command 'no-such-command'$"; then
		lib_show_output
		fail "no 'unknown command' message"
	fi
}

ncommands=0
# The man page of each command walked, one a line.
: >"$TMP/pages"
walk() {
	local path=$1 help sub
	# shellcheck disable=SC2086
	help=$(orch $path --help)
	for sub in $(list_commands "$help" "$path"); do
		local p="${path:+$path }$sub"
		ncommands=$((ncommands + 1))
		man_page "$p" >>"$TMP/pages"
		test_case "'$p --help' exits 0 with its usage" check_help "$p"
		test_case "man page of '$p': SYNOPSIS is the usage" \
		    check_man "$p"
		test_case "'$p --no-such-option' is a usage error (exit 2)" \
		    check_bad_option "$p"
		# shellcheck disable=SC2086
		if orch $p --help | grep -q '^commands:'; then
			test_case "'$p no-such-command' is a usage error" \
			    check_unknown_sub "$p"
			walk "$p"
		fi
	done
}

top_help() {
	expect_exit 0 orch --help
	expect_stderr_empty
	head -n 1 "$OUT" | grep -q '^usage: orchestra ' ||
	    fail "'orchestra --help' does not start with the usage"
	expect_stdout_contains "commands:"
}
test_case "'orchestra --help' exits 0 and lists the commands" top_help

no_args() {
	expect_exit 2 orch
	grep -q '^usage: orchestra ' "$ERR" || fail "no usage on stderr"
	[ ! -s "$OUT" ] || fail "'orchestra' alone wrote to stdout"
}
test_case "'orchestra' alone is a usage error (exit 2)" no_args

unknown_command() {
	expect_exit 2 orch no-such-command
	head -n 1 "$ERR" |
	    grep -q "^orchestra: unknown command 'no-such-command'$" ||
	    fail "no 'unknown command' message"
}
test_case "an unknown command is a usage error (exit 2)" unknown_command

global_bad_option() {
	expect_exit 2 orch --no-such-option init
	expect_stderr_usage "^orchestra: unknown option '--no-such-option'$"
}
test_case "an unknown global option is a usage error (exit 2)" \
    global_bad_option

version() {
	expect_exit 0 orch --version
	grep -Eq '^orchestra [0-9]+\.[0-9]+\.[0-9]+$' "$OUT" ||
	    fail "no version number"
}
test_case "'orchestra --version' prints the version" version

test_case "man page orchestra.1: SYNOPSIS is the usage" check_man ""
man_page "" >>"$TMP/pages"

walk ""

walked() {
	[ "$ncommands" -ge 5 ] || fail "walked only $ncommands commands"
}
test_case "the walk found the commands ($ncommands)" walked

# No page is left of a command that is gone (or misnamed).
pages_of_commands() {
	local page
	for page in "$MANDIR"/orchestra*.1; do
		[ -e "$page" ] || continue # no page at all: failed above
		grep -qxF "$page" "$TMP/pages" ||
		    fail "man page $page is of no command"
	done
}
test_case "every man page is of a command" pages_of_commands
