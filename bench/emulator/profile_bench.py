#!/usr/bin/env python3
"""Emulator benchmark: `prevision profile` against native runs and valgrind.

usage: bench/emulator/profile_bench.py [--prevision PATH] [--build DIR]
           [--rounds N] [--native-reps N] [--only NAME,...] [--gzip-mib N]
           [--json FILE]

For each workload (three or more samples from build/samples and gzip, a real
Debian program, compressing a generated file), in rounds that alternate the
variants so that load from other jobs on the machine falls on all of them:

  native       the program itself (median of --native-reps runs per round)
  count        prevision profile --cache=off --branch-sim=off (exact block counting)
  default      prevision profile (as shipped: counting and the sampled branch simulation)
  sampled      prevision profile --cache=sampled --branch-sim=off (SMARTS-style windows)
  full         prevision profile --cache=full --branch-sim=off    (every access simulated)
  callgrind    valgrind --tool=callgrind
  cachegrind   valgrind --tool=cachegrind --cache-sim=yes, with D1 and LL set
               to the L1d and last level prevision simulated

and reports the median CPU times (user + system of the child: the machine is
shared, and waiting for a core is not the program's cost); callgrind's time over counting (goal: >= 10x);
sampled and full over counting (goal for sampled: <= 3x); per-level miss
rates of sampled vs full simulation (goal: within a few percent) and the D1
and LL (global: misses per data access) rates of both vs cachegrind; and
the target object's instruction count against callgrind's Ir for that
object (goal: within 0.5%).

It drives the documented interface
  prevision profile [--json] [-o FILE] [--cache=off|sampled|full]
                    [--callgrind-out FILE] [--allow-read PATH] -- PROGRAM ARGS
and reads the profile's dynamic section (target_insns, cache[]). Prints
Markdown tables on stdout (docs/benchmarks.md format); --json keeps the raw
figures.
"""
import argparse, json, os, shlex, shutil, statistics, subprocess, sys, tempfile

WORKLOADS = [
    ("qsort", ["2000000"]),
    ("sha256", ["32768"]),
    ("hashmap", ["1000000"]),
    ("matmul", ["300"]),
    ("bintrees", ["16"]),
    ("ptrchase", ["1000000"]),
]


def die(msg):
    sys.exit(f"profile_bench: {msg}")


