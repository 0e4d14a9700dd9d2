#!/bin/bash
# t0001-help.sh - every command and subcommand, found by walking the
# "commands:" sections of --help (so a new one is covered without editing
# this file): --help exits 0 with "usage: orchestra ..." (with a bad
# config file too), a bad option is a usage error (exit 2, one message
# line and the usage), an unknown command is a usage error, and --help's
# usage equals the SYNOPSIS of the
# command's man page docs/man/orchestra-<cmd>[-<sub>].1, which every
# command and group has (a missing page fails; so does a page of no
# command).  --help lists every option the command accepts, one line
# each, the same as its usage and as the shell completion offers, and
# gives an example; deploy/bash-completion/orchestra completes commands,
# subcommands and options.

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
	# Whatever the config file holds: help needs none of it.
	# shellcheck disable=SC2086
	expect_exit 0 env ORCHESTRA_CONF="$TMP/bad.conf" "$ORCHESTRA_BIN" \
	    $path --help
	[ "$(head -n 1 "$OUT")" = "$usage" ] ||
	    fail "'$path --help' with a bad config file: $(head -n 1 "$ERR")"
}
printf 'no-such-key = 1\n' >"$TMP/bad.conf"

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

# The options --help lists, "--name" or "--name ARG", one a line.
help_options() {
	printf '%s\n' "$1" | awk '
		/^options:/ { on = 1; next }
		on && /^$/ { on = 0 }
		on && /^  --/ { print $1 (($2 ~ /^[A-Z]/ || $2 ~ /^on\|/) ? " " $2 : "") }'
}

# --help of a leaf: each option of the usage line is listed, one line
# with what it does; each listed option is in the usage and accepted (the
# parser takes it, then --help); the completion offers exactly these; an
# example of the command follows.
check_options() {
	local path=$1 help usage opt name arg line
	# shellcheck disable=SC2086
	help=$(orch $path --help)
	# Not "printf | head -n 1": under pipefail, head leaving before the
	# printf's last write makes the assignment fail, and set -e end the
	# case with no word (seen once under load).
	usage=${help%%$'\n'*}
	help_options "$help" >"$TMP/opts"
	grep -qx -- '--help' "$TMP/opts" || fail "'$path --help' lists no --help"
	for opt in $(printf '%s\n' "$usage" | grep -oE -- '--[a-z][a-z-]*' |
	    sort -u); do
		grep -q -- "^$opt\( \|\$\)" "$TMP/opts" ||
		    fail "'$path --help' does not list $opt of its usage"
	done
	while read -r name arg; do
		[ "$name" = --help ] && continue
		grep -q -- "$name\b" <<<"$usage" ||
		    fail "'$path --help' lists $name, its usage does not"
		line=$(printf '%s\n' "$help" | grep -E -- "^  $name( |\$)")
		[ "$(printf '%s\n' "$line" | wc -l)" = 1 ] ||
		    fail "'$path --help': $name is not on one line"
		grep -qE -- "^  $name( [^ ]+)?  +[a-z]" <<<"$line" ||
		    fail "'$path --help': $name says not what it does: '$line'"
		# shellcheck disable=SC2086
		expect_exit 0 orch $path "$name" ${arg:+1} --help
	done <"$TMP/opts"
	# shellcheck disable=SC2086
	orch --complete $path -- | sort >"$TMP/completed"
	cut -d' ' -f1 "$TMP/opts" | sort >"$TMP/listed"
	diff "$TMP/listed" "$TMP/completed" >&2 ||
	    fail "'$path': completion and --help differ"
	printf '%s\n' "$help" | sed -n '/^example:$/,$p' | sed 1d >"$TMP/ex"
	grep -qE "^  ([A-Z_]+=[^ ]+ )?orchestra $path( |\$)" "$TMP/ex" ||
	    fail "'$path --help' gives no example of it"
}

check_bad_option() {
	local path=$1 usage
	# shellcheck disable=SC2086
	usage=$(orch $path --help)
	usage=${usage%%$'\n'*}
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
		if ! orch $p --help | grep -q '^commands:'; then
			test_case "'$p --help' lists each option and an example" \
			    check_options "$p"
		fi
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

# deploy/bash-completion/orchestra, sourced into bash with the binary
# first on PATH, as `orchestra <TAB>` would run it.
mkdir "$TMP/bin"
ln -s "$ORCHESTRA_BIN" "$TMP/bin/orchestra"
complete_line() {
	PATH="$TMP/bin:$PATH" bash -c '
		. "$1/deploy/bash-completion/orchestra"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_orchestra
		printf "%s\n" "${COMPREPLY[@]}"' complete "$SRCDIR" "$@"
}
completion() {
	local got
	got=$(complete_line orchestra "" | tr '\n' ' ')
	[ "$got" = "doctor history init metrics node pilot queue serve status task user " ] ||
	    fail "orchestra <TAB>: '$got'"
	got=$(complete_line orchestra task "" | tr '\n' ' ')
	[ "$got" = "delete kill list logs retry show submit " ] ||
	    fail "orchestra task <TAB>: '$got'"
	got=$(complete_line orchestra task submit --sk | tr '\n' ' ')
	[ "$got" = "--skip-test " ] ||
	    fail "orchestra task submit --sk<TAB>: '$got'"
	got=$(complete_line orchestra --user bob node set n1 --cpu | tr '\n' ' ')
	[ "$got" = "--cpu-slots " ] ||
	    fail "orchestra --user bob node set n1 --cpu<TAB>: '$got'"
	# A value or a file is due: nothing, bash completes file names.
	got=$(complete_line orchestra task submit --inputs "")
	[ -z "$got" ] || fail "orchestra task submit --inputs <TAB>: '$got'"
	got=$(complete_line orchestra no-such-command "")
	[ -z "$got" ] || fail "orchestra no-such-command <TAB>: '$got'"
}
test_case "bash completion of commands, subcommands and options" completion
