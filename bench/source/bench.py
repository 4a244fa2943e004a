#!/usr/bin/env python3
"""Speed of the source analyzer's AST pass against clang-19 -fsyntax-only.

Over one compile database, alternately (so that load from other jobs on the
machine hits both alike), --runs times each:
  baseline: every compile command with -fsyntax-only (its -o/-c removed),
            run in its directory, JOBS commands at a time;
  ast:      prevision analyze-source -p BUILD_DIR --no-ir -j JOBS --json;
then --ir-runs times each:
  full:     prevision analyze-source -p BUILD_DIR -j JOBS --json (AST + IR);
  ir-base:  every compile command with -O2 -gline-tables-only -emit-llvm -c
            -o /dev/null (what the IR pass runs clang with).
The IR pass time is reported as median(full) - median(ast).

usage: bench/source/bench.py BUILD_DIR [--prevision PATH] [--jobs N] [--runs N] [--ir-runs N]
Prints one line per run and a summary; exit status 0. Wall-clock figures are
for docs/benchmarks.md only, never for a test's verdict.
"""
import argparse
import concurrent.futures
import json
import os
import resource
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


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_all(cmds, extra, jobs):
    def one(c):
        d, args = c
        return subprocess.run(args + extra, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    t0, c0 = time.monotonic(), child_cpu()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        rcs = list(ex.map(one, cmds))
    return time.monotonic() - t0, child_cpu() - c0, sum(1 for r in rcs if r)


def run_prevision(prevision, build_dir, jobs, ir):
    argv = [prevision, "analyze-source", "-p", build_dir, f"-j{jobs}", "--json"]
    if not ir:
        argv.append("--no-ir")
    t0, c0 = time.monotonic(), child_cpu()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt, cpu = time.monotonic() - t0, child_cpu() - c0
    if r.returncode:
        sys.exit(f"prevision failed ({r.returncode}): {r.stderr.decode(errors='replace').strip()}")
    src = json.loads(r.stdout)
    return dt, cpu, src


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
    cbase, cast, cfull, cirb = [], [], [], []
    src = None
    for i in range(a.runs):
        t, c, fails = run_all(cmds, ["-fsyntax-only"], a.jobs)
        base.append(t)
        cbase.append(c)
        print(f"run {i + 1}: clang-19 -fsyntax-only {t:6.2f} s wall {c:6.2f} s CPU ({fails} commands failed)")
        t, c, src = run_prevision(a.prevision, a.build_dir, a.jobs, False)
        ast.append(t)
        cast.append(c)
        print(f"run {i + 1}: prevision AST pass    {t:6.2f} s wall {c:6.2f} s CPU")
    for i in range(a.ir_runs):
        t, c, fsrc = run_prevision(a.prevision, a.build_dir, a.jobs, True)
        full.append(t)
        cfull.append(c)
        print(f"run {i + 1}: prevision AST + IR    {t:6.2f} s wall {c:6.2f} s CPU")
        t, c, fails = run_all(cmds, ["-O2", "-gline-tables-only", "-emit-llvm", "-c", "-o", "/dev/null"], a.jobs)
        irb.append(t)
        cirb.append(c)
        print(f"run {i + 1}: clang-19 -O2 -gline-tables-only -emit-llvm {t:6.2f} s wall {c:6.2f} s CPU ({fails} commands failed)")
    med = statistics.median
    print()
    print(f"loops {len(src['loops'])} ({sum(1 for l in src['loops'] if 'trip' in l)} with a trip count), "
          f"allocations {len(src['allocations'])}, diagnostics {len(src['diagnostics'])}")
    print(f"median clang-19 -fsyntax-only: {med(base):.2f} s wall (min {min(base):.2f}, max {max(base):.2f}), "
          f"{med(cbase):.2f} s CPU")
    print(f"median prevision AST pass:     {med(ast):.2f} s wall (min {min(ast):.2f}, max {max(ast):.2f}), "
          f"{med(cast):.2f} s CPU")
    print(f"AST pass / -fsyntax-only:      {med(ast) / med(base):.2f}x wall (medians), "
          f"{med([x / y for x, y in zip(ast, base)]):.2f}x (median of the paired runs' ratios), "
          f"{med(cast) / med(cbase):.2f}x CPU; goal: at most 1.5x")
    if full:
        print(f"median prevision AST + IR:     {med(full):.2f} s wall, {med(cfull):.2f} s CPU; "
              f"IR pass alone (difference): {med(full) - med(ast):.2f} s wall, {med(cfull) - med(cast):.2f} s CPU")
        print(f"median clang-19 -O2 -gline-tables-only -emit-llvm -c: {med(irb):.2f} s wall, {med(cirb):.2f} s CPU")


if __name__ == "__main__":
    main()
