#!/usr/bin/env python3
"""The layer test: duel's parts include only parts below them.

Reads the layer order from tests/layers/layers.txt (bottom to top), maps every
file under src/, include/duel/ and tools/duel/ to its layer by its folder, and
reads each `#include "duel/<layer>/..."` (or <duel/...>) line. An include that
points to a layer above the file's own layer fails the test, printed as
  file:line: <layer> includes <header> (<layer above>)
as does a file or a header in a folder that layers.txt does not name, and a
CLI file (tools/duel/) that includes a concrete model's header instead of the
model interface.
Usage: check_layers.py [SOURCE_DIR]  (default: the repository holding this script).
Exit status: 0 when every include points down or sideways, 1 otherwise.
"""
import os
import re
import sys

# The CLI reaches models only through the model interface (and the
# capabilities it declares), never through a concrete model's header.
# model_names.h checks a name against the registry (no model type in it).
CLI_MODEL_HEADERS = {"duel/models/model.h", "duel/models/capabilities.h", "duel/models/model_names.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](duel/([^/">]+)/[^">]+)[">]')


def read_order(path):
    order = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                order.append(line)
    return order


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ["include", "duel"] and len(parts) > 3:
        return parts[2]
    if parts[:2] == ["tools", "duel"]:
        return "cli"
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    order = read_order(os.path.join(root, "tests", "layers", "layers.txt"))
    rank = {name: i for i, name in enumerate(order)}
    problems, checked = [], 0
    for top in ("src", "include/duel", "tools/duel"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith((".h", ".hpp", ".cpp", ".cc")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                layer = layer_of(rel)
                if layer not in rank:
                    problems.append(f"{rel}:1: folder '{layer}' is not a layer of tests/layers/layers.txt")
                    continue
                checked += 1
                with open(os.path.join(root, rel), errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        header, target = m.group(1), m.group(2)
                        if target not in rank:
                            problems.append(f"{rel}:{n}: {layer} includes {header} (folder '{target}' is not a layer)")
                        elif rank[target] > rank[layer]:
                            problems.append(f"{rel}:{n}: {layer} includes {header} ({target})")
                        elif layer == "cli" and target == "models" and header not in CLI_MODEL_HEADERS:
                            problems.append(f"{rel}:{n}: cli includes the concrete model header {header} "
                                            "(use the model interface or a capability)")
    if problems:
        print("\n".join(problems))
        print(f"layers: {len(problems)} include(s) point up the layer order "
              f"({' -> '.join(order)}); move the shared thing down instead (docs/design.md, Layers)")
        return 1
    print(f"layers: {checked} files, every include points down or sideways ({' -> '.join(order)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
