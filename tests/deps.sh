#!/bin/sh
# Install the Debian 12 packages kemu needs that are missing (as root).
# Usage: tests/deps.sh build|test|demo
set -e
build="gcc meson ninja-build pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev zlib1g-dev libaio-dev"
guest="linux-image-amd64 busybox-static cpio seabios"
test="python3 binutils qemu-system-x86 qemu-utils acpica-tools"
case "$1" in
    build) want="$build" ;;
    demo) want="$build $guest" ;;
    test) want="$build $guest $test" ;;
    *) echo "usage: $0 build|test|demo" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
