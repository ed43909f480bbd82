"""Shared by the functional tests and benchmarks (standard library only):
the PASS/FAIL tally that ends in 'N passed, N failed', and building the
demo guest (tests/guest/build-demo-guest.sh) plus an initramfs that also
holds the static workload (tests/guest/workload.c)."""
import os
import subprocess

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
