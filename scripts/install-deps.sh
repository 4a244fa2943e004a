#!/usr/bin/env bash
# Install everything prevision needs to build, test and run, on Debian bookworm.
# Idempotent and non-interactive: safe to run twice. Needs root (or sudo).
#
# Unicorn 2.1.x and Capstone 5 come from Debian trixie through an apt source
# pinned at priority 100, so that nothing else is ever taken from trixie:
# bookworm's Unicorn 2.0.1 runs guest stores about 35x slower than 2.1.1 and
# bookworm's Capstone 4 does not decode newer x86 extensions. Both libraries
# depend only on libc6 (>= 2.34), which bookworm satisfies.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps.sh: must run as root (or with sudo available)" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive

BOOKWORM_PKGS=(
    build-essential cmake pkg-config git
    clang-19 libclang-19-dev llvm-19-dev
    libpapi-dev papi-tools libhwloc-dev hwloc
    libcmocka-dev libelf-dev libdw-dev elfutils
    libjansson-dev libsqlite3-dev sqlite3 valgrind
    libclang-rt-19-dev gzip bzip2 xz-utils python3 python3-jsonschema
)
TRIXIE_PKGS=(libunicorn-dev libunicorn2t64 libcapstone-dev libcapstone5)

# Is every package in "$@" installed already?
all_installed() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
    done
}

# Unicorn >= 2.1 and Capstone >= 5 installed?
trixie_ok() {
    all_installed "${TRIXIE_PKGS[@]}" || return 1
    local u c
    u=$(dpkg-query -W -f='${Version}' libunicorn-dev)
    c=$(dpkg-query -W -f='${Version}' libcapstone-dev)
    dpkg --compare-versions "$u" ge 2.1 && dpkg --compare-versions "$c" ge 5
}

if all_installed "${BOOKWORM_PKGS[@]}" && trixie_ok; then
    echo "install-deps.sh: all dependencies already installed"
    exit 0
fi

SRC=/etc/apt/sources.list.d/prevision-trixie.sources
PIN=/etc/apt/preferences.d/prevision-trixie
if [ ! -f "$SRC" ]; then
    $SUDO tee "$SRC" >/dev/null <<'SRCEOF'
# Added by prevision scripts/install-deps.sh: Unicorn 2.1 and Capstone 5 only.
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCEOF
fi
if [ ! -f "$PIN" ]; then
    $SUDO tee "$PIN" >/dev/null <<'PINEOF'
# Added by prevision scripts/install-deps.sh: never take anything from trixie
# unless asked for by name with -t trixie.
Package: *
Pin: release n=trixie
Pin-Priority: 100
PINEOF
fi

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${BOOKWORM_PKGS[@]}"
if ! trixie_ok; then
    $SUDO apt-get install -y -q --no-install-recommends -t trixie "${TRIXIE_PKGS[@]}"
fi
trixie_ok || { echo "install-deps.sh: Unicorn >= 2.1 / Capstone >= 5 still missing after install" >&2; exit 1; }
echo "install-deps.sh: done"
