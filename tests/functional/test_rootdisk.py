#!/usr/bin/env python3
"""The demo guest with its root on a qemu-img-made qcow2 disk (issue 5's
"done when"): the initramfs mounts /dev/vda (virtio-blk, ext4) and continues
there; the guest counts its boots in /var/bootcount, reboots itself once,
and powers off on the second boot. Then:
  * Debian's `qemu-img check` finds the image clean and debugfs reads
    bootcount 2 from it (the data survived the guest reboot and the exit);
  * a third boot with -snapshot sees 2, writes 3 into the temporary overlay,
    and leaves the image byte-for-byte untouched (checksum, bootcount 2);
  * the same through IDE (-hda, root=/dev/sda) reads the count the virtio
    boots left.
Runs $KEMU (or any QEMU-compatible binary, e.g. KEMU=qemu-system-x86_64 to
check the test against the reference) with the software CPU.
Standard library only; prints 'N passed, N failed'.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_guest import Results, build_demo  # noqa: E402

KEMU = os.environ.get("KEMU", "build/kemu-system-x86_64")
DEMO = os.environ.get("KEMU_DEMO_DIR", os.path.join(os.path.dirname(KEMU), "demo"))
TIMEOUT = int(os.environ.get("KEMU_BOOT_TIMEOUT", "600"))
QEMU_IMG = shutil.which("qemu-img")
DEBUGFS = shutil.which("debugfs") or "/usr/sbin/debugfs"


def boot(drive_args, root, extra=()):
    """Boot with the root disk; returns (exit status, console text)."""
    args = [KEMU, "-accel", "tcg", "-m", "512", "-display", "none", "-nodefaults",
            "-serial", "stdio", "-kernel", os.path.join(DEMO, "vmlinuz"),
            "-initrd", os.path.join(DEMO, "initramfs.cpio.gz"),
            "-append", f'console=ttyS0 quiet kemu.test=1 kemu.root={root} '
                       f'kemu.cmd="sh /bootcount.sh 2"'] + list(drive_args) + list(extra)
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace")
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bootcount(img, tmp):
    """/var/bootcount inside the qcow2 image, read with debugfs."""
    raw = os.path.join(tmp, "peek.raw")
    subprocess.run([QEMU_IMG, "convert", "-U", "-O", "raw", img, raw], check=True)
    out = subprocess.run([DEBUGFS, "-R", "cat /var/bootcount", raw], capture_output=True,
                         text=True).stdout.strip()
    os.unlink(raw)
    return out


def main():
    r = Results()
    if not QEMU_IMG or not os.path.exists(DEBUGFS) or not shutil.which("mkfs.ext4"):
        print("SKIP: needs qemu-img (qemu-utils), debugfs and mkfs.ext4 (e2fsprogs)")
        return r.summary()
    build_demo(DEMO, need=("initramfs.cpio.gz", "rootfs.ext4"))
    tmp = tempfile.mkdtemp(prefix="kemu-rootdisk-")
    try:
        img = os.path.join(tmp, "root.qcow2")
        subprocess.run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2",
                        os.path.join(DEMO, "rootfs.ext4"), img], check=True)

        t0 = time.monotonic()
        rc, out = boot(["-drive", f"file={img},if=virtio"], "/dev/vda")
        r.check("virtio root: boots from the qcow2 disk, reboots, powers off (exit 0)",
                rc == 0 and "running from the root disk" in out and "boot count 1" in out
                and "KEMU-DEMO: rebooting" in out and "boot count 2" in out
                and "KEMU-DEMO: done" in out,
                f"rc={rc} ({time.monotonic() - t0:.0f} s)\n{out[-1500:]}")
        chk = subprocess.run([QEMU_IMG, "check", img], capture_output=True, text=True)
        r.check("qemu-img check: image clean after the guest's writes",
                chk.returncode == 0, chk.stdout + chk.stderr)
        r.check("the data survived: /var/bootcount is 2 in the image",
                bootcount(img, tmp) == "2", bootcount(img, tmp))

        before = sha256(img)
        rc, out = boot(["-drive", f"file={img},if=virtio", "-snapshot"], "/dev/vda")
        r.check("-snapshot: the guest sees its data and writes (count 3)",
                rc == 0 and "boot count 3" in out and "KEMU-DEMO: done" in out,
                f"rc={rc}\n{out[-1500:]}")
        r.check("-snapshot leaves the image untouched", sha256(img) == before
                and bootcount(img, tmp) == "2", bootcount(img, tmp))

        rc, out = boot(["-hda", img], "/dev/sda")
        r.check("IDE root (-hda): the count the virtio boots left is read (3 after this boot)",
                rc == 0 and "boot count 3" in out and "KEMU-DEMO: done" in out,
                f"rc={rc}\n{out[-1500:]}")
        chk = subprocess.run([QEMU_IMG, "check", img], capture_output=True, text=True)
        r.check("qemu-img check after the IDE boot", chk.returncode == 0
                and bootcount(img, tmp) == "3", chk.stdout + chk.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
