#!/usr/bin/env bash
# Speed of exact block counting: native vs the emulator without hooks
# (PVE_BENCH_HOOK=none: plain Unicorn), with an empty block hook
# (PVE_BENCH_HOOK=empty: the dispatch cost alone), with counting (prevision
# profile --branch-sim=off), as shipped (default: counting and the sampled
# branch simulation), and valgrind --tool=callgrind, alternated in one run,
# median user+system CPU seconds of RUNS repetitions each (CPU time, not wall
# time: the machine is shared). Prints one line per program and mode, then
# the ratios.
#   usage: bench/emu_speed.sh [RUNS [SIZE]]    (default 5 runs; SIZE big: inputs where native runs about 1-5 s)
# PV=path/to/prevision in the environment measures another build.
set -u
cd "$(dirname "$0")/.." || exit 1
RUNS=${1:-5}
SIZE=${2:-small}
PV=${PV:-build/bin/prevision}
case $PV in /*) ;; *) PV=$PWD/$PV ;; esac
S=build/samples
TMP=$(mktemp -d /tmp/pv_emu_speed.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
head -c 4000000 /usr/lib/x86_64-linux-gnu/libc.so.6 > "$TMP/input.bin"
# name|command (run from $TMP)
if [ "$SIZE" = big ]; then
    # 40 MB of compressible input: ten copies of the libc prefix
    for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$TMP/input.bin"; done > "$TMP/big.bin"
    mv "$TMP/big.bin" "$TMP/input.bin"
    PROGS=(
      "qsort 20000000|$PWD/$S/qsort 20000000"
      "hashmap 8000000|$PWD/$S/hashmap 8000000"
      "bintrees 19|$PWD/$S/bintrees 19"
      "matmul 1000|$PWD/$S/matmul 1000"
      "sha256 200000|$PWD/$S/sha256 200000"
      "gzip -c 40MB|gzip -c input.bin"
    )
else
PROGS=(
  "qsort 2000000|$PWD/$S/qsort 2000000"
  "hashmap 2000000|$PWD/$S/hashmap 2000000"
  "ptrchase 500000|$PWD/$S/ptrchase 500000"
  "bintrees 16|$PWD/$S/bintrees 16"
  "matmul 400|$PWD/$S/matmul 400"
  "sha256 16384|$PWD/$S/sha256 16384"
  "gzip -c 4MB|gzip -c input.bin"
  "bzip2 -c 4MB|bzip2 -c input.bin"
  "xz -c 4MB|xz -c input.bin"
)
fi
cpu() { # cpu CMD...: user+sys seconds of CMD
    /usr/bin/time -f "%U %S" -o "$TMP/time" "$@" >/dev/null 2>&1
    awk '{print $1 + $2}' "$TMP/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
cd "$TMP" || exit 1
printf "%-16s %8s %8s %8s %8s %8s %9s   %s\n" program native plain empty count default callgrind \
    "count/native count/plain callgrind/count default/count"
for p in "${PROGS[@]}"; do
    name=${p%%|*}; cmd=${p#*|}
    : >n; : >pl; : >em; : >co; : >de; : >cg
    for ((i = 0; i < RUNS; i++)); do
        # shellcheck disable=SC2086
        cpu $cmd >>n
        PVE_BENCH_HOOK=none cpu "$PV" -q profile --branch-sim=off --allow-read input.bin -- $cmd >>pl
        PVE_BENCH_HOOK=empty cpu "$PV" -q profile --branch-sim=off --allow-read input.bin -- $cmd >>em
        cpu "$PV" -q profile --branch-sim=off --allow-read input.bin -- $cmd >>co
        cpu "$PV" -q profile --allow-read input.bin -- $cmd >>de
        cpu valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd >>cg
    done
    N=$(median <n) PL=$(median <pl) EM=$(median <em) CO=$(median <co) DE=$(median <de) CG=$(median <cg)
    printf "%-16s %8.3f %8.3f %8.3f %8.3f %8.3f %9.3f   %6.2fx %6.2fx %6.2fx %6.2fx\n" "$name" "$N" "$PL" "$EM" "$CO" \
        "$DE" "$CG" "$(echo "$CO / $N" | bc -l)" "$(echo "$CO / $PL" | bc -l)" "$(echo "$CG / $CO" | bc -l)" \
        "$(echo "$DE / $CO" | bc -l)"
done
