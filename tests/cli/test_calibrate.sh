# prevision calibrate / predict: a quick calibration, the cache, the machine schema, and bad machine files.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME="$PV_TMP/cache"
good="$PV_SOURCE_DIR/tests/data/profile-small.json"

expect_exit 0 "$PREVISION" calibrate --help
expect_in "$PV_TMP/out" "usage: prevision calibrate"
expect_exit 2 "$PREVISION" calibrate --bogus
expect_lines "$PV_TMP/err" 1
expect_exit 2 "$PREVISION" calibrate -o

# A quick calibration writes a schema-valid model and caches it.
expect_exit 0 "$PREVISION" calibrate --quick -o "$PV_TMP/m.json"
expect_in "$PV_TMP/out" "method: "
expect_in "$PV_TMP/out" "effective clock"
expect_in "$PV_TMP/out" "int_alu"
expect_in "$PV_TMP/out" "DRAM"
expect_true "machine model passes python3-jsonschema" python3 - "$PV_SOURCE_DIR/docs/schema/machine.schema.json" "$PV_TMP/m.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
expect_true "the model is cached" test -s "$XDG_CACHE_HOME/prevision/machine.json"
# Second run: the cache matches this host and is reused.
expect_exit 0 "$PREVISION" calibrate --quick
expect_in "$PV_TMP/out" "reused the cached model"
expect_exit 0 "$PREVISION" calibrate --quick --json
expect_true "--json prints the model" python3 -c "import json; d=json.load(open('$PV_TMP/out')); assert d['format']=='prevision-machine'"

# analyze --machine: the model's calibrated cost table, recorded by name; bad model files and both tables refused.
expect_exit 0 "$PREVISION" analyze --machine "$PV_TMP/m.json" -o "$PV_TMP/cal.json" "$PV_SAMPLES_DIR/matmul"
expect_true "calibrated table recorded" python3 -c "
import json; u=json.load(open('$PV_TMP/cal.json'))['uarch']
assert u.endswith('+calibrated'), u
"
expect_exit 2 "$PREVISION" analyze --machine "$good" "$PV_SAMPLES_DIR/matmul"
expect_in "$PV_TMP/err" "prevision-machine"
expect_lines "$PV_TMP/err" 1
expect_exit 2 "$PREVISION" analyze --machine "$PV_TMP/absent.json" "$PV_SAMPLES_DIR/matmul"
expect_in "$PV_TMP/err" "absent.json: cannot open"
expect_exit 2 "$PREVISION" analyze --uarch zen4 --machine "$PV_TMP/m.json" "$PV_SAMPLES_DIR/matmul"
expect_in "$PV_TMP/err" "give one"

# predict: with the model, human and JSON output.
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" "$good"
expect_in "$PV_TMP/out" "predicted "
expect_in "$PV_TMP/out" "dominant: "
expect_in "$PV_TMP/out" "compute"
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" --json "$good"
expect_true "predict --json is JSON with a breakdown" python3 -c "
import json; d=json.load(open('$PV_TMP/out')); s=d['seconds']
assert set(s)=={'total','compute','branches','memory','io','syscalls'}
assert s['total']['low'] <= s['total']['mid'] <= s['total']['high']
assert abs(sum(s[k]['mid'] for k in s if k != 'total') - s['total']['mid']) <= 1e-7 * s['total']['mid']"
# Without --machine: the cached model.
expect_exit 0 "$PREVISION" predict "$good"

