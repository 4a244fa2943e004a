#!/usr/bin/env python3
"""Calibration stability: run `prevision calibrate` N times (default 3) and
report, for every calibrated figure, the spread of its median over the runs:
(max - min) / mean of the per-run medians, as a percentage.

usage: bench/costmodel/stability.py [--prevision PATH] [--runs N] [--quick] [--out DIR]

Prints a Markdown table (the format of docs/benchmarks.md) on stdout and keeps
the machine models in DIR (default bench/results/stability)."""
import argparse, json, os, statistics, subprocess, sys, time


def stats(node, path=""):
    """Yield (path, median) for every measured figure in a machine model."""
    if isinstance(node, dict):
        if {"min", "median", "max", "reps"} <= node.keys():
            if node["reps"]:
                yield path, node["median"]
            return
        for k, v in node.items():
            yield from stats(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = v.get("name") or v.get("size") if isinstance(v, dict) else None
            yield from stats(v, f"{path}[{key if key is not None else i}]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prevision", default="build/bin/prevision")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="bench/results/stability")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    runs, secs = [], []
    for i in range(a.runs):
        path = os.path.join(a.out, f"machine-{i}.json")
        cmd = [a.prevision, "-q", "calibrate", "--force", "-o", path] + (["--quick"] if a.quick else [])
        t = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        secs.append(time.monotonic() - t)
        with open(path) as f:
            runs.append(dict(stats(json.load(f))))
        print(f"run {i + 1}/{a.runs}: {secs[-1]:.1f} s", file=sys.stderr)
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    rows = []
    for k in keys:
        v = [r[k] for r in runs]
        mean = statistics.fmean(v)
        spread = (max(v) - min(v)) / mean * 100 if mean else 0.0
        rows.append((k, v, spread))
    print(f"Calibration runs: {a.runs} ({'quick' if a.quick else 'full'}), "
          f"wall time {min(secs):.1f} .. {max(secs):.1f} s\n")
    spreads = sorted(r[2] for r in rows)
    print(f"Figures: {len(rows)}; median spread {statistics.median(spreads):.1f}%, "
          f"90th percentile {spreads[int(0.9 * (len(spreads) - 1))]:.1f}%, max {spreads[-1]:.1f}%\n")
    print("| figure | " + " | ".join(f"run {i + 1}" for i in range(a.runs)) + " | spread |")
    print("| --- | " + " | ".join("---:" for _ in range(a.runs)) + " | ---: |")
    for k, v, s in rows:
        print(f"| {k} | " + " | ".join(f"{x:.4g}" for x in v) + f" | {s:.1f}% |")


if __name__ == "__main__":
    main()
