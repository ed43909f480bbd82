#!/usr/bin/env python3
"""ACPI PCI hotplug on -machine pc (device_add / device_del with the guest's
cooperation, as libvirt's attach/detach-device use it): the demo guest
(software CPU) runs with a QMP socket; device_add of a PCI device
(piix3-usb-uhci at slot 5) must make Linux's acpiphp find it and uhci_hcd
bind to it; device_del must make the guest eject it (B0EJ) and only then
DEVICE_DELETED arrives; the slot can be used again. Also -usb's board
controller at 00:01.2 (a board slot: not hot-unpluggable). Runs $KEMU
(or KEMU=qemu-system-x86_64 to check the test against the reference).
Standard library only; prints 'N passed, N failed'.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_guest import Results, build_demo  # noqa: E402
from qmp_client import QMPClient  # noqa: E402

KEMU = os.environ.get("KEMU", "build/kemu-system-x86_64")
DEMO = os.environ.get("KEMU_DEMO_DIR", os.path.join(os.path.dirname(KEMU), "demo"))
TIMEOUT = int(os.environ.get("KEMU_BOOT_TIMEOUT", "600"))
# Markers are computed ($((...))) so the echoed command line never matches.
GUEST = ("s=/sys/bus/pci/devices/0000:00:05.0; "
         "while [ ! -e $s/driver ]; do sleep 1; done; "
         "echo HP-$((10+1)) $(basename $(readlink $s/driver)) $(cat $s/vendor):$(cat $s/device); "
         "while [ -e $s ]; do sleep 1; done; echo HP-$((10+2)); "
         "while [ ! -e $s/driver ]; do sleep 1; done; echo HP-$((10+3)); "
         "echo HP-$((10+4)) $(ls /sys/bus/usb/devices | tr '\\n' ' ')")


def wait_for(log, text, deadline):
    while time.monotonic() < deadline:
        with open(log, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.5)
    return False


def main():
    r = Results()
    build_demo(DEMO)
    tmp = tempfile.mkdtemp(prefix="kemu-hp-")
    log, sock = os.path.join(tmp, "serial.log"), os.path.join(tmp, "qmp.sock")
    args = [KEMU, "-accel", "tcg", "-m", "256", "-display", "none", "-nodefaults", "-usb",
            "-serial", f"file:{log}", "-qmp", f"unix:{sock},server=on,wait=off",
            "-kernel", os.path.join(DEMO, "vmlinuz"),
            "-initrd", os.path.join(DEMO, "initramfs.cpio.gz"),
            "-append", f'console=ttyS0 quiet kemu.test=1 kemu.cmd="{GUEST}"']
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    try:
        time.sleep(0.5)
        q = QMPClient(f"unix:{sock}")
        q.negotiate()
        r.check("guest boots", wait_for(log, "KEMU-DEMO: running", deadline))
        bad = q.cmd("device_del", {"id": "/machine/unattached/device[0]"})
        r.check("device_del of a board device is refused", "error" in bad, bad)
        ret = q.cmd("device_add", {"driver": "piix3-usb-uhci", "id": "usb5", "addr": "5"})
        r.check("device_add on pci.0", ret == {"return": {}}, ret)
        r.check("the guest finds the hot-added device and binds uhci_hcd",
                wait_for(log, "HP-11 uhci_hcd 0x8086:0x7020", deadline))
        t0 = time.monotonic()
        ret = q.cmd("device_del", {"id": "usb5"})
        ev = q.wait_event("DEVICE_DELETED", timeout=max(1, deadline - time.monotonic()))
        r.check("device_del: DEVICE_DELETED after the guest ejected the slot",
                ret == {"return": {}} and ev and ev.get("data") ==
                {"device": "usb5", "path": "/machine/peripheral/usb5"}, f"{ret} {ev}")
        r.check("the guest saw the removal", wait_for(log, "HP-12", deadline))
        gone = q.cmd("device_del", {"id": "usb5"})
        r.check("the device is gone", gone.get("error", {}).get("class") == "DeviceNotFound", gone)
        ret = q.cmd("device_add", {"driver": "piix3-usb-uhci", "id": "usb5b", "addr": "5"})
        r.check("the slot takes a new device", ret == {"return": {}}
                and wait_for(log, "HP-13", deadline), ret)
        wait_for(log, "HP-14", deadline)
        with open(log, errors="replace") as f:
            usb = [l for l in f.read().splitlines() if l.startswith("HP-14")]
        hubs = [w for w in (usb[0].split() if usb else []) if w.startswith("usb")]
        r.check("both USB buses (board 00:01.2 and slot 5) have root hubs", len(hubs) == 2, usb)
        print(f"# unplug round trip took {time.monotonic() - t0:.1f} s")
    finally:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        with open(log, errors="replace") as f:
            tail = [l for l in f.read().splitlines() if l.startswith("HP-")]
        print("# guest: " + " | ".join(tail[-6:]))
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
