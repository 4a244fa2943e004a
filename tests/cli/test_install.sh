# `cmake --install` gives a library other projects can use through pkg-config and find_package.
. "$(dirname "$0")/lib.sh"
prefix="$PV_TMP/prefix"
expect_exit 0 cmake --install "$PV_BINARY_DIR" --prefix "$prefix"
expect_true "prevision installed" test -x "$prefix/bin/prevision"
expect_true "static library installed" test -f "$prefix/lib/libprevision.a"
expect_true "shared library installed" test -f "$prefix/lib/libprevision.so"
expect_true "umbrella header installed" test -f "$prefix/include/prevision/prevision.h"

# pkg-config consumer (shared library).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
expect_exit 0 pkg-config --exists prevision
expect_exit 0 sh -c "cc -o '$PV_TMP/consumer_pc' '$PV_SOURCE_DIR/tests/install/consumer.c' \$(pkg-config --cflags --libs prevision) -Wl,-rpath,'$prefix/lib'"
expect_exit 0 "$PV_TMP/consumer_pc" "$PV_SOURCE_DIR/tests/data/profile-small.json"
expect_in "$PV_TMP/out" "2 functions, fp_fma"

# CMake package consumer.
expect_exit 0 cmake -S "$PV_SOURCE_DIR/tests/install" -B "$PV_TMP/cbuild" -DCMAKE_PREFIX_PATH="$prefix"
expect_exit 0 cmake --build "$PV_TMP/cbuild"
expect_exit 0 "$PV_TMP/cbuild/consumer_cmake" "$PV_SOURCE_DIR/tests/data/profile-small.json"
expect_in "$PV_TMP/out" "2 functions"
finish
