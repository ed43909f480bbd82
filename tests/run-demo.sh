#!/bin/sh
# Build kemu and boot the demo guest (Debian's kernel + a busybox
# initramfs) on the serial console. Extra arguments go to kemu, e.g.
#   tests/run-demo.sh -smp 2        or    tests/run-demo.sh -enable-kvm
# Quit with Ctrl-A x (or 'poweroff -f' in the guest).
set -e
cd "$(dirname "$0")/.."
tests/deps.sh demo
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build kemu-system-x86_64 >/dev/null
[ -f build/demo/initramfs.cpio.gz ] || tests/guest/build-demo-guest.sh build/demo >/dev/null
for a in "$@"; do
    case "$a" in
    -enable-kvm|kvm|accel=kvm)
        if ! grep -qw -e vmx -e svm /proc/cpuinfo; then
            echo "kemu demo: this host's KVM has no VT-x/AMD-V (paravirtual KVM): it cannot run a stock Linux kernel." >&2
            echo "kemu demo: run without -enable-kvm to use the software CPU." >&2
            exit 1
        fi ;;
    esac
done
exec build/kemu-system-x86_64 -m 512 -nographic \
    -kernel build/demo/vmlinuz -initrd build/demo/initramfs.cpio.gz \
    -append "console=ttyS0 quiet" "$@"
