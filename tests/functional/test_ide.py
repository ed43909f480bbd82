#!/usr/bin/env python3
"""IDE: the PIIX3 controller, ide-hd and ide-cd (issue 5).

1. `-device ide-hd,help` / `ide-cd,help` and the realize errors of the IDE
   devices and of -drive if=ide, compared with QEMU 7.2 (or the expected
   texts below without QEMU).
2. SeaBIOS boots a one-sector MBR from the IDE disk (-drive if=ide,
   -device ide-hd, -hda) and an El Torito image from the CD (-cdrom,
   -boot d); the boot code prints BOOT-OK on port 0xe9 and exits through
   isa-debug-exit. The same images are booted on QEMU.
3. QMP eject / blockdev-change-medium on ide-cd: DEVICE_TRAY_MOVED events
   and query-block, compared with QEMU.
4. ide-abuse.s, a guest that programs the controller wrongly (DMA into
   MMIO and past RAM, PRD tables at the top of memory or without an end,
   absent units, a reset during a DMA into MMIO, 40000 random register
   accesses): kemu must survive (QEMU 7.2 aborts on the reset).
5. The demo Linux guest (software CPU) with ata_piix: dd a pattern onto a
   raw and a qcow2 disk, read data the host wrote, mount an ISO on
   /dev/sr0; once with DMA (the default) and once with libata.dma=0 (PIO).
   Debian's `qemu-img check` and `qemu-img compare` against a raw reference
   written the same way judge the images.

Environment: KEMU, QEMU ("none" skips the comparisons), KEMU_DEMO_DIR.
Standard library only. Prints 'N passed, N failed'; exit 1 on failure.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from demo_guest import Results, build_demo  # noqa: E402
from qmp_client import QMPClient, find_binaries  # noqa: E402

KEMU, QEMU = find_binaries()
QEMU_IMG = shutil.which("qemu-img")
QEMU_IO = shutil.which("qemu-io")
GUEST_DIR = os.path.join(os.path.dirname(HERE), "guest")
DEMO = os.environ.get("KEMU_DEMO_DIR", os.path.join(os.path.dirname(KEMU or "."), "demo"))
r = Results()


def run(binary, args, stdin=b"", timeout=60):
    try:
        p = subprocess.run([binary] + args, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace")
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def kvm_usable():
    rc, _ = run(KEMU, ["-accel", "kvm", "-M", "none", "-S", "-nodefaults", "-display", "none",
                       "-qmp", "stdio"], b'{"execute":"qmp_capabilities"}{"execute":"quit"}', 20)
    return rc == 0


# ---------------------------------------------------------------- images

SECTOR = 2048


def both16(v):
    return struct.pack("<H", v) + struct.pack(">H", v)


def both32(v):
    return struct.pack("<I", v) + struct.pack(">I", v)


def dirrec(extent, size, flags, name):
    rec = bytes([0, 0]) + both32(extent) + both32(size) + bytes([126, 1, 1, 0, 0, 0, 0])
    rec += bytes([flags, 0, 0]) + both16(1) + bytes([len(name)]) + name
    if len(rec) % 2:
        rec += b"\0"
    return bytes([len(rec)]) + rec[1:]


def make_iso(path, files, boot=None):
    """An ISO 9660 image (ECMA-119) with files {NAME: bytes} in the root and,
    if boot is given, an El Torito no-emulation boot entry (4 virtual
    sectors loaded at 0000:7c00)."""
    cat, lpath, mpath, root, nxt = 19, 20, 21, 22, 23
    boot_lba = None
    if boot is not None:
        boot_lba = nxt
        nxt += (len(boot) + SECTOR - 1) // SECTOR
    layout = []
    for name, data in files.items():
        layout.append((name, nxt, data))
        nxt += max(1, (len(data) + SECTOR - 1) // SECTOR)
    img = bytearray(nxt * SECTOR)
    rootdir = dirrec(root, SECTOR, 2, b"\0") + dirrec(root, SECTOR, 2, b"\1")
    for name, lba, data in layout:
        rootdir += dirrec(lba, len(data), 0, name.encode() + b";1")
    img[root * SECTOR:root * SECTOR + len(rootdir)] = rootdir
    pvd = bytearray(SECTOR)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[8:40] = b" " * 32
    pvd[40:72] = b"KEMU_IDE_TEST".ljust(32)
    pvd[80:88] = both32(nxt)
    pvd[120:124] = both16(1)
    pvd[124:128] = both16(1)
    pvd[128:132] = both16(SECTOR)
    pvd[132:140] = both32(10)
    pvd[140:144] = struct.pack("<I", lpath)
    pvd[148:152] = struct.pack(">I", mpath)
    pvd[156:190] = dirrec(root, SECTOR, 2, b"\0")
    pvd[190:813] = b" " * 623
    for off in (813, 830, 847, 864):
        pvd[off:off + 17] = b"0" * 16 + b"\0"
    pvd[881] = 1
    img[16 * SECTOR:17 * SECTOR] = pvd
    term = 17
    if boot is not None:
        brvd = bytearray(SECTOR)
        brvd[0:7] = b"\x00CD001\x01"
        brvd[7:30] = b"EL TORITO SPECIFICATION"
        brvd[71:75] = struct.pack("<I", cat)
        img[17 * SECTOR:18 * SECTOR] = brvd
        val = bytearray(32)
        val[0] = 1
        val[30:32] = b"\x55\xaa"
        val[28:30] = struct.pack("<H", (-sum(struct.unpack("<16H", bytes(val)))) & 0xffff)
        ent = bytearray(32)
        ent[0] = 0x88
        ent[6:8] = struct.pack("<H", 4)
        ent[8:12] = struct.pack("<I", boot_lba)
        img[cat * SECTOR:cat * SECTOR + 64] = bytes(val) + bytes(ent)
        img[boot_lba * SECTOR:boot_lba * SECTOR + len(boot)] = boot
        term = 18
    img[term * SECTOR:term * SECTOR + 7] = b"\xffCD001\x01"
    img[lpath * SECTOR:lpath * SECTOR + 10] = bytes([1, 0]) + struct.pack("<IH", root, 1) + b"\0\0"
    img[mpath * SECTOR:mpath * SECTOR + 10] = bytes([1, 0]) + struct.pack(">IH", root, 1) + b"\0\0"
    for name, lba, data in layout:
        img[lba * SECTOR:lba * SECTOR + len(data)] = data
    with open(path, "wb") as f:
        f.write(img)


def boot_code(msg):
    """Real-mode boot code: DS=0, print msg on port 0xe9, then write 1 to
    isa-debug-exit (0x501): the emulator exits with status 3."""
    return bytes([0x31, 0xC0, 0x8E, 0xD8, 0xFC, 0xBE, 0x1A, 0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x04,
                  0xE6, 0xE9, 0xEB, 0xF7, 0xBA, 0x01, 0x05, 0xB0, 0x01, 0xEE, 0xF4, 0xEB,
                  0xFD]) + msg + b"\0"


BOOT_CODE = boot_code(b"BOOT-OK\n")


def make_images(d):
    mbr = BOOT_CODE.ljust(510, b"\0") + b"\x55\xaa"
    with open(os.path.join(d, "boot.img"), "wb") as f:
        f.write(mbr + bytes(1024 * 1024 - 512))
    make_iso(os.path.join(d, "boot.iso"), {"HELLO.TXT": b"hello\n"}, BOOT_CODE.ljust(2048, b"\0"))
    make_iso(os.path.join(d, "cdmsg.iso"), {"HELLO.TXT": b"hello\n"},
             boot_code(b"BOOT-OK from the CD\n").ljust(2048, b"\0"))
    make_iso(os.path.join(d, "data.iso"), {"HELLO.TXT": b"hello from the kemu cd\n",
                                           "BIG.BIN": bytes(range(256)) * 4096})


# ---------------------------------------------------------------- 1. errors

HELP_PROPS = ["drive=<str>", "unit=<uint32>", "serial=<str>", "model=<str>", "ver=<str>",
              "wwn=<uint64>", "bootindex=<int32>", "write-cache=<OnOffAuto>",
              "logical_block_size=<size>", "physical_block_size=<size>",
              "discard_granularity=<size>", "werror=<BlockdevOnError>", "rerror=<BlockdevOnError>"]

ERRORS = [
    ("-device ide-hd", "-device ide-hd: No drive specified"),
    ("-device ide-drive", "-device ide-drive: 'ide-drive' is not a valid device model name"),
    ("-device ide-cd", ""),
    ("-device piix3-ide", ""),
    ("D -device ide-hd,drive=d0 -device ide-hd,drive=d0",
     "-device ide-hd,drive=d0: Drive 'd0' is already in use by another device"),
    ("D E -device ide-hd,drive=d0,unit=0 -device ide-hd,drive=d1,unit=0",
     "-device ide-hd,drive=d1,unit=0: IDE unit 0 is in use"),
    ("D -device ide-hd,drive=d0,unit=2",
     "-device ide-hd,drive=d0,unit=2: Can't create IDE unit 2, bus supports only 2 units"),
    ("-drive if=none,id=d0 -device ide-hd,drive=d0",
     "-device ide-hd,drive=d0: Device needs media, but drive is empty"),
    ("D,readonly=on -device ide-hd,drive=d0", "-device ide-hd,drive=d0: Block node is read-only"),
    ("-blockdev driver=file,filename=d.img,node-name=n0,read-only=on -device ide-hd,drive=n0",
     "-device ide-hd,drive=n0: Block node is read-only"),
    ("D -device ide-hd,drive=d0,bus=ide.2", "-device ide-hd,drive=d0,bus=ide.2: Bus 'ide.2' not found"),
    ("-device ide-cd,drive=foo", "-device ide-cd,drive=foo: Property 'ide-cd.drive' can't find value 'foo'"),
    ("-device ide-cd,id=a -device ide-cd,id=b -device ide-cd,id=c",
     "-device ide-cd,id=c: IDE unit 1 is in use"),
    ("-drive file=d.img,format=raw,if=ide,readonly=on", "Block node is read-only"),
    ("-drive if=ide", "Device needs media, but drive is empty"),
    ("-drive file=d.img,format=raw,if=ide,bus=2",
     "-drive file=d.img,format=raw,if=ide,bus=2: machine type does not support if=ide,bus=2,unit=0"),
    ("-drive file=d.img,format=raw,if=ide,media=cdrom -drive if=ide,media=cdrom", ""),
    ("D -device ide-hd,drive=d0,discard_granularity=4096",
     "-device ide-hd,drive=d0,discard_granularity=4096: discard_granularity must be 512 for ide"),
    ("D -device ide-hd,drive=d0,logical_block_size=1024,physical_block_size=4096",
     "-device ide-hd,drive=d0,logical_block_size=1024,physical_block_size=4096: "
     "discard_granularity must be a multiple of logical_block_size"),
    ("D -device ide-hd,drive=d0,discard_granularity=0,logical_block_size=1024,physical_block_size=4096",
     "-device ide-hd,drive=d0,discard_granularity=0,logical_block_size=1024,physical_block_size=4096: "
     "logical_block_size must be 512 for IDE"),
    ("D -device ide-hd,drive=d0,logical_block_size=1000",
     "-device ide-hd,drive=d0,logical_block_size=1000: Property .logical_block_size doesn't take "
     "value '1000', it's not a power of 2"),
    ("D -device ide-hd,drive=d0,physical_block_size=256",
     "-device ide-hd,drive=d0,physical_block_size=256: Property .physical_block_size doesn't take "
     "value 256 (minimum: 512, maximum: 2097152)"),
    ("D -device ide-hd,drive=d0,cyls=100", "-device ide-hd,drive=d0,cyls=100: heads must be between 1 and 16"),
    ("D -device ide-hd,drive=d0,cyls=70000,heads=16,secs=63",
     "-device ide-hd,drive=d0,cyls=70000,heads=16,secs=63: cyls must be between 1 and 65535"),
    ("D -device ide-hd,drive=d0,cyls=100,heads=16,secs=0",
     "-device ide-hd,drive=d0,cyls=100,heads=16,secs=0: secs must be between 1 and 255"),
    ("D -device ide-hd,drive=d0,rerror=foo",
     "-device ide-hd,drive=d0,rerror=foo: Parameter 'rerror' does not accept value 'foo'"),
    ("D -device ide-hd,drive=d0,bios-chs-trans=foo",
     "-device ide-hd,drive=d0,bios-chs-trans=foo: Parameter 'bios-chs-trans' does not accept value 'foo'"),
    ("D -device ide-hd,drive=d0,min_io_size=64M",
     "-device ide-hd,drive=d0,min_io_size=64M: min_io_size must not exceed 65535 logical blocks"),
    ("D -device ide-hd,drive=d0,opt_io_size=1000",
     "-device ide-hd,drive=d0,opt_io_size=1000: opt_io_size must be a multiple of logical_block_size"),
    ("D E -device ide-hd,drive=d0,bootindex=1 -device ide-hd,drive=d1,bootindex=1",
     "-device ide-hd,drive=d1,bootindex=1: The bootindex 1 has already been used"),
    ("D -device ide-hd,drive=d0,werror=stop,rerror=enospc,write-cache=off,wwn=5,serial=abc,model=x,ver=1,"
     "physical_block_size=4096,rotation_rate=7200", ""),
]


def start_errors(d):
    for name in ("d.img", "e.img"):
        with open(os.path.join(d, name), "wb") as f:
            f.truncate(10 * 1024 * 1024)
    for drv in ("ide-hd", "ide-cd"):
        rc, out = run(KEMU, ["-device", drv + ",help"])
        missing = [p for p in HELP_PROPS if p not in out]
        r.check(f"{drv},help lists QEMU's properties", rc == 0 and not missing, missing)
        if QEMU:
            _, qout = run(QEMU, ["-device", drv + ",help"])
            r.check(f"{drv},help matches QEMU", out == qout, out)
    subst = {"D": "-drive if=none,id=d0,file=d.img,format=raw",
             "E": "-drive if=none,id=d1,file=e.img,format=raw"}
    for spec, expected in ERRORS:
        args = re.sub(r"\b[DE]\b", lambda m: subst[m.group(0)], spec).split()
        argv = ["-nodefaults", "-display", "none", "-S", "-qmp", "stdio"] + args
        qmp = b'{"execute":"qmp_capabilities"}{"execute":"quit"}'
        old = os.getcwd()
        os.chdir(d)
        try:
            rc, out = run(KEMU, argv, qmp, 20)
            prefix = os.path.basename(KEMU) + ": "
            kerr = "\n".join(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith(prefix))
            if QEMU:
                _, qout = run(QEMU, argv, qmp, 20)
                expected = "\n".join(l.split(": ", 1)[1] for l in qout.splitlines()
                                     if l.startswith("qemu-system-x86_64: "))
        finally:
            os.chdir(old)
        ok = kerr == expected and (rc == 0) == (expected == "")
        r.check(f"errors: {spec[:70]}", ok, f"kemu {kerr!r} (rc {rc}), expected {expected!r}")


# ---------------------------------------------------------------- 2. SeaBIOS

def boot_cases(d):
    img, iso = os.path.join(d, "boot.img"), os.path.join(d, "boot.iso")
    return [
        ("-drive if=ide", ["-drive", f"file={img},format=raw,if=ide"]),
        ("-device ide-hd", ["-drive", f"file={img},format=raw,if=none,id=hd",
                            "-device", "ide-hd,drive=hd,bus=ide.1,unit=1"]),
        ("-hda", ["-hda", img]),
        ("-cdrom -boot d", ["-cdrom", iso, "-boot", "d"]),
        ("-device ide-cd -boot d", ["-drive", f"file={iso},format=raw,if=none,id=cd,media=cdrom",
                                    "-device", "ide-cd,drive=cd,bus=ide.0,unit=1", "-boot", "d"]),
    ]


def bootindex_cases(d):
    """(name, args, expected message): bootindex decides between a bootable
    disk and a bootable CD, whatever -boot says."""
    img, iso = os.path.join(d, "boot.img"), os.path.join(d, "cdmsg.iso")
    drives = ["-drive", f"file={img},format=raw,if=none,id=hd",
              "-drive", f"file={iso},format=raw,if=none,id=cd,media=cdrom"]
    return [
        ("bootindex picks the CD", drives + ["-device", "ide-hd,drive=hd,bootindex=2",
                                             "-device", "ide-cd,drive=cd,bootindex=1"], "BOOT-OK from the CD"),
        ("bootindex picks the disk", drives + ["-device", "ide-hd,drive=hd,bootindex=1",
                                               "-device", "ide-cd,drive=cd,bootindex=2", "-boot", "d"],
         "BOOT-OK\n"),
    ]


def seabios_boot(binary, args, accel, d):
    log = os.path.join(d, "debugcon.txt")
    if os.path.exists(log):
        os.unlink(log)
    rc, out = run(binary, ["-accel", accel, "-nodefaults", "-display", "none", "-m", "64",
                           "-device", "isa-debug-exit", "-chardev", f"file,id=dc,path={log}",
                           "-device", "isa-debugcon,chardev=dc"] + args, timeout=90)
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    return rc, text, out


def start_seabios(d, accel):
    for name, args in boot_cases(d):
        rc, text, out = seabios_boot(KEMU, args, accel, d)
        ok = rc == 3 and "BOOT-OK" in text
        detail = f"rc {rc} debugcon {text[-200:]!r} {out[-300:]!r}"
        if QEMU:
            qrc, qtext, _ = seabios_boot(QEMU, args, accel, d)
            ok = ok and qrc == rc and ("BOOT-OK" in qtext)
            detail += f" (QEMU rc {qrc})"
        r.check(f"SeaBIOS boots from {name} ({accel})", ok, detail)
    for name, args, msg in bootindex_cases(d):
        rc, text, out = seabios_boot(KEMU, args, accel, d)
        ok = rc == 3 and text.endswith(msg) if msg.endswith("\n") else rc == 3 and msg in text
        detail = f"rc {rc} debugcon {text[-200:]!r} {out[-300:]!r}"
        if QEMU:
            qrc, qtext, _ = seabios_boot(QEMU, args, accel, d)
            ok = ok and qrc == rc and qtext.endswith(text[-30:])
            detail += f" (QEMU rc {qrc} {qtext[-60:]!r})"
        r.check(f"SeaBIOS: {name} ({accel})", ok, detail)


# ---------------------------------------------------------------- 3. tray

TRAY_SESSION = [
    '{"execute":"qmp_capabilities"}',
    '{"execute":"eject","arguments":{"device":"ide1-cd0"}}',
    '{"execute":"query-block"}',
    '{"execute":"blockdev-change-medium","arguments":{"device":"ide1-cd0","filename":"ISO","format":"raw"}}',
    '{"execute":"eject","arguments":{"id":"cd1"}}',
    '{"execute":"query-block"}',
    '{"execute":"quit"}',
]


def tray_session(binary, d):
    iso = os.path.join(d, "data.iso")
    stdin = "\n".join(TRAY_SESSION).replace("ISO", iso).encode() + b"\n"
    rc, out = run(binary, ["-nodefaults", "-display", "none", "-S", "-qmp", "stdio",
                           "-cdrom", iso, "-drive", f"if=none,id=x0,file={iso},format=raw,media=cdrom",
                           "-device", "ide-cd,drive=x0,id=cd1,bus=ide.0"], stdin, 20)
    lines = []
    for line in out.splitlines():
        if not line.startswith("{") or '"QMP"' in line or '"return": {}' in line:
            continue
        line = re.sub(r'"timestamp": \{[^}]*\}', "T", line)
        line = re.sub(r"/machine/unattached/device\[\d+\]", "UNATTACHED", line)
        line = re.sub(r'"qdev": "/machine/peripheral/cd1"', '"qdev": "cd1"', line)
        line = re.sub(r"#block\d+", "#blockN", line)
        lines.append(line)
    return lines


def start_tray(d):
    lines = tray_session(KEMU, d)
    events = [l for l in lines if "DEVICE_TRAY_MOVED" in l]
    want = ['{T, "event": "DEVICE_TRAY_MOVED", "data": {"device": "ide1-cd0", "tray-open": true, '
            '"id": "UNATTACHED"}}',
            '{T, "event": "DEVICE_TRAY_MOVED", "data": {"device": "ide1-cd0", "tray-open": false, '
            '"id": "UNATTACHED"}}',
            '{T, "event": "DEVICE_TRAY_MOVED", "data": {"device": "x0", "tray-open": true, "id": "cd1"}}']
    r.check("DEVICE_TRAY_MOVED on eject/change", events == want, "\n".join(lines))
    if QEMU:
        qlines = tray_session(QEMU, d)
        r.check("tray session matches QEMU", lines == qlines,
                "\n".join(l for l in lines if l not in qlines) + "\n--- QEMU:\n" +
                "\n".join(l for l in qlines if l not in lines))


PCI_ENTRY = {"bus": 0, "slot": 1, "function": 1, "irq_pin": 0, "qdev_id": "",
             "class_info": {"class": 257, "desc": "IDE controller"},
             "id": {"device": 28688, "subsystem": 4352, "subsystem-vendor": 6900, "vendor": 32902},
             "regions": [{"address": -1, "bar": 4, "size": 16, "type": "io"}]}


def pci_entry(binary):
    rc, out = run(binary, ["-nodefaults", "-display", "none", "-S", "-qmp", "stdio"],
                  b'{"execute":"qmp_capabilities"}{"execute":"query-pci"}{"execute":"quit"}', 20)
    for line in out.splitlines():
        if '"return": [' in line:
            for dev in json.loads(line)["return"][0]["devices"]:
                if dev["slot"] == 1 and dev["function"] == 1:
                    return dev
    return None


def mbr_image(path, end_head, end_sec, size):
    """A disk whose MBR has one partition ending at end_head/end_sec."""
    with open(path, "wb") as f:
        f.truncate(size)
        e = bytes([0x80, 1, 1, 0, 0x83, end_head, end_sec, 0xff]) + struct.pack("<II", 2048, size // 512 - 2048)
        f.seek(0x1be)
        f.write(e)
        f.seek(510)
        f.write(b"\x55\xaa")


def geometry(binary, img):
    qmp = [b'{"execute":"qmp_capabilities"}'] + [
        b'{"execute":"qom-get","arguments":{"path":"/machine/peripheral/disk","property":"%s"}}' % p
        for p in (b"cyls", b"heads", b"secs", b"bios-chs-trans")] + [b'{"execute":"quit"}']
    _, out = run(binary, ["-nodefaults", "-display", "none", "-S", "-qmp", "stdio",
                          "-drive", f"file={img},format=raw,if=none,id=d0", "-device", "ide-hd,drive=d0,id=disk"],
                 b"\n".join(qmp), 20)
    vals = []
    for line in out.splitlines():
        m = json.loads(line) if line.startswith("{") else {}
        if "return" in m and m["return"] != {}:
            vals.append(str(m["return"]).strip('"'))
    return vals


def start_geometry(d):
    """CHS geometry and BIOS translation as QEMU guesses them (MBR partition
    table, else 16 heads / 63 sectors), read back with qom-get."""
    cases = [("no MBR", None, None, 1 << 20, ["2", "16", "63", "none"]),
             ("MBR 255 heads", 254, 63, 64 << 20, ["130", "16", "63", "large"]),
             ("MBR 16 heads", 15, 63, 64 << 20, ["130", "16", "63", "none"]),
             ("MBR 4 heads 32 sectors", 3, 32, 8 << 20, ["128", "4", "32", "none"]),
             ("MBR 255 heads, 2 GiB", 254, 63, 2 << 30, ["4161", "16", "63", "large"])]
    for name, head, sec, size, want in cases:
        img = os.path.join(d, "geo.img")
        if head is None:
            with open(img, "wb") as f:
                f.truncate(size)
        else:
            mbr_image(img, head, sec, size)
        mine = geometry(KEMU, img)
        ok = mine == want
        if QEMU:
            ok = ok and mine == geometry(QEMU, img)
        r.check(f"geometry: {name}: cyls/heads/secs/bios-chs-trans {want}", ok, mine)
        os.unlink(img)


def start_pci():
    mine = pci_entry(KEMU)
    r.check("query-pci: piix3-ide at 00:01.1 even with -nodefaults", mine == PCI_ENTRY, mine)
    if QEMU:
        r.check("query-pci: 00:01.1 as on QEMU", mine == pci_entry(QEMU), mine)


# ---------------------------------------------------------------- 4. abuse

def start_abuse(d, accel):
    if not shutil.which("as") or not shutil.which("ld"):
        r.check("ide-abuse payload (SKIP: no as/ld)", True)
        return
    obj, elf = os.path.join(d, "abuse.o"), os.path.join(d, "abuse.elf")
    subprocess.run(["as", "--32", "-I", GUEST_DIR, "-o", obj, os.path.join(HERE, "ide-abuse.s")], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-T", os.path.join(GUEST_DIR, "link.ld"), "-o", elf, obj],
                   check=True, capture_output=True)
    disk = os.path.join(d, "abuse.img")
    with open(disk, "wb") as f:
        f.truncate(1024 * 1024)
    args = ["-accel", accel, "-m", "16", "-nodefaults", "-display", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", elf,
            "-drive", f"file={disk},format=raw,if=ide", "-cdrom", os.path.join(d, "data.iso")]
    rc, out = run(KEMU, args, timeout=120)
    r.check(f"ide-abuse: kemu survives a misbehaving guest ({accel})",
            rc == 33 and "ide-abuse survived" in out, f"rc {rc}: {out[-800:]}")
    # outcomes as QEMU 7.2 shows them (QEMU itself then aborts at step 9b,
    # the reset during a DMA into MMIO: "ide_cancel_dma_sync: Assertion
    # `s->bus->dma->aiocb == NULL' failed")
    for line in ("absent-slave status 00", "dma-to-mmio ata 50 err 00 bm 04",
                 "dma-to-unassigned ata 50 err 00 bm 04", "dma-past-ram ata 50 err 00 bm 04",
                 "prd-table-top ata 50 err 00 bm 05",
                 "prd-no-eot ata 50 err 00 bm 00",
                 "after-reset ata 50 err 01 bm 04", "stop-mid-dma ata 50 err 01 bm 04",
                 "atapi-count0 status 41"):
        r.check(f"ide-abuse: {line}", line in out, out[-800:])


# ---------------------------------------------------------------- 5. Linux

GUEST_SCRIPT = r"""
wait_disks() {
    for i in $(seq 1 60); do [ -e /sys/block/sda ] && [ -e /sys/block/sdb ] && [ -e /sys/block/sr0 ] && break; sleep 1; done
}
wait_disks
if grep -q ide.pio /proc/cmdline; then
    # the init script loaded libata with insmod, which ignores libata.dma=0
    # on the kernel command line: reload it with DMA off
    M=/lib/modules/$(uname -r)/kernel/drivers
    rmmod sr_mod sd_mod ata_piix libata
    insmod $M/ata/libata.ko dma=0 && insmod $M/ata/ata_piix.ko && insmod $M/scsi/sd_mod.ko && insmod $M/scsi/sr_mod.ko
    wait_disks
