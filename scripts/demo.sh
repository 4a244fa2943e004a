#!/usr/bin/env bash
# The main job on a bundled sample: what `make demo` runs after building.
# The whole pipeline on the matrix-multiply sample: static analysis of the
# binary, source facts merged into it, a sandboxed emulated run, and the
# predicted run time on this host next to the measured one.
set -euo pipefail
BUILD=${1:-build}
PV="$BUILD/bin/prevision"
SAMPLE="$BUILD/samples/matmul"
N=${DEMO_N:-300}
out=$(mktemp -d /tmp/prevision-demo.XXXXXX)

step() { printf '\n== %s\n' "$*"; }

step "prevision --version"
"$PV" --version

step "prevision analyze $SAMPLE   (static profile: functions, CFG, loops, mix, cycles)"
"$PV" analyze --top 3 -o "$out/matmul.static.json" "$SAMPLE"

step "prevision analyze --source -p $BUILD $SAMPLE   (trip counts, allocations, work as polynomials)"
"$PV" analyze --source -p "$BUILD" -o "$out/matmul.source.json" "$SAMPLE" | grep -v '^  *IR per iteration'

step "prevision profile --cache=sampled -- $SAMPLE $N   (sandboxed emulated run)"
"$PV" profile --cache=sampled --top 3 --guest-stdout "$out/matmul.stdout" -o "$out/matmul.profile.json" -- "$SAMPLE" "$N"

step "prevision predict $out/matmul.profile.json   (run time on this host; calibrates once, then cached)"
"$PV" predict "$out/matmul.profile.json"

step "native run of $SAMPLE $N, for comparison (median of 5)"
for i in 1 2 3 4 5; do
    t0=$(date +%s%N); "$SAMPLE" "$N" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "measured %.6f s (median of %d runs)\n", a[int((NR+1)/2)]/1e6, NR}'

echo
echo "demo outputs in $out"
