#!/bin/bash
# t0004-submit.sh - `orchestra task submit`: inputs from a directory, a glob
# and an @listfile; %IN %OUT %JOB %DATA and secondary KEY=PATH expanded and
# quoted for /bin/sh; the output directory made at submit; the
# user.<u>.<name> form; --skip-test; a 10,000-job submit in one
# transaction, and the same submit failing half-way (injected store fault)
# leaving the database and the volume exactly as they were; control
# characters in names, inputs and commands shown escaped.

. "$(dirname "$0")/lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
VOL="$ORCHESTRA_HOME/volume"

# Check the `task show --json` output in $OUT: the jobs' inputs are the
# lines of file $1, in order, and each job's command, run by /bin/sh,
# prints what the template `printf '%s\n' %IN %JOB %OUT` should: its
# input, its index and the task's output directory, each as one argument.
check_jobs() {
	if ! python3 - "$OUT" "$1" <<'EOF'; then
import json, subprocess, sys

d = json.load(open(sys.argv[1]))
want = open(sys.argv[2], encoding="utf-8", errors="surrogateescape").read().splitlines()
jobs = d["job_list"]
got = [j["input"] for j in jobs]
if got != want:
    sys.exit("inputs %r, expected %r" % (got, want))
if d["jobs"] != len(want):
    sys.exit("task says %d jobs, expected %d" % (d["jobs"], len(want)))
for i, j in enumerate(jobs):
    if j["index"] != i:
        sys.exit("job %d has index %d" % (i, j["index"]))
    out = subprocess.run(["/bin/sh", "-c", j["command"]], capture_output=True,
                         text=True, check=True).stdout
    exp = "%s\n%d\n%s\n" % (j["input"], i, d["output"])
    if out != exp:
        sys.exit("job %d: command %r printed %r, expected %r"
                 % (i, j["command"], out, exp))
EOF
		lib_show_output
		fail "jobs do not match"
	fi
}

PRINT='printf '"'"'%s\n'"'"' %IN %JOB %OUT'

# ---- a directory ------------------------------------------------------------

DIR="$TMP/in dir"
mkdir -p "$DIR/sub dir"
printf '1\n' >"$DIR/b.txt"
printf '2\n' >"$DIR/a file.txt"
printf '3\n' >"$DIR/c"
printf '4\n' >"$DIR/it's \$HOME \`x\`.txt"
printf '5\n' >"$DIR/sub dir/nested.txt"
mkfifo "$DIR/pipe"
ln -s "$DIR/no-such-file" "$DIR/dangling"
printf '%s\n' "$DIR/a file.txt" "$DIR/b.txt" "$DIR/c" \
    "$DIR/it's \$HOME \`x\`.txt" >"$TMP/want-dir"

submit_dir() {
	expect_exit 0 orch task submit fromdir --exec "$PRINT" --inputs "$DIR"
	# Submitted all the same, with no pilot (t0122).
	expect_stderr_line "^orchestra: warning: no pilot is running \(none has run yet\): "
	expect_stdout_contains "submitted task 'user.tester.fromdir': 4 jobs, output in $VOL/tester/fromdir"
	[ -d "$VOL/tester/fromdir" ] || fail "no output directory $VOL/tester/fromdir"
	expect_exit 0 orch task show fromdir --json
	json_check 'd["output"] == "'"$VOL"'/tester/fromdir" and
	    d["status"] == "registered" and d["signal"] is None and
	    d["counts"]["registered"] == 4 and not d["skip_test"]'
	check_jobs "$TMP/want-dir"
}
test_case "inputs from a directory: regular files sorted, others skipped, shell-quoted" \
    submit_dir

submit_dir_relative() {
	(cd "$TMP" && orch task submit fromreldir --exec "$PRINT" --inputs "in dir/") >/dev/null
	expect_exit 0 orch task show fromreldir --json
	check_jobs "$TMP/want-dir"
}
test_case "a relative input directory gives absolute input paths" \
    submit_dir_relative

