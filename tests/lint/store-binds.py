#!/usr/bin/env python3
"""store-binds.py - the compiler refuses a store_query(), store_exec() or
store_later() (src/store/store-int.h) whose parameters do not match its
format: an int or a bool where the letters read an int64_t (undefined
behaviour through `...`), too few or too many parameters, a format that is
not a string literal, a float.  A right call, written beside them,
compiles.  Each case is compiled alone with the flags of
src/store/store-token.c from the build's compile_commands.json.

    tests/lint/store-binds.py BUILD_DIR
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

PRELUDE = '''#include "store/store-int.h"
int case_fn(struct store *st, struct buf *err, int n, bool b,
    const char *fmt, float f);
int
case_fn(struct store *st, struct buf *err, int n, bool b, const char *fmt,
    float f)
{
	struct db_stmt *stmt = NULL;
	int64_t id = 1, changes = 0;
	(void)n; (void)b; (void)fmt; (void)f; (void)stmt; (void)id;
	(void)changes;
	%s;
	return 0;
}
'''

GOOD = [
    'store_exec(st, "UPDATE x SET a = $2 WHERE id = $1", err, &changes,'
    ' "is", id, "a")',
    'store_query(st, &stmt, "SELECT a FROM x WHERE b = $1 AND c = $2", err,'
    ' "sd", (const char *)NULL, 0.5)',
    'store_exec(st, "UPDATE x SET a = $1", err, NULL, "i", (int64_t)n)',
    'store_later(st, "INSERT INTO x VALUES ($1, $2)", err, "is", id, "a")',
]
BAD = [
    ("an int", 'store_exec(st, "UPDATE x SET a = $1", err, NULL, "i", n)'),
    ("a bool", 'store_query(st, &stmt, "SELECT $1", err, "i", b)'),
    ("a bool as ?:", 'store_exec(st, "UPDATE x SET a = $1", err, NULL, "i",'
     ' b ? 1 : 0)'),
    ("a float", 'store_exec(st, "UPDATE x SET a = $1", err, NULL, "d", f)'),
    ("too few", 'store_exec(st, "UPDATE x SET a = $1, b = $2", err, NULL,'
     ' "is", id)'),
    ("too many", 'store_exec(st, "UPDATE x SET a = $1", err, NULL, "i", id,'
     ' id)'),
    ("an int, run later", 'store_later(st, "INSERT INTO x VALUES ($1)", err,'
     ' "i", n)'),
    ("too few, run later", 'store_later(st, "INSERT INTO x VALUES ($1, $2)",'
     ' err, "is", id)'),
    ("a format in a variable",
     'store_exec(st, "UPDATE x SET a = $1", err, NULL, fmt, id)'),
]


def compile_flags(build):
    with open(os.path.join(build, "compile_commands.json")) as f:
        for e in json.load(f):
            if e["file"].endswith("src/store/store-token.c"):
                args = e.get("arguments") or shlex.split(e["command"])
                out, skip = [], False
                for a in args[1:]:
                    if skip:
                        skip = False
                        continue
                    if a in ("-o", "-c"):
                        skip = True
                        continue
                    out.append(a)
                return args[0], out, e["directory"]
    sys.exit("store-binds: no src/store/store-token.c in compile_commands.json")


def compiles(cc, flags, cwd, body, tmp):
    path = os.path.join(tmp, "case.c")
    with open(path, "w") as f:
        f.write(PRELUDE % body)
    r = subprocess.run([cc] + flags + ["-fsyntax-only", path], cwd=cwd,
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: store-binds.py BUILD_DIR")
    cc, flags, cwd = compile_flags(sys.argv[1])
    failed = 0
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for body in GOOD:
            n += 1
            ok, why = compiles(cc, flags, cwd, body, tmp)
            print("%s %d - a right call compiles: %s" %
                  ("ok" if ok else "not ok", n, body[:60]))
            if not ok:
                failed += 1
                sys.stderr.write(why[-2000:])
        for name, body in BAD:
            n += 1
            ok, _ = compiles(cc, flags, cwd, body, tmp)
            print("%s %d - refused: %s" % ("not ok" if ok else "ok", n, name))
            if ok:
                failed += 1
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
