#!/usr/bin/env python3
"""Boot the demo guest (Debian kernel + busybox initramfs) on kemu.

Runs $KEMU with the software CPU (-accel tcg), as issue 3 asks:
userspace is reached, the init script's commands run, `sleep 1` takes
about one second of host time, /proc/interrupts counts timer and serial
interrupts, and the guest's `poweroff -f` ends kemu with exit status 0;
then the same with -smp 2 (both CPUs online). The demo guest is built
by tests/guest/build-demo-guest.sh into $KEMU_DEMO_DIR (default
build/demo). Standard library only; prints 'N passed, N failed'.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_guest import Results, build_workload_initrd, stream_lines  # noqa: E402

KEMU = os.environ.get("KEMU", "build/kemu-system-x86_64")
DEMO = os.environ.get("KEMU_DEMO_DIR", os.path.join(os.path.dirname(KEMU), "demo"))
TIMEOUT = int(os.environ.get("KEMU_BOOT_TIMEOUT", "400"))


def boot(extra, cmd, initrd=None):
    """Boot; return (exit status, [(host time, line)])."""
    args = [KEMU, "-accel", "tcg", "-m", "512", "-display", "none", "-nodefaults",
            "-serial", "stdio", "-kernel", os.path.join(DEMO, "vmlinuz"),
            "-initrd", initrd or os.path.join(DEMO, "initramfs.cpio.gz"),
            "-append", f'console=ttyS0 kemu.test=1 kemu.cmd="{cmd}"'] + extra
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    lines, why = stream_lines(p, TIMEOUT)
    if why == "timeout":
        p.kill()
        p.wait()
        return None, lines
    return p.wait(), lines


def text(lines):
    return "\n".join(l for _, l in lines)


def interrupt_count(out, name_re):
    """Sum of the per-CPU counts of the /proc/interrupts line matching
    name_re, looking only after the SLEEP-END marker."""
    table = out.rsplit("SLEEP-END", 1)[-1]
    for line in table.splitlines():
        if ":" not in line or not re.search(name_re, line):
            continue
        total = 0
        for tok in line.split(":", 1)[1].split():
            if not tok.isdigit():
                break
            total += int(tok)
        return total
    return 0


def main():
    if not os.path.exists(KEMU):
        print(f"{KEMU} not found\n0 passed, 1 failed")
        return 1
    r = Results()
    exe, initrd = build_workload_initrd(DEMO)
    native = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    cmd = "echo SLEEP-START; sleep 1; echo SLEEP-END; cat /proc/interrupts; /workload"
    t0 = time.monotonic()
    rc, lines = boot([], cmd, initrd)
    out = text(lines)
    r.check("boot reaches userspace", "KEMU-DEMO: userspace reached" in out, out[-600:])
    r.check("init commands run", "KEMU-DEMO: done" in out, out[-600:])
    r.check("poweroff -f exits 0", rc == 0, f"exit status {rc}")
    times = {l: t for t, l in lines if l in ("SLEEP-START", "SLEEP-END")}
    if len(times) == 2:
        dt = times["SLEEP-END"] - times["SLEEP-START"]
        r.check(f"sleep 1 takes about a second of host time ({dt:.2f} s)", 0.8 <= dt <= 2.0, f"{dt:.2f} s")
    else:
        r.check("sleep 1 markers seen", False, out[-600:])
    timer = interrupt_count(out, r"^\s*0:.*timer") + interrupt_count(out, r"^\s*LOC:")
    serial = interrupt_count(out, r"ttyS0")
    r.check(f"/proc/interrupts counts timer ({timer}) and serial ({serial}) interrupts",
            timer > 0 and serial > 0, out[-1500:])
    guest = re.search(r"WORKLOAD-BEGIN\n.*?WORKLOAD-END\n", out + "\n", re.S)
    r.check("static glibc workload prints exactly what it prints natively",
            guest is not None and guest.group(0) == native, f"guest:\n{guest.group(0) if guest else out[-800:]}\nnative:\n{native}")
    print(f"# single-CPU boot took {time.monotonic() - t0:.1f} s")

    rc, lines = boot(["-smp", "2"], "grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online")
    out = text(lines)
    r.check("-smp 2 reaches userspace", "KEMU-DEMO: userspace reached" in out, out[-600:])
    online = re.search(r"^0-1$", out, re.M) is not None
    procs = re.search(r"^2$", out, re.M) is not None
    r.check("-smp 2: both CPUs online", online and procs, out[-600:])
    r.check("-smp 2: poweroff -f exits 0", rc == 0, f"exit status {rc}")
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
