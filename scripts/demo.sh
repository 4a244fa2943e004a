#!/usr/bin/env bash
# The main job on a bundled sample: what `make demo` runs after building.
set -euo pipefail
BUILD=${1:-build}
PV="$BUILD/bin/prevision"
SAMPLE="$BUILD/samples/matmul"
out=$(mktemp -d /tmp/prevision-demo.XXXXXX)
echo "== prevision --version"
"$PV" --version
echo
echo "== prevision analyze $SAMPLE  (static demand profile: functions, CFG, loops, mix, cycles)"
"$PV" analyze -o "$out/matmul.profile.json" "$SAMPLE"
echo
echo "== prevision validate $out/matmul.profile.json"
"$PV" validate "$out/matmul.profile.json"
echo
echo "demo outputs in $out"
