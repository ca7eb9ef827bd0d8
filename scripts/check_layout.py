#!/usr/bin/env python3
"""Checks every #include "..." of the project against the folder order in docs/architecture.md.

The order is read from that page alone: the table under "## Folders and their order", one row a
folder, whose second column lists the folders it may include (besides itself). Each quoted include
is resolved as the compiler resolves it (the including file's folder, then the include folders
below); one that resolves into a folder its row does not list is reported as
`FILE:LINE: FOLDER includes TARGET (INCLUDE), expected only DEPS`. A cycle in the table is an
error too. Exits 1 on any finding, 0 with a one-line summary otherwise.
  scripts/check_layout.py [--root DIR]
"""
import argparse
import re
import sys
from pathlib import Path

DOC = Path("docs/architecture.md")
SECTION = "## Folders and their order"
# Where the build looks for quoted includes (CMakeLists.txt's include directories), in order.
INCLUDE_DIRS = ["src", "apps", "bench", "tests"]
# Generated at configure time, inside the build folder (CMakeLists.txt).
GENERATED = {"twotower_build_paths.h"}
SOURCE_SUFFIXES = {".cc", ".h"}


def read_order(root):
    """{folder: set of folders it may include}, in the table's order."""
    text = (root / DOC).read_text()
    if SECTION not in text:
        sys.exit(f"{DOC}: no section '{SECTION}', expected the folder table there")
    order = {}
    for line in text.split(SECTION, 1)[1].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        folder = cells[0].strip("`").rstrip("/")
        deps = set(re.findall(r"`([^`]+?)/?`", cells[1]))
        order[folder] = deps
    if not order:
        sys.exit(f"{DOC}: the table under '{SECTION}' has no rows, expected one per folder")
    for folder, deps in order.items():
        unknown = deps - set(order)
        if unknown:
            sys.exit(f"{DOC}: `{folder}/` depends on {sorted(unknown)}, which the table does not list")
    return order


def find_cycle(order):
    """A list of folders forming a cycle, or None."""
    state = {}

    def visit(folder, path):
        state[folder] = "open"
        for dep in sorted(order[folder]):
            if state.get(dep) == "open":
                return path + [folder, dep]
            if dep not in state:
                cycle = visit(dep, path + [folder])
                if cycle:
                    return cycle
        state[folder] = "done"
        return None

    for folder in order:
        if folder not in state:
            cycle = visit(folder, [])
            if cycle:
                return cycle
    return None


def folder_of(path, order):
    """The table's folder that holds `path` (the longest match), or None."""
    best = None
    for folder in order:
        if path == Path(folder) or Path(folder) in path.parents:
            if best is None or len(folder) > len(best):
                best = folder
    return best


def resolve(root, source, name):
    for base in [source.parent] + [root / d for d in INCLUDE_DIRS]:
        candidate = base / name
        if candidate.is_file():
            return candidate.resolve().relative_to(root)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    root = parser.parse_args().root.resolve()
    order = read_order(root)
    cycle = find_cycle(order)
    if cycle:
        sys.exit(f"{DOC}: the folders depend in a cycle: {' -> '.join(cycle)}")
    problems, checked = [], 0
    for folder in order:
        for source in sorted((root / folder).rglob("*")):
            if source.suffix not in SOURCE_SUFFIXES or not source.is_file():
                continue
            rel = source.relative_to(root)
            if folder_of(rel, order) != folder:
                continue  # a sub-folder with its own row
            for number, line in enumerate(source.read_text().splitlines(), 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m or m.group(1) in GENERATED:
                    continue
                checked += 1
                target = resolve(root, source, m.group(1))
                if target is None:
                    problems.append(f"{rel}:{number}: #include \"{m.group(1)}\" found nowhere, "
                                    f"expected it under {source.parent.relative_to(root)} or {INCLUDE_DIRS}")
                    continue
                target_folder = folder_of(target, order)
                if target_folder is None:
                    problems.append(f"{rel}:{number}: includes {target}, which is in no folder of {DOC}")
                elif target_folder != folder and target_folder not in order[folder]:
                    allowed = ", ".join(sorted(order[folder])) or "nothing"
                    problems.append(f"{rel}:{number}: {folder} includes {target_folder} ({m.group(1)}), "
                                    f"expected only {allowed}")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layout: {len(problems)} include(s) against the order in {DOC}")
        return 1
    print(f"check_layout: {checked} includes in {len(order)} folders follow the order in {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
