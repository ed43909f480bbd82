#!/usr/bin/env python3
"""The guest libvirt starts (../shared/reference/libvirt-qmp.md §2(b)),
end to end: the exact command line libvirt 9 builds for a domain with a
qcow2 virtio disk, user networking on virtio-net, a pty serial console, a
balloon and a UHCI controller (-blockdev/-device/-netdev/-object in JSON,
the monitor on an inherited listening socket fd, -S, -no-shutdown), then
libvirt's start sequence over QMP (capabilities, chardev/cpu/iothread/
balloon/block queries, qom-list, cont). The demo guest boots from the
virtio disk (kemu.root=/dev/vda) and reports what it sees on the pty
console: the disk is its root, eth0 got 10.0.2.15 from the user network,
the balloon and USB drivers bound. Its poweroff gives SHUTDOWN + STOP
(-no-shutdown keeps the process), and SIGTERM (libvirt's destroy) ends it
with "terminating on signal 15". Runs $KEMU (or KEMU=qemu-system-x86_64 to
check the test against the reference) with the software CPU.
Standard library only; prints 'N passed, N failed'.
"""
import json
import os
import re
import shutil
import signal
import socket
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
QEMU_IMG = shutil.which("qemu-img")
# computed markers ($((...))) so the echoed command line never matches
GUEST = ("echo LV-$((1)) $(grep ' / ' /proc/mounts | cut -d' ' -f1,3); "
         "ip link set eth0 up; udhcpc -q -n -i eth0 -s /bin/true >/dev/null 2>&1; "
         "echo LV-$((2)) $(udhcpc -q -n -i eth0 -s /bin/true 2>&1 | grep -o 'lease of [0-9.]*'); "
         "echo LV-$((3)) $(ls /sys/bus/virtio/drivers | tr '\\n' ' '); "
         "echo LV-$((4)) $(ls /sys/bus/usb/devices | tr '\\n' ' ')")


def libvirt_cmdline(tmp, fd):
    J = json.dumps
    return [
        "-name", "guest=bbguest,debug-threads=on", "-S",
        "-object", J({"qom-type": "secret", "id": "masterKey0", "format": "raw",
                      "file": os.path.join(tmp, "master-key.aes")}),
        "-machine", "pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
        "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
        "-object", J({"qom-type": "memory-backend-ram", "id": "pc.ram", "size": 268435456}),
        "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
        "-uuid", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "-display", "none",
        "-no-user-config", "-nodefaults",
        "-chardev", f"socket,id=charmonitor,fd={fd},server=on,wait=off",
        "-mon", "chardev=charmonitor,id=monitor,mode=control",
        "-rtc", "base=utc", "-no-shutdown", "-boot", "strict=on",
        "-kernel", os.path.join(DEMO, "vmlinuz"),
        "-initrd", os.path.join(DEMO, "initramfs.cpio.gz"),
        "-append", f'console=ttyS0 panic=-1 quiet kemu.test=1 kemu.root=/dev/vda kemu.cmd="{GUEST}"',
        "-device", J({"driver": "piix3-usb-uhci", "id": "usb", "bus": "pci.0", "addr": "0x1.0x2"}),
        "-blockdev", J({"driver": "file", "filename": os.path.join(tmp, "bbguest.qcow2"),
                        "node-name": "libvirt-1-storage", "auto-read-only": True,
                        "discard": "unmap"}),
        "-blockdev", J({"node-name": "libvirt-1-format", "read-only": False, "driver": "qcow2",
                        "file": "libvirt-1-storage", "backing": None}),
        "-device", J({"driver": "virtio-blk-pci", "bus": "pci.0", "addr": "0x3",
                      "drive": "libvirt-1-format", "id": "virtio-disk0", "bootindex": 1}),
        "-netdev", J({"type": "user", "id": "hostnet0"}),
        "-device", J({"driver": "virtio-net-pci", "netdev": "hostnet0", "id": "net0",
                      "mac": "52:54:00:aa:bb:01", "bus": "pci.0", "addr": "0x2"}),
        "-chardev", "pty,id=charserial0",
        "-device", J({"driver": "isa-serial", "chardev": "charserial0", "id": "serial0",
                      "index": 0}),
        "-audiodev", J({"id": "audio1", "driver": "none"}),
        "-device", J({"driver": "virtio-balloon-pci", "id": "balloon0", "bus": "pci.0",
                      "addr": "0x4"}),
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-msg", "timestamp=on",
    ]


