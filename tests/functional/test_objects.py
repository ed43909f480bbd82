#!/usr/bin/env python3
"""User-creatable objects: -object (key=value and JSON), object-add,
object-del, query-memdev, query-iothreads, qom-list /objects, and the
machine's RAM on a memory backend (-machine memory-backend=ID, as libvirt
starts guests). Each QMP session runs against kemu and, when installed,
QEMU 7.2; replies are compared after normalising what differs by nature
(timestamps, thread ids, version) and sorting qom-list (QEMU lists a hash
table). A memory-backend-memfd guest also runs a multiboot payload to its
end, so the backend really is the RAM.
Environment: KEMU, QEMU ("none" skips the reference). Standard library only.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp_client import find_binaries  # noqa: E402
from demo_guest import Results  # noqa: E402
KEMU, QEMU = find_binaries()


def cmd(name, **args):
    return {"execute": name, "arguments": args} if args else {"execute": name}


def norm(line):
    try:
        v = json.loads(line)
        ret = v.get("return")
        if isinstance(ret, list) and ret and isinstance(ret[0], dict):
            key = "name" if "name" in ret[0] else "id"      # QEMU lists hash tables
            ret.sort(key=lambda e: e.get(key, ""))
            line = json.dumps(v)
    except ValueError:
        pass
    line = re.sub(r'"seconds": \d+, "microseconds": \d+', '"seconds": S, "microseconds": U', line)
    line = re.sub(r'"thread-id": \d+', '"thread-id": T', line)
    line = re.sub(r'thread_id=\d+', 'thread_id=T', line)
    line = re.sub(r'"micro": \d+', '"micro": M', line)
    line = re.sub(r'"package": "[^"]*"', '"package": "P"', line)
    return line


def session(binary, args, cmds):
    script = "".join(json.dumps(c) + "\n" for c in [cmd("qmp_capabilities")] + cmds + [cmd("quit")])
    p = subprocess.run([binary, "-nodefaults", "-display", "none", "-S", "-qmp", "stdio"] + args,
                       input=script.encode(), capture_output=True, timeout=30)
    return p.returncode, [norm(x) for x in p.stdout.decode().splitlines()]


SESSIONS = [
    ("object-add/del, query-memdev, query-iothreads, qom-list /objects",
     ["-object", "iothread,id=io0", "-object",
      '{"qom-type":"memory-backend-ram","id":"m0","size":1048576,"share":true}'],
     [cmd("object-add", **{"qom-type": "iothread", "id": "io1"}),
      cmd("object-add", **{"qom-type": "iothread", "id": "io1"}),
      cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "m2", "size": 2097152,
                           "prealloc": True, "merge": False}),
      cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "m3"}),
      cmd("object-add", **{"qom-type": "nope", "id": "m3"}),
      cmd("object-add", **{"qom-type": "iothread", "id": "m4", "bogus": 1}),
      cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "m5", "size": "1M"}),
      cmd("object-add", **{"qom-type": "memory-backend-ram", "id": "m6", "size": 4096,
                           "share": "yes"}),
      cmd("object-add", **{"id": "m7"}),
      cmd("query-iothreads"), cmd("qom-list", path="/objects"),
      cmd("object-del", id="io1"), cmd("object-del", id="io1"), cmd("object-del", id="pc.ram"),
      cmd("object-del", id="m2"), cmd("query-iothreads"),
      cmd("human-monitor-command", **{"command-line": "info iothreads"}),
      cmd("human-monitor-command", **{"command-line": "object_add iothread,id=io9"}),
      cmd("human-monitor-command", **{"command-line": "object_add iothread,id=io9"}),
      cmd("human-monitor-command", **{"command-line": "object_del io9"})]),
    ("libvirt's RAM backend", ["-m", "256", "-machine", "pc-i440fx-7.2,memory-backend=pc.ram",
                               "-object", '{"qom-type":"memory-backend-ram","id":"pc.ram",'
                                          '"size":268435456}'],
     [cmd("query-memdev"), cmd("qom-list", path="/objects"), cmd("object-del", id="pc.ram"),
      cmd("query-memory-size-summary")]),
]


def main():
    r = Results()
    if not KEMU:
        print("SKIP: no kemu binary")
        return r.summary()
    for name, args, cmds in SESSIONS:
        k = session(KEMU, args, cmds)
        if QEMU:
            q = session(QEMU, args + ["-machine", "accel=tcg"], cmds)
            diff = next(((a, b) for a, b in zip(k[1], q[1]) if a != b), None)
            r.check(name, k == q, f"kemu: {diff[0][:300]}\n  qemu: {diff[1][:300]}" if diff
                    else f"kemu {k}\n qemu {q}")
        else:
            r.check(name, k[0] == 0 and any('"return"' in x for x in k[1]), k)
    # the backend is the RAM: the "modes" payload (it writes page tables
    # and stacks all over its RAM) gives its golden output on memfd RAM
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
    import run_payloads as rp
    with tempfile.TemporaryDirectory() as d:
        elf, err = rp.build_payload("modes", d)
        if not elf:
            r.check("modes payload built", False, err)
        else:
            args = [KEMU] + rp.accel_args("tcg") + rp.COMMON_ARGS + rp.PAYLOADS["modes"] + [
                "-machine", "memory-backend=mem",
                "-object", "memory-backend-memfd,id=mem,size=128M,share=on", "-kernel", elf]
            p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            got = rp.format_result(rp.normalise(p.stdout), p.returncode)
            with open(rp.golden_path("modes", "tcg")) as f:
                want = f.read()
            r.check("a payload runs with its RAM on memory-backend-memfd", got == want,
                    f"got {got[-300:]!r}")
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
