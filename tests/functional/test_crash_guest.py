#!/usr/bin/env python3
"""Crash consistency through a guest (issue 5): the demo guest writes
numbered 64 KiB blocks to a qcow2 data disk (/dev/vda, virtio-blk), each with
`dd conv=fsync` (so the guest issues a flush), and prints "FLUSHED i" after
each; the host kills the emulator with SIGKILL in the middle of the stream.
Then Debian's `qemu-img check` must report no corruption (leaked clusters
are allowed; a lazy-refcounts image is first repaired with `check -r all`,
as opening it would) and every block the guest saw flushed must hold its pattern.
Repeated for a few kill points and image kinds. Runs $KEMU (any
QEMU-compatible binary, e.g. KEMU=qemu-system-x86_64) with the software CPU.
Standard library only; prints 'N passed, N failed'.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_guest import Results, build_demo, stream_lines  # noqa: E402

KEMU = os.environ.get("KEMU", "build/kemu-system-x86_64")
DEMO = os.environ.get("KEMU_DEMO_DIR", os.path.join(os.path.dirname(KEMU), "demo"))
TIMEOUT = int(os.environ.get("KEMU_BOOT_TIMEOUT", "600"))
QEMU_IMG = shutil.which("qemu-img")
BLOCK = 65536
GUEST_CMD = ("i=0; while [ $i -lt 4000 ]; do yes kemu-block-$i | head -c 65536 | "
             "dd of=/dev/vda bs=65536 seek=$i conv=fsync 2>/dev/null && echo FLUSHED $i; "
             "i=$((i+1)); done")


def expected_block(i):
    line = b"kemu-block-%d\n" % i
    return (line * (BLOCK // len(line) + 1))[:BLOCK]


def run_and_kill(img, kill_after, extra):
    """Boot, let the guest flush kill_after blocks, SIGKILL. Returns the
    indices the guest reported flushed (None if it never got there)."""
    args = [KEMU, "-accel", "tcg", "-m", "512", "-display", "none", "-nodefaults",
            "-serial", "stdio", "-kernel", os.path.join(DEMO, "vmlinuz"),
            "-initrd", os.path.join(DEMO, "initramfs.cpio.gz"),
            "-append", f'console=ttyS0 quiet kemu.test=1 kemu.cmd="{GUEST_CMD}"',
            "-drive", f"file={img},if=virtio,format=qcow2" + extra]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    flushed = []

    def on_line(line):
        m = re.match(r"FLUSHED (\d+)", line.strip())
        if m:
            flushed.append(int(m.group(1)))
        return len(flushed) >= kill_after

    try:
        _, why = stream_lines(p, TIMEOUT, on_line)
        if why == "stopped":
            p.send_signal(signal.SIGKILL)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    return flushed if len(flushed) >= kill_after else None


def main():
    r = Results()
    if not QEMU_IMG:
        print("SKIP: needs qemu-img (qemu-utils) as the judge")
        return r.summary()
    build_demo(DEMO)
    tmp = tempfile.mkdtemp(prefix="kemu-crash-")
    cases = [("qcow2 v3, cache=writeback", ["-o", "compat=1.1"], "", 40),
             ("qcow2 v3 lazy refcounts, 512 B clusters", ["-o", "lazy_refcounts=on,cluster_size=512"],
              "", 25),
             ("qcow2 v3, cache=none aio=native", [], ",cache=none,aio=native", 30)]
    try:
        for name, opts, extra, kill_after in cases:
            img = os.path.join(tmp, "data.qcow2")
            if os.path.exists(img):
                os.unlink(img)
            subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2"] + opts + [img, "512M"],
                           check=True)
            flushed = run_and_kill(img, kill_after, extra)
            if flushed is None:
                r.check(f"{name}: guest flushed {kill_after} blocks before the kill", False,
                        "never got there")
                continue
            if "lazy_refcounts=on" in " ".join(opts):
                # a dirty lazy-refcounts image has stale refcounts by design;
                # QEMU repairs it on open, as `check -r all` does
                subprocess.run([QEMU_IMG, "check", "-q", "-r", "all", img],
                               capture_output=True)
            chk = subprocess.run([QEMU_IMG, "check", img], capture_output=True, text=True)
            corrupt = re.search(r"(\d+) errors were found", chk.stdout)
            r.check(f"{name}: qemu-img check finds no corruption after SIGKILL "
                    f"(killed after {len(flushed)} flushed blocks)",
                    chk.returncode in (0, 3) and not corrupt, chk.stdout + chk.stderr)
            raw = os.path.join(tmp, "data.raw")
            subprocess.run([QEMU_IMG, "convert", "-O", "raw", img, raw], check=True)
            bad = []
            with open(raw, "rb") as f:
                for i in flushed:
                    f.seek(i * BLOCK)
                    if f.read(BLOCK) != expected_block(i):
                        bad.append(i)
            os.unlink(raw)
            r.check(f"{name}: every block the guest saw flushed is on disk ({len(flushed)})",
                    not bad, f"missing/wrong blocks: {bad[:10]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
