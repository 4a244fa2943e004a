#!/usr/bin/env bash
# Branch-prediction simulation in `prevision profile`: cost and accuracy of
# --branch-sim=off|sampled|full. For each program, the modes alternate RUNS
# times (user+system CPU seconds, median: the machine is shared); for the
# simulated modes, the conditional and indirect misprediction rates and the
# sampled fraction of the last run.
#   usage: bench/emulator/branch_bench.sh [RUNS]    (default 3)
# PVE_BENCH_BRANCH_SCHEDULE=P,W,U in the environment replaces the sampled
# mode's schedule (period, warm-up, counted instructions) for every run.
set -u
cd "$(dirname "$0")/../.." || exit 1
RUNS=${1:-3}
PV=$PWD/build/bin/prevision
S=$PWD/build/samples
TMP=$(mktemp -d /tmp/pv_branch_bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
head -c 4000000 /usr/lib/x86_64-linux-gnu/libc.so.6 > "$TMP/input.bin"
PROGS=(
  "qsort 1000000|$S/qsort 1000000"
  "bintrees 14|$S/bintrees 14"
  "hashmap 1000000|$S/hashmap 1000000"
  "matmul 200|$S/matmul 200"
  "sha256 4096|$S/sha256 4096"
  "gzip -c 4MB|gzip -c input.bin"
  "bzip2 -c 4MB|bzip2 -c input.bin"
)
MODES=(off sampled full)
cd "$TMP" || exit 1
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf "%-14s %7s %7s %7s %8s %8s   %-27s %-27s\n" program off sampled full sampled/off full/off \
    "sampled cond/ind (fraction)" "full cond/ind"
for p in "${PROGS[@]}"; do
    name=${p%%|*}; cmd=${p#*|}
    for m in "${MODES[@]}"; do : > "t.$m"; done
    for ((i = 0; i < RUNS; i++)); do
        for m in "${MODES[@]}"; do
            # shellcheck disable=SC2086
            /usr/bin/time -f "%U %S" -o time "$PV" -q profile --branch-sim=$m --json --allow-read input.bin \
                -- $cmd > "p.$m.json" 2>/dev/null
            awk '{print $1 + $2}' time >> "t.$m"
        done
    done
    rates() {
        python3 -c "
import json, sys
b = json.load(open(sys.argv[1]))['dynamic'].get('branches')
print('%.4f/%.4f (%.3f)' % (b['cond_miss'] / max(b['cond'], 1), b['indirect_miss'] / max(b['indirect'], 1),
                            b['sampled_fraction']))" "$1"
    }
    OFF=$(median < t.off) SAM=$(median < t.sampled) FULL=$(median < t.full)
    printf "%-14s %7.2f %7.2f %7.2f %7.2fx %7.2fx   %-27s %-27s\n" "$name" "$OFF" "$SAM" "$FULL" \
        "$(echo "$SAM / $OFF" | bc -l)" "$(echo "$FULL / $OFF" | bc -l)" "$(rates p.sampled.json)" "$(rates p.full.json)"
done
