#!/usr/bin/env python3
"""Linux boot benchmark: the demo guest on kemu and on QEMU 7.2, same way.

Boots Debian's kernel + the busybox initramfs (tests/guest/build-demo-guest.sh)
with -accel tcg (default) on both emulators, N runs each, and prints the
median time from exec to the guest's "userspace reached" line and to exit
(the guest powers off), the user CPU time and peak RSS of each process, and
kemu/QEMU ratios (user CPU is the steadier figure on a shared machine).
Standard library only. Usage:
    tests/bench/boot.py [--kemu build/kemu-system-x86_64] [-n 3] [--smp 1]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "functional"))
from demo_guest import build_demo  # noqa: E402
MARK = b"KEMU-DEMO: userspace reached"


def boot_once(binary, demo, accel, smp, timeout):
    args = [binary, "-accel", accel, "-m", "512", "-smp", str(smp), "-display", "none",
            "-nodefaults", "-serial", "stdio", "-kernel", os.path.join(demo, "vmlinuz"),
            "-initrd", os.path.join(demo, "initramfs.cpio.gz"),
            "-append", "console=ttyS0 quiet kemu.test=1"]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    t_user = None
    while True:
        chunk = p.stdout.read1(4096)
        if not chunk:
            break
        buf += chunk
        if t_user is None and MARK in buf:
            t_user = time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            p.kill()
            break
    _, status, ru = os.wait4(p.pid, 0)
    t_exit = time.monotonic() - t0
    ok = os.waitstatus_to_exitcode(status) == 0 and t_user is not None
    return ok, t_user, t_exit, ru.ru_maxrss / 1024.0, ru.ru_utime


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kemu", default="build/kemu-system-x86_64")
    ap.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64")
    ap.add_argument("--demo", default="build/demo")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=600)
    a = ap.parse_args()
    build_demo(a.demo)
    results = {}
    for name, binary in (("kemu", a.kemu), ("QEMU", a.qemu)):
        if not os.path.exists(binary):
            print(f"# {name}: {binary} missing")
            continue
        runs = [boot_once(binary, a.demo, a.accel, a.smp, a.timeout) for _ in range(a.n)]
        good = [r for r in runs if r[0]]
        if not good:
            print(f"# {name}: no successful boot")
            continue
        results[name] = (statistics.median(r[1] for r in good), statistics.median(r[2] for r in good),
                         statistics.median(r[3] for r in good), statistics.median(r[4] for r in good),
                         len(good))
    print(f"demo guest boot, -accel {a.accel} -smp {a.smp} -m 512, medians of {a.n} runs\n")
    print("| metric | kemu | QEMU | kemu/QEMU |\n|---|---|---|---|")
    labels = ("exec to userspace (s)", "exec to exit (s)", "peak RSS (MiB)", "user CPU (s)")
    for i, label in enumerate(labels):
        k = results.get("kemu", (None,) * 5)[i]
        q = results.get("QEMU", (None,) * 5)[i]
        ratio = f"{k / q:.2f}" if k and q else "-"
        fk = f"{k:.1f}" if k else "-"
        fq = f"{q:.1f}" if q else "-"
        print(f"| {label} | {fk} | {fq} | {ratio} |")
    return 0 if "kemu" in results else 1


if __name__ == "__main__":
    sys.exit(main())
