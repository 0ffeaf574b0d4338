#!/usr/bin/env python3
"""Size breakdown of a wasm module by section and by function (docs/widget.md, Sizes).

    python3 wasm/tools/wasm_sizes.py build/wasm/site/canvass/canvass-widget.wasm [symbols] [top]

`symbols` is Emscripten's --emit-symbol-map output ("index:name" lines, function index space,
imports first), default: the .wasm's name with .js.symbols. Function sizes are the bodies in the
code section; with names grouped by a prefix (namespace or library) as well.
"""
import collections
import re
import sys


def leb(data, at):
    result = shift = 0
    while True:
        b = data[at]
        at += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, at


def main():
    path = sys.argv[1]
    symbols_path = sys.argv[2] if len(sys.argv) > 2 else re.sub(r'\.wasm$', '.js.symbols', path)
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    data = open(path, 'rb').read()
    names = {}
    try:
        for line in open(symbols_path):
            i, _, name = line.rstrip('\n').partition(':')
            names[int(i)] = name
    except OSError:
        pass
    kinds = {0: 'custom', 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global',
             7: 'export', 8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'datacount', 13: 'tag'}
    at = 8
    sections = []
    imported_funcs = 0
    bodies = []
    while at < len(data):
        kind = data[at]
        size, body = leb(data, at + 1)
        if kind == 2:  # imports: count functions, which come first in the function index space
            n, p = leb(data, body)
            for _ in range(n):
                for _ in range(2):
                    ln, p = leb(data, p)
                    p += ln
                k = data[p]
                p += 1
                if k == 0:
                    imported_funcs += 1
                    _, p = leb(data, p)
                elif k == 1:
                    p += 1
                    flags, p = leb(data, p)
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                elif k == 2:
                    flags, p = leb(data, p)
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                else:
                    p += 2
        if kind == 10:
            n, p = leb(data, body)
            for i in range(n):
                ln, q = leb(data, p)
                bodies.append((imported_funcs + i, q + ln - p))
                p = q + ln
        sections.append((kinds.get(kind, str(kind)), body + size - at))
        at = body + size
    total = len(data)
    print(f'{path}: {total} bytes')
    print('by section:')
    for k, s in sections:
        print(f'  {k:10} {s:8} bytes {100 * s / total:5.1f}%')
    groups = collections.Counter()
    for i, s in bodies:
        name = names.get(i, f'func{i}')
        m = re.match(r'(?:_ZN|_ZNK)?\d*([A-Za-z_]+)', name)
        key = name
        for prefix, label in (('ImGui', 'Dear ImGui'), ('stbtt', 'stb_truetype'), ('stbrp', 'stb_rect_pack'),
                              ('crypto_', 'libsodium'), ('sodium', 'libsodium'), ('rapidjson', 'rapidjson'),
                              ('emscripten', 'embind / emscripten'), ('embind', 'embind / emscripten'),
                              ('canvass', 'canvass'), ('St3__2', 'libc++'), ('std', 'libc++'), ('__cxa', 'libc++abi'),
                              ('glfw', 'GLFW'), ('Im', 'Dear ImGui'), ('dlmalloc', 'malloc'),
                              ('emmalloc', 'malloc')):
            if prefix in name:
                key = label
                break
        else:
            key = 'other (libc, unnamed)'
        groups[key] += s
    code = sum(s for _, s in bodies)
    print(f'code by library (names contain): {code} bytes in {len(bodies)} functions')
    for k, s in groups.most_common():
        print(f'  {k:24} {s:8} bytes {100 * s / code:5.1f}%')
    print(f'largest {top} functions:')
    for i, s in sorted(bodies, key=lambda b: -b[1])[:top]:
        print(f'  {s:7}  {names.get(i, f"func{i}")[:110]}')


main()
