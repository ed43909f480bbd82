#!/usr/bin/env python3
"""Functional tests of the display stack (stdlib only): the standard VGA
(PCI identity, default device, -vga/-vnc/-display options), screendump
(PPM and PNG) compared pixel for pixel with QEMU 7.2, send-key / sendkey /
VNC key events reaching the guest's i8042, a VNC client (RFB 3.3 and 3.8,
SetPixelFormat, Raw and Hextile) whose framebuffer must equal the
screendump, and VNC clients sending garbage.

The guest is a 64 KiB -bios payload (real mode, source below): it opens
the display (AR index bit 5), sets a 320x200x32 Bochs VBE mode, fills it
through the banked 0xa0000 window, writes 'R' to the debug console (port
0xe9) enables PS/2 mouse streaming and then prints every byte it reads from the i8042 as two hex digits
and a space. KVM runs it when /dev/kvm works, else the software CPU.

    KEMU=build/kemu-system-x86_64 python3 tests/functional/test_display.py -v
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient, find_binaries  # noqa: E402

KEMU, QEMU = find_binaries()

# .code16, linked at 0:
#   cli; ss=0; sp=0x7000; in 0x3da; out 0x3c0 <- 0x20      (display on)
#   VBE: XRES=320 YRES=200 BPP=32 ENABLE=1                  (ports 0x1ce/0x1cf)
#   for bank 0..3: BANK=bank; for di 0..0xffff: es:[di] = (di_lo ^ di_hi) + bank*64
#   out 0xe9 <- 'R'; out 0x64 <- 0xd4; out 0x60 <- 0xf4   (mouse: enable streaming)
#   loop: wait 0x64 bit 0; al = in 0x60; print "%02x " to port 0xe9
PAYLOAD = bytes.fromhex(
    'fa31c08ed0bc0070bada03ecbac003b020eeb80100b94001e87600b80200b9c800e86d00b8'
    '0300b92000e86400b80400b90100e85b0031dbb8050089d9e85100b800a08ec031ff88dac0'
    'e20689f830e000d0aa85ff75f54383fb0472dbb052e6e9b0d4e664b0f4e660e464a80174fa'
    'e46088c4c0e804e80d0088e0240fe80600b020e6e9ebe33c0a720204270430e6e9c3bace01'
    'efbacf0189c8efc3')

# mode13: program VGA mode 13h register by register (misc 63, sequencer,
# CRTC, graphics controller, attribute controller, display on), load the DAC
# with entry i = (i & 63, (i >> 2) & 63, (i * 3) & 63), fill a000:0 with
# (x ^ y) + y / 4 for 320x200, write 'R' to port 0xe9, halt.
MODE13 = bytes.fromhex(
    'fa31c08ed0bc00708cc88ed8bac203b063eebec700bac403b9050030db88d8ee42acee4afe'
    'c3e2f5bad403b011ee4230c0ee4abecc00b9190030db88d8ee42acee4afec3e2f5bee500ba'
    'ce03b9090030db88d8ee42acee4afec3e2f5bada03ecbeee00bac003b9150030db88d8eeac'
    'eefec3e2f7b020eebac80330c0ee4231db88d8243fee88d8c0e802ee88d8b403f6e4243fee'
    '4381fb000172e5b800a08ec031ff31db31c988c830d888dcc0ec0200e0aa4181f9400172ed'
    '4381fbc80072e4b052e6e9f4ebfd03010f000e5f4f50825480bf1f00410000000000009c0e'
    '8f284096b9a3ff000000000040050fff000102030405060708090a0b0c0d0e0f41000f0000')

# mode12: program VGA mode 12h (640x480x16 planar) register by register,
# DAC 0..63 = (i, 63 - i, (i * 5) & 63), fill each plane p (map mask 1 << p,
# write mode 0) with (off_lo * (p + 1)) ^ off_hi, then on lines 0-15 use
# write mode 2 with bit mask 0xf0 (latch loaded by a read) and colour
# off & 15; 'R' to port 0xe9, halt.
MODE12 = bytes.fromhex(
    'fa31c08ed0bc00708cc88ed8bac203b0e3eebee300bac403b90500e8b700bad403b011ee42'
    '30c0ee4abee800b91900e8a300be0101bace03b90900e89700bada03ecbe0a01bac003b915'
    '0030db88d8eeaceefec3e2f7b020eebac80330c0ee4231db88d8eeb03f28d8ee88d8b405f6'
    'e4243fee4383fb4072e9b800a08ec031dbbac403b002ee42b00188d9d2e0ee31ff89f888d9'
    'fec1f6e189f930e8aa81ff009672ed4383fb0472d7bac403b8020fefbace03b80502efb808'
    'f0ef31ff268a2589f8240f2688054781ff000572efb052e6e9f4ebfd30db88d8ee42acee4a'
    'fec3e2f5c303010f00065f4f508254800b3e0040000000000000ea0cdf2800e704e3ff0000'
    '00000000050fff000102030405140738393a3b3c3d3e3f01000f0000')


def kvm_usable():
    try:
        fd = os.open('/dev/kvm', os.O_RDWR)
        os.close(fd)
        return True
    except OSError:
        return False


ACCEL = os.environ.get('KEMU_DISPLAY_ACCEL') or ('kvm' if kvm_usable() else 'tcg')


def parse_ppm(data):
    magic, dims, maxval, pixels = data.split(b'\n', 3)
    w, h = map(int, dims.split())
    assert magic == b'P6' and maxval == b'255'
    return w, h, pixels


def parse_png(data):
    """8-bit RGB PNG with filter 0 rows (what a screendump writes) -> (w, h, rgb)."""
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, w, h = 8, b'', 0, 0
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(typ + body), typ
        if typ == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert (depth, ctype) == (8, 2)
        elif typ == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows = []
    for y in range(h):
        row = raw[y * (w * 3 + 1):(y + 1) * (w * 3 + 1)]
        assert row[0] == 0
        rows.append(row[1:])
    return w, h, b''.join(rows)


class Guest:
    """One emulator process running the payload (or SeaBIOS) with QMP."""

    def __init__(self, binary, args=(), payload=True, vga=True, nodefaults=True):
        self.dir = tempfile.mkdtemp(prefix='kemu-display-')
        self.qmp_path = os.path.join(self.dir, 'qmp')
        self.dbg = os.path.join(self.dir, 'dbg')
        self.vnc_path = os.path.join(self.dir, 'vnc')
        cmd = [binary, '-accel', ACCEL, '-display', 'none'] + (['-nodefaults'] if nodefaults else []) + [
               '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path,
               '-chardev', 'file,id=dbg,path=%s' % self.dbg, '-device', 'isa-debugcon,chardev=dbg']
        if vga:
            cmd += ['-vga', 'std']
        if payload:
            img = bytearray(b'\xf4' * 65536)
            code = PAYLOAD if payload is True else payload
            img[:len(code)] = code
            img[0xfff0:0xfff5] = b'\xea\x00\x00\x00\xf0'      # ljmp f000:0000
            bios = os.path.join(self.dir, 'bios.bin')
            with open(bios, 'wb') as f:
                f.write(img)
            cmd += ['-bios', bios]
        cmd += [a.replace('@VNC@', self.vnc_path) for a in args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.qmp = QMPClient('unix:' + self.qmp_path, timeout=20)
        self.qmp.negotiate()

    def debug_output(self):
        try:
            with open(self.dbg, 'rb') as f:
                return f.read().decode()
        except OSError:
            return ''

    def wait_debug(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.debug_output()
            if pred(out):
                return out
            time.sleep(0.05)
        return self.debug_output()

    def screendump(self, fmt=None):
        path = os.path.join(self.dir, 'shot')
        args = {'filename': path}
        if fmt:
            args['format'] = fmt
        r = self.qmp.cmd('screendump', args)
        if 'error' in r:
            return r
        with open(path, 'rb') as f:
            return f.read()

    def hmp(self, line):
        return self.qmp.command('human-monitor-command', **{'command-line': line})

    def close(self):
        try:
            self.qmp.cmd('quit')
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.qmp.close()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_status(binary, args, timeout=10):
    p = subprocess.run([binary] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stderr.replace(os.path.basename(binary), 'EMU')


class VncClient:
    def __init__(self, path, version=b'RFB 003.008\n'):
        tcp = isinstance(path, tuple)
        self.sock = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        deadline = time.time() + 10
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        assert self.recv(12) == b'RFB 003.008\n'
        self.sock.sendall(version)
        if version == b'RFB 003.003\n':
            assert struct.unpack('>I', self.recv(4))[0] == 1
        else:
            n = self.recv(1)[0]
            types = self.recv(n)
            assert 1 in types, types
            self.sock.sendall(b'\x01')
            if version == b'RFB 003.008\n':
                assert struct.unpack('>I', self.recv(4))[0] == 0
        self.sock.sendall(b'\x01')                       # shared
        self.w, self.h = struct.unpack('>HH', self.recv(4))
        self.pf = self.recv(16)
        n, = struct.unpack('>I', self.recv(4))
        self.name = self.recv(n)
        self.bpp, self.be = 32, False
        self.shifts, self.maxes = (16, 8, 0), (255, 255, 255)

    def recv(self, n):
        b = b''
        while len(b) < n:
            chunk = self.sock.recv(n - len(b))
            if not chunk:
                raise EOFError('server closed')
            b += chunk
        return b

    def set_pixel_format(self, bpp, be, maxes, shifts):
        self.bpp, self.be, self.maxes, self.shifts = bpp, be, maxes, shifts
        self.sock.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, bpp, 24 if bpp == 32 else 16,
                                      1 if be else 0, 1, *maxes, *shifts))

    def set_encodings(self, encs):
        self.sock.sendall(struct.pack('>BxH', 2, len(encs)) + b''.join(struct.pack('>i', e) for e in encs))

    def request(self, incremental=False):
        self.sock.sendall(struct.pack('>BBHHHH', 3, 1 if incremental else 0, 0, 0, self.w, self.h))

    def key(self, keysym, down):
        self.sock.sendall(struct.pack('>BBxxI', 4, 1 if down else 0, keysym))

    def pixel_to_rgb(self, raw):
        v = int.from_bytes(raw, 'big' if self.be else 'little')
        out = []
        for s, m in zip(self.shifts, self.maxes):
            out.append((v >> s) & m)
        return tuple(out)

    def read_update(self, fb):
        """Apply one FramebufferUpdate to fb (dict (x,y)->rgb); returns the rect encodings."""
        while True:
            t = self.recv(1)[0]
            if t == 0:
                break
            raise AssertionError('unexpected message %d' % t)
        self.recv(1)
        n, = struct.unpack('>H', self.recv(2))
        bpp = self.bpp // 8
        encs = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack('>HHHHi', self.recv(12))
            encs.append(enc)
            if enc == 0:
                data = self.recv(w * h * bpp)
                for j in range(h):
                    for i in range(w):
                        o = (j * w + i) * bpp
                        fb[(x + i, y + j)] = self.pixel_to_rgb(data[o:o + bpp])
            elif enc == 5:
                for ty in range(y, y + h, 16):
                    for tx in range(x, x + w, 16):
                        tw, th = min(16, x + w - tx), min(16, y + h - ty)
                        sub = self.recv(1)[0]
                        if sub & 1:
                            data = self.recv(tw * th * bpp)
                            for j in range(th):
                                for i in range(tw):
                                    o = (j * tw + i) * bpp
                                    fb[(tx + i, ty + j)] = self.pixel_to_rgb(data[o:o + bpp])
                            continue
                        assert sub == 2, 'hextile subencoding %d' % sub
                        bg = self.pixel_to_rgb(self.recv(bpp))
                        for j in range(th):
                            for i in range(tw):
                                fb[(tx + i, ty + j)] = bg
            elif enc == -223:
                self.w, self.h = w, h
            elif enc == -258:
                pass                                        # ExtendedKeyEvent acknowledged
            else:
                raise AssertionError('encoding %d' % enc)
        return encs

    def close(self):
        self.sock.close()


def screen_from_ppm(ppm, scale=None):
    w, h, px = parse_ppm(ppm)
    fb = {}
    for y in range(h):
        for x in range(w):
            o = (y * w + x) * 3
            r, g, b = px[o], px[o + 1], px[o + 2]
            fb[(x, y)] = (r, g, b) if scale is None else scale(r, g, b)
    return w, h, fb


@unittest.skipUnless(KEMU, 'kemu binary not found')
class DisplayTests(unittest.TestCase):
    def guest(self, binary=None, **kw):
        g = Guest(binary or KEMU, **kw)
        self.addCleanup(g.close)
        return g

    # ---------------------------------------------------------- device
    def test_default_vga_and_nodefaults(self):
        for args, present in ((['-S'], True), (['-S', '-nodefaults'], False),
                              (['-S', '-nodefaults', '-vga', 'std'], True),
                              (['-S', '-vga', 'none'], False),
                              (['-S', '-nodefaults', '-device', 'VGA'], True)):
            g = Guest(KEMU, args=args, payload=False, vga=False, nodefaults=False)
            try:
                out = g.hmp('info pci')
            finally:
                g.close()
            self.assertEqual('VGA controller: PCI device 1234:1111' in out, present, (args, out))
            if present:
                self.assertIn('Bus  0, device   2, function 0:\r\n    VGA controller', out)

    @unittest.skipUnless(QEMU, 'QEMU not installed')
    def test_pci_identity_matches_qemu(self):
        def vga_entry(binary):
            g = Guest(binary, args=['-S'], payload=False)
            try:
                for bus in g.qmp.command('query-pci'):
                    for d in bus['devices']:
                        if d['id']['vendor'] == 0x1234:
                            return d
            finally:
                g.close()
        k, q = vga_entry(KEMU), vga_entry(QEMU)
        for key in ('slot', 'function', 'class_info', 'id', 'irq_pin'):
            self.assertEqual(k.get(key), q.get(key), key)
        strip = lambda d: [{f: r.get(f) for f in ('bar', 'type', 'size', 'prefetch', 'mem_type_64')}
                           for r in d['regions'] if r['bar'] < 6]
        self.assertEqual(strip(k), strip(q))

    def test_option_errors(self):
        cases = [(['-vga', 'foo'], 'EMU: unknown vga type: foo\n'),
                 (['-display', 'vnc'], 'EMU: -display vnc: VNC requires a display argument vnc=<display>\n'),
                 (['-vnc', 'foo'], 'EMU: -vnc foo: no vnc port specified\n')]
        for args, text in cases:
            rc, err = run_status(KEMU, args + ['-S', '-nodefaults'])
            self.assertEqual((rc, err), (1, text), args)
            if QEMU:
                self.assertEqual(run_status(QEMU, args + ['-S', '-nodefaults']), (1, text), args)
        rc, err = run_status(KEMU, ['-vga', 'cirrus', '-S'])
        self.assertEqual((rc, err), (1, 'EMU: Cirrus VGA not available\n'))
        rc, err = run_status(KEMU, ['-vnc', 'unix:/tmp/x,websocket=on', '-S'])
        self.assertEqual(rc, 1)
        self.assertIn('-vnc unix:/tmp/x,websocket=on: ', err)
        rc, out = subprocess.run([KEMU, '-vga', 'help'], capture_output=True, text=True).returncode, None
        self.assertEqual(rc, 0)

    # ------------------------------------------------------ screendump
    def vbe_shot(self, binary, fmt=None):
        g = self.guest(binary)
        out = g.wait_debug(lambda o: o.startswith('R'))
        self.assertTrue(out.startswith('R'), out)
        return g, g.screendump(fmt)

    def test_screendump_vbe_pixel_equal_to_qemu(self):
        g, ppm = self.vbe_shot(KEMU)
        w, h, px = parse_ppm(ppm)
        self.assertEqual((w, h), (320, 200))
        # the pattern the payload drew: byte (di_lo ^ di_hi) + bank*64, BGRX
        for x, y in ((0, 0), (17, 3), (319, 199), (100, 150)):
            off = (y * 320 + x) * 4
            exp = [(((o & 0xffff) & 0xff) ^ ((o & 0xffff) >> 8)) + (o >> 16) * 64 & 0xff
                   for o in range(off, off + 3)]
            o = (y * w + x) * 3
            self.assertEqual(tuple(px[o:o + 3]), (exp[2], exp[1], exp[0]), (x, y))
        png = g.screendump('png')
        self.assertEqual(parse_png(png), (w, h, px))
        if QEMU:
            _, qppm = self.vbe_shot(QEMU)
            self.assertEqual(ppm, qppm)

    def test_screendump_mode13h_pixel_equal_to_qemu(self):
        def shot(binary):
            g = self.guest(binary, payload=MODE13)
            self.assertTrue(g.wait_debug(lambda o: o == 'R') == 'R')
            return g.screendump()
        ppm = shot(KEMU)
        w, h, px = parse_ppm(ppm)
        self.assertEqual((w, h), (640, 400))              # doubled pixels and lines, as QEMU
        c6 = lambda v: (v << 2) | ((v & 1) << 1) | (v & 1)
        for x, y in ((0, 0), (7, 9), (319, 199), (200, 31)):
            i = ((x ^ y) + y // 4) & 0xff
            exp = (c6(i & 63), c6((i >> 2) & 63), c6((i * 3) & 63))
            for dx, dy in ((0, 0), (1, 1)):
                o = ((2 * y + dy) * w + 2 * x + dx) * 3
                self.assertEqual(tuple(px[o:o + 3]), exp, (x, y))
        if QEMU:
            self.assertEqual(ppm, shot(QEMU))

    def test_screendump_mode12h_pixel_equal_to_qemu(self):
        def shot(binary):
            g = self.guest(binary, payload=MODE12)
            self.assertEqual(g.wait_debug(lambda o: o == 'R', timeout=40), 'R')
            return g.screendump()
        ppm = shot(KEMU)
        w, h, px = parse_ppm(ppm)
        self.assertEqual((w, h), (640, 480))
        self.assertGreater(len(set(px[i:i + 3] for i in range(0, len(px), 3 * 7))), 8)
        if QEMU:
            self.assertEqual(ppm, shot(QEMU))

    @unittest.skipUnless(QEMU and ACCEL == 'kvm', 'needs QEMU and KVM for SeaBIOS')
    def test_screendump_seabios_text_equal_to_qemu(self):
        def banner(binary):
            g = self.guest(binary, payload=False)
            deadline = time.time() + 15
            while True:
                w, h, px = parse_ppm(g.screendump())
                row = px[:w * 3 * 16]             # the first text row: the SeaBIOS banner
                # glyph rows 0-11 (the cursor sits in rows 14-15 of its cell)
                if (w, h) == (720, 400) and any(px[:w * 3 * 12]) or time.time() > deadline:
                    time.sleep(0.3)           # let the rest of the line be printed
                    w, h, px = parse_ppm(g.screendump())
                    row = px[:w * 3 * 12]
                    return w, h, row
                time.sleep(0.2)
        k, q = banner(KEMU), banner(QEMU)
        self.assertEqual(k[:2], (720, 400))
        self.assertEqual(k, q)
        self.assertNotEqual(k[2], bytes(len(k[2])))

    def test_screendump_errors(self):
        for binary in filter(None, (KEMU, QEMU)):
            g = Guest(binary, payload=False, vga=False, args=['-S'])
            try:
                r = g.qmp.cmd('screendump', {'filename': os.path.join(g.dir, 'x')})
                self.assertEqual(r['error']['desc'], 'There is no console to take a screendump from')
            finally:
                g.close()
        errs = {}
        for binary in filter(None, (KEMU, QEMU)):
            g = Guest(binary, args=['-S'])
            try:
                errs[binary] = [
                    g.qmp.cmd('screendump', {'filename': '/nonexistent/x.ppm'}),
                    g.qmp.cmd('screendump', {'filename': os.path.join(g.dir, 'x'), 'format': 'jpg'}),
                    g.qmp.cmd('screendump', {'filename': os.path.join(g.dir, 'x'), 'head': 1}),
                    g.qmp.cmd('screendump', {'filename': os.path.join(g.dir, 'x'), 'device': 'nope'}),
                    g.hmp('screendump'),
                    g.hmp('screendump %s -f gif' % os.path.join(g.dir, 'x')),
                ]
            finally:
                g.close()
        k = errs[KEMU]
        self.assertEqual(k[0]['error']['desc'], "failed to open file '/nonexistent/x.ppm': No such file or directory")
        self.assertEqual(k[4], 'screendump: filename expected\r\nTry "help screendump" for more information\r\n')
        if QEMU:
            self.assertEqual(k, errs[QEMU])

    # ------------------------------------------------------------ keys
    def key_bytes(self, binary):
        g = self.guest(binary)
        g.wait_debug(lambda o: o.startswith('Rfa '))
        g.qmp.command('send-key', keys=[{'type': 'qcode', 'data': 'ctrl'}, {'type': 'qcode', 'data': 'a'},
                                        {'type': 'number', 'data': 0x9d}], **{'hold-time': 50})
        out1 = g.wait_debug(lambda o: o.count(' ') >= 12)
        g.hmp('sendkey shift-delete 10')
        out2 = g.wait_debug(lambda o: o.count(' ') >= 20)
        key = {'type': 'qcode', 'data': 'b'}
        g.qmp.command('input-send-event', events=[{'type': 'key', 'data': {'down': True, 'key': key}},
                                                  {'type': 'key', 'data': {'down': False, 'key': key}}])
        out2 = g.wait_debug(lambda o: o.count(' ') >= 23)
        errs = [g.qmp.cmd('send-key', {'keys': [{'type': 'qcode', 'data': 'nokey'}]}),
                g.qmp.cmd('send-key', {'keys': [{'type': 'bogus', 'data': 'a'}]}),
                g.qmp.cmd('send-key', {'keys': [{'type': 'qcode', 'data': 'a'}], 'hold-time': 'x'}),
                g.hmp('sendkey nokey'), g.hmp('sendkey')]
        return out1, out2, errs

    def test_send_key_reaches_i8042(self):
        out1, out2, errs = self.key_bytes(KEMU)
        # scancode set 2, no translation: ctrl a ctrl_r down, then up in reverse order
        self.assertEqual(out1, 'Rfa 14 1c e0 14 e0 f0 14 f0 1c f0 14 ')
        self.assertEqual(out2[len(out1):], '12 e0 71 e0 f0 71 f0 12 32 f0 32 ')
        self.assertEqual(errs[0]['error']['desc'], "Parameter 'data' does not accept value 'nokey'")
        self.assertEqual(errs[3], 'invalid parameter: nokey\r\n')
        if QEMU:
            self.assertEqual((out1, out2, errs), self.key_bytes(QEMU))

    # ------------------------------------------------------------- VNC
    def vnc_session(self, binary):
        g = self.guest(binary, args=['-vnc', 'unix:@VNC@'])
        g.wait_debug(lambda o: o.startswith('R'))
        ppm = g.screendump()
        c = VncClient(g.vnc_path)
        self.addCleanup(c.close)
        info = g.qmp.command('query-vnc')
        result = {'size': (c.w, c.h), 'pf': c.pf, 'name': c.name, 'query': info,
                  'hmp': g.hmp('info vnc')}
        w, h, shot = screen_from_ppm(ppm)

        def full_screen(encodings):
            c.set_encodings(encodings)
            c.request()
            fb, encs = {}, []
            while True:
                encs += c.read_update(fb)
                if len(fb) >= w * h:
                    return fb, encs
                c.request(incremental=True)
        # default format (32 bpp little endian), Raw
        fb, _ = full_screen([0])
        result['raw_equal'] = fb == shot
        # 16 bpp big endian 5:6:5: Hextile on kemu (QEMU's Hextile uses
        # subrectangles this client doesn't decode: Raw there)
        c.set_pixel_format(16, True, (31, 63, 31), (11, 5, 0))
        fb16, encs = full_screen([5, -223] if binary == KEMU else [0, -223])
        scale = lambda r, g_, b: (r >> 3, g_ >> 2, b >> 3)
        _, _, shot16 = screen_from_ppm(ppm, scale)
        result['fb16_equal'] = fb16 == shot16
        result['hextile_used'] = 5 in encs
        # keys through VNC: 'a' (keysym 0x61), then Return
        g.wait_debug(lambda o: o.startswith('Rfa '))
        for ks in (0x61, 0xff0d):
            c.key(ks, True)
            c.key(ks, False)
        result['keys'] = g.wait_debug(lambda o: o.count(' ') >= 7)
        # pointer: a first position, then 5 right / 3 down with the left button
        c.sock.sendall(struct.pack('>BBHH', 5, 0, 100, 100))
        c.sock.sendall(struct.pack('>BBHH', 5, 1, 105, 103))
        c.sock.sendall(struct.pack('>BBHH', 5, 0, 105, 103))
        result['mouse'] = g.wait_debug(lambda o: o.count(' ') >= 13)[len(result['keys']):]
        return g, result

    def test_vnc_client(self):
        g, k = self.vnc_session(KEMU)
        self.assertEqual(k['size'], (320, 200))
        self.assertTrue(k['raw_equal'])
        self.assertTrue(k['fb16_equal'])
        self.assertTrue(k['hextile_used'])
        self.assertEqual(k['keys'], 'Rfa 1c f0 1c 5a f0 5a ')
        # PS/2 packets: left button, dx 5, dy -3 (y grows upwards); release
        self.assertEqual(k['mouse'], '29 05 fd 08 00 00 ')
        self.assertEqual(k['query']['family'], 'unix')
        self.assertEqual(len(k['query']['clients']), 1)
        self.assertIn('  Server: :%s (unix)\r\n    Auth: none (Sub: none)\r\n  Client: : (unix)\r\n' % g.vnc_path,
                      k['hmp'])
        # 3.3 and 3.7 clients, a second client at the same time
        c33 = VncClient(g.vnc_path, b'RFB 003.003\n')
        c37 = VncClient(g.vnc_path, b'RFB 003.007\n')
        self.assertEqual((c33.w, c33.h, c37.w, c37.h), (320, 200, 320, 200))
        c33.close()
        c37.close()
        if QEMU:
            gq, q = self.vnc_session(QEMU)
            for key in ('size', 'pf', 'name', 'raw_equal', 'fb16_equal', 'keys', 'mouse'):
                self.assertEqual(k[key], q[key], key)
            self.assertEqual(sorted(k['query']), sorted(q['query']))
            self.assertEqual(k['query']['clients'][0].keys(), q['query']['clients'][0].keys())

    def test_vnc_tcp(self):
        def free_display():
            for n in range(200 + os.getpid() % 500, 1200):
                s = socket.socket()
                try:
                    s.bind(('127.0.0.1', 5900 + n))
                    return n
                except OSError:
                    continue
                finally:
                    s.close()
        replies = {}
        for binary in filter(None, (KEMU, QEMU)):
            n = free_display()
            g = self.guest(binary, args=['-vnc', '127.0.0.1:%d' % n])
            g.wait_debug(lambda o: o.startswith('R'))
            c = VncClient(('127.0.0.1', 5900 + n))
            q = g.qmp.command('query-vnc')
            hmp = g.hmp('info vnc')
            c.close()
            self.assertEqual((c.w, c.h), (320, 200))
            self.assertEqual((q['host'], q['service'], q['family']), ('127.0.0.1', str(5900 + n), 'ipv4'))
            self.assertEqual(q['clients'][0]['host'], '127.0.0.1')
            self.assertIn('  Server: 127.0.0.1:%d (ipv4)\r\n' % (5900 + n), hmp)
            replies[binary] = sorted(q), sorted(q['clients'][0])
            g.close()
        if QEMU:
            self.assertEqual(replies[KEMU], replies[QEMU])

    def test_vnc_garbage_does_not_hurt(self):
        g = self.guest(args=['-vnc', 'unix:@VNC@'])
        g.wait_debug(lambda o: o.startswith('R'))
        junk = [b'GET / HTTP/1.1\r\n\r\n', b'RFB 003.008\n\x02', b'RFB 003.008\n\x01\x01\x99' + os.urandom(4000),
                b'RFB 003.008\n\x01\x01\x06\x00\x00\x00\x7f\xff\xff\xff',
                b'RFB 003.008\n\x01\x01\x02\x00\xff\xff' + b'\x00' * 100,
                b'RFB 003.008\n\x01\x01\x03\x00\x00\x00\x00\x00\xff\xff\xff\xff']
        for data in junk:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(g.vnc_path)
            s.recv(12)
            try:
                s.sendall(data)
            except OSError:
                pass
            s.close()
        # a client that asks for updates and never reads
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(g.vnc_path)
        s.sendall(b'RFB 003.008\n\x01\x01' + struct.pack('>BBHHHH', 3, 0, 0, 0, 320, 200) * 200)
        time.sleep(0.5)
        self.assertEqual(g.qmp.command('query-status')['status'], 'running')
        c = VncClient(g.vnc_path)
        c.request()
        fb = {}
        c.read_update(fb)
        self.assertEqual(len(fb), 320 * 200)
        s.close()
        c.close()
        time.sleep(0.2)
        self.assertEqual(g.qmp.command('query-vnc')['clients'], [])


if __name__ == '__main__':
    unittest.main()
