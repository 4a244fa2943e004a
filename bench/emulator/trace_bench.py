#!/usr/bin/env python3
"""Cache simulator on real address traces: agreement with cachegrind, speed,
and sampled-vs-full error.

usage: bench/emulator/trace_bench.py [--build DIR] [--traces DIR]
           [--samples NAME:ARG,...] [--levels SPEC] [--schedule P,W,U]...

For each sample program (build/samples/NAME ARG):
  1. record its data-address trace once with
     valgrind --tool=lackey --trace-mem=yes (kept in --traces, reused);
  2. run valgrind --tool=cachegrind --cache-sim=yes with --D1 and --LL set to
     the first and last level of --levels, and replay the trace through the
     simulator configured with those two levels, feeding a modify as one
     access as cachegrind does: D1 and LL misses must agree;
  3. replay the trace through the full three-level simulator and through
     one sampled simulator per --schedule (instructions), and report per
     level the full miss rate, the sampled one and the error of the
     sampled miss count;
  4. time the simulator on the trace's first 20M accesses and on synthetic
     traces (accesses per second, median of 5).

Prints Markdown tables (the format of docs/benchmarks.md) on stdout. Run
bench/emulator/build.sh first. The default geometry is this machine's
(lstopo: L1d 32 KiB 8-way, L2 1 MiB 8-way, L3 32 MiB 16-way, 64 B lines).
"""
import argparse, json, os, re, subprocess, sys

DEFAULT_SAMPLES = "qsort:200000,ptrchase:300000,hashmap:300000,matmul:200,stream:1000000,bintrees:14"
DEFAULT_LEVELS = "L1d:32768:64:8,L2:1048576:64:8,L3:33554432:64:16"
DEFAULT_SCHEDULES = ["10000000,500000,200000", "2000000,100000,40000"]


def run(cmd, stdout=subprocess.PIPE):
    r = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"trace_bench: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return r


def cachegrind(prog, args, d1, ll, tmp):
    out = os.path.join(tmp, "cachegrind.out")
    run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--cachegrind-out-file={out}",
         f"--D1={d1['size']},{d1['assoc']},{d1['line']}", f"--LL={ll['size']},{ll['assoc']},{ll['line']}",
         prog] + args, stdout=subprocess.DEVNULL)
    ev = sm = None
    with open(out) as f:
        for line in f:
            if line.startswith("events:"):
                ev = line.split()[1:]
            elif line.startswith("summary:"):
                sm = [int(x) for x in line.split()[1:]]
    v = dict(zip(ev, sm))
    return {"refs": v["Dr"] + v["Dw"], "d1": v["D1mr"] + v["D1mw"], "ll": v["DLmr"] + v["DLmw"]}


def parse_levels(spec):
    out = []
    for tok in spec.split(","):
        name, size, line, assoc = tok.split(":")
        out.append({"name": name, "size": int(size), "line": int(line), "assoc": int(assoc)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--traces", default="/tmp/prevision-traces")
    ap.add_argument("--samples", default=DEFAULT_SAMPLES)
    ap.add_argument("--levels", default=DEFAULT_LEVELS)
    ap.add_argument("--schedule", action="append")
    a = ap.parse_args()
    sim = os.path.join(a.build, "bench/emulator/cachesim-trace")
    if not os.access(sim, os.X_OK):
        sys.exit(f"trace_bench: {sim} missing: run bench/emulator/build.sh {a.build}")
    levels = parse_levels(a.levels)
    d1, ll = levels[0], levels[-1]
    two = f"{d1['name']}:{d1['size']}:{d1['line']}:{d1['assoc']},LL:{ll['size']}:{ll['line']}:{ll['assoc']}"
    schedules = a.schedule or DEFAULT_SCHEDULES
    os.makedirs(a.traces, exist_ok=True)

    agree, sampled, speeds = [], [], []
    for item in a.samples.split(","):
        name, arg = item.split(":")
        prog = os.path.join(a.build, "samples", name)
        trace = os.path.join(a.traces, f"{name}-{arg}.lk")
        if not os.path.exists(trace):
            print(f"recording {trace} ...", file=sys.stderr)
            run(["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={trace}.tmp", prog, arg],
                stdout=subprocess.DEVNULL)
            os.rename(trace + ".tmp", trace)
        cg = cachegrind(prog, [arg], d1, ll, a.traces)
        two_lv = json.loads(run([sim, "--json", "--speed", "0", "--modify-as-write", "--levels", two, trace]).stdout)
        mine = {"refs": two_lv["full"][0]["accesses"], "d1": two_lv["full"][0]["misses"],
                "ll": two_lv["full"][1]["misses"]}
        agree.append((name, arg, cg, mine))
        cmd = [sim, "--json", "--levels", a.levels, trace]
        for s in schedules:
            cmd[1:1] = ["--sample", s]
        res = json.loads(run(cmd).stdout)
        sampled.append((name, arg, res))
        speeds.append((name, res["speed_accesses_per_s"], res["speed_accesses"]))
        print(f"{name} done", file=sys.stderr)

    print("Cache simulator vs cachegrind (same trace source: valgrind; "
          f"D1 {d1['size'] >> 10} KiB {d1['assoc']}-way, LL {ll['size'] >> 20} MiB {ll['assoc']}-way):\n")
    print("| program | data refs (cachegrind / prevision) | D1 misses (cachegrind / prevision) | "
          "LL misses (cachegrind / prevision) |")
    print("| --- | --- | --- | --- |")
    for name, arg, cg, m in agree:
        def pair(k):
            d = m[k] - cg[k]
            return f"{cg[k]:,} / {m[k]:,} ({'+' if d >= 0 else ''}{d})"
        print(f"| {name} {arg} | {pair('refs')} | {pair('d1')} | {pair('ll')} |")

    print("\nSampled vs full simulation (three levels; sampled estimate uses the run's data footprint):\n")
    print("| program | instructions | footprint | level | full miss rate | schedule P/W/U | windows | "
          "sampled miss rate (95% CI) | misses vs full |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, arg, r in sampled:
        for s in r["sampled"]:
            sched = f"{s['period'] / 1e6:g}M/{s['warmup'] / 1e3:g}K/{s['measure'] / 1e3:g}K"
            for lv, full in zip(s["levels"], r["full"]):
                ci = f"{lv['miss_rate_ci95']:.4f}" if lv["miss_rate_ci95"] >= 0 else "n/a"
                print(f"| {name} {arg} | {r['insns'] / 1e6:.1f}M | {r['footprint_bytes'] / 2**20:.1f} MiB | "
                      f"{lv['level']} | {lv['full_miss_rate']:.4f} | {sched} | {s['windows']} | "
                      f"{lv['miss_rate']:.4f} ± {ci} | {100 * lv['misses_rel_error']:+.1f}% |")

    syn = json.loads(run([sim, "--json", "--synthetic"]).stdout)["synthetic"]
    print("\nSimulator speed (three levels, one core, median of 5 replays):\n")
    print("| trace | accesses replayed | M accesses/s |")
    print("| --- | --- | --- |")
    for name, sp, n in speeds:
        print(f"| {name} (recorded) | {n:,} | {sp / 1e6:.1f} |")
    for k, v in syn.items():
        print(f"| synthetic {k.replace('_', ' ')} | 20,000,000 | {v / 1e6:.1f} |")


if __name__ == "__main__":
    main()
