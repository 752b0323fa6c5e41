#!/usr/bin/env python3
"""The layering rule of the README's design section, checked on the tree.

A module is a .c file and its .h (hostd/wave-agent.c and .h), or a
folder of hostd/ (hostd/hostctl). It checks:
  - includes: the libraries (common/, policy/, firewall/, patching/) never
    include hostd/; common/ includes only common/; no library includes
    another except as LIBRARY_USES says;
  - no include cycle between modules (X.c including Y.h is an edge X -> Y);
  - no call cycle between modules, from the objects' symbol tables: an
    object that leaves a symbol undefined which another defines calls it.
Usage: check-layering.py BUILD_DIR  (the objects in BUILD_DIR/obj)
Prints every violation and exits 1 if there is one."""
import os
import re
import subprocess
import sys

LIBRARIES = ("common", "policy", "firewall", "patching")
# which library may include which, besides common/
LIBRARY_USES = {"firewall": {"policy"}}


def module_of(path):
    parts = path.split("/")
    if parts[0] == "hostd" and len(parts) > 2:
        return "/".join(parts[:2])  # hostd/hostctl
    return os.path.splitext(path)[0]


def layer_of(module):
    return module.split("/")[0]


def sources(root):
    for top in LIBRARIES + ("hostd",):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith((".c", ".h", ".cc")):
                    yield os.path.relpath(os.path.join(dirpath, f), root)


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    problems = []

    includes = {}
    for path in sources(root):
        with open(os.path.join(root, path), encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                target = m.group(1)
                src_mod, dst_mod = module_of(path), module_of(target)
                src_layer, dst_layer = layer_of(src_mod), layer_of(dst_mod)
                where = f"{path}:{lineno}: includes {target}"
                if src_layer in LIBRARIES and dst_layer == "hostd":
                    problems.append(f"{where}: a library includes hostd/")
                elif src_layer == "common" and dst_layer != "common":
                    problems.append(f"{where}: common/ includes only common/")
                elif (src_layer in LIBRARIES and dst_layer in LIBRARIES and dst_layer not in
                      ("common", src_layer) and dst_layer not in LIBRARY_USES.get(src_layer, ())):
                    problems.append(f"{where}: {src_layer}/ does not use {dst_layer}/")
                if src_mod != dst_mod:
                    includes.setdefault(src_mod, set()).add(dst_mod)
    for scc in cycles(includes):
        problems.append("include cycle between modules: " + " -> ".join(scc))

    objdir = os.path.join(root, build, "obj")
    defined, undefined = {}, {}
    objects = []
    for dirpath, _, files in os.walk(objdir):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), objdir)
            # the tree's own objects, not tests' nor those of removed sources
            if f.endswith(".o") and not rel.startswith("tests") and (
                    os.path.exists(os.path.join(root, rel[:-2] + ".c")) or
                    os.path.exists(os.path.join(root, rel[:-2] + ".cc"))):
                objects.append(os.path.join(dirpath, f))
    if not objects:
        problems.append(f"no objects in {objdir}: build first")
    for obj in sorted(objects):
        rel = os.path.relpath(obj, objdir)
        mod = module_of(rel[:-2] + ".c")
        out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) < 2:
                continue
            name, kind = fields[0], fields[1]
            if kind == "U":
                undefined.setdefault(mod, set()).add(name)
            elif kind in "TDBR":
                defined[name] = mod
    calls = {}
    for mod, names in undefined.items():
        for name in names:
            target = defined.get(name)
            if target and target != mod:
                calls.setdefault(mod, set()).add(target)
    for scc in cycles(calls):
        problems.append("call cycle between modules: " + " -> ".join(scc))

    for p in problems:
        print("layering:", p)
    if problems:
        return 1
    print(f"layering: {len(includes)} modules with includes, {len(objects)} objects: no cycle, "
          "no library includes hostd/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
