#!/usr/bin/env python3
"""layers.py - the module layers of tests/lint/layers.txt, checked on what
the compiler includes, not on what the #include lines look like.

    tests/lint/layers.py BUILD_DIR [--root DIR]

Every .c and .h file under DIR/src (DIR: this repository; a scratch copy
in tests/lint/layers-bypass.sh), in any subdirectory, is run through the
preprocessor (`cc -M`) with the flags its module is really compiled with,
taken from BUILD_DIR/compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS),
so that `#include <store/store.h>`, `# include`, "../store/store.h" and a
header that includes another all count as the compiler sees them.  Each
header it reads must be of a module the file's rows of layers.txt name;
each library header (lib rows) may be reached only by its files.  The
preprocessor runs with every ORCHESTRA_SEES_* defined, so that this check
stands on its own beside the #error of the guarded headers.

Then, in the source text (comments and strings removed): the service-only
modules call no store_*(), name no `struct store` and read no `st`
member; no file of src/ defines or undefines an ORCHESTRA_SEES_* macro;
util/util.h includes util/banned.h in its last five lines.

Prints one "not ok - ..." line per fault and exits 1, or "ok - ..." and 0.
"""
import concurrent.futures
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def usage():
    print("usage: layers.py BUILD_DIR [--root DIR]", file=sys.stderr)
    sys.exit(2)


def read_table(path, bad):
    """The rows of layers.txt: modules, files, libs, service-only."""
    t = {"module": {}, "file": [], "lib": [], "service-only": set()}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            kind, args = words[0], words[1:]
            if kind == "module" and len(args) >= 1:
                t["module"][args[0]] = set(args[1:])
            elif kind == "file" and len(args) >= 2:
                t["file"].append((args[0], set(args[1:])))
            elif kind == "lib" and len(args) >= 2:
                t["lib"].append((args[0], args[1:]))
            elif kind == "service-only" and args:
                t["service-only"].update(args)
            else:
                bad(f"{path}:{n}: cannot read this row")
    return t


def module_of(rel):
    """The module of a path relative to src/: its directory, or its name."""
    return rel.split("/", 1)[0]


def sees(table, rel):
    """The modules the file `rel` (relative to src/) may include from."""
    out = set(table["module"].get(module_of(rel), set()))
    for glob, more in table["file"]:
        if fnmatch.fnmatchcase(rel, glob):
            out |= more
    return out


def source_root(build):
    """The source tree BUILD_DIR was configured from (CMakeCache.txt)."""
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                return os.path.normpath(line.split("=", 1)[1].strip())
    return None


def compile_flags(build, old_root, new_root, bad):
    """Per file relative to src/: (directory, compiler, flags)."""
    try:
        with open(os.path.join(build, "compile_commands.json")) as f:
            commands = json.load(f)
    except (OSError, ValueError) as e:
        bad(f"no compile_commands.json in {build}: {e}")
        return {}
    old_src = os.path.join(old_root, "src") + "/"
    new_src = os.path.join(new_root, "src") + "/"
    moved = re.compile(re.escape(old_src[:-1]) + r"(?=/|$)")
    out = {}
    for c in commands:
        path = os.path.normpath(os.path.join(c["directory"], c["file"]))
        if not path.startswith(old_src):
            continue
        argv = c["arguments"] if "arguments" in c else shlex.split(
            c["command"])
        flags, skip = [], False
        for a in argv[1:]:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT", "-MQ"):
                skip = True
                continue
            if a in ("-c", "-MD", "-MMD") or a == c["file"] or a == path:
                continue
            flags.append(moved.sub(new_src[:-1], a))
        out[path[len(old_src):]] = (c["directory"], argv[0], flags)
    return out


def flags_for(rel, flags):
    """The flags `rel` is compiled with, else those of its module."""
    if rel in flags:
        return flags[rel]
    mod = module_of(rel)
    same = sorted(k for k in flags if module_of(k) == mod)
    # A top-level file with no command of its own: like cmd/, the module
    # whose target compiles main.c.
    if not same and "/" not in rel and "main.c" in flags:
        same = ["main.c"]
    return flags[same[0]] if same else None


