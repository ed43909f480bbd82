#!/usr/bin/env python3
"""Named block nodes over QMP and -blockdev: blockdev-add (libvirt's file +
qcow2 pair, nested "file" objects, raw), blockdev-del, query-named-block-nodes
(flat and not), query-block and query-blockstats (with query-nodes), and
their errors. Each session runs against kemu and, when installed, Debian's
QEMU 7.2 on freshly created images in the same temporary directory; replies
are compared after normalising what differs by nature (timestamps, auto
node names "#blockNNN", actual-size, version micro/package, binary name).
Without QEMU, kemu's replies are checked against the expected texts below.

Environment: KEMU (kemu-system-x86_64 path), QEMU (reference; "none" skips).
Standard library only. Prints "N passed, N failed"; exit status 1 on failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from qmp_client import find_binaries  # noqa: E402
KEMU, QEMU = find_binaries()
QEMU_IMG = shutil.which("qemu-img")
KEMU_IMG = os.path.join(os.path.dirname(KEMU or ""), "kemu-img")
IMG = QEMU_IMG or (KEMU_IMG if os.path.exists(KEMU_IMG) else None)
BASE = ["-M", "none", "-S", "-nodefaults", "-display", "none", "-qmp", "stdio"]


def make_images(d):
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    subprocess.run([IMG, "create", "-f", "qcow2", os.path.join(d, "a.qcow2"), "64M"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([IMG, "create", "-f", "qcow2", os.path.join(d, "c.qcow2"), "32M"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([IMG, "create", "-f", "raw", os.path.join(d, "b.raw"), "1M"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([IMG, "create", "-f", "qcow2", os.path.join(d, "base.qcow2"), "16M"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([IMG, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                    os.path.join(d, "top.qcow2")], check=True, stdout=subprocess.DEVNULL)
    # a file whose length is not a multiple of 512
    with open(os.path.join(d, "odd.raw"), "wb") as f:
        f.write(b"x" * 1000)


def norm(line):
    line = re.sub(r"#block\d+", "#blockN", line)
    line = re.sub(r'"actual-size": \d+', '"actual-size": A', line)
    line = re.sub(r'"seconds": \d+, "microseconds": \d+', '"seconds": S, "microseconds": U', line)
    line = re.sub(r'"micro": \d+', '"micro": M', line)
    line = re.sub(r'"package": "[^"]*"', '"package": "P"', line)
    line = re.sub(r"^[a-z]+-system-x86_64: ", "BIN: ", line)
    return line


def run(binary, d, args, cmds):
    script = "".join(json.dumps(c) + "\n" for c in
                     [{"execute": "qmp_capabilities"}] + cmds + [{"execute": "quit"}])
    script = script.replace("@D@", d)
    args = [a.replace("@D@", d) for a in args]
    p = subprocess.run([binary] + BASE + args, input=script.encode(), capture_output=True,
                       timeout=30)
    out = [norm(x) for x in p.stdout.decode().splitlines()]
    err = [norm(x) for x in p.stderr.decode().splitlines()]
    return p.returncode, out, err


def F(d, name):
    return os.path.join(d, name)


LIBVIRT_FILE = {"driver": "file", "filename": "@D@/a.qcow2", "node-name": "libvirt-1-storage",
                "auto-read-only": True, "discard": "unmap"}
LIBVIRT_FMT = {"node-name": "libvirt-1-format", "read-only": False, "driver": "qcow2",
               "file": "libvirt-1-storage", "backing": None}


def add(a):
    return {"execute": "blockdev-add", "arguments": a}


def dele(n):
    return {"execute": "blockdev-del", "arguments": {"node-name": n}}


NB = {"execute": "query-named-block-nodes", "arguments": {"flat": True}}
NB_TREE = {"execute": "query-named-block-nodes"}
QB = {"execute": "query-block"}
QBS = {"execute": "query-blockstats"}
QBS_NODES = {"execute": "query-blockstats", "arguments": {"query-nodes": True}}

# (name, extra args, commands, expected substrings in kemu's output when no QEMU)
SESSIONS = [
    ("libvirt pair + queries + del", [],
     [add(LIBVIRT_FILE), add(LIBVIRT_FMT), NB, NB_TREE, QB, QBS, QBS_NODES,
      dele("libvirt-1-storage"), dele("libvirt-1-format"), dele("libvirt-1-storage"), NB],
     ['"node-name": "libvirt-1-format"', '"format-specific"',
      "Block device libvirt-1-storage is in use", '{"return": []}']),
    ("errors", [],
     [add(LIBVIRT_FILE), add(LIBVIRT_FILE),
      add({"driver": "file", "filename": "@D@/nope.qcow2", "node-name": "n1"}),
      add({"driver": "bogus", "filename": "@D@/a.qcow2", "node-name": "n2"}),
      add({"driver": "qcow2", "node-name": "x",
           "file": {"driver": "file", "filename": "does-not-exist.qcow2"}}),
      add({"driver": "qcow2", "node-name": "y", "file": "nonode"}),
      add({"driver": "qcow2", "node-name": "y"}),
      add({"driver": "file", "node-name": "z"}),
      add({"driver": "file", "filename": "@D@/a.qcow2"}),
      add({"driver": "file", "filename": "@D@/b.raw", "node-name": "w", "foo": 1}),
      {"execute": "blockdev-add", "arguments": {"node-name": "v"}},
      dele("x"), {"execute": "blockdev-del", "arguments": {}}, NB],
     ["Duplicate nodes with node-name='libvirt-1-storage'",
      "Could not open '@D@/nope.qcow2': No such file or directory",
      "Parameter 'driver' does not accept value 'bogus'",
      "Cannot find device='nonode' nor node-name='nonode'",
      "Failed to find node with node-name='x'"]),
    ("nested file, raw, odd size", [],
     [add({"driver": "raw", "node-name": "r1",
           "file": {"driver": "file", "filename": "@D@/b.raw"}}),
      add({"driver": "qcow2", "node-name": "q1",
           "file": {"driver": "file", "filename": "@D@/c.qcow2", "cache": {"direct": True}}}),
      add({"driver": "file", "node-name": "o1", "filename": "@D@/odd.raw",
           "read-only": True, "detect-zeroes": "on"}),
      NB, QBS_NODES, dele("r1"), dele("q1"), dele("o1"), NB],
     ['"node-name": "r1"', '"virtual-size": 1024']),
    ("backing chain opened from the header", [],
     [add({"driver": "qcow2", "node-name": "t1",
           "file": {"driver": "file", "filename": "@D@/top.qcow2"}}),
      NB_TREE, NB, QBS_NODES, dele("t1"), NB],
     ['"backing-image"', '"full-backing-filename": "@D@/base.qcow2"']),
    ("backing by node-name (libvirt chains)", [],
     [add({"driver": "file", "node-name": "bf", "filename": "@D@/base.qcow2", "read-only": True}),
      add({"driver": "qcow2", "node-name": "b", "file": "bf", "read-only": True}),
      add({"driver": "qcow2", "node-name": "t2", "backing": "nope",
           "file": {"driver": "file", "filename": "@D@/top.qcow2"}}),
      add({"driver": "qcow2", "node-name": "t2",
           "file": {"driver": "file", "filename": "@D@/top.qcow2"}, "backing": "b"}),
      NB_TREE, NB, QBS_NODES, dele("b"), dele("t2"), dele("b"), dele("bf"), NB],
     ["Node 'b' is busy: node is used as backing hd of 't2'", 'json:{']),
    ("argument types, raw backing, del order", [],
     json.loads('[{"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "a", "file": 5}}, {"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "a", "file": [1, 2]}}, {"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "a", "file": {"driver": "qcow2", "file": {"driver": "file", "filename": "@D@/a.qcow2"}}}}, {"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "a", "file": {"driver": "file", "filename": "@D@/b.raw"}}}, {"execute": "blockdev-add", "arguments": {"driver": "raw", "node-name": "b", "file": {"driver": "file", "filename": "@D@/b.raw"}, "backing": {"x": 1}}}, {"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": 5, "filename": "@D@/b.raw"}}, {"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "1bad", "filename": "@D@/b.raw"}}, {"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "c", "filename": "@D@/b.raw", "read-only": "maybe"}}, {"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "c", "filename": "@D@/b.raw", "cache": "x"}}, {"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "d", "filename": "@D@/b.raw"}}, {"execute": "blockdev-add", "arguments": {"driver": "raw", "node-name": "e", "file": "d", "backing": "d"}}, {"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "f", "file": {"driver": "file", "filename": "@D@/a.qcow2"}, "backing": "e"}}, {"execute": "query-named-block-nodes"}, {"execute": "query-blockstats", "arguments": {"query-nodes": true}}, {"execute": "blockdev-del", "arguments": {"node-name": "e"}}, {"execute": "blockdev-del", "arguments": {"node-name": "f"}}, {"execute": "blockdev-del", "arguments": {"node-name": "e"}}, {"execute": "blockdev-del", "arguments": {"node-name": "d"}}, {"execute": "blockdev-add", "arguments": "x"}, {"execute": "blockdev-add"}, {"execute": "query-named-block-nodes"}]') + [dele("e")],
     ["Invalid parameter type for 'file', expected: BlockdevRef",
      "Parameter 'backing' is unexpected"]),
    ("-blockdev JSON (libvirt)",
     ["-blockdev", json.dumps(LIBVIRT_FILE), "-blockdev", json.dumps(LIBVIRT_FMT)],
     [NB, QB, dele("libvirt-1-format"), dele("libvirt-1-storage")],
     ['"node-name": "libvirt-1-storage"']),
    ("-blockdev key=value",
     ["-blockdev", "driver=file,filename=@D@/a.qcow2,node-name=s1",
      "-blockdev", "driver=qcow2,file=s1,node-name=f1",
      "-blockdev", "driver=raw,node-name=r,file.driver=file,file.filename=@D@/b.raw"],
     [NB_TREE], ['"node-name": "f1"']),
]

def hmp(line):
    return {"execute": "human-monitor-command", "arguments": {"command-line": line}}


def cmd(name, **args):
    return {"execute": name, "arguments": args}


DRIVES = ["-drive", "file=@D@/a.qcow2,if=none,id=disk0",
          "-drive", "file=@D@/b.raw,format=raw,if=none,id=nd,cache=writethrough",
          "-drive", "if=none,id=empty", "-drive", "file=@D@/top.qcow2,if=none,id=chain,readonly=on"]
SESSIONS += [
    ("-drive if=none: query-block, info block, media, resize", DRIVES,
     [QB, hmp("info block"), hmp("info block disk0"), hmp("info blockstats"), NB,
      cmd("eject", device="nope"), cmd("eject", device="nd"), cmd("eject"), cmd("eject", id="x"),
      cmd("blockdev-change-medium", device="empty", filename="@D@/nope"),
      cmd("blockdev-change-medium", device="empty", filename="@D@/c.qcow2", format="qcow2"),
      cmd("blockdev-change-medium", device="nd", filename="@D@/b.raw", format="raw",
          **{"read-only-mode": "read-only"}),
      QB, hmp("info block"),
      cmd("block_resize", device="nope", size=1048576),
      cmd("block_resize", device="disk0", size=1000),
      cmd("block_resize", device="disk0", size=-512),
      cmd("block_resize", device="disk0", size=134217728),
      cmd("block_resize", **{"node-name": "zz", "size": 1048576}),
      cmd("block_resize", size=1048576),
      cmd("block_resize", device="nd", size=1048576),
      hmp("block_resize disk0 256"), hmp("block_resize disk0 1x"), hmp("eject nope"),
      hmp("eject -f nd"), hmp("change nope @D@/b.raw"), hmp("change empty @D@/nope"), hmp("change nd -f @D@/b.raw raw"),
      cmd("blockdev-open-tray", device="disk0"), cmd("blockdev-close-tray", device="disk0"),
      cmd("blockdev-remove-medium", id="x"),
      QB, hmp("info block")],
     ["Device 'nope' not found", "Need exactly one of 'device' and 'id'",
      "The new size must be a multiple of 512", "Cannot find device='nope' nor node-name=''",
      '"virtual-size": 268435456']),
]

CMDLINE_ERRORS = [
    ["-drive", "file=@D@/b.raw,if=foo"],
    ["-drive", "file=@D@/b.raw,format=raw,if=ide"],
    ["-hda", "@D@/b.raw"],
    ["-drive", "file=@D@/b.raw,format=raw,if=ide,unit=2"],
    ["-drive", "file=@D@/b.raw,format=raw,media=foo,if=none"],
    ["-drive", "file=@D@/b.raw,format=raw,werror=foo,if=none"],
    ["-drive", "file=@D@/b.raw,format=raw,rerror=enospc,if=none"],
    ["-drive", "file=@D@/b.raw,format=raw,foo=bar,if=none"],
    ["-drive", "file=@D@/nope.img,if=none"],
    ["-drive", "file=@D@/b.raw,format=raw,id=x,if=none", "-drive", "file=@D@/a.qcow2,id=x,if=none"],
    ["-drive", "file=@D@/b.raw,format=raw,if=none,cache=foo"],
    ["-drive", "file=@D@/b.raw,format=raw,if=none,aio=native"],
    ["-drive", "file=@D@/b.raw,format=raw,if=none,index=1,unit=1"],
    ["-drive", "file=@D@/b.raw,format=raw,if=none,id=1x"],
    ["-drive", "file=@D@/b.raw,format=raw,if=scsi"],
    ["-blockdev", "driver=file,filename=@D@/nope,node-name=x"],
    ["-blockdev", "driver=qcow2,file=zz,node-name=x"],
    ["-blockdev", "driver=file,filename=@D@/a.qcow2"],
    ["-blockdev", "driver=bogus,node-name=x"],
    ["-blockdev", "driver=file,filename=@D@/a.qcow2,node-name=s,foo=bar"],
    ["-blockdev", "driver=file,node-name=s"],
    ["-blockdev", "driver=file,filename=@D@/a.qcow2,node-name=s",
     "-blockdev", "driver=file,filename=@D@/b.raw,node-name=s"],
]


def main():
    passed = failed = 0
    if not KEMU or not IMG:
        print("SKIP: need KEMU and qemu-img/kemu-img")
        print("0 passed, 0 failed")
        return 0
    d = tempfile.mkdtemp(prefix="kemu-blk-")
    try:
        cases = [(n, a, c, e, True) for n, a, c, e in SESSIONS]
        cases += [("cmdline error %s" % " ".join(a), a, [], [], False) for a in CMDLINE_ERRORS]
        for name, args, cmds, expect, session in cases:
            make_images(d)
            k = run(KEMU, d, args, cmds)
            if not session:
                # QEMU's QMP greeting races with a start-up error (its monitor
                # attaches from an I/O thread): compare the error only
                k = (k[0], [x for x in k[1] if not x.startswith('{"QMP"')], k[2])
            ok = True
            why = ""
            if QEMU:
                make_images(d)
                q = run(QEMU, d, args, cmds)
                if not session:
                    q = (q[0], [x for x in q[1] if not x.startswith('{"QMP"')], q[2])
                if k != q:
                    ok = False
                    why = "differs from QEMU"
                    for i, (x, y) in enumerate(zip(k[1] + k[2], q[1] + q[2])):
                        if x != y:
                            why += "\n  kemu: %s\n  qemu: %s" % (x[:400], y[:400])
                            break
                    else:
                        why += "\n  kemu rc=%d %r\n  qemu rc=%d %r" % (k[0], k[1:], q[0], q[1:])
            else:
                text = "\n".join(k[1] + k[2])
                for e in expect:
                    if e.replace("@D@", d) not in text:
                        ok = False
                        why = "missing %r" % e
            if ok:
                passed += 1
                print("ok   %s" % name)
            else:
                failed += 1
                print("FAIL %s: %s" % (name, why))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
