# The prevision command itself: help, version, usage errors, exit codes.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PREVISION" help
expect_in "$PV_TMP/out" "validate"
expect_in "$PV_TMP/out" "Exit status: 0 ok"
expect_exit 0 "$PREVISION" --help
expect_exit 2 "$PREVISION"
expect_in "$PV_TMP/err" "usage: prevision"

expect_exit 0 "$PREVISION" --version
for lib in unicorn capstone libclang llvm papi hwloc; do expect_in "$PV_TMP/out" "$lib"; done
expect_in "$PV_TMP/out" "unicorn   2.1"
expect_exit 0 "$PREVISION" version --json
expect_true "version --json is JSON with a unicorn field" \
    python3 -c "import json,sys; d=json.load(open('$PV_TMP/out')); assert d['unicorn'].startswith('2.1'), d; assert int(d['capstone'].split('.')[0]) >= 5"

expect_exit 2 "$PREVISION" frobnicate
expect_in "$PV_TMP/err" "'frobnicate' is not a prevision command"
expect_lines "$PV_TMP/err" 1
expect_exit 2 "$PREVISION" --bogus
expect_exit 2 "$PREVISION" version --bogus
expect_in "$PV_TMP/err" "try 'prevision version --help'"
expect_exit 0 "$PREVISION" help validate
expect_in "$PV_TMP/out" "usage: prevision validate"
expect_exit 2 "$PREVISION" help nosuch

# Every registered command has --help that exits 0, prints a usage line and names the command.
for cmd in $("$PREVISION" help | awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}'); do
    expect_exit 0 "$PREVISION" "$cmd" --help
    expect_in "$PV_TMP/out" "usage: prevision "
    expect_in "$PV_TMP/out" "$cmd"
done
finish
