#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need.
# Idempotent and quiet: does nothing when everything is present; installs
# only when running as root on a system with apt-get; otherwise names what
# is missing and fails.
set -eu

PACKAGES="
cmake make gcc clang libclang-rt-14-dev pkg-config
libcurl4-openssl-dev libssl-dev libjson-c-dev libsqlite3-dev libltdl-dev
libcmocka-dev valgrind python3 openssl curl binutils file dpkg-dev
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
