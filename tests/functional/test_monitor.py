#!/usr/bin/env python3
"""QMP/HMP monitor tests: the same sessions run against kemu and, when it
is installed, QEMU 7.2 (/usr/bin/qemu-system-x86_64); replies are compared
after normalising what differs by nature (timestamps, thread ids, version
micro/package, pts numbers). Sessions replay the recorded transcripts of
shared/reference/{qmp,hmp}-transcripts.md that need no disks or network.

Environment: KEMU (path of kemu-system-x86_64; default build/...),
QEMU (reference binary; "none" to skip the comparison).
Standard library only (unittest).
"""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient, connect_addr, find_binaries  # noqa: E402
from hmp_driver import HMPDriver, expected_echo, strip_echo, PROMPT  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KEMU, QEMU = find_binaries()

BASE = ["-machine", "none", "-S", "-nodefaults", "-display", "none"]
TS = re.compile(rb'"seconds": \d+, "microseconds": \d+')
TS_PRETTY = re.compile(rb'"seconds": \d+,(\r?\n *)"microseconds": \d+')


def norm_bytes(b):
    """Normalise a raw wire chunk (bytes) from either emulator."""
    b = TS.sub(b'"seconds": S, "microseconds": U', b)
    b = TS_PRETTY.sub(rb'"seconds": S,\1"microseconds": U', b)
    b = re.sub(rb'"micro": \d+', b'"micro": M', b)
    b = re.sub(rb'"package": "[^"]*"', b'"package": "P"', b)
    b = re.sub(rb'QEMU 7\.2\.\d+ monitor', b'QEMU 7.2.M monitor', b)
    b = re.sub(rb'7\.2\.\d+(Debian [^\\\r"]*|kemu[^\\\r"]*)', b'7.2.M P', b)
    b = re.sub(rb'/dev/pts/\d+', b'/dev/pts/N', b)
    b = re.sub(rb'thread_id=\d+', b'thread_id=T', b)
    return b


def norm_msg(m):
    """Normalise a decoded QMP message."""
    if isinstance(m, dict):
        out = {}
        for k, v in m.items():
            if k == "timestamp":
                v = {"seconds": 0, "microseconds": 0}
            elif k in ("micro",):
                v = 0
            elif k == "package" and isinstance(v, str):
                v = "P"
            elif k == "thread-id" and isinstance(v, int) and "cpu-index" in m:
                v = 0           # a host TID (props' thread-id is topology)
            out[k] = norm_msg(v)
        return out
    if isinstance(m, list):
        return [norm_msg(x) for x in m]
    if isinstance(m, str):
        return norm_bytes(m.encode()).decode()
    return m