# ---- a glob -----------------------------------------------------------------

GDIR="$TMP/glob"
mkdir -p "$GDIR/d.dat"
printf 'x\n' >"$GDIR/x2.dat"
printf 'x\n' >"$GDIR/x 1.dat"
printf 'x\n' >"$GDIR/y.txt"
printf '%s\n' "$GDIR/x 1.dat" "$GDIR/x2.dat" >"$TMP/want-glob"

submit_glob() {
	expect_exit 0 orch task submit fromglob --exec "$PRINT" --inputs "$GDIR/*.dat"
	expect_exit 0 orch task show fromglob --json
	json_check 'd["inputs"] == "'"$GDIR"'/*.dat"'
	check_jobs "$TMP/want-glob"
	(cd "$TMP" && orch task submit fromrelglob --exec "$PRINT" --inputs 'glob/*.dat') >/dev/null
	expect_exit 0 orch task show fromrelglob --json
	check_jobs "$TMP/want-glob"
}
test_case "inputs from a glob: matching regular files, sorted, absolute" \
    submit_glob

# ---- an @listfile -----------------------------------------------------------

printf '%s\n' "$GDIR/x2.dat" "" "$DIR/a file.txt" "/data/not checked/z.raw" \
    >"$TMP/list"
printf '%s\n' "$GDIR/x2.dat" "$DIR/a file.txt" "/data/not checked/z.raw" \
    >"$TMP/want-list"

submit_list() {
	expect_exit 0 orch task submit fromlist --exec "$PRINT" --inputs "@$TMP/list"
	expect_stdout_contains ": 3 jobs,"
	expect_exit 0 orch task show fromlist --json
	check_jobs "$TMP/want-list"
}
test_case "inputs from an @listfile: one per line, in order, blank lines skipped" \
    submit_list

# ---- placeholders -----------------------------------------------------------

mkdir -p "$TMP/shared data"
printf 'ref\n' >"$TMP/ref genome.fa"

submit_placeholders() {
	local cmd
	expect_exit 0 orch task submit placeholders \
	    --exec 'tool --in %IN --data %DATA --ref %REF --idx %JOB --out %OUT/%JOB.out 100%% %s' \
	    --inputs "$GDIR/x2.dat" --data "$TMP/shared data" \
	    --secondary REF="$TMP/ref genome.fa" --json
	json_check 'd["jobs"] == 1 and d["data"] == "'"$TMP"'/shared data"'
	expect_exit 0 orch task show user.tester.placeholders --json
	cmd="tool --in $GDIR/x2.dat --data '$TMP/shared data' --ref '$TMP/ref genome.fa' --idx 0 --out $VOL/tester/placeholders/0.out 100% %s"
	json_check 'd["job_list"][0]["command"] == '"$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$cmd")"
}
test_case "%DATA, %KEY (secondary), %JOB, %OUT, %% expanded" submit_placeholders

submit_volume_with_space() {
	mkdir -p "$TMP/my volume"
	ORCHESTRA_VOLUME="$TMP/my volume" expect_exit 0 orch task submit \
	    spacedvol --exec "$PRINT" --inputs "$DIR"
	[ -d "$TMP/my volume/tester/spacedvol" ] || fail "no output directory"
	expect_exit 0 orch task show spacedvol --json
	json_check 'd["output"] == "'"$TMP"'/my volume/tester/spacedvol"'
	check_jobs "$TMP/want-dir"
}
test_case "an output directory with a space is quoted in %OUT" \
    submit_volume_with_space

submit_no_inputs() {
	expect_exit 0 orch task submit single --exec 'echo %JOB > %OUT/only' --json
	json_check 'd["jobs"] == 1 and d["inputs"] == ""'
	expect_exit 0 orch task show single --json
	json_check 'd["job_list"][0]["input"] is None and
	    d["job_list"][0]["command"] == "echo 0 > '"$VOL"'/tester/single/only"'
}
test_case "a task without inputs has one job" submit_no_inputs

