#!/usr/bin/env bash
# The main job on a bundled sample: what `make demo` runs after building.
set -euo pipefail
BUILD=${1:-build}
PV="$BUILD/bin/prevision"
out=$(mktemp -d /tmp/prevision-demo.XXXXXX)
echo "== prevision --version"
"$PV" --version
echo
echo "== prevision validate (the bundled example profile)"
"$PV" validate tests/data/profile-small.json
echo
echo "demo outputs in $out"