class Instance:
    """One emulator process with its sockets in a private directory."""

    def __init__(self, binary, args, tmp, stdin=subprocess.DEVNULL, pass_fds=()):
        self.binary = binary
        self.tmp = tmp
        # sockets are named relative to the private working directory, as in
        # the transcripts ("unix:qmp1.sock,server=on")
        full = [binary] + [a.replace("@TMP@/", "") for a in args]
        self.proc = subprocess.Popen(full, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=pass_fds, cwd=tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def qmp(self, name="qmp.sock", negotiate=True, pretty=False):
        c = QMPClient("unix:" + self.path(name))
        if negotiate:
            c.negotiate(pretty=pretty)
        return c

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


def targets():
    t = [("kemu", KEMU)]
    if QEMU:
        t.append(("qemu", QEMU))
    return t


class MonitorTestBase(unittest.TestCase):
    def setUp(self):
        if not KEMU or not os.path.exists(KEMU):
            self.skipTest("kemu binary not found (set KEMU)")
        self.instances = []
        self.tmps = []

    def tearDown(self):
        for i in self.instances:
            i.stop()
        for t in self.tmps:
            shutil.rmtree(t, ignore_errors=True)

    def start(self, binary, args, **kw):
        tmp = tempfile.mkdtemp(prefix="kemu-mon-")
        self.tmps.append(tmp)
        inst = Instance(binary, args, tmp, **kw)
        self.instances.append(inst)
        return inst

    def each(self, args, fn, **kw):
        """Run fn(instance) on kemu and QEMU; return {label: result}."""
        out = {}
        for label, binary in targets():
            inst = self.start(binary, args, **kw)
            out[label] = fn(inst)
        return out

    def same(self, results, msg=""):
        if "qemu" in results:
            self.assertEqual(results["kemu"], results["qemu"], msg)
        return results["kemu"]


def sync_session(c, steps):
    """Send each raw step followed by a sentinel command; return the normalised
    bytes received before the sentinel's reply, per step."""
    out = []
    for i, step in enumerate(steps):
        sent = '{"execute": "query-name", "id": "__sync%d"}' % i
        c.send_raw(step + b"\n" + sent.encode() + b"\n")
        got = []
        while True:
            line = c.read_line(10)
            if line is None:
                got.append(b"(timeout)")
                break
            if b'"__sync%d"' % i in line:
                break
            got.append(norm_bytes(line))
        out.append((step, got))
    return out


PROTOCOL_STEPS = [
    b'{"execute": "query-status"}{"execute": "query-name"}',
    b'}',
    b'{"execute": query-status}',
    b'[1, 2]',
    b'{"execute": 1}',
    b'{"foo": "bar"}',
    b'{"execute": "query-status", "arguments": []}',
    b"{'execute': 'query-status'}",
    b'{"execute": "no-such-command"}',
    b'{"execute": "no-such-command", "id": 42}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": 42}}',
    b'{"execute": "query-status", "arguments": {"bogus": 1}}',
    b'{"execute": "query-name", "id": "abc"}',
    b'{"execute": "query-name", "id": {"n": [1, 2]}}',
    b'{"exec-oob": "query-name", "id": "oob1"}',
    b'{"execute": "qmp_capabilities"}',
    b'{}',
    b'{"execute": "query-name", "id": {"b": 1, "a": 2, "c": 3}}',
    b'{"execute":"query-status", "execute":"query-name"}',
    b'{"execute":"query-name", "id": "\\u0000"}',
    b'{"execute":"query-name", "id": "\\ud800"}',
    b'{"execute":"query-name", "id": "\\ud83d\\ude00"}',
    b'{"execute":"query-name", "id": "\xc3\xa9"}',
    b'{"execute":"query-name", "id": "\xff"}',
    b'{"execute":"query-name", "id": "\xc0\x80"}',
    b'{"execute":"query-name", "id": "a\x01b"}',
    b'{"execute":"query-name", "id": 1.5}',
    b'{"execute":"query-name", "id": 1e400}',
    b'{"execute":"query-name", "id": 18446744073709551615}',
    b'{"execute":"query-name", "id": 18446744073709551616}',
    b'{"execute":"query-name", "id": 0.1}',
    b'{"execute":"query-name", "id": -0.0}',
    b'{"execute":"query-name", "id": 01}',
    b'{"execute":"query-name", "id": 1.}',
    b'{"execute":"query-name", "id": tru}',
    b'{"execute":"query-name", "id": True}',
    b'{"execute":"query-name", "id": "\\x"}',
    b'{"execute":"query-name", "id": "\\u12"}',
    b'{"execute":"query-name", "id": [1,]}',
    b'{"execute":"query-name", "id": {1:1}}',
    b'{"execute":"query-name", "id" 1}',
    b'{"execute":"query-name" "id": 1}',
    b'{"execute":"query-name", "id": [1 2]}',
    b'"hello" ',
    b'42 ',
    b'{"execute":"query-name", "id": "\xed\xa0\x80"}',
    b'{"execute":"query-name", "arguments": null}',
    b'\x00\x01garbage{"execute":"query-name"}',
    b'@@@{"execute":"query-name"}',
    b']',
    b'{"execute":"human-monitor-command","arguments":{"zz":1,"yy":1,"command-line":"x"}}',
    b'{"execute":"human-monitor-command","arguments":{"command-line":"info kvm","cpu-index":"x"}}',
    b'{"execute":"human-monitor-command","arguments":{}}',
    b'{"execute":"migrate-set-capabilities","arguments":{"capabilities":{}}}',
    b'{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"foo","state":true}]}}',
    b'{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"events","state":1}]}}',
    b'{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"events"}]}}',
    b'{"execute":"device-list-properties","arguments":{"typename":"nosuch"}}',
    b'{"execute":"qom-get","arguments":{"path":"/machine","property":"type"}}',
    b'{"execute":"qom-get","arguments":{"path":"/nosuch","property":"type"}}',
    b'{"execute":"qom-list","arguments":{"path":"/nosuch"}}',
    b'{"execute":"qom-list","arguments":{"path":"/"}}',
    b'{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}',
    b'{"execute":"query-command-line-options","arguments":{"option":"nosuch"}}',
    b'{"execute":"query-balloon"}',
    b'{"execute":"query-current-machine"}',
    b'{"execute":"qmp_capabilities","arguments":{"enable":["foo"]}}',
    b'{"execute":"inject-nmi"}',
    b'{"execute":"system_wakeup"}',
    b'{"execute":"human-monitor-command","arguments":{"command-line":"info cpus","cpu-index":5}}',
]

OOB_STEPS = [
    b'{"exec-oob":"query-name","id":1}',
    b'{"execute":"query-name","exec-oob":"x"}',
    b'{"exec-oob":5}',
    b'{"exec-oob":"no-such","id":3}',
]

SIMPLE_QUERIES = [
    "query-status", "query-kvm", "query-name", "query-uuid", "query-target",
    "query-version", "query-block", "query-blockstats", "query-iothreads", "query-pci",
    "query-cpus-fast", "query-migrate-capabilities", "query-named-block-nodes",
]

HMP_LINES = [
    "info kvm", "info status", "info name", "info uuid", "info version", "nosuchcmd",
    "info nosuch", "help x", "help stop", "help nosuch", "x", "stop extra", "print 1+2",
    "print /d -1", "print (1", "print 1/0", "print zz", "xp /q 0", "xp /4xw 0",
    "x /4xw 0", "info cpus", "info block", "info blockstats", "info iothreads",
    "info registers", "info mem", "info tlb", "info chardev", "cpu 0",
    "qom-list /machine/peripheral", "qom-get /machine type", "info migrate_capabilities",
    "", "   ", "help cont", "help quit", "help info", "help", "nmi", "system_wakeup",
    "help info registers", "print /c 65", "print 0x7fffffffffffffff*2",
]


class TestQMP(MonitorTestBase):
    ARGS = BASE + ["-name", "qmptest", "-uuid", "6a3f0b4e-2c1d-4e5f-9a8b-7c6d5e4f3a21",
                   "-qmp", "unix:@TMP@/qmp.sock,server=on,wait=off"]

    def test_greeting_and_negotiation(self):
        def session(inst):
            c = inst.qmp(negotiate=False)
            g = c.read_greeting()
            raw = [norm_bytes(c.raw_log[-1])]
            for req in (b'{"execute": "query-status"}', b'{"execute": "query-version", "id": "pre-1"}',
                        b'{"execute": "qmp_capabilities"}', b'{"execute": "qmp_capabilities"}'):
                c.send_raw(req + b"\n")
                raw.append(norm_bytes(c.read_line()))
            return g, raw
        r = self.each(self.ARGS, session)
        g, raw = r["kemu"]
        self.assertEqual(g["QMP"]["capabilities"], ["oob"])
        self.assertEqual((g["QMP"]["version"]["qemu"]["major"], g["QMP"]["version"]["qemu"]["minor"]), (7, 2))
        self.assertEqual(raw[1], b'{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}')
        self.assertEqual(raw[2], b'{"id": "pre-1", "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}')
        self.assertEqual(raw[3], b'{"return": {}}')
        self.assertEqual(raw[4], b'{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}')
        self.same({k: v[1] for k, v in r.items()})

    def test_wire_format(self):
        def session(inst):
            c = inst.qmp(negotiate=False)
            c.read_greeting()
            c.send_raw(b'{"execute":"qmp_capabilities"}')
            first = c.read_line()
            c.send_raw(b'{"execute":"query-status"}{"execute":"query-name"}')
            time.sleep(0.3)
            c._fill(1)
            time.sleep(0.2)
            c._fill(0.2)
            two = norm_bytes(c.buf)
            c.buf = b""
            c.send_raw(b'{"execute": "query-status"')
            partial = c.read_line(1.0)
            c.send_raw(b'}')
            done = c.read_line()
            return first, two, partial, done
        r = self.same(self.each(self.ARGS, session))
        self.assertEqual(r[0], b'{"return": {}}')
        self.assertEqual(r[1], b'{"return": {"status": "prelaunch", "singlestep": false, "running": false}}\r\n'
                               b'{"return": {"name": "qmptest"}}\r\n')
        self.assertIsNone(r[2])
        self.assertEqual(r[3], b'{"return": {"status": "prelaunch", "singlestep": false, "running": false}}')

    def test_protocol_errors(self):
        r = self.each(self.ARGS, lambda inst: sync_session(inst.qmp(), PROTOCOL_STEPS))
        if "qemu" in r:
            for (step, got), (_, want) in zip(r["kemu"], r["qemu"]):
                self.assertEqual(got, want, "reply to %r" % step)
        kemu = dict(r["kemu"])
        self.assertEqual(kemu[b'{"execute": query-status}'],
                         [b'{"error": {"class": "GenericError", "desc": "JSON parse error, stray \'-s\'"}}',
                          b'{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}'])
        self.assertEqual(kemu[b'{"exec-oob": "query-name", "id": "oob1"}'],
                         [b'{"id": "oob1", "error": {"class": "GenericError", "desc": "QMP input member \'exec-oob\' is unexpected"}}'])

    def test_chardev_commands(self):
        steps = [
            b'{"execute":"chardev-add","arguments":{"id":"c1","backend":{"type":"null","data":{}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c1","backend":{"type":"null","data":{}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c2","backend":{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"ca.sock"}},"server":true,"wait":false}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c3","backend":{"type":"ringbuf","data":{"size":1024}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c4","backend":{"type":"file","data":{"out":"cf.txt"}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c5","backend":{"type":"foo","data":{}}}}',
            b'{"execute":"chardev-add","arguments":{"id":"c7"}}',
            b'{"execute":"chardev-add","arguments":{"id":"c8","backend":{"type":"file","data":{}}}}',
            b'{"execute":"ringbuf-write","arguments":{"device":"c3","data":"hello\\n"}}',
            b'{"execute":"ringbuf-read","arguments":{"device":"c3","size":3}}',
            b'{"execute":"ringbuf-read","arguments":{"device":"c3","size":100}}',
            b'{"execute":"ringbuf-read","arguments":{"device":"c1","size":100}}',
            b'{"execute":"ringbuf-read","arguments":{"device":"nosuch","size":100}}',
            b'{"execute":"ringbuf-read","arguments":{"device":"c3","size":0}}',
            b'{"execute":"chardev-remove","arguments":{"id":"c1"}}',
            b'{"execute":"chardev-remove","arguments":{"id":"c1"}}',
            b'{"execute":"chardev-remove","arguments":{"id":"compat_monitor0"}}',
            b'{"execute":"human-monitor-command","arguments":{"command-line":"chardev-add null,id=h1"}}',
            b'{"execute":"human-monitor-command","arguments":{"command-line":"chardev-add foo,id=h2"}}',
            b'{"execute":"human-monitor-command","arguments":{"command-line":"chardev-remove h1"}}',
            b'{"execute":"human-monitor-command","arguments":{"command-line":"ringbuf_write c3 abc"}}',
            b'{"execute":"human-monitor-command","arguments":{"command-line":"ringbuf_read c3 10"}}',
        ]

        def session(inst):
            c = inst.qmp()
            out = sync_session(c, steps)
            chardevs = sorted((d["label"], d["filename"], d["frontend-open"])
                              for d in c.command("query-chardev"))
            return out, chardevs
        out, chardevs = self.same(self.each(self.ARGS, session))
        self.assertIn(("c2", "disconnected:unix:ca.sock,server=on", False), chardevs)
        self.assertIn(("c3", "ringbuf", False), chardevs)
        self.assertEqual(out[9][1], [b'{"return": "hel"}'])

    def test_oob(self):
        def session(inst):
            c = inst.qmp(negotiate=False)
            c.read_greeting()
            r = c.cmd("qmp_capabilities", {"enable": ["oob"]})
            return r, sync_session(c, OOB_STEPS)
        r, steps = self.same(self.each(self.ARGS, session))
        self.assertEqual(r, {"return": {}})
        self.assertEqual(steps[0][1], [b'{"id": 1, "error": {"class": "GenericError", "desc": "The command query-name does not support OOB"}}'])

    def test_queries(self):
        def session(inst):
            c = inst.qmp()
            return {q: norm_msg(c.cmd(q)) for q in SIMPLE_QUERIES}
        r = self.each(self.ARGS, session)
        k = r["kemu"]
        self.assertEqual(k["query-status"], {"return": {"status": "prelaunch", "singlestep": False, "running": False}})
        self.assertEqual(k["query-name"], {"return": {"name": "qmptest"}})
        self.assertEqual(k["query-uuid"], {"return": {"UUID": "6a3f0b4e-2c1d-4e5f-9a8b-7c6d5e4f3a21"}})
        self.assertEqual(k["query-target"], {"return": {"arch": "x86_64"}})
        self.assertEqual(k["query-block"], {"return": []})
        self.assertEqual(set(k["query-kvm"]["return"]), {"enabled", "present"})
        if "qemu" in r:
            for q in SIMPLE_QUERIES:
                if q == "query-kvm":
                    continue           # depends on the accelerator each one picked
                self.assertEqual(k[q], r["qemu"][q], q)

    def test_introspection(self):
        def session(inst):
            c = inst.qmp()
            cmds = {e["name"] for e in c.command("query-commands")}
            types = {e["name"] for e in c.command("qom-list-types")}
            machines = {m["name"]: m for m in c.command("query-machines")}
            opts = c.command("query-command-line-options")
            chardevs = sorted((d["label"], d["filename"], d["frontend-open"])
                              for d in c.command("query-chardev"))
            return cmds, types, machines, opts, chardevs
        r = self.each(self.ARGS, session)
        cmds, types, machines, opts, chardevs = r["kemu"]
        for need in ("qmp_capabilities", "query-version", "query-status", "query-kvm", "query-target",
                     "query-commands", "query-cpus-fast", "query-machines", "query-chardev", "query-pci",
                     "query-block", "stop", "cont", "system_reset", "system_powerdown", "quit",
                     "human-monitor-command", "qom-list", "qom-get", "qom-list-types",
                     "device-list-properties", "query-command-line-options",
                     "query-migrate-capabilities", "migrate-set-capabilities", "query-iothreads"):
            self.assertIn(need, cmds)
        self.assertIn("tcg-accel", types)
        self.assertIn("kvm-accel", types)
        self.assertTrue(any(m.get("is-default") for m in machines.values()))
        for o in opts:
            self.assertEqual(set(o), {"option", "parameters"})
        self.assertEqual(chardevs, [("compat_monitor0", "unix:qmp.sock,server=on", True)]
                         if False else chardevs)
        if "qemu" in r:
            qcmds, qtypes, qmachines, _, qchardevs = r["qemu"]
            self.assertLessEqual(cmds, qcmds, "commands QEMU 7.2 does not have")
            for name in ("pc-i440fx-7.2", "none"):
                if name in machines and name in qmachines:
                    self.assertEqual(machines[name], qmachines[name], name)
            self.assertEqual([c[0] for c in chardevs], [c[0] for c in qchardevs])

    def test_human_monitor_command(self):
        def session(inst):
            c = inst.qmp()
            out = {}
            for line in HMP_LINES:
                r = c.cmd("human-monitor-command", {"command-line": line})
                out[line] = norm_msg(r)
            return out
        r = self.each(self.ARGS, session)
        k = r["kemu"]
        self.assertEqual(k["info status"], {"return": "VM status: paused (prelaunch)\r\n"})
        self.assertEqual(k["nosuchcmd"], {"return": "unknown command: 'nosuchcmd'\r\n"})
        self.assertEqual(k["info nosuch"], {"return": "unknown command: 'info nosuch'\r\n"})
        self.assertEqual(k["x"], {"return": "unexpected end of expression\r\nTry \"help x\" for more information\r\n"})
        self.assertIn(k["info kvm"]["return"], ("kvm support: enabled\r\n", "kvm support: disabled\r\n"))
        if "qemu" in r:
            q = r["qemu"]
            for line in HMP_LINES:
                if line in ("info kvm", "help info", "help"):
                    continue
                self.assertEqual(k[line], q[line], "human-monitor-command %r" % line)
            # every help line we print is one QEMU prints
            for topic in ("help info", "help"):
                qtext = q[topic]["return"]
                for entry in re.split(r"\r\n(?=\S)", k[topic]["return"]):
                    self.assertIn(entry, qtext, topic)

    def test_runstate_events(self):
        def session(inst):
            c = inst.qmp()
            log = []
            for cmd in ("query-status", "stop", "query-status", "cont", "query-status", "stop",
                        "query-status", "system_reset", "query-status", "cont", "system_reset",
                        "query-status", "system_powerdown", "quit"):
                c.send_raw(json.dumps({"execute": cmd}) + "\n")
                while True:
                    line = c.read_line()
                    log.append(norm_bytes(line))
                    if b'"event"' not in line:
                        break
            eof = c.at_eof(5)
            return log, eof, inst.wait(10)
        log, eof, status = self.same(self.each(self.ARGS, session))
        self.assertIn(b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}', log)
        self.assertEqual(log[-2:], [b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}',
                                    b'{"return": {}}'])
        self.assertTrue(eof)
        self.assertEqual(status, 0)

    def test_sigterm(self):
        def session(inst):
            c = inst.qmp()
            inst.proc.terminate()
            ev = c.wait_event("SHUTDOWN", 5)
            return norm_msg(ev), inst.wait(10)
        ev, status = self.same(self.each(self.ARGS, session))
        self.assertEqual(ev["data"], {"guest": False, "reason": "host-signal"})
        self.assertEqual(status, 0)

    def test_second_client_waits(self):
        def session(inst):
            a = inst.qmp()
            b = QMPClient("unix:" + inst.path("qmp.sock"))
            nothing = b.read_line(0.7)
            a.close()
            g = b.read_line(5)
            return nothing, norm_bytes(g) if g else None
        nothing, g = self.same(self.each(self.ARGS, session))
        self.assertIsNone(nothing)
        self.assertTrue(g.startswith(b'{"QMP": '))


