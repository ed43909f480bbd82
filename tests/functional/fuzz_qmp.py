#!/usr/bin/env python3
"""QMP fuzz test: throws >= 100,000 random, mutated and malformed QMP
messages at a running kemu (or QEMU with --binary) and checks that every
one is answered or rejected and that the process stays up.

Each message is followed by a sentinel command with a unique id. Valid
commands must get exactly one reply carrying their own id before the
sentinel's; malformed ones are followed by a resync byte (0xFF, which QEMU's
qmp-spec documents as a way to reset the parser) and must produce at least
one error reply; the sentinel's reply proves the stream recovered. Many
messages are batched per write. Finishes well under 2 minutes.

Usage: fuzz_qmp.py [--count N] [--seed S] [--binary PATH]; KEMU env var.
Standard library only.
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402

SAFE_COMMANDS = [
    ("query-status", None), ("query-name", None), ("query-version", None),
    ("query-kvm", None), ("query-uuid", None), ("query-target", None),
    ("query-commands", None), ("query-chardev", None), ("query-cpus-fast", None),
    ("query-pci", None), ("query-block", None), ("query-blockstats", None),
    ("query-iothreads", None), ("query-migrate-capabilities", None),
    ("query-machines", None), ("query-current-machine", None),
    ("query-command-line-options", {"option": "machine"}),
    ("qom-list", {"path": "/"}), ("qom-list", {"path": "/machine/peripheral"}),
    ("qom-get", {"path": "/machine", "property": "type"}),
    ("qom-list-types", {"implements": "accel"}),
    ("device-list-properties", {"typename": "nosuch"}),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "events", "state": True}]}),
    ("human-monitor-command", {"command-line": "info status"}),
    ("human-monitor-command", {"command-line": "info kvm"}),
    ("human-monitor-command", {"command-line": "help stop"}),
    ("human-monitor-command", {"command-line": "print 1+2"}),
    ("human-monitor-command", {"command-line": "info chardev"}),
    ("stop", None), ("cont", None), ("qmp_capabilities", None),
    ("no-such-command", None), ("query-status", {"bogus": 1}),
    ("human-monitor-command", {"command-line": 42}),
]

HMP_WORDS = ["info", "status", "kvm", "name", "uuid", "cpus", "chardev", "registers", "mem",
             "tlb", "history", "qtree", "pci", "help", "?", "print", "p", "/x", "/d", "/c", "/3u",
             "/20xb", "/gx", "1+2", "(", ")", "$pc", "$eax", "$nosuch", "'a'", "'", "-f", "-a",
             "cpu", "0", "1", "-1", "0x7fffffffffffffff*2", "1/0", "5%0", "~0", "stop", "cont",
             "qom-get", "qom-list", "/machine", "type", "nmi", "system_wakeup", "ringbuf_read",
             "ringbuf_write", "nosuch", '"quoted str"', '"unterminated', "\\", "\x01", "",
             "balloon", "hotpluggable-cpus", "migrate_capabilities", "iothreads", "block"]

ALPHABET = b'{}[]:,"\'\\ 0123456789-+.eEtrufalsn\t\r\nabcxyz/\x00\x01\x7f\x80\xc3\xa9\xed\xf0\x9f\xfe\xff'


def rand_json(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice([None, True, False, rng.randint(-2**63, 2**64), rng.random() * 1e10,
                           "", "x" * rng.randint(0, 40), "\u00e9\U0001f600", "a\"b\\c\n"])
    if r < 0.65:
        return [rand_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {("k%d" % rng.randint(0, 9)): rand_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def random_hmp_line(rng):
    return " ".join(rng.choice(HMP_WORDS) for _ in range(rng.randint(0, 5)))


def valid_message(rng, ident):
    name, args = rng.choice(SAFE_COMMANDS)
    if rng.random() < 0.25:
        name, args = "human-monitor-command", {"command-line": random_hmp_line(rng)}
    req = {"execute": name, "id": ident}
    if args is not None:
        req["arguments"] = args
    elif rng.random() < 0.1:
        req["arguments"] = {}
    text = json.dumps(req, separators=rng.choice([(",", ":"), (", ", ": ")]))
    if rng.random() < 0.2 and "'" not in text and '\\"' not in text:
        text = text.replace('"', "'")       # QEMU accepts single-quoted strings
    return text.encode()


def structured_junk(rng):
    """Well-formed JSON that is not a valid QMP command."""
    choice = rng.random()
    if choice < 0.3:
        obj = rand_json(rng)
    elif choice < 0.6:
        obj = {"execute": rand_json(rng)}
        if rng.random() < 0.5:
            obj["arguments"] = rand_json(rng)
    else:
        name, _ = rng.choice(SAFE_COMMANDS)
        obj = {"execute": name, "arguments": {"k": rand_json(rng)}, rng.choice(["x", "exec-oob", "control"]): 1}
    return json.dumps(obj).encode()


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randint(0, len(data)) if data else 0
        if op < 0.3 and data:
            data[min(pos, len(data) - 1)] = rng.choice(ALPHABET)
        elif op < 0.55:
            data[pos:pos] = bytes([rng.choice(ALPHABET)])
        elif op < 0.75 and data:
            del data[pos:pos + rng.randint(1, 4)]
        elif op < 0.85:
            data = data[:pos]
        else:
            data += data[:rng.randint(0, len(data))]
    return bytes(data)


def garbage(rng):
    r = rng.random()
    if r < 0.05:
        return b"[" * rng.randint(1000, 1100) + b"]" * rng.randint(0, 50)
    if r < 0.08:
        return b'{"execute": "' + b"a" * rng.randint(10000, 200000) + b'"}'
    if r < 0.12:
        return b'{"id": ' + b"[" * 1030
    return bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 60)))


def is_dangerous(msg):
    # never let a mutation reach quit / HMP q
    low = msg.lower()
    return b"quit" in low or b'"q' in low or b"'q" in low or b"system_" in low


def loads_qemu(line):
    """json.loads, also accepting the bare inf/nan QEMU prints for doubles."""
    try:
        return json.loads(line)
    except ValueError:
        fixed = re.sub(rb'(?<=[:\[, ])-?(inf|nan)(?=[,\]} ])', b'null', line)
        try:
            return json.loads(fixed)
        except ValueError:
            raise AssertionError("unparsable reply %r" % (line[:300],))


class Fuzzer:
    def __init__(self, client, rng):
        self.c = client
        self.rng = rng
        self.sent = 0
        self.valid = 0
        self.replies = 0

    def make_batch(self, n, base):
        items = []
        out = []
        for i in range(n):
            ident = base + i
            kind = self.rng.random()
            if kind < 0.35:
                msg = valid_message(self.rng, ident)
                expect_id = ident
                resync = b"\n"
            else:
                if kind < 0.55:
                    msg = structured_junk(self.rng)
                elif kind < 0.85:
                    msg = mutate(self.rng, valid_message(self.rng, ident))
                else:
                    msg = garbage(self.rng)
                if is_dangerous(msg):
                    msg = b"@"
                expect_id = None
                resync = b"\xff\n"
            sentinel = ('{"execute":"query-name","id":"s%d"}\n' % ident).encode()
            out.append(msg + resync + sentinel)
            items.append((ident, expect_id, msg))
        return items, b"".join(out)

    def run_batch(self, n, base):
        items, data = self.make_batch(n, base)
        sock = self.c.sock
        sock.setblocking(False)
        pending = memoryview(data)
        idx = 0                      # next item awaiting its sentinel
        seen = []                    # replies since the previous sentinel
        deadline = time.time() + 60
        while idx < len(items):
            if time.time() > deadline:
                raise AssertionError("timeout: no sentinel for message %r" % (items[idx][2][:200],))
            want_w = [sock] if pending else []
            r, w, _ = select.select([sock], want_w, [], 5)
            if w and pending:
                try:
                    k = sock.send(pending[:65536])
                    pending = pending[k:]
                except BlockingIOError:
                    pass
            if not r:
                continue
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise AssertionError("kemu closed the connection after %r" % (items[idx][2][:200],))
            self.c.buf += chunk
            while b"\r\n" in self.c.buf:
                line, self.c.buf = self.c.buf.split(b"\r\n", 1)
                self.replies += 1
                msg = loads_qemu(line)
                if "event" in msg:
                    continue
                ident, expect_id, sent = items[idx]
                if msg.get("id") == "s%d" % ident:
                    if expect_id is not None:
                        ids = [m.get("id") for m in seen]
                        if ids != [expect_id]:
                            raise AssertionError("message %r: replies %r" % (sent, seen))
                        self.valid += 1
                    elif not seen:
                        raise AssertionError("message %r got no reply" % (sent,))
                    seen = []
                    idx += 1
                    self.sent += 1
                else:
                    if not ("return" in msg or "error" in msg):
                        raise AssertionError("unexpected message %r" % (msg,))
                    seen.append(msg)
        sock.setblocking(True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "20261122")))
    ap.add_argument("--binary", default=os.environ.get("KEMU"))
    args = ap.parse_args()
    if not args.binary:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        args.binary = os.path.join(root, "build", "kemu-system-x86_64")
    if not os.path.exists(args.binary):
        print("SKIP: %s not found" % args.binary)
        return 77
    tmp = tempfile.mkdtemp(prefix="kemu-fuzz-")
    sockpath = os.path.join(tmp, "qmp.sock")
    proc = subprocess.Popen([args.binary, "-machine", "none", "-S", "-nodefaults", "-display", "none",
                             "-qmp", "unix:%s,server=on,wait=off" % sockpath],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rng = random.Random(args.seed)
    start = time.time()
    try:
        c = QMPClient("unix:" + sockpath)
        c.negotiate()
        f = Fuzzer(c, rng)
        base = 0
        while f.sent < args.count:
            n = min(args.batch, args.count - f.sent)
            f.run_batch(n, base)
            base += n
            if proc.poll() is not None:
                raise AssertionError("process exited with %s" % proc.returncode)
        r = c.cmd("query-status")
        assert r["return"]["status"] in ("prelaunch", "running", "paused"), r
        elapsed = time.time() - start
        print("fuzz_qmp: %d messages (%d valid commands), %d replies, seed %d, %.1fs"
              % (f.sent, f.valid, f.replies, args.seed, elapsed))
        assert proc.poll() is None, "process died"
        c.cmd("quit")
        rc = proc.wait(10)
        assert rc == 0, "exit status %r" % rc
        return 0
    except AssertionError as e:
        print("FAIL (seed %d): %s" % (args.seed, e))
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        if err.strip():
            print("stderr:", err[-2000:])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