def timed(cmd, stdout=subprocess.DEVNULL, check=True):
    """@return the user + system CPU seconds of @p cmd and its children (valgrind's helper threads included)."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if check and p.returncode != 0:
            err.seek(0)
            die(f"{shlex.join(cmd)} failed ({p.returncode}): {err.read().decode(errors='replace').strip()[-400:]}")
    return ru.ru_utime + ru.ru_stime


def need_profile_command(prevision):
    """@return whether `prevision profile` has --cache (without it, only counting is measured)."""
    if not os.access(prevision, os.X_OK) and not shutil.which(prevision):
        die(f"{prevision} not found; build the project (cmake --build build) or pass --prevision")
    r = subprocess.run([prevision, "profile", "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "-- PROGRAM" not in r.stdout:
        die(f"'{prevision} profile' is missing ({(r.stderr or r.stdout).strip()[:200]}); "
            "this benchmark needs the emulator's profile command (issue 5)")
    if "--cache" not in r.stdout:
        print("profile_bench: this 'prevision profile' has no --cache option: measuring plain counting only "
              "(no sampled/full cache simulation, no cachegrind)", file=sys.stderr)
        return False
    return True


def make_gzip_input(path, mib):
    """Deterministic, compressible text: words from a fixed pseudo-random walk."""
    words = [w.encode() for w in ("the of and to in is that for it as was with be by on not he this are or his "
                                   "from at which but have an they you were her one all we can there been if "
                                   "more when will would who so no cache line miss rate sample window").split()]
    x = 2463534242
    out = bytearray()
    while len(out) < mib << 20:
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out += words[x % len(words)]
        out += b"\n" if x % 11 == 0 else b" "
    with open(path, "wb") as f:
        f.write(out[: mib << 20])


def callgrind_ir_by_object(path):
    """Self Ir per object (ob=) of a callgrind output file; calls= cost lines are inclusive, skipped."""
    names, cur, skip, ir, ev0 = {}, None, False, {}, 0
    with open(path) as f:
        for line in f:
            if line.startswith(("ob=", "cob=")):
                v = line.split("=", 1)[1].strip()
                if v.startswith("("):
                    idx, _, name = v.partition(")")
                    name = name.strip()
                    if name:
                        names[idx] = name
                    name = names.get(idx, name)
                else:
                    name = v
                if line.startswith("ob="):
                    cur = name
            elif line.startswith("calls="):
                skip = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) > 1 and cur is not None:
                    ir[cur] = ir.get(cur, 0) + int(parts[1])
    return ir


def cachegrind_summary(path):
    ev = sm = None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                ev = line.split()[1:]
            elif line.startswith("summary:"):
                sm = [int(x) for x in line.split()[1:]]
    return dict(zip(ev, sm))


def dyn(profile_path):
    with open(profile_path) as f:
        return json.load(f)["dynamic"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prevision", default="build/bin/prevision")
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--native-reps", type=int, default=5)
    ap.add_argument("--only", help="comma-separated workload names (gzip included)")
    ap.add_argument("--gzip-mib", type=int, default=8)
    ap.add_argument("--json", help="write the raw figures here")
    a = ap.parse_args()
    has_cache = need_profile_command(a.prevision)
    off = ["--branch-sim=off"] if has_cache else []
    modes = ((("count", ["--cache=off"] + off), ("default", []), ("sampled", ["--cache=sampled"] + off),
              ("full", ["--cache=full"] + off)) if has_cache else (("count", []),))
    for tool in ("valgrind", "gzip"):
        if not shutil.which(tool):
            die(f"{tool} not found")

    tmp = tempfile.mkdtemp(prefix="pv-profile-bench-")
    gz_in = os.path.join(tmp, "input.txt")
    make_gzip_input(gz_in, a.gzip_mib)
    work = [(n, os.path.join(a.build, "samples", n), args, []) for n, args in WORKLOADS]
    work.append(("gzip", shutil.which("gzip"), ["-c", "-6", gz_in], ["--allow-read", gz_in]))
    if a.only:
        keep = set(a.only.split(","))
        work = [w for w in work if w[0] in keep]

    results = {}
    for name, prog, args, allow in work:
        if not os.access(prog, os.X_OK):
            die(f"{prog} missing: build the samples first")
        t = {k: [] for k in ("native", "count", "default", "sampled", "full", "callgrind", "cachegrind")}
        out = {k: os.path.join(tmp, f"{name}-{k}.json") for k in ("count", "default", "sampled", "full")}
        cg_out = os.path.join(tmp, f"{name}.callgrind")
        cgc_out = os.path.join(tmp, f"{name}.cachegrind")
        for rnd in range(a.rounds):
            t["native"].append(statistics.median(timed([prog] + args) for _ in range(a.native_reps)))
            for mode, flags in modes:
                t[mode].append(timed([a.prevision, "-q", "profile"] + flags +
                                     ["-o", out[mode]] + allow + ["--", prog] + args))
            t["callgrind"].append(timed(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg_out}", prog]
                                        + args))
            if has_cache:
                full = dyn(out["full"])["cache"]
                l1, ll = full[0], full[-1]
                t["cachegrind"].append(timed(["valgrind", "--tool=cachegrind", "--cache-sim=yes",
                                              f"--cachegrind-out-file={cgc_out}",
                                              f"--D1={l1['size']},{l1['assoc']},{l1['line']}",
                                              f"--LL={ll['size']},{ll['assoc']},{ll['line']}", prog] + args))
            print(f"{name}: round {rnd + 1}/{a.rounds} done", file=sys.stderr)
        med = {k: statistics.median(v) if v else None for k, v in t.items()}
        d_count = dyn(out["count"])
        ir = callgrind_ir_by_object(cg_out)
        target = os.path.realpath(prog)
        cg_target = next((v for k, v in ir.items() if os.path.realpath(k) == target), None)
        results[name] = {
            "cmd": [prog] + args, "times": med, "all_times": t,
            "insns": d_count["insns"], "target_insns": d_count.get("target_insns"),
            "callgrind_target_ir": cg_target, "callgrind_total_ir": sum(ir.values()),
        }
        if has_cache:
            cgs = cachegrind_summary(cgc_out)
            results[name].update({
                "cache_sampled": dyn(out["sampled"])["cache"], "cache_full": dyn(out["full"])["cache"],
                "branches": dyn(out["default"]).get("branches"),
                "cachegrind": {"refs": cgs["Dr"] + cgs["Dw"], "d1_misses": cgs["D1mr"] + cgs["D1mw"],
                               "ll_misses": cgs["DLmr"] + cgs["DLmw"]}})
    shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)

    if not has_cache:
        print("| workload | instructions | native | count | callgrind | count / native | callgrind / count |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, r in results.items():
            m = r["times"]
            print(f"| {name} | {r['insns'] / 1e6:.0f}M | {m['native']:.3f} s | {m['count']:.2f} s | "
                  f"{m['callgrind']:.2f} s | {m['count'] / m['native']:.1f}x | {m['callgrind'] / m['count']:.1f}x |")
        insn_table(results)
        return
    print("| workload | instructions | native | count | default | sampled | full | callgrind | cachegrind | "
          "count / native | callgrind / count | default / count | sampled / count | full / count |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        m = r["times"]
        print(f"| {name} | {r['insns'] / 1e6:.0f}M | {m['native']:.3f} s | {m['count']:.2f} s | {m['default']:.2f} s | "
              f"{m['sampled']:.2f} s | {m['full']:.2f} s | {m['callgrind']:.2f} s | {m['cachegrind']:.2f} s | "
              f"{m['count'] / m['native']:.1f}x | {m['callgrind'] / m['count']:.1f}x | "
              f"{m['default'] / m['count']:.2f}x | {m['sampled'] / m['count']:.2f}x | {m['full'] / m['count']:.2f}x |")
    print("\n| workload | level | accesses (full) | full miss rate | sampled miss rate | rate difference | "
          "sampled misses vs full |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        for s, f in zip(r["cache_sampled"], r["cache_full"]):
            fr = f["misses"] / f["accesses"] if f["accesses"] else 0
            sr = s["misses"] / s["accesses"] if s["accesses"] else 0
            err = (s["misses"] - f["misses"]) / f["misses"] * 100 if f["misses"] else 0
            rel = (sr - fr) / fr * 100 if fr else 0
            print(f"| {name} | {f['level']} | {f['accesses']:,} | {fr:.4f} | {sr:.4f} | {sr - fr:+.4f} ({rel:+.1f}%) | "
                  f"{err:+.1f}% |")
    print("\n| workload | D1 miss rate: full / sampled / cachegrind | LL misses per data access: full / sampled / "
          "cachegrind |")
    print("| --- | --- | --- |")
    for name, r in results.items():
        f, s, c = r["cache_full"], r["cache_sampled"], r["cachegrind"]
        d1 = [x[0]["misses"] / x[0]["accesses"] for x in (f, s)] + [c["d1_misses"] / c["refs"]]
        llr = [x[-1]["misses"] / x[0]["accesses"] for x in (f, s)] + [c["ll_misses"] / c["refs"]]
        print(f"| {name} | {' / '.join(f'{v:.4f}' for v in d1)} | {' / '.join(f'{v:.5f}' for v in llr)} |")
    insn_table(results)


def insn_table(results):
    print("\n| workload | prevision target insns | callgrind Ir (target object) | difference |")
    print("| --- | --- | --- | --- |")
    for name, r in results.items():
        p, c = r["target_insns"], r["callgrind_target_ir"]
        if p is not None and c:
            print(f"| {name} | {p:,} | {c:,} | {(p - c) / c * 100:+.3f}% |")
        else:
            print(f"| {name} | {p} | {c} | n/a |")


if __name__ == "__main__":
    main()
