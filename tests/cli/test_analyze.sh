# prevision analyze: summary, JSON, -o, options, and every kind of bad input (exit 2, one precise line).
. "$(dirname "$0")/lib.sh"
M="$PV_SAMPLES_DIR/matmul"

expect_exit 0 "$PREVISION" analyze "$M"
expect_in "$PV_TMP/out" "x86_64 pie"
expect_in "$PV_TMP/out" "libc.so.6"
expect_in "$PV_TMP/out" "heaviest loop nests"
expect_in "$PV_TMP/out" "matmul.c:10"
expect_in "$PV_TMP/out" "depth 3"

expect_exit 0 "$PREVISION" analyze --uarch skylake -o "$PV_TMP/m.json" "$M"
expect_in "$PV_TMP/out" "wrote $PV_TMP/m.json"
expect_true "profile validates against the schema" validate_schema "$PV_TMP/m.json"
expect_exit 0 "$PREVISION" validate "$PV_TMP/m.json"
expect_true "uarch recorded" grep -q '"uarch": "skylake"' "$PV_TMP/m.json"

expect_exit 0 "$PREVISION" analyze --json -j 1 --compact "$M"
expect_true "--json prints the profile" python3 -c "
import json; d=json.load(open('$PV_TMP/out'))
assert d['target']['kind'] == 'pie' and len(d['blocks']) > 20, d['target']
depths = sorted(l['depth'] for l in d['loops'])
assert depths[-1] == 3, depths
"
# The same profile with 1 and 2 threads.
"$PREVISION" analyze --json -j 1 "$M" > "$PV_TMP/j1.json"
"$PREVISION" analyze --json -j 2 "$M" > "$PV_TMP/j2.json"
expect_true "thread count does not change the profile" cmp -s "$PV_TMP/j1.json" "$PV_TMP/j2.json"

# Usage errors.
expect_exit 2 "$PREVISION" analyze
expect_in "$PV_TMP/err" "missing BINARY"
expect_exit 2 "$PREVISION" analyze --uarch pentium4 "$M"
expect_in "$PV_TMP/err" "known: zen4, zen5, skylake"
expect_exit 2 "$PREVISION" analyze -j 0 "$M"
expect_exit 2 "$PREVISION" analyze --bogus "$M"
expect_exit 2 "$PREVISION" analyze "$M" "$M"
expect_exit 2 "$PREVISION" analyze /nonexistent/prog
expect_in "$PV_TMP/err" "/nonexistent/prog: cannot open"
expect_lines "$PV_TMP/err" 1

# Bad input: a PNG renamed .so.
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10' > "$PV_TMP/libfoo.so"
expect_exit 2 "$PREVISION" analyze "$PV_TMP/libfoo.so"
expect_in "$PV_TMP/err" "not an ELF file: offset 0: magic bytes 89 50 4e 47 (a PNG image)"
expect_lines "$PV_TMP/err" 1

# Truncated file.
head -c 3000 "$M" > "$PV_TMP/trunc"
expect_exit 2 "$PREVISION" analyze "$PV_TMP/trunc"
expect_in "$PV_TMP/err" "past the end of the file"
expect_lines "$PV_TMP/err" 1

# Bad section offsets: .text's sh_offset moved past the end.
python3 - "$M" "$PV_TMP/badoff" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28); shnum, = struct.unpack_from('<H', d, 0x3c)
for i in range(1, shnum):
    o = shoff + 64 * i
    typ, flags = struct.unpack_from('<IQ', d, o + 4)
    if typ == 1 and flags & 4:
        struct.pack_into('<Q', d, o + 24, 0x7ffffff0); break
open(sys.argv[2], 'wb').write(d)
PY
expect_exit 2 "$PREVISION" analyze "$PV_TMP/badoff"
expect_in "$PV_TMP/err" "sh_offset 0x7ffffff0"
expect_in "$PV_TMP/err" "runs past the end of the file"

# An aarch64 ELF (a real object from clang-19, or the header alone if clang-19 is absent).
if command -v clang-19 >/dev/null && echo 'int f(int x){return x+1;}' > "$PV_TMP/a.c" &&
   clang-19 --target=aarch64-linux-gnu -c -o "$PV_TMP/a64.o" "$PV_TMP/a.c" 2>/dev/null; then
    A64="$PV_TMP/a64.o"
else
    A64="$PV_SOURCE_DIR/tests/analyzer/data/aarch64-header.bin"
fi
expect_exit 2 "$PREVISION" analyze "$A64"
expect_in "$PV_TMP/err" "ELF for machine aarch64 (e_machine 183 at offset 0x12)"
expect_lines "$PV_TMP/err" 1

# 32-bit and relocatable x86-64 objects are refused as such.
echo 'int g(int x){return x*3;}' > "$PV_TMP/g.c"
if cc -c -o "$PV_TMP/g.o" "$PV_TMP/g.c" 2>/dev/null; then
    expect_exit 2 "$PREVISION" analyze "$PV_TMP/g.o"
    expect_in "$PV_TMP/err" "relocatable object file"
fi

# -o never leaves a partial file on failure.
expect_exit 2 "$PREVISION" analyze -o "$PV_TMP/none.json" "$PV_TMP/trunc"
expect_true "no output file after a failure" test ! -e "$PV_TMP/none.json"

# Stripped binaries: functions discovered, flagged in the summary.
if strip -o "$PV_TMP/stripped" "$M" 2>/dev/null; then
    expect_exit 0 "$PREVISION" analyze "$PV_TMP/stripped"
    expect_in "$PV_TMP/out" "stripped (no .symtab: functions discovered)"
    expect_in "$PV_TMP/out" "depth 3"
fi

# 'analyze --source' goes to the source analyzer; 'analyze-source' stays as its alias.
expect_exit 0 "$PREVISION" analyze --source --help
expect_in "$PV_TMP/out" "usage: prevision analyze --source"
expect_exit 0 "$PREVISION" help
expect_in "$PV_TMP/out" "analyze "
expect_in "$PV_TMP/out" "analyze-source"
finish
