#!/usr/bin/env python3
"""HMP (human monitor) driver for tests, Python standard library only.

Talks to a monitor on a socket (or any pair of file descriptors, e.g. a
process's stdio for -monitor stdio / -nographic), waits for the
"(qemu) " prompt and separates QEMU's readline echo from command output.
"""

import os
import select
import socket
import time

PROMPT = b"(qemu) "
ESC_K = b"\x1b[K"


class HMPDriver:
    def __init__(self, sock=None, rfd=None, wfd=None, timeout=10.0):
        self.sock = sock
        self.rfd = rfd if rfd is not None else (sock.fileno() if sock else None)
        self.wfd = wfd if wfd is not None else self.rfd
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    @classmethod
    def connect(cls, path, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return cls(sock=s, timeout=timeout)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.sock:
            self.sock.sendall(data)
        else:
            os.write(self.wfd, data)

    def _fill(self, timeout):
        r, _, _ = select.select([self.rfd], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            d = os.read(self.rfd, 65536)
        except OSError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_until(self, marker, timeout=None):
        """Bytes up to and including marker (None on timeout/EOF)."""
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while marker not in self.buf:
            if self.eof or not self._fill(deadline - time.time()):
                if self.eof or time.time() >= deadline:
                    return None
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_for(self, seconds):
        """Everything that arrives within the given time."""
        deadline = time.time() + seconds
        while time.time() < deadline and not self.eof:
            self._fill(deadline - time.time())
        out, self.buf = self.buf, b""
        return out

    def read_to_eof(self, timeout=None):
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while not self.eof and time.time() < deadline:
            self._fill(deadline - time.time())
        out, self.buf = self.buf, b""
        return out

    def banner(self):
        return self.read_until(PROMPT)

    def raw_cmd(self, line, end=b"\n"):
        """Send a line; return every byte up to the next prompt."""
        self.write(line.encode() + end)
        return self.read_until(PROMPT)

    def cmd(self, line):
        """Send a line; return the command output text (echo removed, LF ends)."""
        raw = self.raw_cmd(line)
        if raw is None:
            return None
        return strip_echo(raw)

    def close(self):
        if self.sock:
            self.sock.close()


def strip_echo(raw):
    """Drop the readline echo (everything up to the CRLF after the last
    ESC[K of the echoed line) and the final prompt; CRLF becomes LF."""
    if raw.endswith(PROMPT):
        raw = raw[:-len(PROMPT)]
    i = raw.find(ESC_K + b"\r\n")
    if i >= 0:
        raw = raw[i + len(ESC_K) + 2:]
    elif raw.startswith(b"\r\n"):
        raw = raw[2:]
    return raw.replace(b"\r\n", b"\n").decode(errors="replace")


def expected_echo(line):
    """The bytes QEMU's readline sends while `line` is typed one char at a time."""
    out = b""
    shown = 0
    for i in range(1, len(line) + 1):
        out += b"\x1b[D" * shown + line[:i].encode() + ESC_K
        shown = i
    return out
