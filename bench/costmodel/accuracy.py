#!/usr/bin/env python3
"""Host run-time prediction accuracy (issue 6).

For every sample at three sizes: emulate it at that size (`prevision profile`),
predict its host run time (`prevision predict`), run it natively (median of
--reps runs) and report the error of each prediction, the mean absolute
percentage error (MAPE), the worst ratio and how often the native time falls
inside the predicted interval. Goal: MAPE <= 20%, no sample off by more than 2x.

Native runs: spawned with os.posix_spawn and timed from just before the spawn
to just after waitpid (wall clock), like the process start-up the calibration
measures. On a machine shared with other work, the wall clock of a run says
more about the others than about the program; when this process may use
SCHED_FIFO (root, or CAP_SYS_NICE), it switches to it for the native runs
(the children inherit it), so that a run gets a core whenever it is ready;
the table says whether it did. The CPU time of each run (user + sys, from
wait4) is reported beside it.

usage: bench/costmodel/accuracy.py [--build DIR] [--profiler PREVISION] [--machine FILE]
                                   [--reps N] [--cache auto|sampled|full|off] [--only NAME,...]
                                   [--no-fifo]
--cache auto (the default): sampled, and again in full when the run executed
  fewer than 100 M instructions (ten of the sampler's 10 M-instruction periods):
  a short run's phases can fall between its few measured windows, and a full
  simulation of it costs little.
--profiler: the prevision binary that runs `profile` (default: the build's);
  e.g. one with the branch simulator wired into the emulator
  (bench/costmodel/branchsim-integration.patch).
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


def native_once(argv, scratch):
    """One run: (wall seconds, cpu seconds). Files the program writes start absent, as in the emulator."""
    if os.path.exists(scratch):
        os.unlink(scratch)
    fa = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"accuracy.py: {' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, ru.ru_utime + ru.ru_stime


def fifo(on):
    """Switch this process to SCHED_FIFO (on) or back; returns whether it is on."""
    try:
        if on:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        else:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        return on
    except (PermissionError, OSError):
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--profiler")
    ap.add_argument("--machine")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--cache", default="auto")
    ap.add_argument("--only")
    ap.add_argument("--no-fifo", action="store_true")
    a = ap.parse_args()
    pv = os.path.join(a.build, "bin", "prevision")
    prof_pv = a.profiler or pv
    out = "bench/results/accuracy"
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="pv-accuracy.")
    scratch = os.path.join(work, "native.dat")
    only = set(a.only.split(",")) if a.only else None
    rows = []
    load0 = os.getloadavg()
    used_fifo = False
    for name, sizes in CASES:
        if only and name not in only:
            continue
        exe = os.path.abspath(os.path.join(a.build, "samples", name))
        for args in sizes:
            nat_args = [x.replace("FILE", scratch) for x in args]
            emu_args = [x.replace("FILE", "emu.dat") for x in args]
            tag = f"{name}-{'-'.join(args).replace('FILE', 'f')}"
            prof = os.path.join(out, tag + ".profile.json")
            cmd = [prof_pv, "-q", "profile", "-o", prof, "--guest-stdout", "/dev/null",
                   "--param", f"n={args[0]}"]
            mode = "sampled" if a.cache == "auto" else a.cache
            if mode != "off":
                cmd.append(f"--cache={mode}")
            t = time.perf_counter()
            run(cmd + ["--", exe] + emu_args)
            emu_s = time.perf_counter() - t
            if a.cache == "auto":
                with open(prof) as f:
                    insns = json.load(f)["dynamic"]["insns"]
                if insns < 100_000_000:
                    mode = "full"
                    cmd[cmd.index("--cache=sampled")] = "--cache=full"
                    t = time.perf_counter()
                    run(cmd + ["--", exe] + emu_args)
                    emu_s = time.perf_counter() - t
            pcmd = [pv, "-q", "predict", "--json", prof] + (["--machine", a.machine] if a.machine else [])
            pred = json.loads(run(pcmd).stdout)
            with open(os.path.join(out, tag + ".prediction.json"), "w") as f:
                json.dump(pred, f, indent=1)
            walls, cpus = [], []
            on = fifo(not a.no_fifo)
            used_fifo |= on
            try:
                native_once([exe] + nat_args, scratch)  # warm the page cache and the binary
                for _ in range(a.reps):
                    w, c = native_once([exe] + nat_args, scratch)
                    walls.append(w)
                    cpus.append(c)
            finally:
                fifo(False)
            if os.path.exists(scratch):
                os.unlink(scratch)
            med = statistics.median(walls)
            p = pred["seconds"]["total"]
            err = (p["mid"] - med) / med * 100
            rows.append((name, " ".join(args).replace("FILE", "F"), med, min(walls), max(walls),
                         statistics.median(cpus), p["mid"], p["low"], p["high"], err, pred.get("dominant", "?"),
                         emu_s, on, mode))
            print(f"{tag}: native {med:.4f} s (cpu {statistics.median(cpus):.4f}), predicted {p['mid']:.4f} s "
                  f"({err:+.1f}%) [{p['low']:.4f}..{p['high']:.4f}] {pred.get('dominant')}", file=sys.stderr)
    load1 = os.getloadavg()
    print("| sample | args | native median (min..max) s | native CPU s | predicted [low..high] s | error | "
          "in interval | dominant | cache sim | emulation s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | :---: | --- | --- | ---: |")
    for (n, args, med, lo, hi, cpu, mid, plo, phi, err, dom, emu_s, on, mode) in rows:
        inside = "yes" if plo <= med <= phi else "no"
        print(f"| {n} | {args} | {med:.4f} ({lo:.4f}..{hi:.4f}) | {cpu:.4f} | {mid:.4f} [{plo:.4f}..{phi:.4f}] "
              f"| {err:+.1f}% | {inside} | {dom} | {mode} | {emu_s:.1f} |")
    errs = [abs(r[9]) for r in rows]
    ratios = [max(r[6] / r[2], r[2] / r[6]) for r in rows]
    worst = ratios.index(max(ratios))
    print(f"\nMAPE {statistics.fmean(errs):.1f}% over {len(rows)} runs; worst ratio {max(ratios):.2f}x "
          f"({rows[worst][0]} {rows[worst][1]}); {sum(1 for r in ratios if r > 2)} off by more than 2x; "
          f"{sum(1 for r in rows if r[7] <= r[2] <= r[8])}/{len(rows)} inside the interval")
    print(f"native runs: median of {a.reps} (after one warm-up run), wall clock from posix_spawn to wait4, "
          f"{'SCHED_FIFO' if used_fifo else 'normal scheduling (SCHED_FIFO not permitted or --no-fifo)'}; "
          f"load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end")


if __name__ == "__main__":
    main()
