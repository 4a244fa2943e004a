#!/usr/bin/env python3
"""Host run-time prediction accuracy (issue 6).

For every sample at three sizes: emulate it at that size (`prevision profile`),
predict its host run time (`prevision predict`), run it natively (median of
--reps runs, wall clock) and report the error of each prediction, the mean
absolute percentage error (MAPE) and the worst ratio. Goal: MAPE <= 20%, no
sample off by more than 2x.

usage: bench/costmodel/accuracy.py [--build DIR] [--machine FILE] [--reps N]
                                   [--cache sampled|full|off] [--only NAME,...]
Prints a Markdown table (the format of docs/benchmarks.md) on stdout; keeps
profiles and predictions in bench/results/accuracy/."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

# (sample, [argv for each of three sizes]); FILE is replaced by a scratch path.
CASES = [
    ("matmul", [["100"], ["200"], ["300"]]),
    ("stream", [["1000000"], ["4000000"], ["16000000"]]),
    ("ptrchase", [["100000"], ["1000000"], ["4000000"]]),
    ("qsort", [["500000"], ["1000000"], ["2000000"]]),
    ("sha256", [["4096"], ["16384"], ["65536"]]),
    ("fileio", [["16384", "FILE"], ["65536", "FILE"], ["262144", "FILE"]]),
    ("pthreads", [["10000000", "2"], ["40000000", "2"], ["100000000", "2"]]),
    ("bintrees", [["14"], ["16"], ["18"]]),
    ("hashmap", [["200000"], ["1000000"], ["4000000"]]),
]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"accuracy.py: {' '.join(cmd)} failed with status {r.returncode}:\n{r.stderr[-2000:]}")
    return r


def native_median(argv, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--machine")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cache", default="sampled")
    ap.add_argument("--only")
    a = ap.parse_args()
    pv = os.path.join(a.build, "bin", "prevision")
    out = "bench/results/accuracy"
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="pv-accuracy.")
    only = set(a.only.split(",")) if a.only else None
    rows = []
    for name, sizes in CASES:
        if only and name not in only:
            continue
        exe = os.path.join(a.build, "samples", name)
        for args in sizes:
            nat_args = [x.replace("FILE", os.path.join(work, "native.dat")) for x in args]
            emu_args = [x.replace("FILE", "emu.dat") for x in args]
            tag = f"{name}-{'-'.join(args).replace('FILE', 'f')}"
            prof = os.path.join(out, tag + ".profile.json")
            cmd = [pv, "-q", "profile", "-o", prof, "--guest-stdout", "/dev/null",
                   "--param", f"n={args[0]}"]
            if a.cache != "off":
                cmd.append(f"--cache={a.cache}")
            t = time.perf_counter()
            run(cmd + ["--", exe] + emu_args)
            emu_s = time.perf_counter() - t
            pcmd = [pv, "-q", "predict", "--json", prof] + (["--machine", a.machine] if a.machine else [])
            pred = json.loads(run(pcmd).stdout)
            with open(os.path.join(out, tag + ".prediction.json"), "w") as f:
                json.dump(pred, f, indent=1)
            med, lo, hi = native_median([exe] + nat_args, a.reps)
            p = pred["seconds"]["total"]
            err = (p["mid"] - med) / med * 100
            rows.append((name, " ".join(args).replace("FILE", "F"), med, lo, hi, p["mid"], p["low"], p["high"],
                         err, pred.get("dominant", "?"), emu_s))
            print(f"{tag}: native {med:.4f} s, predicted {p['mid']:.4f} s ({err:+.1f}%)", file=sys.stderr)
    print("| sample | args | native median (min..max) s | predicted [low..high] s | error | in interval | dominant | emulation s |")
    print("| --- | --- | ---: | ---: | ---: | :---: | --- | ---: |")
    for (n, args, med, lo, hi, mid, plo, phi, err, dom, emu_s) in rows:
        inside = "yes" if plo <= med <= phi else "no"
        print(f"| {n} | {args} | {med:.4f} ({lo:.4f}..{hi:.4f}) | {mid:.4f} [{plo:.4f}..{phi:.4f}] | {err:+.1f}% "
              f"| {inside} | {dom} | {emu_s:.2f} |")
    errs = [abs(r[8]) for r in rows]
    ratios = [max(r[5] / r[2], r[2] / r[5]) for r in rows]
    print(f"\nMAPE {statistics.fmean(errs):.1f}% over {len(rows)} runs; worst ratio {max(ratios):.2f}x "
          f"({rows[ratios.index(max(ratios))][0]} {rows[ratios.index(max(ratios))][1]}); "
          f"{sum(1 for r in ratios if r > 2)} off by more than 2x; "
          f"{sum(1 for r in rows if r[6] <= r[2] <= r[7])}/{len(rows)} inside the interval")


if __name__ == "__main__":
    main()