# ---- names, options, owners -------------------------------------------------

NAME128=$(printf 'n%.0s' $(seq 128))

submit_options() {
	expect_exit 0 orch task submit "$NAME128" --exec 'true' --skip-test \
	    --timeout 90m --retention 2d --image alpine:3 --json
	json_check 'd["name"] == "'"$NAME128"'" and d["skip_test"] and
	    d["timeout_ms"] == 90 * 60 * 1000 and
	    d["retention_ms"] == 2 * 86400 * 1000 and d["image"] == "alpine:3"'
	[ "$(db_query "SELECT skip_test, timeout_ms FROM task WHERE name='$NAME128'")" = "1|5400000" ] ||
	    fail "skip_test/timeout not recorded in the task row"
	expect_exit 0 orch task show "$NAME128"
	expect_stdout_contains "(no test job)"
	[ "$(db_query "SELECT skip_test FROM task WHERE name='single'")" = 0 ] ||
	    fail "skip_test recorded without --skip-test"
}
test_case "--skip-test, --timeout, --retention, --image recorded; 128-character name" \
    submit_options

full_names() {
	expect_exit 0 orch --user alice task submit hers --exec 'true'
	expect_stdout_contains "submitted task 'user.alice.hers'"
	[ -d "$VOL/alice/hers" ] || fail "no output directory $VOL/alice/hers"
	expect_exit 0 orch task show user.alice.hers --json
	json_check 'd["user"] == "alice" and d["full_name"] == "user.alice.hers"'
	expect_exit 0 orch task show user.tester.fromglob --json
	json_check 'd["name"] == "fromglob" and d["user"] == "tester"'
	expect_exit 0 orch task kill user.alice.hers --json
	json_check 'd["signal"] == "kill" and d["user"] == "alice"'
	expect_exit 0 orch task kill user.tester.fromlist
	expect_stdout_contains "task 'user.tester.fromlist': kill requested"
	[ "$(db_query "SELECT signal FROM task WHERE name='fromlist'")" = kill ] ||
	    fail "kill signal not recorded"
	expect_exit 0 orch task list --json
	json_check '"hers" not in [t["name"] for t in d] and
	    "fromglob" in [t["name"] for t in d]'
	expect_exit 0 orch task list --user alice --json
	json_check '[t["full_name"] for t in d] == ["user.alice.hers"]'
}
test_case "user.<u>.<name> accepted by show and kill" full_names

# ---- 10,000 jobs ------------------------------------------------------------

BIG="$TMP/big inputs"
mkdir -p "$BIG"
(cd "$BIG" && seq -f 'in-%05g.dat' 0 9999 | xargs touch)
seq -f "$BIG/in-%05g.dat" 0 9999 >"$TMP/list10k"

submit_10k() {
	local t0 t1
	t0=$(date +%s%N)
	expect_exit 0 orch task submit big --exec 'wc -c %IN > %OUT/%JOB.txt' \
	    --inputs "@$TMP/list10k"
	t1=$(date +%s%N)
	echo "# 10000-job submit took $(((t1 - t0) / 1000000)) ms"
	expect_stdout_contains "submitted task 'user.tester.big': 10000 jobs"
	[ "$(db_query "SELECT count(*), count(DISTINCT idx), min(idx), max(idx) FROM job WHERE task_id=(SELECT id FROM task WHERE name='big')")" = \
	    "10000|10000|0|9999" ] || fail "not 10000 jobs numbered 0..9999"
	[ "$(db_query "SELECT njobs FROM task WHERE name='big'")" = 10000 ] ||
	    fail "task.njobs is not 10000"
	[ "$(db_query "SELECT command FROM job WHERE idx=9999 AND task_id=(SELECT id FROM task WHERE name='big')")" = \
	    "wc -c '$BIG/in-09999.dat' > $VOL/tester/big/9999.txt" ] ||
	    fail "command of job 9999"
	[ -d "$VOL/tester/big" ] || fail "no output directory"
}
test_case "a 10,000-job submit (one transaction)" submit_10k

