# prevision profile: program output passes through unchanged, the profile is
# valid JSON for the schema, --json keeps stdout clean, limits and refusals
# give their exit codes and messages, bad input exits 2 with one precise line,
# deterministic runs are byte-identical, and real Debian programs (gzip, bzip2,
# xz) compress a file exactly as they do natively.
. "$(dirname "$0")/lib.sh"
S=$PV_SAMPLES_DIR
D=$PV_EMU_DATA_DIR
cd "$PV_TMP" || exit 1

# A sample: its output on stdout, the summary on stderr, exit 0.
expect_exit 0 "$PREVISION" profile -- "$S/qsort" 5000
"$S/qsort" 5000 >"$PV_TMP/native"
expect_true "guest stdout passes through unchanged" cmp -s "$PV_TMP/out" "$PV_TMP/native"
expect_in "$PV_TMP/err" "the program exited with status 0"
expect_in "$PV_TMP/err" "instructions"
expect_in "$PV_TMP/err" "hottest functions:"
expect_in "$PV_TMP/err" "hottest loops (program):"
expect_in "$PV_TMP/err" "hottest blocks:"
expect_in "$PV_TMP/err" "quicksort"
expect_in "$PV_TMP/err" "qsort.c:"
# -o writes the profile; it validates with prevision and with python3-jsonschema.
expect_exit 0 "$PREVISION" profile -o "$PV_TMP/p.json" --param n=5000 -- "$S/qsort" 5000
expect_exit 0 "$PREVISION" validate "$PV_TMP/p.json"
expect_true "the profile passes python3-jsonschema" validate_schema "$PV_TMP/p.json"
expect_true "dynamic section: argv, params, end reason, target insns" python3 - "$PV_TMP/p.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["dynamic"]
assert d["argv"][-1] == "5000", d["argv"]
assert d["params"] == {"n": "5000"}, d["params"]
assert d["end_reason"] == "exit" and d["exit_code"] == 0
assert 0 < d["target_insns"] <= d["insns"]
assert d["objects"][0]["target"] is True
assert sum(c[2] * c[3] for c in d["block_counts"]) == d["insns"]
p = json.load(open(sys.argv[1]))
assert any(f["name"] == "quicksort" for f in p["functions"]), "static profile joined"
assert p["loops"] and p["target"]["sha256"]
PY
expect_exit 0 "$PREVISION" profile --no-analyze -o "$PV_TMP/n.json" -- "$S/qsort" 5000
expect_true "--no-analyze: the dynamic section alone" python3 -c "
import json; p = json.load(open('$PV_TMP/n.json')); assert not p['functions'] and p['dynamic']"
# --json: the profile alone on stdout, the guest's stdout on stderr.
expect_exit 0 "$PREVISION" profile --json -- "$S/qsort" 5000
expect_true "--json stdout is one JSON document" python3 -c "import json; json.load(open('$PV_TMP/out'))"
expect_in "$PV_TMP/err" "$(cat "$PV_TMP/native")"
# --guest-stdout: to a file.
expect_exit 0 "$PREVISION" profile --json --guest-stdout "$PV_TMP/g.txt" -- "$S/qsort" 5000
expect_true "--guest-stdout gets the program's output" cmp -s "$PV_TMP/g.txt" "$PV_TMP/native"

# Deterministic: two runs, identical profiles (threads included).
"$PREVISION" -q profile --deterministic -o "$PV_TMP/d1.json" -- "$S/pthreads" 20000 3 >/dev/null
"$PREVISION" -q profile --deterministic -o "$PV_TMP/d2.json" -- "$S/pthreads" 20000 3 >/dev/null
expect_true "two --deterministic runs give identical profiles" cmp -s "$PV_TMP/d1.json" "$PV_TMP/d2.json"
expect_in "$PV_TMP/d1.json" '"emu_seconds": 0'

# Limits: exit 1, a clear message, and the profile of what ran is still written.
expect_exit 1 "$PREVISION" profile --max-insns 1000000 -o "$PV_TMP/l.json" -- "$D/probe" spin
expect_in "$PV_TMP/err" "instruction limit reached"
expect_in "$PV_TMP/err" "the profile of what ran was written"
expect_in "$PV_TMP/l.json" '"end_reason": "limit:insns"'
expect_exit 1 "$PREVISION" profile --timeout 0.5 -- "$D/probe" spin
expect_in "$PV_TMP/err" "time limit reached"
expect_exit 1 "$PREVISION" profile --max-mem 8M -- "$D/probe" alloc 64
expect_in "$PV_TMP/err" "memory limit reached"

