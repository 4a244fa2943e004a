#!/bin/sh
# Prepare the code base for the source analyzer speed benchmark: Debian
# bookworm's curl source package, configured with CMake (not built) so that
# it has a compile_commands.json with the project's own -I/-D flags, and the
# number of lines the compile commands actually read (wc -l over every .c and
# project .h they include, as listed by clang-19 -MM).
#
# usage: bench/source/setup.sh [WORKDIR]     (default /tmp/prevision-bench-source)
# Needs root for apt (adds a deb-src entry for bookworm), network access to
# deb.debian.org, cmake and clang-19. Idempotent: an existing WORKDIR is reused.
set -eu

W=${1:-/tmp/prevision-bench-source}
SRCLIST=/etc/apt/sources.list.d/prevision-bench-src.sources
mkdir -p "$W"
cd "$W"

if [ ! -f "$SRCLIST" ]; then
    cat >"$SRCLIST" <<'EOF'
# Added by prevision bench/source/setup.sh: Debian bookworm sources for the source analyzer benchmark.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
fi

if ! ls -d curl-*/ >/dev/null 2>&1; then
    apt-get source -qq curl
fi
SRC=$(ls -d curl-*/ | head -1)
SRC=${SRC%/}

# Configure only: the compile database is written at configure time. No TLS,
# compression or IDN back ends, so that no -dev package beyond the base
# system is needed; every protocol that needs none stays on.
if [ ! -f build-curl/compile_commands.json ]; then
    cmake -S "$SRC" -B build-curl -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_COMPILER=clang-19 \
        -DCURL_ENABLE_SSL=OFF -DCURL_USE_LIBPSL=OFF -DUSE_LIBIDN2=OFF -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF \
        -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DCURL_USE_LIBSSH2=OFF -DENABLE_ARES=OFF -DBUILD_TESTING=OFF >cmake.log
    # tool_hugehelp.c is generated at build time; a configured tree does not have it
    python3 - build-curl/compile_commands.json <<'EOF'
import json, os, sys
path = sys.argv[1]
db = json.load(open(path))
kept = [e for e in db if os.path.exists(os.path.join(e["directory"], e["file"]))]
json.dump(kept, open(path, "w"), indent=1)
print(f"compile database: {len(kept)} entries ({len(db) - len(kept)} for generated files dropped)")
EOF
fi

# Lines read by the compile commands: each TU's project files from clang-19 -MM.
python3 - build-curl/compile_commands.json >files.txt <<'EOF'
import json, os, shlex, subprocess, sys
files = set()
for e in json.load(open(sys.argv[1])):
    args = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            out.append(a)
    r = subprocess.run(out + ["-MM", "-MF", "-", "-w"], cwd=e["directory"], capture_output=True, text=True, check=True)
    for f in r.stdout.replace("\\\n", " ").split(":", 1)[1].split():
        files.add(os.path.realpath(os.path.join(e["directory"], f)))
print("\n".join(sorted(files)))
EOF
echo "code base: $W/$SRC, compile database $W/build-curl/compile_commands.json"
echo "files read by the compile commands: $(wc -l <files.txt)"
echo "lines (wc -l over them): $(xargs wc -l <files.txt | tail -1 | awk '{print $1}')"
