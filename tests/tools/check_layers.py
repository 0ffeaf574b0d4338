#!/usr/bin/env python3
"""Checks the source tree's layering rules (docs/architecture.md, "Layers"):

- no source file in shared/, native/ or wasm/ is longer than 900 lines;
- the include graph of those folders has no cycle, counting a header and its .cpp as one module
  (api.cpp including static_files.h while static_files.h includes api.h is a cycle);
- nothing under shared/ includes a header from native/ or wasm/;
- the statistics cube (canvass/stats_cube.h) reaches no report or presentation header.

Prints every violation and exits 1 if there is any. Usage: check_layers.py [SOURCE_DIR]
"""
import os
import re
import sys

MAX_LINES = 900
FOLDERS = ("shared", "native", "wasm")
SOURCE_ENDINGS = (".h", ".hpp", ".cpp", ".cc", ".c", ".js", ".mjs")
# Headers the statistics layer must not reach: report computation and output formats.
PRESENTATION = re.compile(r"canvass/(report[^/]*|report_format|report_html|json)\.h$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def source_files(root):
    for folder in FOLDERS:
        for base, dirs, files in os.walk(os.path.join(root, folder)):
            dirs[:] = [d for d in dirs if d not in ("node_modules", "third_party", "vendor")]
            for name in files:
                if name.endswith(SOURCE_ENDINGS):
                    yield os.path.relpath(os.path.join(base, name), root)


def resolve(root, including, target, include_dirs):
    """The repository path a quoted include names, or None for a system/third-party header."""
    candidates = [os.path.join(os.path.dirname(including), target)]
    candidates += [os.path.join(d, target) for d in include_dirs]
    for c in candidates:
        path = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, path)):
            return path
    return None


def include_dirs(root):
    """Every folder below shared/, native/ and wasm/ that holds a header, plus shared/include:
    the build adds these to the include path, so a bare "store.h" can name native/server/store.h."""
    dirs = {"shared/include", "shared/src"}
    for folder in FOLDERS:
        for base, _, files in os.walk(os.path.join(root, folder)):
            if any(f.endswith((".h", ".hpp")) for f in files):
                dirs.add(os.path.relpath(base, root))
    return sorted(dirs)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", ".."))
    problems = []
    files = sorted(source_files(root))
    dirs = include_dirs(root)
    graph = {}
    for path in files:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.count("\n")
        if lines > MAX_LINES:
            problems.append(f"{path}: {lines} lines (at most {MAX_LINES})")
        if not path.endswith((".h", ".hpp", ".cpp", ".cc", ".c")):
            continue
        # Resolve against the file's own tree first (shared/ never sees native/ or wasm/ dirs).
        own = [d for d in dirs if d.startswith(path.split("/")[0] + "/")] + dirs
        edges = []
        for target in INCLUDE.findall(text):
            found = resolve(root, path, target, own)
            if found is None:
                continue
            edges.append(found)
            if path.startswith("shared/") and found.startswith(("native/", "wasm/")):
                problems.append(f"{path}: includes {found} (shared/ must not include native/ or wasm/)")
        graph[path] = edges

    # Cycles among modules: a header and its .cpp are one node.
    def module(p):  # shared/include/canvass/x.h and shared/src/x.cpp are one module too
        return os.path.splitext(p.replace("shared/include/canvass/", "shared/src/"))[0]

    modules = {}
    for node, edges in graph.items():
        targets = modules.setdefault(module(node), [])
        targets += [module(e) for e in edges if module(e) != module(node) and module(e) not in targets]
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in modules.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("include cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(modules):
        if node not in state:
            visit(node)

    # What the cube reaches.
    cube = "shared/include/canvass/stats_cube.h"
    if cube in graph:
        seen, todo = set(), [cube]
        while todo:
            node = todo.pop()
            for nxt in graph.get(node, []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for header in sorted(seen):
            if PRESENTATION.search(header):
                problems.append(f"{cube}: reaches {header} (the cube depends on statistics only)")

    for p in problems:
        print(p)
    print(f"layers: {len(files)} files, {sum(len(e) for e in graph.values())} includes, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
