#!/usr/bin/env python3
"""Per-folder line and branch coverage of src/ from `llvm-cov export -summary-only`
JSON (stdin), and the floor check.

Usage: llvm-cov export -summary-only ... | scripts/coverage_report.py FLOOR_FILE

FLOOR_FILE holds "lines PERCENT" and "branches PERCENT" lines (# comments
allowed). Prints one row per folder under src/ (files directly in src/, such as
main.c, are their own rows) and a total; exits 1 when the total is below
either floor. The floor only rises: when coverage grows, raise it in the same
commit.
"""
import json
import os
import sys


def read_floor(path):
    floor = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) == 2:
                floor[line[0]] = float(line[1])
    for key in ("lines", "branches"):
        if key not in floor:
            sys.exit(f"coverage: {path} has no '{key} PERCENT' line")
    return floor


def folder_of(filename):
    """src/gateway/x.c -> src/gateway; src/main.c -> src/main.c; else None."""
    parts = os.path.normpath(filename).split(os.sep)
    if "src" not in parts:
        return None
    rest = parts[len(parts) - 1 - parts[::-1].index("src"):]
    return "/".join(rest[:2])


def pct(covered, count):
    return 100.0 * covered / count if count else 100.0


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    floor = read_floor(sys.argv[1])
    data = json.load(sys.stdin)["data"][0]
    rows = {}
    for f in data["files"]:
        folder = folder_of(f["filename"])
        if folder is None:
            continue
        row = rows.setdefault(folder, [0, 0, 0, 0])
        s = f["summary"]
        row[0] += s["lines"]["covered"]
        row[1] += s["lines"]["count"]
        row[2] += s["branches"]["covered"]
        row[3] += s["branches"]["count"]
    if not rows:
        sys.exit("coverage: no file under src/ in the report")
    total = [sum(r[i] for r in rows.values()) for i in range(4)]
    fmt = "{:<16} {:>7} {:>7} {:>8}   {:>7} {:>7} {:>8}"
    print(fmt.format("folder", "lines", "of", "lines %", "branch", "of", "branch %"))
    for name in sorted(rows) + ["total"]:
        r = total if name == "total" else rows[name]
        print(fmt.format(name, r[0], r[1], f"{pct(r[0], r[1]):.1f}", r[2], r[3],
                         f"{pct(r[2], r[3]):.1f}"))
    lines, branches = pct(total[0], total[1]), pct(total[2], total[3])
    print(f"floor ({os.path.basename(sys.argv[1])}): lines {floor['lines']:.1f} %, "
          f"branches {floor['branches']:.1f} %")
    bad = []
    if lines < floor["lines"]:
        bad.append(f"lines {lines:.2f} % < floor {floor['lines']:.1f} %")
    if branches < floor["branches"]:
        bad.append(f"branches {branches:.2f} % < floor {floor['branches']:.1f} %")
    if bad:
        print("coverage: below the floor: " + "; ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
