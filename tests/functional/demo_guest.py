"""Shared by the functional tests and benchmarks (standard library only):
the PASS/FAIL tally that ends in 'N passed, N failed', and building the
demo guest (tests/guest/build-demo-guest.sh) plus an initramfs that also
holds the static workload (tests/guest/workload.c)."""
import os
import subprocess
import time

GUEST_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest")


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def build_demo(demo, need=("initramfs.cpio.gz",)):
    """Build the demo guest into directory demo unless the files in need
    are there (add "rootfs.ext4" for the ext4 root disk)."""
    if not all(os.path.exists(os.path.join(demo, f)) for f in need):
        subprocess.run(["sh", os.path.join(GUEST_DIR, "build-demo-guest.sh"), demo],
                       check=True, stdout=subprocess.DEVNULL)


def build_workload_initrd(demo):
    """The demo initramfs with /workload appended as a second cpio archive.
    Returns (path of the native workload binary, path of the initramfs)."""
    build_demo(demo)
    exe = os.path.join(demo, "workload")
    subprocess.run(["cc", "-O2", "-static", "-o", exe, os.path.join(GUEST_DIR, "workload.c"), "-lm"],
                   check=True)
    stage = os.path.join(demo, "workload-root")
    os.makedirs(stage, exist_ok=True)
    subprocess.run(["cp", exe, os.path.join(stage, "workload")], check=True)
    extra = subprocess.run("find workload | cpio -o -H newc --quiet | gzip -9", shell=True,
                           cwd=stage, capture_output=True, check=True).stdout
    out = os.path.join(demo, "initramfs-workload.cpio.gz")
    with open(os.path.join(demo, "initramfs.cpio.gz"), "rb") as f, open(out, "wb") as o:
        o.write(f.read() + extra)
    return exe, out


def stream_lines(p, timeout, stop=None):
    """Read process p's stdout line by line until EOF, the timeout, or
    stop(line) returning True. Returns ([(host time, line)], reason) with
    reason "eof", "timeout" or "stopped"; the process is left running
    unless it ended (the caller kills or waits)."""
    lines = []
    start = time.monotonic()
    buf = b""
    while time.monotonic() - start <= timeout:
        chunk = p.stdout.read1(4096)
        if not chunk:
            return lines, "eof"
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode(errors="replace").rstrip("\r")
            lines.append((time.monotonic(), line))
            if stop and stop(line):
                return lines, "stopped"
    return lines, "timeout"