fi
cat /proc/partitions
# sd probes run in parallel: find the master (raw) and slave (qcow2) by SCSI address
for d in sda sdb; do
    case $(readlink /sys/block/$d/device) in *0:0:0:0) A=/dev/$d;; *0:0:1:0) B=/dev/$d;; esac
done
echo MASTER $A SLAVE $B
for d in /sys/class/ata_device/dev*; do echo XFER $d $(cat $d/class) $(cat $d/xfer_mode); done
for d in /sys/class/ata_device/dev*; do echo IDDUMP $d $(cat $d/id 2>/dev/null); done
C=/sys/bus/pci/devices/0000:00:01.1/config
echo PCIID $(od -An -tx1 -N 4 $C) $(od -An -tx1 -j 6 -N 6 $C) $(od -An -tx1 -j 60 -N 4 $C)
yes KEMU-IDE-PATTERN | head -c 4194304 > /tmp/p
dd if=/tmp/p of=$A bs=65536 seek=16 conv=fsync 2>&1 | grep -v records
dd if=/tmp/p of=$B bs=65536 seek=48 count=32 conv=fsync 2>&1 | grep -v records
dd if=/tmp/p of=$B bs=512 seek=20001 count=7 conv=fsync 2>&1 | grep -v records
sync
echo 3 > /proc/sys/vm/drop_caches
echo SDA-BACK $(dd if=$A bs=65536 skip=16 count=64 2>/dev/null | md5sum)
echo SDB-BACK $(dd if=$B bs=65536 skip=48 count=32 2>/dev/null | md5sum)
echo SDA-HOST $(dd if=$A bs=1048576 skip=20 count=1 2>/dev/null | md5sum)
echo SDB-HOST $(dd if=$B bs=1048576 skip=20 count=1 2>/dev/null | md5sum)
echo PATTERN $(md5sum /tmp/p)
echo HALF $(head -c 2097152 /tmp/p | md5sum)
mkdir -p /mnt && mount -t iso9660 -o ro /dev/sr0 /mnt && echo CDFILE $(cat /mnt/hello.txt) && echo CDBIG $(md5sum /mnt/big.bin) && umount /mnt
dmesg | grep -i -E 'error|timeout|exception|failed' | grep -v -E 'evm|ACPI' | head -20
echo GUEST-DONE
"""


def md5(data):
    import hashlib
    return hashlib.md5(data).hexdigest()


def reference_image(path):
    """The raw image the guest's writes should produce on a zeroed disk."""
    pat = (b"KEMU-IDE-PATTERN\n" * 250000)[:4194304]
    img = bytearray(64 * 1024 * 1024)
    img[20 << 20:21 << 20] = b"\x5a" * (1 << 20)
    return pat, img


