#!/usr/bin/env bash
# Binary analyzer speed: `prevision analyze` on a large library against
# `objdump -d --no-show-raw-insn` on the same file, alternated in one run so
# that load from other processes hits both alike. Medians of N runs; peak RSS
# from /usr/bin/time. A third command measures writing the profile (-o).
#
#   bench/analyze_libllvm.sh [BINARY] [RUNS]
#   PREVISION=build/bin/prevision (default)
set -euo pipefail
BIN=${1:-/usr/lib/llvm-19/lib/libLLVM.so.1}
RUNS=${2:-3}
PREVISION=${PREVISION:-$(dirname "$0")/../build/bin/prevision}
TMP=$(mktemp -d /tmp/pv_bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
command -v objdump >/dev/null || { echo "objdump not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 1; }

# run NAME CMD...: append "wall user sys maxrss_kb" to $TMP/NAME
run() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" "$@" >/dev/null
    cat "$TMP/t" >> "$TMP/$name"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
col() { awk -v c="$2" '{print $c}' "$TMP/$1" | median; }

echo "binary: $BIN ($(stat -L -c %s "$BIN") bytes), $RUNS runs each, $(nproc) CPUs"
for i in $(seq "$RUNS"); do
    run objdump objdump -d --no-show-raw-insn "$BIN"
    run analyze "$PREVISION" -q analyze "$BIN"
    run write "$PREVISION" -q analyze --compact -o "$TMP/profile.json" "$BIN"
done
ls -l "$TMP/profile.json" | awk '{print "profile: " $5 " bytes (compact JSON)"}'
"$PREVISION" -q analyze "$BIN" | grep -E '^code|^loops'
printf '%-28s %8s %8s %8s %10s\n' command wall_s user_s sys_s peak_rss_MB
for n in objdump analyze write; do
    printf '%-28s %8s %8s %8s %10.0f\n' "$n" "$(col $n 1)" "$(col $n 2)" "$(col $n 3)" "$(echo "$(col $n 4) / 1024" | bc -l)"
done
echo "ratio objdump/analyze (median wall): $(echo "$(col objdump 1) / $(col analyze 1)" | bc -l | cut -c1-5)"
echo "profile writing (analyze -o minus analyze, median wall): $(echo "$(col write 1) - $(col analyze 1)" | bc -l | cut -c1-5) s"
