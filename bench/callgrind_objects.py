#!/usr/bin/env python3
"""Self instruction counts (Ir) per object from a callgrind.out file.

usage: callgrind_objects.py callgrind.out [OBJECT]
Prints "count object" lines, or only the count of OBJECT (matched by path or
basename). Cost lines after a calls= line are inclusive costs of the call
and are skipped; every other cost line is self cost of the current object."""
import os
import re
import sys


def per_object(path):
    names, cur, totals = {}, None, {}
    skip = False
    events = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("events:"):
                events = line.split()[1:]
                continue
            m = re.match(r"^(c?ob)=(?:\((\d+)\))?\s*(.*)$", line)
            if m:
                kind, ident, name = m.groups()
                if ident and name:
                    names[ident] = name
                elif ident:
                    name = names.get(ident, ident)
                if kind == "ob":
                    cur = name
                continue
            if line.startswith("calls="):
                skip = True
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and cur is not None:
                    totals[cur] = totals.get(cur, 0) + int(parts[1])
    return totals


def main():
    totals = per_object(sys.argv[1])
    if len(sys.argv) > 2:
        want = sys.argv[2]
        n = sum(v for k, v in totals.items() if k == want or os.path.basename(k) == os.path.basename(want))
        print(n)
        return
    for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(v, k)


if __name__ == "__main__":
    main()