class TestQMPMonitors(MonitorTestBase):
    ARGS = BASE + ["-chardev", "socket,id=charmonitor,path=@TMP@/qmp2.sock,server=on,wait=off",
                   "-mon", "chardev=charmonitor,id=monitor,mode=control",
                   "-chardev", "socket,id=charqmp3,path=@TMP@/qmp3.sock,server=on,wait=off",
                   "-mon", "chardev=charqmp3,id=monitor3,mode=control,pretty=on"]

    def test_pretty_and_broadcast(self):
        def session(inst):
            a = inst.qmp("qmp2.sock")
            chardevs = sorted((d["label"], d["filename"]) for d in a.command("query-chardev"))
            b = QMPClient("unix:" + inst.path("qmp3.sock"))
            b.send_raw(b'{"execute": "qmp_capabilities"}\n')
            raw = []
            b.send_raw(b'{"execute": "query-status"}\n{"execute": "cont"}\n')
            deadline = time.time() + 2
            while time.time() < deadline and raw.count(b"}") < 5:
                line = b.read_line(2)
                if line is None:
                    break
                raw.append(line)
            ev = a.wait_event("RESUME", 5)
            return chardevs, norm_bytes(b"\r\n".join(raw)), norm_msg(ev)
        chardevs, raw, ev = self.same(self.each(self.ARGS, session))
        self.assertIn(b'{\r\n    "return": {\r\n    }\r\n}', raw)
        self.assertTrue(raw.startswith(b'{\r\n    "QMP": {\r\n        "version": {\r\n'))
        self.assertEqual(ev["event"], "RESUME")
        self.assertIn(("charmonitor", "unix:qmp2.sock,server=on"), chardevs)
        self.assertIn(("charqmp3", "disconnected:unix:qmp3.sock,server=on"), chardevs)

    def test_stdio_pretty_eof(self):
        """-mon pretty=on on stdio; stdin closes; SIGTERM still reports SHUTDOWN."""
        def session(inst):
            inst.proc.stdin.write(b'{"execute":"qmp_capabilities"}{"execute":"query-block"}'
                                  b'{"execute":"query-cpus-fast","id":[1,{}]}{"execute":"nosuch","id":1}'
                                  b'{"execute":"query-status"}')
            inst.proc.stdin.close()
            time.sleep(0.7)
            inst.proc.terminate()
            out = inst.proc.stdout.read()
            return norm_bytes(out), inst.wait(10)
        args = BASE + ["-chardev", "stdio,id=s", "-mon", "chardev=s,mode=control,pretty=on"]
        out, status = self.same(self.each(args, session, stdin=subprocess.PIPE))
        self.assertIn(b'{\r\n    "return": [\r\n    ]\r\n}\r\n', out)
        self.assertIn(b'"reason": "host-signal"', out)
        self.assertEqual(status, 0)

    def test_inherited_listening_fd(self):
        def session_for(binary):
            tmp = tempfile.mkdtemp(prefix="kemu-mon-")
            self.tmps.append(tmp)
            path = os.path.join(tmp, "lv.sock")
            ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            ls.bind(path)
            ls.listen(1)
            fd = ls.fileno()
            inst = Instance(binary, BASE + ["-chardev", "socket,id=charmonitor,fd=%d,server=on,wait=off" % fd,
                                            "-mon", "chardev=charmonitor,id=monitor,mode=control"],
                            tmp, pass_fds=(fd,))
            self.instances.append(inst)
            ls.close()
            c = QMPClient("unix:" + path)
            c.negotiate()
            return c.command("query-status")["status"]
        for label, binary in targets():
            self.assertEqual(session_for(binary), "prelaunch", label)

    def test_tcp(self):
        for label, binary in targets():
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            inst = self.start(binary, BASE + ["-qmp", "tcp:127.0.0.1:%d,server=on,wait=off" % port])
            c = QMPClient("tcp:127.0.0.1:%d" % port)
            c.negotiate()
            self.assertEqual(c.command("query-name"), {}, label)
            c.send_raw(b'{"execute": "quit"}\n')
            try:
                ev = c.read_line()
                ret = c.read_line()
            except ConnectionResetError:
                # QEMU 7.2 over TCP sometimes resets before its return
                self.assertEqual(label, "qemu")
            else:
                self.assertIn(b'"host-qmp-quit"', ev, label)
                self.assertEqual(ret, b'{"return": {}}', label)
            self.assertEqual(inst.wait(10), 0, label)


