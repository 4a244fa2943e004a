#!/usr/bin/env python3
"""Predict again, with another build or machine model, the profiles that an
accuracy.py run kept, against that run's native medians: to see what a
change of the predictor does to the same inputs without emulating and
running everything again.

usage: bench/costmodel/repredict.py PREVISION MACHINE.json ACCURACY_TABLE.md [PROFILE_DIR]

ACCURACY_TABLE.md is accuracy.py's stdout; PROFILE_DIR (default
bench/results/accuracy) holds the profiles it kept, which the next
accuracy.py run overwrites. Prints one line per case and the MAPE and
interval count."""
import json, os, subprocess, sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("\n\n")[1])
    pv, machine, table = sys.argv[1:4]
    pdir = sys.argv[4] if len(sys.argv) == 5 else "bench/results/accuracy"
    rows = [l.split("|") for l in open(table)
            if l.startswith("| ") and not l.startswith("| sample") and not l.startswith("| ---")]
    if not rows:
        sys.exit(f"repredict.py: {table}: no table rows (is it accuracy.py's output?)")
    inside, errs = 0, []
    for r in rows:
        name, args = r[1].strip(), r[2].strip()
        native = float(r[3].split()[0])
        tag = f"{name}-{'-'.join(args.split()).replace('F', 'f')}"
        prof = os.path.join(pdir, tag + ".profile.json")
        p = subprocess.run([pv, "-q", "predict", "--json", "--machine", machine, prof], capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"repredict.py: predict {prof} failed: {p.stderr.strip()}")
        t = json.loads(p.stdout)["seconds"]["total"]
        ok = t["low"] <= native <= t["high"]
        inside += ok
        errs.append(abs(t["mid"] - native) / native)
        print(f"{tag:24s} native {native:.4f}  predicted {t['mid']:.4f} [{t['low']:.4f} .. {t['high']:.4f}] "
              f"{'inside' if ok else 'outside'}")
    print(f"MAPE {100 * sum(errs) / len(errs):.1f}% over {len(rows)}; {inside}/{len(rows)} inside the interval")


if __name__ == "__main__":
    main()