def linux_boot(d, pio, enospc, raw_dir, initrd, mode):
    """Boot the guest on a raw (in raw_dir), a qcow2 and a CD image; with
    enospc, watch QMP for the write error and let the VM go on. Returns
    (exit status, serial output)."""
    raw, qcow = os.path.join(raw_dir, "disk.raw"), os.path.join(d, "disk.qcow2")
    subprocess.run([QEMU_IMG, "create", "-f", "raw", raw, "64M"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([QEMU_IMG, "create", "-f", "qcow2", qcow, "64M"], check=True, stdout=subprocess.DEVNULL)
    with open(raw, "r+b") as f:                          # data the guest must read back
        f.seek(20 << 20)
        f.write(b"\x5a" * (1 << 20))
    subprocess.run([QEMU_IO, "-f", "qcow2", "-c", "write -P 0x5a 20M 1M", qcow], check=True,
                   stdout=subprocess.DEVNULL)
    append = "console=ttyS0 kemu.test=1 kemu.cmd=\"sh /ide-test.sh\"" + (" ide.pio" if pio else "")
    sock = os.path.join(d, "qmp.sock")
    args = [KEMU, "-accel", "tcg", "-m", "512", "-nodefaults", "-display", "none",
            "-serial", f"file:{os.path.join(d, 'serial.txt')}", "-qmp", f"unix:{sock},server=on,wait=off",
            "-kernel", os.path.join(DEMO, "vmlinuz"), "-initrd", initrd, "-append", append,
            "-drive", f"file={raw},format=raw,if=ide,index=0",
            "-drive", f"file={qcow},format=qcow2,if=ide,index=1",
            "-drive", f"file={os.path.join(d, 'data.iso')},if=ide,index=2,media=cdrom,format=raw"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        q = QMPClient(f"unix:{sock}", timeout=30)
        q.negotiate()
        if enospc:
            ev = q.wait_event("BLOCK_IO_ERROR", timeout=300)
            data = ev["data"] if ev else {}
            r.check(f"werror=enospc ({mode}): BLOCK_IO_ERROR stop on the full disk",
                    data.get("device") == "ide0-hd0" and data.get("operation") == "write"
                    and data.get("action") == "stop" and data.get("nospace") is True, ev)
            st = q.command("query-status")
            r.check(f"werror=enospc ({mode}): the VM stopped with io-error",
                    st.get("status") == "io-error" and not st.get("running"), st)
            subprocess.run(["mount", "-o", "remount,size=128M", raw_dir], check=True)
            q.command("cont")
        p.wait(timeout=400)
        q.close()
    except Exception as e:                               # noqa: BLE001 - report, don't hang
        p.kill()
        p.wait()
        r.check(f"Linux boot with QMP ({e})", False, str(e))
    out = p.stdout.read().decode(errors="replace")
    with open(os.path.join(d, "serial.txt"), errors="replace") as f:
        out += f.read()
    return p.returncode, out


def start_linux(d, pio):
    build_demo(DEMO)
    mode = "PIO (libata dma=0)" if pio else "DMA"
    stage = os.path.join(d, "stage")
    os.makedirs(stage, exist_ok=True)
    with open(os.path.join(stage, "ide-test.sh"), "w") as f:
        f.write(GUEST_SCRIPT)
    extra = subprocess.run("echo ide-test.sh | cpio -o -H newc --quiet | gzip", shell=True, cwd=stage,
                           capture_output=True, check=True).stdout
    initrd = os.path.join(d, "initrd.gz")
    with open(os.path.join(DEMO, "initramfs.cpio.gz"), "rb") as f, open(initrd, "wb") as o:
        o.write(f.read() + extra)
    # The raw disk lives on a 2 MiB tmpfs (when we may mount one),
    # so the guest's writes hit ENOSPC: werror=enospc (the default) stops
    # the VM, and after the tmpfs grows `cont` retries the failed request.
    enospc_dir = os.path.join(d, "small-fs")
    os.makedirs(enospc_dir, exist_ok=True)
    enospc = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", enospc_dir],
        capture_output=True).returncode == 0
    try:
        rc, out = linux_boot(d, pio, enospc, enospc_dir if enospc else d, initrd, mode)
    finally:
        if enospc:
            shutil.copy(os.path.join(enospc_dir, "disk.raw"), os.path.join(d, "disk.raw"))
            subprocess.run(["umount", enospc_dir])
    raw, qcow = os.path.join(d, "disk.raw"), os.path.join(d, "disk.qcow2")
    r.check(f"Linux {mode}: guest ran and powered off", rc == 0 and "GUEST-DONE" in out,
            f"rc {rc}: {out[-1500:]}")
    pat, ref = reference_image(None)
    if QEMU and not pio:
        # what the guest sees of the controller and the drives, against QEMU
        # (same drives, -snapshot so the images stay as they are)
        qrc, qout = run(QEMU, ["-accel", "tcg", "-m", "512", "-nodefaults", "-display", "none",
                               "-serial", "stdio", "-snapshot", "-kernel", os.path.join(DEMO, "vmlinuz"),
                               "-initrd", initrd, "-append", "console=ttyS0 kemu.test=1 kemu.cmd=\"sh /ide-test.sh\"",
                               "-drive", f"file={raw},format=raw,if=ide,index=0",
                               "-drive", f"file={qcow},format=qcow2,if=ide,index=1",
                               "-drive", f"file={os.path.join(d, 'data.iso')},if=ide,index=2,media=cdrom,format=raw"],
                        timeout=200)
        for tag in ("IDDUMP", "PCIID"):
            mine = [l.strip() for l in out.splitlines() if l.startswith(tag)]
            ref_lines = [l.strip() for l in qout.splitlines() if l.startswith(tag)]
            r.check(f"Linux: {tag} (IDENTIFY data / PCI ids, status, class, interrupt) as on QEMU", mine and mine == ref_lines,
                    "\n".join(mine) + "\n--- QEMU:\n" + "\n".join(ref_lines))

    def field(name):
        m = re.search(name + r" ([0-9a-f]{32})", out)
        return m.group(1) if m else None
    xfer = [m for c, m in re.findall(r"XFER \S+ (\S+) (\S+)", out) if c in ("ata", "atapi")]
    want = "XFER_PIO" if pio else "XFER_MW_DMA"
    r.check(f"Linux {mode}: libata chose {want}", len(xfer) == 3 and all(x.startswith(want) for x in xfer),
            xfer)
    r.check(f"Linux {mode}: sda/sdb/sr0 present", all(f" {n}\n" in out.replace("\r", "") or f" {n}\r" in out
                                                    for n in ("sda", "sdb", "sr0")), out[-1500:])
    r.check(f"Linux {mode}: raw disk reads back what was written", field("SDA-BACK") == md5(pat),
            field("SDA-BACK"))
    r.check(f"Linux {mode}: qcow2 disk reads back what was written", field("SDB-BACK") == md5(pat[:2 << 20]),
            field("SDB-BACK"))
    host = md5(b"\x5a" * (1 << 20))
    r.check(f"Linux {mode}: host-written data read from both disks",
            field("SDA-HOST") == host and field("SDB-HOST") == host, (field("SDA-HOST"), field("SDB-HOST")))
    r.check(f"Linux {mode}: ISO 9660 files read from /dev/sr0",
            "CDFILE hello from the kemu cd" in out and field("CDBIG") == md5(bytes(range(256)) * 4096),
            out[-600:])
    # the images, judged by qemu-img
    sda = bytearray(ref)
    sda[1 << 20:(1 << 20) + len(pat)] = pat
    sdb = bytearray(ref)
    sdb[3 << 20:5 << 20] = pat[:2 << 20]
    sdb[20001 * 512:20008 * 512] = pat[:7 * 512]
    ref_a, ref_b = os.path.join(d, "ref-a.raw"), os.path.join(d, "ref-b.raw")
    with open(ref_a, "wb") as f:
        f.write(sda)
    with open(ref_b, "wb") as f:
        f.write(sdb)
    chk = subprocess.run([QEMU_IMG, "check", qcow], capture_output=True, text=True)
    r.check(f"Linux {mode}: qemu-img check passes on the qcow2 image", chk.returncode == 0, chk.stdout + chk.stderr)
    for img, fmt, ref_path in ((raw, "raw", ref_a), (qcow, "qcow2", ref_b)):
        cmp = subprocess.run([QEMU_IMG, "compare", "-f", fmt, "-F", "raw", img, ref_path],
                             capture_output=True, text=True)
        r.check(f"Linux {mode}: qemu-img compare {fmt} image with the reference", cmp.returncode == 0,
                cmp.stdout + cmp.stderr)


def main():
    if not KEMU or not os.path.exists(KEMU):
        print(f"{KEMU} not found\n0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory(prefix="kemu-ide-") as d:
        make_images(d)
        start_errors(d)
        accel = "kvm" if kvm_usable() else "tcg"
        start_seabios(d, accel)
        start_tray(d)
        start_pci()
        start_geometry(d)
        start_abuse(d, accel)
        if QEMU_IMG and QEMU_IO and shutil.which("cpio"):
            start_linux(d, pio=False)
            start_linux(d, pio=True)
        else:
            print("SKIP Linux guest tests: qemu-img, qemu-io or cpio missing")
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
