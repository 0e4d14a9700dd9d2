#!/usr/bin/env bash
# run.sh - build the fuzz preset (clang, libFuzzer, ASan, UBSan) and run one
# fuzz target for a while on a fresh copy of its seed corpus.
#
#   fuzz/run.sh NAME [SECONDS] [LIBFUZZER-OPTION...]
#
# NAME is fuzz/fuzz-NAME.c; SECONDS defaults to 60.  Everything lands in
# build/fuzz/run-NAME/: corpus/ (the seeds plus what libFuzzer found worth
# keeping; fuzz/corpus/NAME is never written) and artifacts/ (crash-*,
# leak-*, timeout-*: replay one with build/dev/replay-NAME FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: fuzz/run.sh NAME [SECONDS] [LIBFUZZER-OPTION...]" >&2
	echo "names: $(cd fuzz && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//' |
	    tr '\n' ' ')" >&2
	exit 2
}

[ $# -ge 1 ] || usage
name=$1
shift
[ -f "fuzz/fuzz-$name.c" ] && [ -d "fuzz/corpus/$name" ] || usage
seconds=60
if [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
	seconds=$1
	shift
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "fuzz-$name"

work=build/fuzz/run-$name
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
cp -R "fuzz/corpus/$name/." "$work/corpus/"

export TMPDIR=$PWD/$work/tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "build/fuzz/fuzz-$name" -max_total_time="$seconds" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" \
    "$work/corpus"
