# Build the libFuzzer targets with clang-19 (-fsanitize=fuzzer,address,undefined)
# into $PV_BINARY_DIR/fuzz when their sources changed, then run each briefly on
# the committed seed corpus. Exit 77 (skipped) without clang-19 or libFuzzer.
#   PV_FUZZ_RUNS (default 2000): executions per target
set -u
: "${PV_SOURCE_DIR:?run through ctest}" "${PV_BINARY_DIR:?run through ctest}"
CLANG=${CLANG:-clang-19}
command -v "$CLANG" >/dev/null || { echo "skip: $CLANG not found"; exit 77; }
OUT="$PV_BINARY_DIR/fuzz"
mkdir -p "$OUT"
# The binary analyzer (not the libclang source analyzer) and common/.
SRCS=$(ls "$PV_SOURCE_DIR"/analyzer/*.c "$PV_SOURCE_DIR"/common/*.c | grep -v '/source_')
build() { # build NAME
    local bin="$OUT/$1" src="$PV_SOURCE_DIR/tests/fuzz/$1.c" stale=0
    [ -x "$bin" ] || stale=1
    for f in $src $SRCS "$PV_SOURCE_DIR"/analyzer/internal.h "$PV_SOURCE_DIR"/include/prevision/*.h; do
        [ "$f" -nt "$bin" ] && stale=1
    done
    [ $stale = 0 ] && return 0
    echo "building $1"
    "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -std=gnu17 \
        -I"$PV_SOURCE_DIR/include" -I"$PV_SOURCE_DIR" -I"$PV_SOURCE_DIR/analyzer" -I"$PV_SOURCE_DIR/common" \
        -I"$PV_BINARY_DIR/generated" $(pkg-config --cflags capstone libelf libdw jansson) \
        -o "$bin" "$src" $SRCS $(pkg-config --libs capstone libelf libdw jansson) -lpthread -lm 2> "$OUT/$1.log" || {
        if grep -q "libclang_rt.fuzzer\|fuzzer.*not found\|cannot find" "$OUT/$1.log"; then
            echo "skip: libFuzzer runtime missing (libclang-rt-19-dev)"; exit 77
        fi
        cat "$OUT/$1.log"; exit 1; }
}
build fuzz_elf
build fuzz_decode
RUNS=${PV_FUZZ_RUNS:-2000}
fail=0
for t in elf decode; do
    work="$OUT/corpus_$t"
    rm -rf "$work"; mkdir -p "$work"
    cp "$PV_SOURCE_DIR/tests/fuzz/corpus/$t/"* "$work/"
    # Seeds first (every one must pass), then RUNS mutations from them.
    if ! ASAN_OPTIONS=detect_leaks=1 "$OUT/fuzz_$t" -runs="$RUNS" -seed=1 -rss_limit_mb=4096 -timeout=20 -artifact_prefix="$OUT/" \
        "$work" > "$OUT/fuzz_$t.out" 2>&1; then
        echo "FAIL: fuzz_$t"; tail -40 "$OUT/fuzz_$t.out"; fail=1
    else
        grep -E "^Done [0-9]+ runs" "$OUT/fuzz_$t.out" | sed "s/^/fuzz_$t: /"
    fi
done
exit $fail
