# Build the emulator's libFuzzer target (fuzz_emu_elf: the ELF loader's
# checks) with clang-19 into $PV_BINARY_DIR/fuzz when its sources changed, and
# run it briefly on the ELF seeds (tests/fuzz/corpus/elf and emu_elf).
# Exit 77 (skipped) without clang-19 or the libFuzzer runtime.
#   PV_FUZZ_RUNS (default 2000): executions
set -u
: "${PV_SOURCE_DIR:?run through ctest}" "${PV_BINARY_DIR:?run through ctest}"
CLANG=${CLANG:-clang-19}
command -v "$CLANG" >/dev/null || { echo "skip: $CLANG not found"; exit 77; }
OUT="$PV_BINARY_DIR/fuzz"
mkdir -p "$OUT"
bin="$OUT/fuzz_emu_elf"
SRCS="$PV_SOURCE_DIR/tests/fuzz/fuzz_emu_elf.c $PV_SOURCE_DIR/emulator/elf.c $PV_SOURCE_DIR/common/error.c"
stale=0
[ -x "$bin" ] || stale=1
for f in $SRCS "$PV_SOURCE_DIR"/emulator/internal.h "$PV_SOURCE_DIR"/include/prevision/*.h; do
    [ "$f" -nt "$bin" ] && stale=1
done
if [ $stale = 1 ]; then
    echo "building fuzz_emu_elf"
    "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -std=gnu17 \
        -I"$PV_SOURCE_DIR/include" -I"$PV_SOURCE_DIR" $(pkg-config --cflags unicorn capstone) \
        -o "$bin" $SRCS -lpthread 2> "$OUT/fuzz_emu_elf.log" || {
        if grep -q "libclang_rt.fuzzer\|fuzzer.*not found\|cannot find" "$OUT/fuzz_emu_elf.log"; then
            echo "skip: libFuzzer runtime missing (libclang-rt-19-dev)"; exit 77
        fi
        cat "$OUT/fuzz_emu_elf.log"; exit 1; }
fi
work="$OUT/corpus_emu_elf"
rm -rf "$work"; mkdir -p "$work"
for d in elf emu_elf; do
    [ -d "$PV_SOURCE_DIR/tests/fuzz/corpus/$d" ] && cp "$PV_SOURCE_DIR/tests/fuzz/corpus/$d/"* "$work/"
done
RUNS=${PV_FUZZ_RUNS:-2000}
if ! ASAN_OPTIONS=detect_leaks=1 "$bin" -runs="$RUNS" -seed=1 -rss_limit_mb=4096 -timeout=20 \
    -artifact_prefix="$OUT/emu-" "$work" > "$OUT/fuzz_emu_elf.out" 2>&1; then
    echo "FAIL: fuzz_emu_elf"; tail -40 "$OUT/fuzz_emu_elf.out"; exit 1
fi
grep -E "^Done [0-9]+ runs" "$OUT/fuzz_emu_elf.out" | sed "s/^/fuzz_emu_elf: /"
