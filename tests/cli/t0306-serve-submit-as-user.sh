#!/bin/bash
# t0306-serve-submit-as-user.sh - a submit through the API reads its
# inputs as its submitter's Unix account, bounded, off the thread that
# serves the other requests: /etc/shadow, /root, another account's
# directory, a FIFO, /dev/zero and a nine-level glob are each refused
# with a 400 and the database unchanged, while /healthz answers within
# 1 s (a read held up behind the submit's would wait out its 10 s; the
# bound leaves room for a loaded machine); a user's own directory is
# read; a relative line of a list file is taken relative to the list
# file's directory, through the API and on the command line.  Needs
# root (it makes throw-away Unix accounts).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
	echo "# skip: needs root and useradd, for accounts to read as"
	exit 77
fi

ALICE="orchtest-$$-alice"
BOB="orchtest-$$-bob"
NOBODY="orchtest-$$-none" # an Orchestra user with no Unix account
accounts_remove() {
	userdel "$ALICE" 2>/dev/null || :
	userdel "$BOB" 2>/dev/null || :
}
lib_at_exit accounts_remove
useradd --no-create-home --shell /usr/sbin/nologin "$ALICE"
useradd --no-create-home --shell /usr/sbin/nologin "$BOB"

# mktemp made $TMP 0700: let the accounts pass through to their own.
chmod 0711 "$TMP"
for who in "$ALICE" "$BOB"; do
	mkdir -p "$TMP/$who/in" "$TMP/$who/sub"
	for i in 0 1 2; do
		echo "$i" >"$TMP/$who/in/f$i"
	done
	printf '%s\n' "in/f1" "/abs/z" "" "../$who/in/f2" >"$TMP/$who/sub/list"
	mkfifo "$TMP/$who/fifo"
	chown -R "$who:" "$TMP/$who"
	chmod 0700 "$TMP/$who"
done

orch init >/dev/null
for u in "$ALICE" "$BOB" "$NOBODY"; do
	orch user add "$u" >/dev/null
done
TOK_ALICE=$(orch user token "$ALICE" 2>/dev/null)
TOK_NOBODY=$(orch user token "$NOBODY" 2>/dev/null)
# A token's use is written at most once a minute: marked used (an hour
# ahead), so that no refused submit is followed by such a write.
db_query "UPDATE token SET last_used_ms = $((($(date +%s) + 3600) * 1000))"
serve_start

# Submit task NAME with INPUTS as alice (or TOKEN); meanwhile GET
# /healthz again and again.  $STATUS and $OUT as api sets them; $SLOWEST
# the longest /healthz took (seconds), $PROBES how many there were.
submit_probing() { # NAME INPUTS [TOKEN]
	python3 - "$SRCDIR/tests/cli" "$API" "${3:-$TOK_ALICE}" "$1" "$2" \
	    >"$TMP/probe.out" <<'PY'
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
import api
base, token, name, inputs = sys.argv[2:6]
body = json.dumps({"name": name, "command": "cat %IN", "inputs": inputs})
res = {}
def slow():
    res["r"] = api.request(base, "POST", "/api/v1/tasks", token=token,
                           body=body)
t = threading.Thread(target=slow)
t.start()
times = []
while t.is_alive():
    t0 = time.monotonic()
    status, _ = api.request(base, "GET", "/healthz")[:2]
    times.append(time.monotonic() - t0)
    assert status == 200, status
    time.sleep(0.02)
t.join()
status, text = res["r"][:2]
print(status)
print(max(times) if times else 0, len(times))
print(text.decode())
PY
	STATUS=$(sed -n 1p "$TMP/probe.out")
	read -r SLOWEST PROBES < <(sed -n 2p "$TMP/probe.out")
	tail -n +3 "$TMP/probe.out" >"$OUT"
	echo "# $1 '$2': $STATUS $(head -c 200 "$OUT"); meanwhile /healthz $PROBES times, slowest ${SLOWEST}s" >&2
}

# A refusal: 400, an error matching RE, nothing changed, /healthz fast.
refused() { # NAME INPUTS RE
	local before
	before=$(db_dump)
	submit_probing "$1" "$2"
	[ "$STATUS" = 400 ] || fail "'$2': $STATUS $(cat "$OUT")"
	api_json '__import__("re").fullmatch(r"""'"$3"'""", d["error"])' ||
	    fail "'$2': $(cat "$OUT")"
	[ "$(db_dump)" = "$before" ] || fail "'$2' changed the database"
	python3 -c 'import sys; assert float(sys.argv[1]) < 1.0' "$SLOWEST" ||
	    fail "'$2': /healthz took ${SLOWEST}s meanwhile"
}

others() {
	refused r1 @/etc/shadow \
	    "cannot read inputs '@/etc/shadow' as $ALICE: Permission denied"
	refused r2 /root \
	    "cannot read inputs '/root' as $ALICE: Permission denied"
	refused r3 "$TMP/$BOB/in" \
	    "cannot read inputs '$TMP/$BOB/in' as $ALICE: Permission denied"
	refused r4 "@$TMP/$BOB/sub/list" \
	    "cannot read inputs '@$TMP/$BOB/sub/list' as $ALICE: Permission denied"
	refused r5 "$TMP/$BOB/in/*" \
	    "no inputs: '$TMP/$BOB/in/\\*' matches no regular file"
}
test_case "what alice's account may not read is refused, as alice" others