# A real run: the program and its libraries are analyzed (loops, static costs).
expect_exit 0 "$PREVISION" -q profile -o "$PV_TMP/mm.json" --guest-stdout /dev/null -- "$PV_SAMPLES_DIR/matmul" 60
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" "$PV_TMP/mm.json"
expect_true "the program and every library are analyzed" grep -Eq "\(([0-9]+) of \1 objects analyzed\)" "$PV_TMP/out"
expect_true "matmul's loops are costed with their recurrence" grep -Eq "loops: [1-9][0-9]* costed" "$PV_TMP/out"
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" --json "$PV_TMP/mm.json"
expect_true "most instructions have static costs" python3 -c "
import json; d=json.load(open('$PV_TMP/out')); assert d['static_insns'] > 0.9 * d['insns'], d"
# --no-analyze: the libraries by their mix, the program by the profile's own
# static section (when 'prevision profile' wrote one); --static: the given one.
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" --no-analyze "$PV_TMP/mm.json"
expect_true "--no-analyze analyzes no library" grep -Eq "\([01] of [0-9]+ objects analyzed\)" "$PV_TMP/out"
expect_exit 0 "$PREVISION" -q analyze -o "$PV_TMP/mm-static.json" "$PV_SAMPLES_DIR/matmul"
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/m.json" --no-analyze --static "$PV_TMP/mm-static.json" "$PV_TMP/mm.json"
expect_true "--static serves for the program only" grep -Eq "\(1 of [0-9]+ objects analyzed\)" "$PV_TMP/out"
python3 - "$PV_TMP/mm.json" "$PV_TMP/noblocks.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ('functions', 'blocks', 'loops'):
    d[k] = []
json.dump(d, open(sys.argv[2], 'w'))
PY
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/m.json" --static "$PV_TMP/noblocks.json" "$PV_TMP/mm.json"
expect_in "$PV_TMP/err" "not a static profile"
expect_lines "$PV_TMP/err" 1
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/m.json" --static "$PV_TMP/none.json" "$PV_TMP/mm.json"
expect_in "$PV_TMP/err" "none.json"
expect_exit 2 "$PREVISION" predict --static

# Bad inputs: one line, exit 2.
expect_exit 2 "$PREVISION" predict
expect_exit 2 "$PREVISION" predict --machine
sed '/"dynamic"/,$d' "$good" | sed '$ s/,$//' >"$PV_TMP/static.json"
echo '}' >>"$PV_TMP/static.json"
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/m.json" "$PV_TMP/static.json"
expect_in "$PV_TMP/err" "no dynamic section"
expect_lines "$PV_TMP/err" 1
head -c 300 "$PV_TMP/m.json" >"$PV_TMP/trunc.json"
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/trunc.json" "$good"
expect_in "$PV_TMP/err" "trunc.json:"
expect_in "$PV_TMP/err" "invalid JSON"
expect_lines "$PV_TMP/err" 1
sed 's/"schema_version": 1/"schema_version": 3/' "$PV_TMP/m.json" >"$PV_TMP/v3.json"
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/v3.json" "$good"
expect_in "$PV_TMP/err" "the file is version 3"
sed 's/"hw_counters": \([0-9]*\)/"hw_counters": "\1"/' "$PV_TMP/m.json" >"$PV_TMP/type.json"
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/type.json" "$good"
expect_in "$PV_TMP/err" '$.counters.hw_counters: expected integer, got string'
expect_exit 2 "$PREVISION" predict --machine "$PV_TMP/none.json" "$good"
expect_in "$PV_TMP/err" "none.json"
# Another host's model: a warning naming the difference, then the prediction.
python3 - "$PV_TMP/m.json" "$PV_TMP/other.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['host']['cpu_model'] = 'Imaginary CPU 9000'
d['host']['fingerprint'] = '0123456789abcdef'
json.dump(d, open(sys.argv[2], 'w'))
PY
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/other.json" "$good"
expect_in "$PV_TMP/err" "another host"
expect_in "$PV_TMP/err" "Imaginary CPU 9000"
# An unknown class name: warned about and ignored.
python3 - "$PV_TMP/m.json" "$PV_TMP/unk.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['classes']['quantum_op'] = d['classes']['int_alu']
json.dump(d, open(sys.argv[2], 'w'))
PY
expect_exit 0 "$PREVISION" predict --machine "$PV_TMP/unk.json" "$good"
expect_in "$PV_TMP/err" "quantum_op: not a mix class"
# (a corrupt or foreign cache being replaced is covered by tests/costmodel/test_machine.c)
finish
