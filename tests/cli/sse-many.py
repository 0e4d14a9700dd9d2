#!/usr/bin/env python3
"""sse-many.py - many clients of `orchestra serve`'s event stream at once,
for the tests and bench/bench-serve.sh.

    sse-many.py BASE (--token T | --tokens FILE) --streams N
                [--sources PREFIX] [--naddr K]
                [--name TASK] [--pid PID] [--timeout SECS] [--hold FILE]

Opens N streams of GET /api/v1/events with the token T (or the tokens
of FILE, one a line, in turn: the i-th stream has the i-th token), the
i-th from
the loopback address PREFIX.(i % K + 1) (default 127.0.4, K = 10), all
at once, and waits until each is open (its first line, "retry: ...") or
refused.  Then, when all N are open, it submits the task TASK (default
"sse-many") with POST /api/v1/tasks, from 127.0.0.1, and waits until
every stream has told of it (a "data:" line naming its id).  Every wait
has a deadline (--timeout, default 60 s in all).  It prints, one
"key value" a line:

    open N              streams open
    refused STATUS N    streams refused, by status (0: no answer)
    submit STATUS       the submit's status
    told N              streams that told of the task
    told_ms MS          from just before the submit to the last of them
    told_p50_ms MS      ... to the median one
    vmrss_kb KB         serve's VmRSS with the streams open (--pid)
    vmhwm_kb KB         and its VmHWM

and exits 0 when all N opened and told of the task, 1 otherwise.  The
streams stay open until it exits; with --hold, it prints "held" and
keeps them open while the file FILE exists (within the deadline), so
that a test can try more meanwhile.
"""
import asyncio
import json
import sys
import time


def parse(argv):
    opts = {"--sources": "127.0.4", "--naddr": "10", "--name": "sse-many",
            "--timeout": "60"}
    opts.update(dict(zip(argv[2::2], argv[3::2])))
    host, port = argv[1].split("//", 1)[1].rsplit(":", 1)
    return host, int(port), opts


class Stream:
    def __init__(self):
        self.status = None   # 200 once open, else the refusal (0: none)
        self.opened = asyncio.Event()
        self.data = []       # the "data:" lines' JSON, as they came
        self.news = asyncio.Event()
        self.writer = None


async def stream(host, port, src, token, s):
    try:
        reader, s.writer = await asyncio.open_connection(
            host, port, local_addr=(src, 0))
        s.writer.write(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                        "Accept: text/event-stream\r\n"
                        "Authorization: Bearer %s\r\n\r\n" % token).encode())
        line = await reader.readline()
        parts = line.split()
        s.status = int(parts[1]) if len(parts) > 1 else 0
        while True:  # the headers
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
        if s.status != 200:
            return
        # Chunked: the chunks' size lines are no "retry:" or "data:" line.
        while True:
            line = await reader.readline()
            if not line:
                break
            if line.startswith(b"retry:"):
                s.opened.set()
            elif line.startswith(b"data: "):
                s.data.append(json.loads(line[6:]))
                s.news.set()
    except (OSError, ValueError, asyncio.IncompleteReadError):
        if s.status is None:
            s.status = 0
    finally:
        s.opened.set()


def submit(host, port, token, name):
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("POST", "/api/v1/tasks",
              json.dumps({"name": name, "command": "true"}),
              {"Authorization": "Bearer " + token,
               "Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, (json.loads(body).get("id") if r.status == 201 else None)


async def told(s, task_id):
    while not any(task_id in d.get("tasks", []) for d in s.data):
        s.news.clear()
        await s.news.wait()
    return time.monotonic()


def rss(pid):
    out = {}
    try:
        for line in open("/proc/%s/status" % pid):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k.lower()] = int(v.split()[0])
    except OSError:
        pass
    return out


async def main(argv):
    host, port, o = parse(argv)
    n, naddr = int(o["--streams"]), int(o["--naddr"])
    if "--tokens" in o:
        tokens = open(o["--tokens"]).read().split()
    else:
        tokens = [o["--token"]]
    end = time.monotonic() + float(o["--timeout"])
    streams = [Stream() for _ in range(n)]
    tasks = [asyncio.create_task(stream(host, port,
                                        "%s.%d" % (o["--sources"],
                                                   i % naddr + 1),
                                        tokens[i % len(tokens)], s))
             for i, s in enumerate(streams)]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(s.opened.wait() for s in streams)),
            end - time.monotonic())
    except asyncio.TimeoutError:
        pass
    ok = [s for s in streams if s.status == 200 and s.opened.is_set()]
    refused = {}
    for s in streams:
        if s not in ok:
            refused[s.status or 0] = refused.get(s.status or 0, 0) + 1
    print("open %d" % len(ok), flush=True)
    for k, v in sorted(refused.items()):
        print("refused %d %d" % (k, v), flush=True)
    good = len(ok) == n
    if good:
        t0 = time.monotonic()
        status, task_id = await asyncio.get_running_loop().run_in_executor(
            None, submit, host, port, tokens[0], o["--name"])
        print("submit %d" % status, flush=True)
        times = []
        if task_id is not None:
            waits = [asyncio.create_task(told(s, task_id)) for s in ok]
            done, _ = await asyncio.wait(
                waits, timeout=max(0.1, end - time.monotonic()))
            times = sorted(w.result() - t0 for w in done)
            for w in waits:
                w.cancel()
        print("told %d" % len(times), flush=True)
        if times:
            print("told_ms %d" % (times[-1] * 1000), flush=True)
            print("told_p50_ms %d" % (times[len(times) // 2] * 1000),
                  flush=True)
        good = len(times) == n
    if "--pid" in o:
        for k, v in sorted(rss(o["--pid"]).items()):
            print("%s_kb %d" % (k, v), flush=True)
    if "--hold" in o:
        import os
        print("held", flush=True)
        while os.path.exists(o["--hold"]) and time.monotonic() < end:
            await asyncio.sleep(0.05)
    for s in streams:
        if s.writer is not None:
            s.writer.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