def read_pty(path, deadline, want):
    """Read the guest console from the pty until every marker in want is seen."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    buf = b""
    try:
        while time.monotonic() < deadline and not all(w.encode() in buf for w in want):
            try:
                chunk = os.read(fd, 4096)
                buf += chunk
            except BlockingIOError:
                time.sleep(0.2)
            except OSError:
                break
    finally:
        os.close(fd)
    return buf.decode(errors="replace")


def main():
    r = Results()
    if not QEMU_IMG:
        print("SKIP: needs qemu-img (qemu-utils) to make the guest's disk")
        return r.summary()
    build_demo(DEMO, need=("initramfs.cpio.gz", "rootfs.ext4"))
    tmp = tempfile.mkdtemp(prefix="kemu-libvirt-")
    sock_path = os.path.join(tmp, "monitor.sock")
    with open(os.path.join(tmp, "master-key.aes"), "wb") as f:
        f.write(os.urandom(32))
    subprocess.run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2",
                    os.path.join(DEMO, "rootfs.ext4"), os.path.join(tmp, "bbguest.qcow2")],
                   check=True)
    # libvirt creates, binds and listens on the monitor socket itself
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(1)
    fd = lsock.fileno()
    env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
           "XDG_DATA_HOME": tmp, "XDG_CACHE_HOME": tmp, "XDG_CONFIG_HOME": tmp}
    p = subprocess.Popen([KEMU] + libvirt_cmdline(tmp, fd), pass_fds=[fd], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    lsock.close()
    deadline = time.monotonic() + TIMEOUT
    try:
        q = QMPClient(f"unix:{sock_path}")
        q.negotiate()
        steps = [("query-migrate-capabilities", None),
                 ("migrate-set-capabilities", {"capabilities": [{"capability": "events",
                                                                 "state": True}]}),
                 ("query-chardev", None), ("query-hotpluggable-cpus", None),
                 ("query-cpus-fast", None),
                 ("qom-list", {"path": "/machine/unattached/device[0]"}),
                 ("query-iothreads", None), ("balloon", {"value": 268435456}),
                 ("query-balloon", None), ("query-named-block-nodes", {"flat": True}),
                 ("qom-list", {"path": "/machine/peripheral"}), ("query-block", None)]
        replies = {}
        for name, args in steps:
            rep = q.cmd(name, args)
            replies[name] = rep
            r.check(f"start sequence: {name}", "return" in rep, rep)
        ptys = [c["filename"][4:] for c in replies["query-chardev"].get("return", [])
                if c.get("label") == "charserial0" and c["filename"].startswith("pty:")]
        r.check("query-chardev gives the console pty", len(ptys) == 1, replies["query-chardev"])
        periph = sorted(e["name"] for e in replies["qom-list"].get("return", []))
        r.check("qom-list /machine/peripheral lists libvirt's devices",
                periph == ["balloon0", "net0", "serial0", "type", "usb", "virtio-disk0"], periph)
        r.check("query-balloon: the guest's RAM", replies["query-balloon"].get("return") ==
                {"actual": 268435456}, replies["query-balloon"])
        blk = replies["query-block"].get("return", [{}])
        r.check("query-block: the -blockdev disk on virtio-disk0",
                any(b.get("qdev") == "/machine/peripheral/virtio-disk0/virtio-backend"
                    and b.get("inserted", {}).get("node-name") == "libvirt-1-format" for b in blk),
                blk)
        rep = q.cmd("cont")
        r.check("cont", rep == {"return": {}}, rep)
        out = read_pty(ptys[0], deadline, ["LV-4", "KEMU-DEMO: done"]) if ptys else ""
        lines = {m.group(1): m.group(2) for m in re.finditer(r"LV-(\d) ?([^\r\n]*)", out)}
        r.check("the guest's root is the virtio disk", lines.get("1", "").startswith("/dev/vda ext4"),
                lines.get("1"))
        r.check("user networking: DHCP lease 10.0.2.15", "lease of 10.0.2.15" in lines.get("2", ""),
                lines.get("2"))
        drivers = lines.get("3", "").split()
        r.check("virtio drivers bound: blk, net, balloon",
                all(d in drivers for d in ("virtio_blk", "virtio_net", "virtio_balloon")), drivers)
        r.check("USB: the UHCI root hub", "usb1" in lines.get("4", ""), lines.get("4"))
        ev = q.wait_event("SHUTDOWN", timeout=max(1, deadline - time.monotonic()))
        stop = q.wait_event("STOP", timeout=10)
        r.check("guest poweroff: SHUTDOWN guest-shutdown then STOP, process kept (-no-shutdown)",
                ev and ev.get("data") == {"guest": True, "reason": "guest-shutdown"} and stop
                and p.poll() is None, f"{ev} {stop} rc={p.poll()}")
        status = q.cmd("query-status")
        r.check("query-status after the guest's poweroff", status.get("return", {}).get("status")
                == "shutdown", status)
        p.send_signal(signal.SIGTERM)
        ev = q.wait_event("SHUTDOWN", timeout=10)
        _, err = p.communicate(timeout=30)
        r.check("SIGTERM (virsh destroy): SHUTDOWN host-signal, exit 0",
                ev and ev.get("data", {}).get("reason") == "host-signal" and p.returncode == 0
                and b"terminating on signal 15" in err, f"{ev} rc={p.returncode} {err[-200:]!r}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