# The sandbox: refusals in the summary and the profile; the host untouched.
expect_exit 0 "$PREVISION" profile -o "$PV_TMP/s.json" -- "$D/probe" socket
expect_in "$PV_TMP/out" "socket: Operation not permitted"
expect_in "$PV_TMP/err" "refused       socket x1"
expect_in "$PV_TMP/s.json" '{"name":"socket","nr":41,"count":1}'
mkdir -p "$PV_TMP/outside"
expect_exit 0 "$PREVISION" profile -- "$D/probe" write /tmp/pv_cli_escape_$$
expect_in "$PV_TMP/out" "write: Permission denied"
expect_true "no file written outside the scratch directory" test ! -e /tmp/pv_cli_escape_$$
expect_exit 0 "$PREVISION" profile -- "$D/probe" exec
expect_in "$PV_TMP/out" "exec: Operation not permitted"
expect_exit 0 "$PREVISION" profile -- "$D/probe" write here.txt
expect_in "$PV_TMP/out" "write: ok"
expect_true "a file written in the working directory stays in the scratch directory" test ! -e "$PV_TMP/here.txt"
expect_exit 0 "$PREVISION" profile --keep-scratch -- "$D/probe" write kept.txt
expect_in "$PV_TMP/err" "scratch directory kept: "
kept=$(sed -n 's/.*scratch directory kept: //p' "$PV_TMP/err")
expect_true "--keep-scratch keeps what the program wrote" test -f "$kept/kept.txt"
rm -rf "$kept"

# An AVX instruction: exit 1, the instruction, its address and source line.
expect_exit 1 "$PREVISION" profile -- "$D/avx"
expect_in "$PV_TMP/err" "prevision profile: error: AVX instruction 'vmovdqu ymm0, ymmword ptr [rsi]' at 0x"
expect_in "$PV_TMP/err" "avx.c:6"

# Bad input: exit 2 and one line that says what is wrong.
expect_exit 2 "$PREVISION" profile -- "$PV_TMP/missing"
expect_in "$PV_TMP/err" "missing: no such file"
expect_lines "$PV_TMP/err" 1
printf '#!/bin/sh\necho hi\n' >"$PV_TMP/script.sh"
expect_exit 2 "$PREVISION" profile -- "$PV_TMP/script.sh"
expect_in "$PV_TMP/err" "not an ELF file"
head -c 100 "$S/qsort" >"$PV_TMP/trunc"
expect_exit 2 "$PREVISION" profile -- "$PV_TMP/trunc"
expect_in "$PV_TMP/err" "truncated ELF file"
python3 -c "
import sys; b = bytearray(open('$S/qsort','rb').read(4096)); b[18] = 183; b[19] = 0
open('$PV_TMP/arm', 'wb').write(b)"
expect_exit 2 "$PREVISION" profile -- "$PV_TMP/arm"
expect_in "$PV_TMP/err" "ELF for AArch64"
expect_exit 2 "$PREVISION" profile
expect_in "$PV_TMP/err" "expected a PROGRAM"
expect_exit 2 "$PREVISION" profile --max-insns lots -- "$S/qsort"
expect_exit 2 "$PREVISION" profile --allow-read /nonexistent/pv -- "$S/qsort" 10
expect_in "$PV_TMP/err" "--allow-read /nonexistent/pv"
expect_exit 0 "$PREVISION" profile --help
expect_in "$PV_TMP/out" "usage: prevision profile"

# Caches: per-level figures in the summary and the profile, a callgrind file callgrind_annotate reads.
expect_exit 0 "$PREVISION" profile --cache=sampled -o "$PV_TMP/c.json" --callgrind-out "$PV_TMP/cg.out" -- "$S/stream" 100000
expect_in "$PV_TMP/err" "caches        "
expect_in "$PV_TMP/err" "estimated from"
expect_in "$PV_TMP/err" "cache geometry: L1d"
expect_in "$PV_TMP/c.json" '"sampled_fraction"'
expect_true "the profile with cache figures passes python3-jsonschema" validate_schema "$PV_TMP/c.json"
if command -v callgrind_annotate >/dev/null; then
    expect_true "callgrind_annotate reads --callgrind-out" sh -c "callgrind_annotate '$PV_TMP/cg.out' | grep -q 'PROGRAM TOTALS'"
