#!/usr/bin/env python3
"""Speed of the source analyzer's AST pass against clang-19 -fsyntax-only.

Over one compile database, alternately (so that load from other jobs on the
machine hits both alike), --runs times each:
  baseline: every compile command with -fsyntax-only (its -o/-c removed),
            run in its directory, JOBS commands at a time;
  ast:      prevision analyze-source -p BUILD_DIR --no-ir -j JOBS --json;
then --ir-runs times each:
  full:     prevision analyze-source -p BUILD_DIR -j JOBS --json (AST + IR);
  ir-base:  every compile command with -O2 -g -emit-llvm -c -o /dev/null.
The IR pass time is reported as median(full) - median(ast).

usage: bench/source/bench.py BUILD_DIR [--prevision PATH] [--jobs N] [--runs N] [--ir-runs N]
Prints one line per run and a summary; exit status 0. Wall-clock figures are
for docs/benchmarks.md only, never for a test's verdict.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def commands(build_dir):
    db = json.load(open(os.path.join(build_dir, "compile_commands.json")))
    out = []
    for e in db:
        args = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
        kept, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a == "-o":
                skip = True
            elif a != "-c":
                kept.append(a)
        out.append((e["directory"], kept))
    return out


def run_all(cmds, extra, jobs):
    def one(c):
        d, args = c
        return subprocess.run(args + extra, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        rcs = list(ex.map(one, cmds))
    return time.monotonic() - t0, sum(1 for r in rcs if r)


def run_prevision(prevision, build_dir, jobs, ir):
    argv = [prevision, "analyze-source", "-p", build_dir, f"-j{jobs}", "--json"]
    if not ir:
        argv.append("--no-ir")
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    if r.returncode:
        sys.exit(f"prevision failed ({r.returncode}): {r.stderr.decode(errors='replace').strip()}")
    src = json.loads(r.stdout)
    return dt, src


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--prevision", default=os.path.join(os.path.dirname(__file__), "../../build/bin/prevision"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ir-runs", type=int, default=3)
    a = ap.parse_args()
    cmds = commands(a.build_dir)
    print(f"{len(cmds)} compile commands, {a.jobs} at a time; prevision: {a.prevision}")
    base, ast, full, irb = [], [], [], []
    src = None
    for i in range(a.runs):
        t, fails = run_all(cmds, ["-fsyntax-only"], a.jobs)
        base.append(t)
        print(f"run {i + 1}: clang-19 -fsyntax-only {t:.2f} s ({fails} commands failed)")
        t, src = run_prevision(a.prevision, a.build_dir, a.jobs, False)
        ast.append(t)
        print(f"run {i + 1}: prevision AST pass    {t:.2f} s")
    for i in range(a.ir_runs):
        t, fsrc = run_prevision(a.prevision, a.build_dir, a.jobs, True)
        full.append(t)
        print(f"run {i + 1}: prevision AST + IR    {t:.2f} s")
        t, fails = run_all(cmds, ["-O2", "-g", "-emit-llvm", "-c", "-o", "/dev/null"], a.jobs)
        irb.append(t)
        print(f"run {i + 1}: clang-19 -O2 -g -emit-llvm {t:.2f} s ({fails} commands failed)")
    mb, ma = statistics.median(base), statistics.median(ast)
    print()
    print(f"loops {len(src['loops'])} ({sum(1 for l in src['loops'] if 'trip' in l)} with a trip count), "
          f"allocations {len(src['allocations'])}, diagnostics {len(src['diagnostics'])}")
    print(f"median clang-19 -fsyntax-only: {mb:.2f} s (min {min(base):.2f}, max {max(base):.2f})")
    print(f"median prevision AST pass:     {ma:.2f} s (min {min(ast):.2f}, max {max(ast):.2f})")
    print(f"AST pass / -fsyntax-only:      {ma / mb:.2f}x (goal: at most 1.5x)")
    if full:
        mf, mi = statistics.median(full), statistics.median(irb)
        print(f"median prevision AST + IR:     {mf:.2f} s; IR pass alone (difference): {mf - ma:.2f} s")
        print(f"median clang-19 -O2 -g -emit-llvm -c: {mi:.2f} s")


if __name__ == "__main__":
    main()
