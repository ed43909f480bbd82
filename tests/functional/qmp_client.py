#!/usr/bin/env python3
"""Minimal QMP client (Python standard library only).

Used by the monitor tests against kemu and QEMU 7.2, and usable by hand:

    qmp_client.py [--quiet] [--timeout S] ADDR [COMMAND ...]

ADDR is "unix:PATH", "tcp:HOST:PORT" or a socket path.  Each COMMAND is
"name", "name {json-args}" or a raw JSON object; with no COMMAND the lines
of stdin are used ("# comment", "@events SECONDS" waits for events).
Exit status 1 when any command returned an error.
"""

import json
import os
import shutil
import select
import socket
import sys
import time


def find_binaries():
    """(kemu, qemu): $KEMU or build/kemu-system-x86_64; $QEMU or Debian's
    QEMU 7.2, None when absent or QEMU=none."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kemu = os.environ.get("KEMU")
    if not kemu:
        for cand in ("build/kemu-system-x86_64", "builddir/kemu-system-x86_64"):
            if os.path.exists(os.path.join(root, cand)):
                kemu = os.path.join(root, cand)
                break
        else:
            kemu = shutil.which("kemu-system-x86_64")
    qemu = os.environ.get("QEMU", "/usr/bin/qemu-system-x86_64")
    if qemu == "none" or not os.path.exists(qemu):
        qemu = None
    return (os.path.abspath(kemu) if kemu else None), qemu


class QMPError(Exception):
    pass


def connect_addr(addr, timeout=10.0):
    """Connect to unix:PATH / tcp:HOST:PORT / PATH, retrying until timeout."""
    deadline = time.time() + timeout
    while True:
        try:
            if addr.startswith("tcp:"):
                host, port = addr[4:].rsplit(":", 1)
                s = socket.create_connection((host or "127.0.0.1", int(port)))
            else:
                path = addr[5:] if addr.startswith("unix:") else addr
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


class QMPClient:
    """One QMP connection. Messages are split on CRLF as libvirt does."""

    def __init__(self, addr=None, sock=None, timeout=10.0):
        self.sock = sock if sock is not None else connect_addr(addr, timeout)
        self.timeout = timeout
        self.buf = b""
        self.events = []
        self.raw_log = []          # every message line received (bytes, no CRLF)
        self.greeting = None

    # -- low level -------------------------------------------------------
    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d
        return True

    def read_line(self, timeout=None):
        """One message (bytes without CRLF), or None on timeout."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not self._fill(left):
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.raw_log.append(line)
        return line

    def read_pretty(self, timeout=None):
        """A pretty=on message: lines until the closing brace at column 0."""
        lines = []
        while True:
            line = self.read_line(timeout)
            if line is None:
                return None
            lines.append(line)
            if line == b"}":
                return b"\n".join(lines)

    def read_msg(self, timeout=None, pretty=False):
        raw = self.read_pretty(timeout) if pretty else self.read_line(timeout)
        return None if raw is None else json.loads(raw)

    def at_eof(self, timeout=2.0):
        """True when the peer closed the connection (after draining)."""
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                if not self._fill(deadline - time.time()):
                    return False
        except (EOFError, ConnectionResetError):
            return True
        return False

    # -- protocol --------------------------------------------------------
    def read_greeting(self, pretty=False):
        self.greeting = self.read_msg(pretty=pretty)
        if not self.greeting or "QMP" not in self.greeting:
            raise QMPError("bad greeting: %r" % (self.greeting,))
        return self.greeting

    def negotiate(self, pretty=False):
        self.read_greeting(pretty)
        r = self.cmd("qmp_capabilities", pretty=pretty)
        if r != {"return": {}}:
            raise QMPError("negotiation failed: %r" % (r,))

    def request(self, name, args=None, id=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        if id is not None:
            req["id"] = id
        return req

    def cmd(self, name, args=None, id=None, pretty=False, timeout=None):
        """Send one command; return its reply; events go to self.events."""
        self.send_raw(json.dumps(self.request(name, args, id)) + "\n")
        return self.reply(pretty=pretty, timeout=timeout)

    def reply(self, pretty=False, timeout=None):
        while True:
            m = self.read_msg(timeout, pretty)
            if m is None:
                raise QMPError("timeout waiting for a reply")
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def command(self, name, **args):
        """Return the "return" value or raise QMPError."""
        r = self.cmd(name, args or None)
        if "error" in r:
            raise QMPError(r["error"]["desc"])
        return r["return"]

    def wait_event(self, name, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.time()
            m = self.read_msg(left) if left > 0 else None
            if m is None:
                return None
            self.events.append(m)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _parse_command(text):
    text = text.strip()
    if text.startswith("{"):
        return json.loads(text)
    name, _, rest = text.partition(" ")
    req = {"execute": name}
    if rest.strip():
        req["arguments"] = json.loads(rest)
    return req


def main(argv):
    quiet = False
    timeout = 10.0
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--quiet":
            quiet = True
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            print("unknown option " + opt, file=sys.stderr)
            return 2
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    addr, cmds = args[0], args[1:]
    if not cmds:
        cmds = [l.rstrip("\n") for l in sys.stdin]
    c = QMPClient(addr, timeout=timeout)
    out = print if not quiet else (lambda *a, **k: None)
    c.read_greeting()
    out("<- " + c.raw_log[-1].decode())
    c.send_raw('{"execute": "qmp_capabilities"}\n')
    out('-> {"execute": "qmp_capabilities"}')
    out("<- " + c.read_line().decode())
    status = 0
    for line in cmds:
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@events"):
            wait = float(line.split()[1]) if len(line.split()) > 1 else 1.0
            end = time.time() + wait
            while True:
                m = c.read_line(max(0, end - time.time()))
                if m is None:
                    break
                print("<- " + m.decode())
            continue
        req = _parse_command(line)
        text = json.dumps(req)
        print("-> " + text)
        c.send_raw(text + "\n")
        try:
            while True:
                m = c.read_line()
                if m is None:
                    print("(no reply)")
                    status = 1
                    break
                print("<- " + m.decode())
                msg = json.loads(m)
                if "event" not in msg:
                    if "error" in msg:
                        status = 1
                    break
        except EOFError:
            print("(connection closed)")
            break
    c.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
