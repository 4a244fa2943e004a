# prevision analyze-source: reports, --json, -o (atomic), --profile merge, exit codes and messages.
. "$(dirname "$0")/lib.sh"
data="$PV_SOURCE_DIR/tests/analyzer/data"
matmul="$PV_SOURCE_DIR/samples/matmul.c"

expect_exit 0 "$PREVISION" analyze-source --help
expect_in "$PV_TMP/out" "usage: prevision analyze --source -p BUILD_DIR"

# The matmul sample: three loops of n, n^3 multiply-adds, three 8*n^2 allocations.
expect_exit 0 "$PREVISION" analyze-source "$matmul" -- -O2
expect_in "$PV_TMP/out" "for loop, lines 10-11, k: trip n (n^3 in all)"
expect_in "$PV_TMP/out" "work: n^3 iterations of innermost loop bodies"
expect_in "$PV_TMP/out" "operations: 2*n^3 flops (n^3 fused multiply-adds)"
expect_in "$PV_TMP/out" "allocation line 25, malloc: 8*n^2 B"
expect_in "$PV_TMP/out" "heap: 24*n^2 B allocated per call"
expect_in "$PV_TMP/out" "program (main and what it calls, per run): work n^3 + n^2 + n iterations; 2*n^3 + 2*n^2 + n flops (n^3 fused multiply-adds)"
expect_in "$PV_TMP/out" "5 loops (5 with a trip count), 3 allocations"
expect_lines "$PV_TMP/err" 0

# --json: the source section; --no-ir leaves the IR out.
expect_exit 0 "$PREVISION" analyze-source --json --no-ir "$matmul"
expect_true "--json prints the source section" python3 -c "
import json; s = json.load(open('$PV_TMP/out'))
assert s['ir_pass'] is False and len(s['loops']) == 5, s
assert [l['trip'] for l in s['loops'][:3]] == ['n', 'n', 'n']
assert all('ir' not in l for l in s['loops'])
assert [a['bytes'] for a in s['allocations']] == ['8*n^2'] * 3"

# OpenMP and pthreads parallel regions.
expect_exit 0 "$PREVISION" analyze-source --no-ir "$data/omp.c" -- -fopenmp
expect_in "$PV_TMP/out" "parallel: #pragma omp parallel for simd schedule(static) num_threads(4) (line 4), loop at line 5 of n iterations, 4 threads"
expect_exit 0 "$PREVISION" analyze-source --no-ir "$PV_SOURCE_DIR/samples/pthreads.c" -- -pthread
expect_in "$PV_TMP/out" "parallel: pthread_create(integrate) line 37, up to t threads"

# Errors in the source are diagnostics, not failures: the rest is analyzed.
expect_exit 0 "$PREVISION" analyze-source "$data/broken.c"
expect_in "$PV_TMP/out" "good_after"
expect_in "$PV_TMP/out" "tests/analyzer/data/broken.c:3: error (ast pass): 'no_such_header.h' file not found"
expect_in "$PV_TMP/out" "tests/analyzer/data/broken.c:14: error (ast pass): expected expression"
expect_in "$PV_TMP/out" "broken.c:3: error (ir pass)"

# -o writes the JSON atomically and says so; a failure leaves an existing file alone.
expect_exit 0 "$PREVISION" analyze-source --no-ir -o "$PV_TMP/src.json" "$matmul"
expect_in "$PV_TMP/out" "wrote $PV_TMP/src.json"
expect_true "-o wrote JSON" python3 -c "import json; json.load(open('$PV_TMP/src.json'))"
echo keep >"$PV_TMP/keep.json"
expect_exit 2 "$PREVISION" analyze-source --no-ir -o "$PV_TMP/keep.json" "$data/no_such.c"
expect_in "$PV_TMP/keep.json" "keep"
expect_exit 1 "$PREVISION" analyze-source --no-ir -o "$PV_TMP/no/dir/x.json" "$matmul"
expect_true "no partial file in a missing directory" test ! -e "$PV_TMP/no/dir/x.json"
expect_true "no temporary left beside -o" sh -c "! ls '$PV_TMP' | grep -q '\.tmp'"

# Merge into a binary profile: its loop at matmul.c:11 gets the k loop's trip count.
expect_exit 0 "$PREVISION" analyze-source --no-ir --profile "$PV_SOURCE_DIR/tests/data/profile-small.json" \
    -o "$PV_TMP/merged.json" "$matmul"
