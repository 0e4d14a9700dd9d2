#!/usr/bin/env python3
"""layers-bypass.py - each way around the layers seen so far, written into
a scratch copy of src/, must make tests/lint/layers.py fail (exit 1, with
a line naming the file), and the clean copy must pass; the compiler must
refuse a store header in cmd/ and web/ by itself (the #error guard that
CMakeLists.txt arms from layers.txt).

    tests/lint/layers-bypass.py BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import layers  # noqa: E402

STORE = '#include "store/store.h"\n'

# (name, {file relative to src/: text appended, or None to make it},
#  the file the lint must name)
CASES = [
    ("angle brackets", {"cmd/cmd-queue.c": "#include <store/store.h>\n"},
     "cmd/cmd-queue.c"),
    ("space after #", {"web/api-node.c": '# include "store/store.h"\n'},
     "web/api-node.c"),
    ("a path around -I", {"web/api-usage.c": '#include "../store/db.h"\n'},
     "web/api-usage.c"),
    ("in main.c", {"main.c": STORE}, "main.c"),
    ("a header in a subdirectory",
     {"cmd/extra/peek.h": STORE,
      "cmd/cmd-task.c": '#include "cmd/extra/peek.h"\n'},
     "cmd/cmd-task.c"),
    ("a file in a subdirectory",
     {"web/extra/peek.c": '#include "../../store/store-int.h"\n'},
     "web/extra/peek.c"),
    ("svc->st from web/",
     {"web/api-node.c": "void *api_node_peek(struct service *svc);\n"
      "void *\napi_node_peek(struct service *svc)\n{\n"
      "\treturn svc->st;\n}\n"},
     "web/api-node.c"),
    ("ctx->svc.st from cmd/",
     {"cmd/cmd-queue.c": "void *cmd_queue_peek(struct cmd_ctx *ctx);\n"
      "void *\ncmd_queue_peek(struct cmd_ctx *ctx)\n{\n"
      "\treturn ctx->svc.st;\n}\n"},
     "cmd/cmd-queue.c"),
    ("the guard defined away",
     {"cmd/cmd-node.c": "#define ORCHESTRA_SEES_STORE 1\n" + STORE},
     "cmd/cmd-node.c"),
    ("a database library outside store/db-*.c",
     {"service/service.c": "#include <sqlite3.h>\n"},
     "service/service.c"),
]


def scratch(tmp, name, edits):
    """A copy of the tree's src/ and layers.txt under tmp/name."""
    root = os.path.join(tmp, re.sub(r"[^a-z0-9.]+", "-", name))
    shutil.copytree(os.path.join(ROOT, "src"), os.path.join(root, "src"))
    os.makedirs(os.path.join(root, "tests/lint"))
    shutil.copy(os.path.join(HERE, "layers.txt"),
                os.path.join(root, "tests/lint"))
    for rel, text in edits.items():
        path = os.path.join(root, "src", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write(text)
    return root


def lint(build, root):
    return subprocess.run([sys.executable, os.path.join(HERE, "layers.py"),
                           build, "--root", root],
                          capture_output=True, text=True)


def compiles(build, root, rel):
    """Does `rel` of the copy compile with its real flags (none skipped)?"""
    flags = layers.compile_flags(build, layers.source_root(build), root,
                                 lambda msg: None)
    directory, cc, argv = flags[rel]
    p = subprocess.run([cc] + argv + ["-fsyntax-only",
                                      os.path.join(root, "src", rel)],
                       cwd=directory, capture_output=True, text=True)
    return p.returncode == 0, p.stderr


def main():
    if len(sys.argv) != 2:
        print("usage: layers-bypass.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    fail = 0
    with tempfile.TemporaryDirectory(prefix="orchestra-layers-") as tmp:
        root = scratch(tmp, "clean", {})
        p = lint(build, root)
        if p.returncode != 0:
            print("not ok - the clean copy fails the lint:\n" + p.stdout)
            fail = 1
        else:
            print("ok - the clean copy passes")
        for name, edits, want in CASES:
            p = lint(build, scratch(tmp, name, edits))
            named = any(line.startswith("not ok - " + want)
                        for line in p.stdout.splitlines())
            if p.returncode == 1 and named:
                print(f"ok - {name}: the lint fails")
            else:
                print(f"not ok - {name}: exit {p.returncode}, want 1 with "
                      f"a line on {want}:\n{p.stdout}{p.stderr}")
                fail = 1

        # The compiler alone: a store header in cmd/ and web/ stops the
        # build, however it is spelled; the same in service/ compiles.
        for rel, text, want_ok in [
                ("cmd/cmd-queue.c", "#include <store/store.h>\n", False),
                ("web/api-node.c", '# include "../store/db.h"\n', False),
                ("main.c", STORE, False),
                ("service/service-queue.c", STORE, True)]:
            root = scratch(tmp, "cc " + rel, {rel: text})
            ok, stderr = compiles(build, root, rel)
            refused = "may not see store/" in stderr
            if ok == want_ok and (want_ok or refused):
                print(f"ok - the compiler {'takes' if ok else 'refuses'} "
                      f"a store header in {rel}")
            else:
                print(f"not ok - a store header in {rel}: compiled "
                      f"{ok}, want {want_ok}:\n{stderr}")
                fail = 1
    return fail


if __name__ == "__main__":
    sys.exit(main())