def deps(path, cmd, defines):
    """The files the preprocessor reads for `path`, or an error text."""
    directory, cc, flags = cmd
    argv = [cc] + flags + defines + ["-M", "-x", "c", path]
    p = subprocess.run(argv, cwd=directory, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[:3]
    # Make's syntax: "file.o: dep dep \<newline> dep", with a blank in a
    # name as "\ ", '#' as "\#" and '$' as "$$".
    text = p.stdout.replace("\\\n", " ")
    text = text.split(": ", 1)[1] if ": " in text else ""
    words = re.split(r"(?<!\\)\s+", text.strip())
    out = []
    for w in words:
        if not w:
            continue
        w = re.sub(r"\\([ #])", r"\1", w).replace("$$", "$")
        path = os.path.normpath(os.path.join(directory, w))
        if not os.path.exists(path):
            return None, [f"cannot read {w!r} in its -M output"]
        out.append(path)
    return out, None


def strip_c(text):
    """C text with comments, strings and character constants blanked."""
    pat = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'
                     r"'(?:\\.|[^'\\\n])*'", re.S)
    return pat.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        usage()
    build, root = os.path.abspath(args[0]), os.path.dirname(
        os.path.dirname(HERE))
    if len(args) == 3 and args[1] == "--root":
        root = os.path.abspath(args[2])
    elif len(args) != 1:
        usage()
    root = os.path.normpath(root)
    src = os.path.join(root, "src")
    faults = []

    def bad(msg):
        faults.append(msg)

    table = read_table(os.path.join(root, "tests/lint/layers.txt"), bad)
    old_root = source_root(build)
    if old_root is None:
        bad(f"no CMAKE_HOME_DIRECTORY in {build}/CMakeCache.txt")
        old_root = root
    flags = compile_flags(build, old_root, root, bad)
    defines = ["-DORCHESTRA_SEES_%s=1" % m.upper()
               for m in table["module"] if "." not in m]

    files = []
    for d, _, names in os.walk(src):
        for name in names:
            if name.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(d, name), src))
    files.sort()

    def check(rel):
        out = []
        mod = module_of(rel)
        if mod not in table["module"]:
            return [f"{rel}: no row for module '{mod}' in layers.txt"]
        cmd = flags_for(rel, flags)
        if cmd is None:
            return [f"{rel}: no compile command for module '{mod}' in "
                    "compile_commands.json"]
        got, err = deps(os.path.join(src, rel), cmd, defines)
        if got is None:
            return [f"{rel}: the preprocessor failed: " + " / ".join(err)]
        allowed = sees(table, rel)
        for dep in got:
            if dep.startswith(src + "/"):
                drel = os.path.relpath(dep, src)
                if drel == rel:
                    continue
                dmod = module_of(drel)
                if dmod not in allowed:
                    out.append(f"{rel} includes {drel}: module '{mod}' "
                               f"may see {' '.join(sorted(allowed))}")
                continue
            for header, globs in table["lib"]:
                hit = ("/" + header in dep if header.endswith("/")
                       else dep.endswith("/" + header))
                if hit and not any(fnmatch.fnmatchcase(rel, g)
                                   for g in globs):
                    out.append(f"{rel} includes <{header}>: only "
                               f"{' '.join(globs)} may")
        return out

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        for out in ex.map(check, files):
            faults.extend(out)

    store_use = re.compile(r"\bstore_[a-z0-9_]+\s*\(|\bstruct\s+store\b|"
                           r"(->|\.)\s*st\b")
    sees_def = re.compile(r"^\s*#\s*(define|undef)\s+ORCHESTRA_SEES_", re.M)
    for rel in files:
        with open(os.path.join(src, rel), errors="replace") as f:
            text = strip_c(f.read())
        if module_of(rel) in table["service-only"]:
            for n, line in enumerate(text.splitlines(), 1):
                m = store_use.search(line)
                if m:
                    bad(f"{rel}:{n}: '{m.group(0).strip()}': "
                        f"{module_of(rel)} reaches the store only "
                        "through service/")
        if sees_def.search(text):
            bad(f"{rel}: defines an ORCHESTRA_SEES_ macro: only "
                "CMakeLists.txt does, from layers.txt")

    with open(os.path.join(src, "util/util.h")) as f:
        tail = f.read().splitlines()[-5:]
    if not any('#include "util/banned.h"' in line for line in tail):
        bad("util/util.h must include banned.h last")

    for msg in faults:
        print("not ok - " + msg)
    if faults:
        return 1
    print(f"ok - module layers hold ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
