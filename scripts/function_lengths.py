#!/usr/bin/env python3
"""Lists the function bodies in C++ sources longer than a limit (default 100 lines).

A body is a brace block that opens after a ')' (optionally followed by const, noexcept,
override, an initializer list or a trailing return type) and is not nested inside another
function's body; lambdas and local classes count toward the function they sit in.
Usage: scripts/function_lengths.py [--max N] DIR... ; exits 1 when any body is longer.
"""
import argparse
import pathlib
import re
import sys


def strip(text):
    """Blanks out comments, string and character literals, keeping the line structure."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def long_functions(path, limit):
    text = strip(path.read_text(errors="replace"))
    depth, in_function, start, found = 0, None, 0, []
    for pos, c in enumerate(text):
        if c == "{":
            if in_function is None:
                before = text[max(0, pos - 400):pos]
                if re.search(r"\)\s*(const|noexcept|override|final|mutable|\s|->\s*[\w:<>,\s*&]+)*$", before) or \
                   re.search(r"\)\s*:\s*[\s\S]*\)\s*$", before) and not re.search(r"\b(namespace|class|struct|enum)\b[^;{}]*$", before):
                    in_function, start = depth, pos
            depth += 1
        elif c == "}":
            depth -= 1
            if in_function is not None and depth == in_function:
                first = text.count("\n", 0, start) + 1
                last = text.count("\n", 0, pos) + 1
                if last - first - 1 > limit:
                    found.append((path, first, last - first - 1))
                in_function = None
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=100)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    found = []
    for d in args.dirs:
        for p in sorted(pathlib.Path(d).rglob("*")):
            if p.suffix in (".cc", ".h"):
                found += long_functions(p, args.max)
    for path, line, length in found:
        print(f"{path}:{line}: function body of {length} lines (limit {args.max})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