# The same submit, failing after the N-th store statement.  Jobs go in by
# chunks of 256 rows a statement (40 for 10,000 jobs, after about 10 other
# statements), so N=25 fails half-way, after thousands of job rows; N=3
# fails before the task row.
submit_10k_fault() {
	local n=$1 before dirs_before
	before=$(db_dump)
	dirs_before=$(volume_dirs)
	ORCHESTRA_TEST_STORE_FAIL_AFTER=$n expect_exit 1 orch task submit big2 \
	    --exec 'wc -c %IN > %OUT/%JOB.txt' --inputs "@$TMP/list10k"
	expect_stderr_line "^orchestra: .*injected store fault"
	[ ! -s "$OUT" ] || fail "a failed submit wrote to stdout"
	[ "$(db_dump)" = "$before" ] || fail "the database changed"
	[ ! -e "$VOL/tester/big2" ] || fail "output directory left behind"
	[ "$(volume_dirs)" = "$dirs_before" ] || fail "the volume changed"
}
test_case "a 10,000-job submit failing half-way changes nothing" \
    submit_10k_fault 25
test_case "a 10,000-job submit failing early changes nothing" \
    submit_10k_fault 3

submit_after_fault() {
	expect_exit 0 orch task submit big2 --exec 'wc -c %IN > %OUT/%JOB.txt' \
	    --inputs "@$TMP/list10k"
	expect_stdout_contains "10000 jobs"
}
test_case "the same submit succeeds without the fault" submit_after_fault

# A control character anywhere in the human output, newlines aside.
no_controls() {
	! tr -d '\n' <"$1" | LC_ALL=C grep -q '[[:cntrl:]]'
}

# Names, inputs and commands may hold control characters: the human output
# shows them escaped ("\x1b"), so that they cannot drive the terminal;
# UTF-8 text is unchanged and --json exact.
terminal_escapes() {
	local esc=$'\e'
	mkdir -p "$TMP/term"
	echo x >"$TMP/term/${esc}[31mred"
	echo y >"$TMP/term/café"
	expect_exit 0 orch task submit term --inputs "$TMP/term" \
	    --exec $'cat %IN # \e]0;title\a' --skip-test
	expect_exit 0 orch task show term
	expect_stdout_contains "$TMP/term/\\x1b[31mred  "
	expect_stdout_contains "$TMP/term/café  "
	expect_stdout_contains 'command:   cat %IN # \x1b]0;title\x07'
	no_controls "$OUT" || fail "a control character in task show"
	# Columns line up by characters, not bytes: "é" is two.
	python3 - "$OUT" <<'EOF' || fail "the columns do not line up"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
hdr = [l for l in lines if l.startswith("JOB ")][0]
rows = [l for l in lines if "/term/" in l]
cols = {l.index("no pilot") for l in rows}  # why: no pilot runs | {hdr.index("WHY IT WAITS")}
sys.exit(len(rows) != 2 or len(cols) != 1)
EOF
	for cmd in "task list" "queue"; do
		expect_exit 0 orch $cmd
		no_controls "$OUT" || fail "a control character in $cmd"
	done
	expect_exit 0 orch task show term --json
	json_check '[j["input"] for j in d["job_list"]] == ["'"$TMP"'/term/\x1b[31mred", "'"$TMP"'/term/caf\u00e9"] and d["command"] == "cat %IN # \x1b]0;title\x07"'
	# The subject of an error message, quoted back.
	expect_exit 1 orch task show "${esc}[2Jgone"
	expect_stderr_line "^orchestra: no task '\\\\x1b\\[2Jgone' "
	no_controls "$ERR" || fail "a control character in the error"
	expect_exit 2 orch task show "${esc}[2J" --bad
	no_controls "$ERR" || fail "a control character in the usage error"
}
test_case "control characters are shown escaped, --json exact" \
    terminal_escapes
