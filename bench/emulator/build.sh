#!/bin/sh
# Build the emulator benchmarks' C programs against the project's static
# library: bench/emulator/build.sh [BUILD_DIR]  (default: build)
# Outputs BUILD_DIR/bench/emulator/{cachesim-trace,unicorn-hooks}.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
lib=$build/libprevision.a
if [ ! -f "$lib" ]; then
    echo "bench/emulator/build.sh: $lib not found; build the project first (cmake -S . -B build && cmake --build build)" >&2
    exit 1
fi
out=$build/bench/emulator
mkdir -p "$out"
cc=${CC:-cc}
flags="-O2 -g -Wall -Wextra -Werror -I$root/include -I$root"
$cc $flags -o "$out/cachesim-trace" "$root/bench/emulator/cachesim-trace.c" "$lib" -lm
$cc $flags -o "$out/unicorn-hooks" "$root/bench/emulator/unicorn-hooks.c" "$lib" $(pkg-config --libs unicorn) -lm
echo "$out/cachesim-trace"
echo "$out/unicorn-hooks"