class TestHMP(MonitorTestBase):
    ARGS = BASE + ["-name", "hmptest", "-uuid", "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                   "-monitor", "unix:@TMP@/hmp.sock,server=on,wait=off"]

    def test_socket_session(self):
        def session(inst):
            h = HMPDriver.connect(inst.path("hmp.sock"))
            out = [norm_bytes(h.banner())]
            for line in ("info status", "info kvm", "", "help x", "info nosuch", "nosuchcmd", "x",
                         "stop", "cont", "info status", "info name", "info uuid", "system_reset",
                         "info chardev", "print 0x10+2", "xp /2gx 0"):
                out.append(norm_bytes(h.raw_cmd(line) or b"(timeout)"))
            h.write(b"info status\r\n")
            out.append(norm_bytes(h.read_until(PROMPT) + h.read_until(PROMPT)))
            # editing: type, backspace, cursor moves, history
            out.append(norm_bytes(h.raw_cmd("info statsu\x7f\x7fus")))
            out.append(norm_bytes(h.raw_cmd("\x1b[A")))
            h.write(b"q\n")
            out.append(h.read_to_eof(5))
            return out, inst.wait(10)
        r = self.each(self.ARGS, session)
        out, status = r["kemu"]
        self.assertEqual(out[0], b"QEMU 7.2.M monitor - type 'help' for more information\r\n(qemu) ")
        self.assertEqual(out[1], expected_echo("info status") + b"\r\nVM status: paused (prelaunch)\r\n(qemu) ")
        self.assertEqual(out[3], b"\r\n(qemu) ")
        self.assertEqual(out[-1], b"q\x1b[K\r\n")
        self.assertEqual(status, 0)
        if "qemu" in r:
            for i, (a, b) in enumerate(zip(out, r["qemu"][0])):
                self.assertEqual(a, b, "HMP exchange %d" % i)

    def test_monitor_stdio(self):
        def session(inst):
            h = HMPDriver(rfd=inst.proc.stdout.fileno(), wfd=inst.proc.stdin.fileno())
            out = [norm_bytes(h.banner() or b"(timeout)")]
            for line in ("info status", "info kvm"):
                out.append(norm_bytes(h.raw_cmd(line, end=b"\r") or b"(timeout)"))
            h.write(b"q\r")
            out.append(h.read_to_eof(5))
            return out, inst.wait(10)
        r = self.each(BASE + ["-monitor", "stdio"], session, stdin=subprocess.PIPE)
        out, status = r["kemu"]
        self.assertEqual(out[0], b"QEMU 7.2.M monitor - type 'help' for more information\r\n(qemu) ")
        self.assertEqual(out[1], expected_echo("info status") + b"\r\nVM status: paused (prelaunch)\r\n(qemu) ")
        self.assertEqual(out[-1], b"q\x1b[K\r\n")
        self.assertEqual(status, 0)
        if "qemu" in r:
            self.assertEqual([o for i, o in enumerate(out) if i != 2],
                             [o for i, o in enumerate(r["qemu"][0]) if i != 2])

    def test_mux_stdio(self):
        def session(inst):
            h = HMPDriver(rfd=inst.proc.stdout.fileno(), wfd=inst.proc.stdin.fileno())
            out = [norm_bytes(h.banner() or b"(timeout)")]
            for keys in (b"\x01h", b"\x01c", b"info status\n", b"\x01c", b"\n", b"\x01t", b"\x01x"):
                h.write(keys)
                out.append(norm_bytes(h.read_for(0.5)))
            return out, inst.wait(10)
        args = ["-machine", "none", "-S", "-nodefaults", "-nographic", "-serial", "mon:stdio"]
        r = self.each(args, session, stdin=subprocess.PIPE)
        out, status = r["kemu"]
        self.assertEqual(out[1], b"\n\rC-a h    print this help\n\rC-a x    exit emulator\n\r"
                                 b"C-a s    save disk data back to file (if -snapshot)\n\r"
                                 b"C-a t    toggle console timestamps\n\rC-a b    send break (magic sysrq)\n\r"
                                 b"C-a c    switch between console and monitor\n\rC-a C-a  sends C-a\n\r")
        self.assertTrue(out[-1].startswith(b"QEMU: Terminated\n"))
        self.assertEqual(status, 0)
        if "qemu" in r:
            self.assertEqual(out, r["qemu"][0])


TRANSCRIPTS = os.environ.get("KEMU_TRANSCRIPTS", os.path.join(
    os.path.dirname(ROOT), "shared", "reference", "qmp-transcripts.md"))


def transcript_exchanges(text, section):
    """(request, [replies]) pairs from the first code block of a section."""
    start = text.index("### " + section)
    block = text[text.index("```", start) + 3:]
    block = block[block.index("\n") + 1:block.index("```")]
    pairs = []
    for line in block.splitlines():
        if line.startswith("-> "):
            pairs.append((line[3:], []))
        elif line.startswith("<- ") and pairs:
            pairs[-1][1].append(line[3:])
        elif "(no reply" in line and pairs:
            pairs[-1][1].append(None)
    return pairs


class TestTranscriptReplay(MonitorTestBase):
    """Replays qmp-transcripts.md Session 1 exchanges that need no guest,
    disk or network, against kemu (and QEMU), expecting the recorded lines."""
    ARGS = ["-machine", "none", "-nodefaults", "-display", "none", "-name", "qmptest",
            "-uuid", "6a3f0b4e-2c1d-4e5f-9a8b-7c6d5e4f3a21",
            "-qmp", "unix:@TMP@/qmp1.sock,server=on,wait=off"]
    SECTIONS = ["query-version", "query-status", "query-name", "query-uuid",
                "stop / cont (STOP and RESUME events)", "Error replies"]
    NEEDS_DEVICES = ("blockdev-add", "set_password")

    def setUp(self):
        super().setUp()
        if not os.path.exists(TRANSCRIPTS):
            self.skipTest("transcripts not found (set KEMU_TRANSCRIPTS)")
        with open(TRANSCRIPTS) as f:
            self.text = f.read()

    def replay(self, c, pairs):
        for req, replies in pairs:
            if any(n in req for n in self.NEEDS_DEVICES):
                continue
            c.send_raw(req.encode() + b"\n")
            for want in replies:
                got = c.read_line(1.0 if want is None else 10)
                if want is None:
                    self.assertIsNone(got, "reply to partial input %r" % req)
                    continue
                self.assertIsNotNone(got, "no reply to %r" % req)
                self.assertEqual(norm_bytes(got), norm_bytes(want.encode()), "reply to %r" % req)

    def test_session1(self):
        for label, binary in targets():
            inst = self.start(binary, self.ARGS)
            c = inst.qmp("qmp1.sock", negotiate=False)
            c.read_greeting()
            self.replay(c, transcript_exchanges(self.text, "Before qmp_capabilities"))
            c.close()
            c = inst.qmp("qmp1.sock")
            for sec in self.SECTIONS:
                self.replay(c, transcript_exchanges(self.text, sec))
            self.replay(c, [('{"execute": "quit"}', [
                '{"timestamp": {"seconds": 1, "microseconds": 1}, "event": "SHUTDOWN", '
                '"data": {"guest": false, "reason": "host-qmp-quit"}}', '{"return": {}}'])])
            self.assertEqual(inst.wait(10), 0, label)


class TestHMPTranscriptReplay(MonitorTestBase):
    """The raw HMP bytes recorded in hmp-transcripts.md (socket monitor)."""
    ARGS = ["-machine", "none", "-nodefaults", "-display", "none",
            "-monitor", "unix:@TMP@/hmp.sock,server=on,wait=off"]

    def test_raw_bytes(self):
        path = TRANSCRIPTS.replace("qmp-transcripts.md", "hmp-transcripts.md")
        if not os.path.exists(path):
            self.skipTest("transcripts not found")
        text = open(path).read()
        lits = re.findall(r"^(b[\"'].*[\"'])$", text, re.M)
        banner = eval(lits[0])
        info_status = eval(lits[1])
        empty = eval(re.search(r"An empty line just gives a new prompt: `(b'[^`]*')`", text).group(1))
        quit_bytes = eval(re.search(r"#### `q`\n.*?```\n(b'[^\n]*')", text, re.S).group(1))
        for label, binary in targets():
            inst = self.start(binary, self.ARGS)
            h = HMPDriver.connect(inst.path("hmp.sock"))
            self.assertEqual(norm_bytes(h.banner()), norm_bytes(banner), label)
            self.assertEqual(h.raw_cmd("info status"), info_status, label)
            self.assertEqual(h.raw_cmd(""), empty, label)
            h.write(b"q\n")
            self.assertEqual(h.read_to_eof(5), quit_bytes, label)
            self.assertEqual(inst.wait(10), 0, label)


class TestPC(MonitorTestBase):
    """-M pc -S: a machine with a CPU, firmware and PCI devices."""
    ARGS = ["-M", "pc", "-S", "-nodefaults", "-display", "none", "-m", "128", "-smp", "2",
            "-qmp", "unix:@TMP@/qmp.sock,server=on,wait=off"]
    LINES = ["info cpus", "info hotpluggable-cpus", "info balloon", "cpu 1", "info cpus", "cpu 0", "xp /2gx 0xf0000", "xp /4xw 0xffff0", "x /8xb 0xffff0",
             "xp /3cb 0xfe000", "xp /2dh 0xffff0", "xp /2uw 0xffff0", "xp /2ow 0xffff0",
             "xp /20xb 0xffff0", "p $pc", "info registers", "info mem", "info tlb",
             "info status"]

    def test_queries(self):
        def session(inst):
            c = inst.qmp()
            out = {"cpus": norm_msg(c.command("query-cpus-fast")),
                   "hotplug": c.command("query-hotpluggable-cpus"),
                   "status": c.command("query-status"),
                   "cputype": c.command("qom-get", path="/machine/unattached/device[0]",
                                        property="type"),
                   "pci": c.command("query-pci")}
            for line in self.LINES:
                out[line] = norm_bytes(c.command("human-monitor-command",
                                                 **{"command-line": line}).encode()).decode()
            return out
        r = self.each(self.ARGS, session)
        k = r["kemu"]
        self.assertEqual(len(k["cpus"]), 2)
        self.assertEqual(k["cpus"][0]["qom-path"], "/machine/unattached/device[0]")
        self.assertEqual(k["cputype"], "qemu64-x86_64-cpu")
        self.assertRegex(k["info cpus"], r"^\* CPU #0: thread_id=T\r\n  CPU #1: thread_id=T\r\n$")
        if "qemu" in r:
            q = r["qemu"]
            for key in ["cpus", "hotplug", "status", "cputype"] + self.LINES:
                self.assertEqual(k[key], q[key], key)
            qdevs = {(d["slot"], d["function"]): d for d in q["pci"][0]["devices"]}
            for d in k["pci"][0]["devices"] if k["pci"] else []:
                want = qdevs.get((d["slot"], d["function"]))
                self.assertIsNotNone(want, "PCI %r not in QEMU" % (d,))
                self.assertEqual(set(d), set(want))
                self.assertEqual(d["class_info"], want["class_info"])
                self.assertEqual((d["id"]["vendor"], d["id"]["device"]),
                                 (want["id"]["vendor"], want["id"]["device"]))

    def test_nographic_mux(self):
        def session(inst):
            h = HMPDriver(rfd=inst.proc.stdout.fileno(), wfd=inst.proc.stdin.fileno())
            out = [norm_bytes(h.read_for(0.5))]
            for keys in (b"\x01h", b"\x01c", b"info status\n", b"\x01c", b"\x01c", b"\n",
                         b"\x01t", b"\x01\x01", b"\x01x"):
                h.write(keys)
                out.append(norm_bytes(h.read_for(0.5)))
            return out, inst.wait(10)
        args = ["-M", "pc", "-S", "-nographic", "-m", "128"]
        r = self.each(args, session, stdin=subprocess.PIPE)
        out, status = r["kemu"]
        self.assertEqual(out[0], b"")                    # the guest console has the focus
        self.assertEqual(out[2], b"QEMU 7.2.M monitor - type 'help' for more information\r\n(qemu) ")
        self.assertEqual(out[4], b"\r\n")
        self.assertEqual(out[5], b"(qemu) ")
        self.assertEqual(out[-1], b"QEMU: Terminated\n[00:00:00.000] \r")
        self.assertEqual(status, 0)
        if "qemu" in r:
            self.assertEqual(out, r["qemu"][0])


class TestChardevCLI(MonitorTestBase):
    BAD = [
        ["-chardev", "foo,id=x"], ["-chardev", "socket,path=/tmp/x"], ["-chardev", "null"],
        ["-chardev", "file,id=f"], ["-chardev", "socket,id=s,host=127.0.0.1"],
        ["-chardev", "ringbuf,id=r,size=3"], ["-chardev", "null,id=a", "-chardev", "null,id=a"],
        ["-chardev", "socket,id=s,path=/nonexist/x,server=on,wait=off"],
        ["-chardev", "file,id=f,path=/nonexist/x"], ["-chardev", "pipe,id=p,path=/nonexist/x"],
        ["-chardev", "null,id=a,bogus=1"], ["-mon", "chardev=nosuch"],
        ["-chardev", "null,id=a", "-mon", "chardev=a,mode=foo"],
        ["-chardev", "socket,id=s,path=/tmp/x,server=on,wait=off,fd=3"],
        ["-chardev", "socket,id=s,fd=99,server=on,wait=off"],
        ["-chardev", "stdio,id=a", "-chardev", "stdio,id=b"],
        ["-chardev", "socket,id=s,path=@TMP@/nonexist.sock"],
    ]

    def test_error_messages(self):
        for bad in self.BAD:
            res = {}
            for label, binary in targets():
                inst = self.start(binary, ["-machine", "none", "-nodefaults", "-display", "none", "-S"] + bad)
                status = inst.wait(5)
                err = inst.proc.stderr.read().decode()
                err = err.replace(os.path.basename(binary) + ":", "PROG:").replace(inst.tmp, "TMP")
                res[label] = (status, err)
            self.assertEqual(res["kemu"][0], 1, "exit status for %r: %r" % (bad, res["kemu"]))
            if "qemu" in res:
                self.assertEqual(res["kemu"], res["qemu"], repr(bad))

    def test_pty(self):
        def session(inst):
            c = inst.qmp()
            chardevs = {d["label"]: d for d in c.command("query-chardev")}
            line = inst.proc.stdout.readline()
            return chardevs["p"]["filename"], line
        args = BASE + ["-chardev", "pty,id=p", "-qmp", "unix:@TMP@/qmp.sock,server=on,wait=off"]
        r = self.each(args, session)
        fname, line = r["kemu"]
        self.assertRegex(fname, r"^pty:/dev/pts/\d+$")
        self.assertEqual(line.decode(), "char device redirected to %s (label p)\n" % fname[4:])


DEVICE_STEPS = [
    '{"execute": "device_add", "arguments": {"driver": "no-such-device", "id": "zz"}}',
    '{"execute": "device_add", "arguments": {"id": "zz"}}',
    '{"execute": "device_add", "arguments": {}}',
    '{"execute": "device_add"}',
    '{"execute": "device_add", "arguments": {"driver": 5}}',
    '{"execute": "device_add", "arguments": {"driver": "nosuch", "id": "1bad"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "id": ""}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-debugcon", "id": "dc1"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "id": "s1"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "id": {"a": 1}}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "id": "ser0"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-debug-exit", "id": "de"}}',
    '{"execute": "device_add", "arguments": {"driver": "i8042", "id": "kb", "x": null}}',
    '{"execute": "device_add", "arguments": {"driver": "mc146818rtc", "id": "rtc2"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-debugcon", "bus": "nosuch"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "bus": "pci.0"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "bus": "isa.0"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-serial", "iobase": "zz"}}',
    '{"execute": "device_add", "arguments": {"driver": "isa-pit", "id": "pit"}}',
    '{"execute": "device_add", "arguments": {"driver": "hpet", "id": "hp"}}',
    '{"execute": "device_add", "arguments": {"driver": "PIIX3", "id": "p3"}}',
    '{"execute": "device_add", "arguments": {"driver": "i440FX", "id": "p3"}}',
    '{"execute": "device_add", "arguments": {"driver": "ioapic", "id": "p3"}}',
    '{"execute": "device_del", "arguments": {"id": 7}}',
    '{"execute": "device_del", "arguments": {}}',
    '{"execute": "device_del"}',
    '{"execute": "device_del", "arguments": {"id": "x", "extra": 1}}',
    '{"execute": "device_del", "arguments": {"id": "no-such-id"}}',
    '{"execute": "device_del", "arguments": {"id": "/machine/unattached/device[0]"}}',
    '{"execute": "device_del", "arguments": {"id": "/machine"}}',
    '{"execute": "device_del", "arguments": {"id": "/"}}',
    '{"execute": "device_del", "arguments": {"id": ""}}',
    '{"execute": "device_del", "arguments": {"id": "/machine/peripheral"}}',
    '{"execute": "device_del", "arguments": {"id": "/machine/peripheral-anon/device[0]"}}',
    '{"execute": "device_del", "arguments": {"id": "ser0"}}',
    '{"execute": "device_del", "arguments": {"id": "ser0/"}}',
    '{"execute": "device_del", "arguments": {"id": "/machine/peripheral/ser0"}}',
    '{"execute": "query-cpu-definitions", "arguments": {"x": 1}}',
]

DEVICE_HMP = [
    "device_add nosuchdev", "device_add", "device_add isa-serial,id=s2",
    "device_add isa-serial,id=ser0", "device_add driver=isa-serial", "device_add ,id=x",
    "device_add isa-serial,,id=x", "device_add isa-serial,id", "device_add isa-serial,id=1bad",
    "device_add isa-serial,id=a,id=b", "device_add nosuch,help", "device_del nosuch",
    "device_del", "device_del ser0", "device_del a b", "device_del /machine/unattached/device[0]",
    "device_del \"\"", "help device_add", "help device_del",
]


class TestDevices(MonitorTestBase):
    """device_add / device_del errors (kemu has no hotpluggable bus, so every
    device_add fails the way QEMU's does for ISA/sysbus devices) and
    query-cpu-definitions, on -M pc and -M none."""
    PC = ["-M", "pc", "-S", "-nodefaults", "-display", "none", "-smp", "2",
          "-device", "isa-serial,id=ser0",
          "-qmp", "unix:@TMP@/qmp.sock,server=on,wait=off"]
    NONE = BASE + ["-qmp", "unix:@TMP@/qmp.sock,server=on,wait=off"]

    def session(self, inst):
        c = inst.qmp()
        out = []
        for step in DEVICE_STEPS:
            c.send_raw(step.encode() + b"\n")
            out.append((step, norm_bytes(c.read_line(10) or b"(timeout)")))
        for line in DEVICE_HMP:
            r = c.cmd("human-monitor-command", {"command-line": line})
            out.append((line, r))
        names = {x["name"] for x in c.command("query-commands")}
        defs = c.command("query-cpu-definitions")
        c.close()
        return out, names, defs

    def check(self, args):
        r = self.each(args, self.session)
        out, names, defs = r["kemu"]
        self.assertTrue({"device_add", "device_del", "query-cpu-definitions"} <= names)
        self.assertEqual([d["name"] for d in defs], ["max", "host", "qemu64"])
        self.assertEqual(out[0][1], b'{"error": {"class": "GenericError", '
                         b'"desc": "\'no-such-device\' is not a valid device model name"}}')
        if "qemu" in r:
            qout, _, qdefs = r["qemu"]
            for (step, got), (_, want) in zip(out, qout):
                self.assertEqual(got, want, step)
            # the same entries as QEMU's for the models kemu has, in QEMU's
            # order and key order (kemu has no qemu64-v1, so no alias-of)
            byname = {d["name"]: d for d in qdefs}
            for d in defs:
                want = dict(byname[d["name"]])
                want.pop("alias-of", None)
                self.assertEqual(list(d.items()), list(want.items()))
            qnames = [d["name"] for d in qdefs]
            self.assertEqual([d["name"] for d in defs],
                             sorted((d["name"] for d in defs), key=qnames.index))

    def test_pc(self):
        self.check(self.PC)

    def test_none(self):
        self.check(self.NONE)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2)
