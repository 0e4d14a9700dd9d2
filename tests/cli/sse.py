#!/usr/bin/env python3
"""sse.py - a client of `orchestra serve`'s event stream, for the tests.

    sse.py BASE [--token T | --cookie C] [--last-event-id N]
                [--source IP] [--timeout SECS] [--until TEXT]

GETs /api/v1/events and writes every line received to stdout at once
(flushed), so that a test can wait on what arrived; on the end of the
stream it writes "# closed", on a refusal "# status N", and after
--timeout seconds (default 60; a deadline, so that it never hangs)
"# timeout".  With --until, it stops (exit 0, "# done") after the first
line holding TEXT.
"""
import http.client
import sys


def main(argv):
    base = argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    src = opts.get("--source")
    conn = http.client.HTTPConnection(
        host, int(port), timeout=float(opts.get("--timeout", "60")),
        source_address=(src, 0) if src else None)
    headers = {"Accept": "text/event-stream"}
    if "--token" in opts:
        headers["Authorization"] = "Bearer " + opts["--token"]
    if "--cookie" in opts:
        headers["Cookie"] = "orchestra_session=" + opts["--cookie"]
    if "--last-event-id" in opts:
        headers["Last-Event-ID"] = opts["--last-event-id"]
    conn.request("GET", "/api/v1/events", headers=headers)
    r = conn.getresponse()
    if r.status != 200:
        print("# status %d" % r.status, flush=True)
        return 1
    print("# content-type %s" % r.getheader("Content-Type"), flush=True)
    try:
        while True:
            line = r.readline()  # undoes the chunked framing
            if not line:
                break
            sys.stdout.write(line.decode())
            sys.stdout.flush()
            if "--until" in opts and opts["--until"] in line.decode():
                print("# done", flush=True)
                return 0
    except (TimeoutError, OSError):
        print("# timeout", flush=True)
        return 1
    print("# closed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