special() {
	refused r6 "@$TMP/$ALICE/fifo" \
	    "cannot read inputs '@$TMP/$ALICE/fifo' as $ALICE: it is a FIFO"
	refused r7 @/dev/zero \
	    "cannot read inputs '@/dev/zero' as $ALICE: it is a device"
	refused r8 "$TMP/$ALICE/fifo" \
	    "cannot read inputs '$TMP/$ALICE/fifo' as $ALICE: it is a FIFO"
}
test_case "a FIFO or a device is refused by name, without waiting" special

deep() {
	local start=$SECONDS
	# Nine levels from /: /proc and /sys alone hold more than is read.
	refused r9 '/*/*/*/*/*/*/*/*/*' \
	    "cannot read inputs '/\\*/\\*/\\*/\\*/\\*/\\*/\\*/\\*/\\*' as $ALICE: (took longer than 10 s|more than [0-9]+ (inputs|directory entries to look at))"
	[ "$PROBES" -ge 10 ] || fail "only $PROBES /healthz meanwhile"
	[ $((SECONDS - start)) -le 20 ] || fail "took $((SECONDS - start)) s"
}
test_case "a nine-level glob is cut off; /healthz answers meanwhile" deep

account() {
	local before
	before=$(db_dump)
	submit_probing r10 "$TMP/$ALICE/in" "$TOK_NOBODY"
	[ "$STATUS" = 400 ] || fail "no account: $STATUS $(cat "$OUT")"
	api_json 'd["error"] == "cannot read inputs '"'$TMP/$ALICE/in'"' as '"$NOBODY"': no Unix account '"'$NOBODY'"'"'
	[ "$(db_dump)" = "$before" ] || fail "changed the database"
}
test_case "a user with no Unix account reads no inputs" account

nothing() {
	refused n1 "$TMP/$ALICE/none" \
	    "no inputs: '$TMP/$ALICE/none' is no directory, file or glob"
	refused n2 "" "no inputs: --inputs is empty"
	refused n3 "$TMP/$ALICE/in/*.none" \
	    "no inputs: '$TMP/$ALICE/in/\\*\\.none' matches no regular file"
}
test_case "inputs that name nothing are refused as on the command line" nothing

own() {
	submit_probing mine "$TMP/$ALICE/in"
	[ "$STATUS" = 201 ] || fail "her own directory: $STATUS $(cat "$OUT")"
	api_json 'd["jobs"] == 3'
	api GET "/api/v1/tasks/$ALICE/mine/jobs" --token "$TOK_ALICE"
	api_json '[j["input"] for j in d["jobs"]] == ["'"$TMP/$ALICE/in"'/f%d" % i for i in range(3)]'
}
test_case "alice's own directory is read" own

relative() {
	local want='["'"$TMP/$ALICE/sub/in/f1"'", "/abs/z", "'"$TMP/$ALICE/sub/../$ALICE/in/f2"'"]'
	submit_probing listed "@$TMP/$ALICE/sub/list"
	[ "$STATUS" = 201 ] || fail "list: $STATUS $(cat "$OUT")"
	api GET "/api/v1/tasks/$ALICE/listed/jobs" --token "$TOK_ALICE"
	api_json '[j["input"] for j in d["jobs"]] == '"$want"
	# The command line reads it itself, from another directory.
	(cd / && expect_exit 0 orch --user "$ALICE" task submit cli-listed \
	    --exec 'cat %IN' --inputs "@$TMP/$ALICE/sub/list")
	api GET "/api/v1/tasks/$ALICE/cli-listed/jobs" --token "$TOK_ALICE"
	api_json '[j["input"] for j in d["jobs"]] == '"$want"
	# And through the API by a client in the list's directory.
	(cd "$TMP/$ALICE/sub" && expect_exit 0 env ORCHESTRA_URL="$API" \
	    ORCHESTRA_TOKEN="$TOK_ALICE" "$ORCHESTRA_BIN" task submit \
	    remote-listed --exec 'cat %IN' --inputs @list)
	api GET "/api/v1/tasks/$ALICE/remote-listed/jobs" --token "$TOK_ALICE"
	api_json '[j["input"] for j in d["jobs"]] == '"$want"
}
test_case "a relative line of a list file is relative to its directory" relative

local_bounds() {
	local before
	before=$(db_dump)
	expect_exit 1 orch task submit l1 --exec 'cat %IN' \
	    --inputs "@$TMP/$ALICE/fifo"
	expect_stderr_line "^orchestra: cannot read inputs '@$TMP/$ALICE/fifo': it is a FIFO$"
	expect_exit 1 orch task submit l2 --exec 'cat %IN' --inputs @/dev/zero
	expect_stderr_line "^orchestra: cannot read inputs '@/dev/zero': it is a device$"
	[ "$(db_dump)" = "$before" ] || fail "changed the database"
}
test_case "the command line refuses a FIFO or a device too" local_bounds

serve_stop
