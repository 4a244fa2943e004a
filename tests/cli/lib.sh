# Helpers for CLI tests: source this file. $PREVISION is the binary under test.
set -u
: "${PREVISION:?run through ctest, which sets PREVISION}"
PV_TMP=$(mktemp -d /tmp/pv_cli_test.XXXXXX)
trap 'rm -rf "$PV_TMP"' EXIT
pv_failures=0
pv_checks=0

# expect_exit CODE CMD...: run CMD, keep stdout/stderr in $PV_TMP/out,err; check the exit code.
expect_exit() {
    local want=$1; shift
    "$@" >"$PV_TMP/out" 2>"$PV_TMP/err"
    local got=$?
    pv_checks=$((pv_checks + 1))
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want"; sed 's/^/  stderr: /' "$PV_TMP/err" | head -5
        pv_failures=$((pv_failures + 1))
    fi
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
    pv_checks=$((pv_checks + 1))
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL: $(basename "$1") lacks '$2'"; head -5 "$1" | sed 's/^/  got: /'
        pv_failures=$((pv_failures + 1))
    fi
}

# expect_lines FILE N: FILE has exactly N lines.
expect_lines() {
    pv_checks=$((pv_checks + 1))
    local n; n=$(wc -l <"$1")
    if [ "$n" != "$2" ]; then
        echo "FAIL: $(basename "$1") has $n lines, expected $2"; pv_failures=$((pv_failures + 1))
    fi
}

# expect_true DESCRIPTION CMD...
expect_true() {
    local what=$1; shift
    pv_checks=$((pv_checks + 1))
    if ! "$@"; then echo "FAIL: $what"; pv_failures=$((pv_failures + 1)); fi
}

# validate_schema FILE: check FILE against the profile schema with python3-jsonschema (an independent validator).
validate_schema() {
    python3 - "$PV_SOURCE_DIR/docs/schema/profile.schema.json" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
}

finish() {
    echo "$((pv_checks - pv_failures)) passed, $pv_failures failed"
    [ "$pv_failures" = 0 ]
}
