#!/usr/bin/env python3
"""api.py - an HTTP client for the tests of `orchestra serve`.

    api.py BASE METHOD PATH [--token T] [--body B] [--source IP] [--scheme S]
                            [--cookie C] [--csrf X] [--origin O]
                            [--headers FILE]
        one request; prints the status on the first line, then the body.
        --cookie sends the session cookie orchestra_session=C, --csrf the
        header X-CSRF-Token, --origin the header Origin; --headers writes
        the response's headers to FILE, one "Name: value" a line
    api.py BASE --table FILE [--source-net 127.0.X]
        a table of requests, one a line, fields separated by " | ":
            METHOD | PATH | TOKEN-NAME | EXPECTED-STATUS | BODY
        TOKEN-NAME is looked up in the environment (TOKEN_<NAME>; "none"
        sends no Authorization header); "{who}" in PATH and BODY becomes
        TOKEN-NAME.  Each request comes from its own
        loopback address (127.0.X.1, .2, ...) so that the server's
        per-address limit on failed authentications does not mix cells.
        Every row must get exactly its status, and every 4xx/5xx a JSON
        {"error": "..."}; prints each mismatch, exits 1 if any.
"""
import http.client
import json
import os
import sys


def request(base, method, path, token=None, body=None, source=None,
            scheme="Bearer", extra=None, headers_out=None):
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(
        host, int(port), timeout=30,
        source_address=(source, 0) if source else None)
    headers = {}
    if token:
        headers["Authorization"] = scheme + " " + token
    if body is not None:
        headers["Content-Type"] = "application/json"
    headers.update(extra or {})
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if headers_out:
        with open(headers_out, "w") as f:
            for k, v in r.getheaders():
                f.write("%s: %s\n" % (k, v))
    conn.close()
    return r.status, data


def table(base, path, net):
    bad = 0
    n = 0
    for line in open(path):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        f = [x.strip() for x in line.split(" | ")]
        method, who, want = f[0], f[2], int(f[3])
        p = f[1].replace("{who}", who)
        body = f[4].replace("{who}", who) if len(f) > 4 and f[4] else None
        token = None if who == "none" else os.environ["TOKEN_" + who]
        n += 1
        src = "%s.%d" % (net, n % 250 + 1)
        status, data = request(base, method, p, token, body, src)
        ok = status == want
        if ok and status >= 400:
            try:
                ok = isinstance(json.loads(data)["error"], str)
            except (ValueError, KeyError, TypeError):
                ok = False
        if not ok:
            bad += 1
            print("# %s %s as %s: %d, expected %d: %s" %
                  (method, p, who, status, want, data[:200]))
    print("# %d requests, %d unexpected" % (n, bad))
    return 1 if bad or n == 0 else 0


def main(argv):
    base = argv[1]
    if argv[2] == "--table":
        net = argv[4] if len(argv) > 4 else "127.0.1"
        return table(base, argv[3], net)
    method, path = argv[2], argv[3]
    opts = dict(zip(argv[4::2], argv[5::2]))
    extra = {}
    if "--cookie" in opts:
        extra["Cookie"] = "orchestra_session=" + opts["--cookie"]
    if "--csrf" in opts:
        extra["X-CSRF-Token"] = opts["--csrf"]
    if "--origin" in opts:
        extra["Origin"] = opts["--origin"]
    status, data = request(base, method, path, opts.get("--token"),
                           opts.get("--body"), opts.get("--source"),
                           opts.get("--scheme", "Bearer"), extra,
                           opts.get("--headers"))
    sys.stdout.write("%d\n" % status)
    sys.stdout.buffer.write(data)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
