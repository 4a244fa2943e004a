# prevision validate: good files pass; malformed, truncated, wrong-version files give exit 2 naming the field.
. "$(dirname "$0")/lib.sh"
good="$PV_SOURCE_DIR/tests/data/profile-small.json"

expect_exit 0 "$PREVISION" validate "$good"
expect_in "$PV_TMP/out" "valid profile (schema 1): 2 functions, 3 blocks, 1 loops, dynamic section"
expect_true "the committed fixture also passes python3-jsonschema" validate_schema "$good"
expect_exit 0 "$PREVISION" validate --json "$good"
expect_true "validate --json output is JSON" python3 -c "import json; json.loads(open('$PV_TMP/out').readline())"

# Truncated file.
head -c 700 "$good" >"$PV_TMP/trunc.json"
expect_exit 2 "$PREVISION" validate "$PV_TMP/trunc.json"
expect_in "$PV_TMP/err" "trunc.json:"
expect_in "$PV_TMP/err" "invalid JSON"
expect_lines "$PV_TMP/err" 1

# A field of the wrong type: the message names the JSON path.
sed 's/"entry":4160/"entry":"4160"/' "$good" >"$PV_TMP/type.json"
expect_exit 2 "$PREVISION" validate "$PV_TMP/type.json"
expect_in "$PV_TMP/err" '$.target.entry: expected integer, got string'

# Another schema version.
sed 's/"schema_version": 1/"schema_version": 7/' "$good" >"$PV_TMP/ver.json"
expect_exit 2 "$PREVISION" validate "$PV_TMP/ver.json"
expect_in "$PV_TMP/err" "the file is version 7"

# Missing file, directory, no arguments.
expect_exit 2 "$PREVISION" validate "$PV_TMP/none.json"
expect_in "$PV_TMP/err" "none.json: cannot open"
expect_exit 1 "$PREVISION" validate "$PV_TMP"
expect_exit 2 "$PREVISION" validate
# Several files: the worst result wins, every file is reported.
expect_exit 2 "$PREVISION" validate "$good" "$PV_TMP/type.json"
expect_in "$PV_TMP/out" "valid profile"
# --json escapes the file name and the message: a name with a quote, a backslash and a tab
odd="$PV_TMP/a\"b\\c	d.json"
cp "$good" "$odd"
expect_exit 0 "$PREVISION" validate --json "$odd"
expect_true "validate --json with an odd file name is JSON" python3 -c "
import json, sys; o = json.loads(open(sys.argv[1]).readline()); assert o['file'] == sys.argv[2] and o['valid']" "$PV_TMP/out" "$odd"
cp "$PV_TMP/type.json" "$odd"
expect_exit 2 "$PREVISION" validate --json "$odd"
expect_true "a failure with an odd file name is JSON" python3 -c "
import json, sys; o = json.loads(open(sys.argv[1]).readline()); assert o['file'] == sys.argv[2] and not o['valid']
assert sys.argv[2] + ': \$.target.entry: expected integer' in o['error'], o['error']" "$PV_TMP/out" "$odd"
# stdin
expect_exit 0 sh -c "\"$PREVISION\" validate - < \"$good\""
finish
