#!/usr/bin/env python3
"""In-guest CPU benchmark: tests/guest/workload.c natively, on kemu and on QEMU.

Builds the static workload, appends it to the demo initramfs, boots the
guest on each emulator (-accel tcg by default) with
kemu.cmd="/workload bench N", reads the time the guest measured itself
(WORKLOAD-BENCH x s, guest clock), and prints guest/native and kemu/QEMU
ratios. Standard library only.
    tests/bench/cpu.py [--kemu build/kemu-system-x86_64] [-n 200]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "functional"))
from demo_guest import build_workload_initrd  # noqa: E402


def guest_time(binary, demo, initrd, accel, n):
    args = [binary, "-accel", accel, "-m", "512", "-display", "none", "-nodefaults",
            "-serial", "stdio", "-kernel", os.path.join(demo, "vmlinuz"), "-initrd", initrd,
            "-append", f'console=ttyS0 quiet kemu.test=1 kemu.cmd="/workload bench {n}"']
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=1800)
    m = re.search(rb"WORKLOAD-BENCH ([0-9.]+) s", p.stdout)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kemu", default="build/kemu-system-x86_64")
    ap.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64")
    ap.add_argument("--demo", default="build/demo")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("-n", type=int, default=200, help="workload iterations")
    a = ap.parse_args()
    exe, initrd = build_workload_initrd(a.demo)
    nat = subprocess.run([exe, "bench", str(a.n)], capture_output=True, text=True, check=True)
    native = float(re.search(r"WORKLOAD-BENCH ([0-9.]+) s", nat.stderr).group(1))
    k = guest_time(a.kemu, a.demo, initrd, a.accel, a.n) if os.path.exists(a.kemu) else None
    q = guest_time(a.qemu, a.demo, initrd, a.accel, a.n) if os.path.exists(a.qemu) else None
    print(f"workload x{a.n} (integer, floating point, strings), -accel {a.accel}\n")
    print("| where | time (s) | / native | kemu/QEMU |\n|---|---|---|---|")
    print(f"| native | {native:.3f} | 1.00 | |")
    for name, t in (("kemu", k), ("QEMU", q)):
        if t is None:
            print(f"| {name} | - | - | |")
        else:
            print(f"| {name} | {t:.3f} | {t / native:.1f} | {'' if name == 'QEMU' or not q else f'{t / q:.2f}'} |")
    return 0 if k is not None else 1


if __name__ == "__main__":
    sys.exit(main())