fi
# --sample-schedule: windows that cover nearly the whole run measure nearly all of it.
expect_exit 0 "$PREVISION" profile --cache=sampled --sample-schedule 1000,1,999 -o "$PV_TMP/s.json" -- "$S/stream" 100000
expect_true "a 999-in-1000 schedule measures over 99% of the run" python3 -c "
import json; f=[c['sampled_fraction'] for c in json.load(open('$PV_TMP/s.json'))['dynamic']['cache']]
assert min(f) > 0.99, f
"
expect_true "the default schedule measures a few percent of it" python3 -c "
import json; f=[c['sampled_fraction'] for c in json.load(open('$PV_TMP/c.json'))['dynamic']['cache']]
assert max(f) < 0.5, f
"
expect_exit 2 "$PREVISION" profile --cache=sampled --sample-schedule 100,50,60 -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "WARMUP + MEASURE <= PERIOD"
expect_exit 2 "$PREVISION" profile --cache=sampled --sample-schedule 100,0,10x -- "$S/qsort" 2000
expect_exit 2 "$PREVISION" profile --sample-schedule 100,10,10 -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "use it with that"
expect_exit 0 "$PREVISION" profile --cache=full -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "misses"
expect_exit 2 "$PREVISION" profile --cache=sometimes -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "not off, full or sampled"
expect_exit 2 "$PREVISION" profile --machine "$PV_TMP/m.json" -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "use it with --cache"

# Branch prediction: on by default (sampled), a summary line, the profile's branches record, Bc/Bcm/Bi/Bim
# events in the callgrind file; --branch-sim=off leaves the record out; a bad mode exits 2.
expect_exit 0 "$PREVISION" profile -o "$PV_TMP/b.json" --callgrind-out "$PV_TMP/cgb.out" -- "$D/branches" random 20000
expect_in "$PV_TMP/err" "branches      "
expect_in "$PV_TMP/err" "most mispredicted branches:"
expect_in "$PV_TMP/err" "branches.c:"
expect_in "$PV_TMP/cgb.out" "events: Ir Bc Bcm Bi Bim"
expect_true "the profile with branch figures passes python3-jsonschema" validate_schema "$PV_TMP/b.json"
expect_true "dynamic.branches: executed counts equal the mix's, a model name" python3 - "$PV_TMP/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["dynamic"]
b = d["branches"]
assert b["model"] and b["cond"] == d["mix"]["branch_cond"], (b, d["mix"])
assert 0 < b["cond_miss"] < b["cond"] and b["indirect"] >= 20000, b
assert b["sampled_fraction"] == 1, b   # 20000 iterations: shorter than the first sampling period
PY
expect_exit 0 "$PREVISION" profile --branch-sim=off -o "$PV_TMP/nb.json" -- "$D/branches" random 20000
expect_true "--branch-sim=off: no branches record" sh -c "! grep -q '\"branches\"' '$PV_TMP/nb.json'"
expect_exit 0 "$PREVISION" profile --branch-sim full -- "$D/branches" pattern 20000
expect_in "$PV_TMP/err" "predictor tage-lite"
expect_exit 2 "$PREVISION" profile --branch-sim=maybe -- "$S/qsort" 2000
expect_in "$PV_TMP/err" "not on, off, full or sampled"

# Real Debian programs compress a file given with --allow-read, byte for byte as natively.
head -c 300000 /usr/lib/x86_64-linux-gnu/libc.so.6 >"$PV_TMP/input.bin"
for prog in gzip bzip2 xz; do
    command -v $prog >/dev/null || continue
    $prog -c "$PV_TMP/input.bin" >"$PV_TMP/native.$prog"
    expect_exit 0 "$PREVISION" profile --allow-read "$PV_TMP/input.bin" -- $prog -c "$PV_TMP/input.bin"
    expect_true "$prog output identical to the native run" cmp -s "$PV_TMP/out" "$PV_TMP/native.$prog"
done
finish