expect_in "$PV_TMP/out" "[binary loop #0]"
expect_true "merged profile is valid" "$PREVISION" validate "$PV_TMP/merged.json"
expect_true "merged loop carries the trip count" python3 -c "
import json; p = json.load(open('$PV_TMP/merged.json'))
assert p['loops'][0]['trip_expr'] == 'n'
m = p['source']['binary_loop_map'][0]
assert m['source_loop'] == 2 and m['match'] == 'header line', m"
expect_exit 2 "$PREVISION" analyze-source --no-ir --profile "$PV_TMP/keep.json" "$matmul"
expect_in "$PV_TMP/err" "keep.json"
expect_lines "$PV_TMP/err" 1

# analyze --source with a BINARY: the binary is analyzed, only its translation
# units are read from the database, and its loops get the source trip counts.
if [ -f "$PV_BINARY_DIR/compile_commands.json" ]; then
    expect_exit 0 "$PREVISION" analyze --source -p "$PV_BINARY_DIR" "$PV_SAMPLES_DIR/matmul" -o "$PV_TMP/mm.json"
    expect_in "$PV_TMP/out" "binary $PV_SAMPLES_DIR/matmul:"
    expect_in "$PV_TMP/out" "for loop, lines 10-11, k: trip n (n^3 in all) [binary loop"
    expect_in "$PV_TMP/out" "operations: 2*n^3 flops (n^3 fused multiply-adds)"
    expect_in "$PV_TMP/out" "0 not; 0 source loops without a binary loop"
    expect_true "only matmul.c was analyzed" sh -c "! grep -q 'stream.c' '$PV_TMP/out'"
    expect_true "merged profile is valid" "$PREVISION" validate "$PV_TMP/mm.json"
    expect_true "every binary loop has a trip count" python3 -c "
import json; p = json.load(open('$PV_TMP/mm.json'))
assert p['loops'] and all(l.get('trip_expr') for l in p['loops']), p['loops']
assert p['source']['unmatched_binary_loops'] == []"
    expect_exit 0 "$PREVISION" analyze --source --no-ir -p "$PV_BINARY_DIR" "$PV_SAMPLES_DIR/pthreads"
    expect_in "$PV_TMP/out" "parallel: pthread_create(integrate) line 37, up to t threads"
fi
expect_exit 0 "$PREVISION" analyze --source --no-ir "$PV_SOURCE_DIR/samples/stream.c" "$PV_SAMPLES_DIR/matmul"
expect_in "$PV_TMP/out" "in main (matmul.c:10): in a file not analyzed"
expect_exit 2 "$PREVISION" analyze --source --no-ir "$matmul" "$matmul"
expect_in "$PV_TMP/err" "not an ELF"
expect_exit 2 "$PREVISION" analyze --source -p "$PV_TMP" "$PV_SAMPLES_DIR/matmul" "$PV_SAMPLES_DIR/stream"
expect_exit 2 "$PREVISION" analyze --source --profile "$PV_SOURCE_DIR/tests/data/profile-small.json" "$matmul" "$PV_SAMPLES_DIR/matmul"
expect_exit 2 "$PREVISION" analyze --source --uarch zen4 "$matmul"

# A compile database: the project's own (no IR, to keep the test short).
if [ -f "$PV_BINARY_DIR/compile_commands.json" ]; then
    expect_exit 0 "$PREVISION" analyze-source --no-ir -j2 -p "$PV_BINARY_DIR"
    expect_in "$PV_TMP/out" "source_poly.c:"
    expect_in "$PV_TMP/out" "0 diagnostics"
fi
# No compile database: exit 2, one line saying what to do.
mkdir -p "$PV_TMP/nodb"
expect_exit 2 "$PREVISION" analyze-source -p "$PV_TMP/nodb"
expect_in "$PV_TMP/err" "nodb/compile_commands.json: no compile database"
expect_in "$PV_TMP/err" "CMAKE_EXPORT_COMPILE_COMMANDS=ON"
expect_lines "$PV_TMP/err" 1
echo '[{"directory": "/tmp"' >"$PV_TMP/nodb/compile_commands.json"
expect_exit 2 "$PREVISION" analyze-source -p "$PV_TMP/nodb"
expect_in "$PV_TMP/err" "invalid JSON"

# Bad usage.
expect_exit 2 "$PREVISION" analyze-source
expect_in "$PV_TMP/err" "give either -p BUILD_DIR or one source FILE"
expect_exit 2 "$PREVISION" analyze-source -p "$PV_TMP" "$matmul"
expect_exit 2 "$PREVISION" analyze-source --frobnicate "$matmul"
expect_in "$PV_TMP/err" "unknown option '--frobnicate'"
expect_exit 2 "$PREVISION" analyze-source -j0 "$matmul"
expect_exit 2 "$PREVISION" analyze-source -p "$PV_TMP" -- -O2
expect_exit 2 "$PREVISION" analyze-source -o
expect_exit 2 "$PREVISION" analyze-source "$data/no_such.c"
expect_in "$PV_TMP/err" "no_such.c: no such source file"
finish
