#!/bin/bash
# t0314-serve-slow-clients.sh - a client cannot hold connections by
# sending a request's head slowly: 200 connections from five addresses,
# each sending one header line every 2 s (never idle long enough for
# the idle timeout), do not keep a fresh client's /healthz waiting, and
# the server closes each once its head is not in after the deadline
# (server.c's WEB_HEAD_DEADLINE_MS, 10 s), with a line in its log for
# each; so it does a kept-alive connection whose second head is slow.
# An event stream, whose head came at once, stays open past it.  With
# 1,400 of them, more than may wait for a head (a quarter of the
# server's 4,096 connections), the oldest are closed at once, and a
# fresh client is served.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

orch init >/dev/null
orch user add alice >/dev/null
ALICE=$(orch user token alice 2>/dev/null)
serve_start

ncut() {
	grep -c 'closing a connection: no request head in' "$SERVE_LOG" || :
}

stream_open() {
	grep -q '^retry:' "$TMP/stream"
}

slow_heads() {
	local stream_pid
	python3 "$SRCDIR/tests/cli/sse.py" "$API" --token "$ALICE" \
	    --timeout 40 >"$TMP/stream" &
	stream_pid=$!
	wait_until 30 stream_open
	python3 - "$API" <<'PY' || fail "slow clients: see above"
import http.client, select, socket, sys, time
base = sys.argv[1]
host, port = base.split("//", 1)[1].rsplit(":", 1)
port = int(port)
DEADLINE, MARGIN, EVERY, N = 10.0, 4.0, 2.0, 200
bad = []

def healthz(label):
    t0 = time.monotonic()
    status = 0
    try:
        c = http.client.HTTPConnection(host, port, timeout=5,
                                       source_address=("127.0.2.99", 0))
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        status = r.status
        c.close()
    except OSError as e:
        status = repr(e)
    ms = int((time.monotonic() - t0) * 1000)
    print("# a fresh client's GET /healthz %s: %s in %d ms" %
          (label, status, ms))
    if status != 200:
        bad.append("GET /healthz %s: %s after %d ms" % (label, status, ms))

# N connections, each sending its request line at once and then a
# header line every EVERY seconds; a kept-alive one sends a whole
# request first, then the next one's head as slowly.
slow = {}
for k in range(N):
    s = socket.create_connection((host, port), timeout=5,
                                 source_address=("127.0.2.%d" % (k % 5 + 1), 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    slow[s] = time.monotonic()
keep = http.client.HTTPConnection(host, port, timeout=5,
                                  source_address=("127.0.2.6", 0))
keep.request("GET", "/healthz")
r = keep.getresponse()
r.read()
if r.status != 200:
    bad.append("the kept-alive connection's first request: %d" % r.status)
ks = keep.sock
ks.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
slow[ks] = time.monotonic()
print("# %d slow connections open" % len(slow))
healthz("with them open")

# Until every one is closed, or the deadline and a margin passed.
closed = {}
start = min(slow.values())
sent = time.monotonic()
n = 0
while len(closed) < len(slow) and \
        time.monotonic() < start + DEADLINE + MARGIN + 1:
    now = time.monotonic()
    if now - sent >= EVERY:
        n += 1
        for s in slow:
            if s not in closed:
                try:
                    s.sendall(b"X-Slow-%d: x\r\n" % n)
                except OSError:
                    pass
        sent = now
    ready, _, _ = select.select([s for s in slow if s not in closed],
                                [], [], 0.2)
    for s in ready:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if data:
            bad.append("a slow connection got an answer: %r" % data[:80])
        closed[s] = time.monotonic() - slow[s]
left = len(slow) - len(closed)
if closed:
    print("# %d of %d slow connections closed by the server, after "
          "%.1f to %.1f s" % (len(closed), len(slow), min(closed.values()),
                              max(closed.values())))
if left:
    bad.append("%d slow connections still open after %.0f s" %
               (left, DEADLINE + MARGIN))
if closed and min(closed.values()) < DEADLINE - 1:
    bad.append("a slow connection closed after %.1f s, before the "
               "deadline" % min(closed.values()))
if ks not in closed:
    bad.append("the kept-alive connection with a slow second head is open")
healthz("after them")
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
	[ "$(ncut)" -ge 201 ] ||
	    fail "the log has $(ncut) slow heads closed, expected 201"
	if grep -q '^# closed' "$TMP/stream"; then
		fail "the event stream was closed"
	fi
	kill -0 "$stream_pid" 2>/dev/null || fail "the event stream ended"
	kill "$stream_pid"
	wait "$stream_pid" 2>/dev/null || :
}
test_case "slow request heads are closed by the deadline, others served" \
    slow_heads

# More slow clients than may wait for a head, as a tester had them (60
# from each of ten addresses, when serve had 512 connections): 140 from
# each.  At most 1,024 may wait for a head (WEB_HEAD_WAITING_MAX, a
# quarter of the connections): past that the oldest is closed at once,
# so a fresh client is served without waiting for a deadline.
flood() {
	python3 - "$API" <<'PY' || fail "the flood: see above"
import http.client, resource, select, socket, sys, time
base = sys.argv[1]
host, port = base.split("//", 1)[1].rsplit(":", 1)
port = int(port)
N, WAITING_MAX, BOUND = 1400, 1024, 5.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < N + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(N + 64, hard), hard))
bad = []
slow = []
t0 = time.monotonic()
for k in range(N):
    s = socket.create_connection((host, port), timeout=5,
                                 source_address=("127.0.3.%d" % (k % 10 + 1), 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
print("# %d slow connections made in %.1f s" % (N, time.monotonic() - t0))
t1 = time.monotonic()
status = 0
try:
    c = http.client.HTTPConnection(host, port, timeout=BOUND,
                                   source_address=("127.0.3.99", 0))
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    status = r.status
    c.close()
except OSError as e:
    status = repr(e)
ms = int((time.monotonic() - t1) * 1000)
print("# a fresh client's GET /healthz among them: %s in %d ms" %
      (status, ms))
if status != 200:
    bad.append("GET /healthz: %s after %d ms" % (status, ms))
# The server closes all but WAITING_MAX of them, well before the
# deadline (10 s).  poll(), not select(): their numbers pass 1,024.
closed = set()
poller = select.poll()
byfd = {s.fileno(): s for s in slow}
for fd in byfd:
    poller.register(fd, select.POLLIN)
while len(closed) < N - WAITING_MAX and time.monotonic() < t0 + BOUND:
    ready = [byfd[fd] for fd, _ in poller.poll(200)]
    for s in ready:
        poller.unregister(s)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if data:
            bad.append("a slow connection got an answer: %r" % data[:80])
        closed.add(s)
print("# %d of them closed by the server within %.1f s" %
      (len(closed), time.monotonic() - t0))
if len(closed) < N - WAITING_MAX:
    bad.append("%d closed, expected %d or more" %
               (len(closed), N - WAITING_MAX))
for s in slow:
    s.close()
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
}
test_case "more slow clients than may wait for a head: the oldest make room" flood

serve_stop
