#!/usr/bin/env python3
# startup.py - start-up benchmark: kemu against QEMU 7.2 (standard library).
#
# Runs the same bare-metal payload (tests/guest, multiboot v1 ELF, default
# "modes", which prints its "KEMU-TEST" line first) N times under each
# emulator and accelerator and measures, per run:
#   - first byte: time from just before exec to the payload's first serial
#     byte (the start of its "KEMU-TEST" line; firmware output such as
#     SeaBIOS's banner under QEMU is not counted as the payload's);
#   - first serial byte (any): the same, counting firmware output too;
#   - exit: time until the process has exited (payload ends through
#     isa-debug-exit);
#   - peak RSS: ru_maxrss from os.wait4() (KiB on Linux).
# Prints a Markdown table of medians and kemu/QEMU ratios. KVM rows are
# skipped with the reason when /dev/kvm is unusable; a missing kemu binary
# is shown as "missing" so the script works with QEMU alone.
#
# Usage: startup.py [--kemu BIN] [--qemu BIN] [-n 5] [--accel kvm,tcg]
#                   [--payload modes]

import argparse
import os
import select
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, 'tests', 'guest'))
import run_payloads  # noqa: E402  (payload builder and KVM check)

MARKER = b'KEMU-TEST '


def run_once(binary, accel, elf, extra, timeout):
    """Returns dict(first=s or None, exit=s, rss=KiB, status=int) or raises."""
    cmd = [binary] + run_payloads.accel_args(accel) + \
        run_payloads.COMMON_ARGS + extra + ['-kernel', elf]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    fd = p.stdout.fileno()
    buf = b''
    first = anyb = None
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.killpg(p.pid, 9)
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        now = time.monotonic()
        if not chunk:
            break
        if anyb is None:
            anyb = now - t0
        if first is None:
            buf += chunk
            if MARKER in buf:
                first = now - t0
            buf = buf[-len(MARKER):]
    _, status, ru = os.wait4(p.pid, 0)
    t_exit = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    return {'first': first, 'any': anyb, 'exit': t_exit, 'rss': ru.ru_maxrss,
            'status': p.returncode}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, kind):
    if v is None:
        return 'n/a'
    if kind == 'rss':
        return '%.1f MiB' % (v / 1024.0)
    return '%.1f ms' % (v * 1000.0)


def main():
    ap = argparse.ArgumentParser(
        description='exec-to-first-serial-byte and peak RSS, kemu vs QEMU')
    ap.add_argument('--kemu', default=os.path.join(
        REPO, 'build', 'kemu-system-x86_64'))
    ap.add_argument('--qemu', default='/usr/bin/qemu-system-x86_64')
    ap.add_argument('-n', type=int, default=5, help='runs per emulator')
    ap.add_argument('--accel', default='kvm,tcg')
    ap.add_argument('--payload', default='modes',
                    choices=sorted(run_payloads.PAYLOADS))
    ap.add_argument('--timeout', type=float, default=60.0)
    ap.add_argument('--build-dir', default=None)
    args = ap.parse_args()

    build_dir = args.build_dir or os.path.join(
        run_payloads.tempfile.gettempdir(),
        'kemu-guest-payloads-%d' % os.getuid())
    elf, err = run_payloads.build_payload(args.payload, build_dir)
    if elf is None:
        print('cannot build payload %s: %s' % (args.payload, err))
        return 1
    extra = run_payloads.PAYLOADS[args.payload]

    emulators = [('kemu', args.kemu), ('QEMU', args.qemu)]
    print('payload %s, %d runs each, medians; host %s, %d CPUs' % (
        args.payload, args.n, os.uname().release, os.cpu_count()))
    print()
    print('| accel | metric | kemu | QEMU | kemu/QEMU |')
    print('|---|---|---|---|---|')
    notes = []
    for accel in [a for a in args.accel.split(',') if a]:
        if accel == 'kvm':
            why = run_payloads.kvm_unusable_reason()
            if why:
                print('| kvm | (skipped) | | | |')
                notes.append('kvm skipped: %s' % why)
                continue
        res = {}
        for label, binary in emulators:
            if not os.access(binary, os.X_OK):
                res[label] = None
                notes.append('%s missing: %s' % (label, binary))
                continue
            runs = []
            for _ in range(args.n):
                r = run_once(binary, accel, elf, extra, args.timeout)
                runs.append(r)
            bad = [r for r in runs if r['first'] is None]
            if bad:
                notes.append('%s/%s: %d of %d runs printed no payload '
                             'output (exit status %s)' % (
                                 label, accel, len(bad), len(runs),
                                 bad[0]['status']))
            res[label] = {k: median([r[k] for r in runs])
                          for k in ('any', 'first', 'exit', 'rss')}
        for metric, title in (('any', 'first serial byte (any)'),
                              ('first', 'first payload byte'),
                              ('exit', 'exit'), ('rss', 'peak RSS')):
            cells = []
            for label, _ in emulators:
                r = res.get(label)
                cells.append('missing' if r is None else fmt(r[metric],
                                                             metric))
            k, q = res.get('kemu'), res.get('QEMU')
            if k and q and k[metric] and q[metric]:
                ratio = '%.2f' % (k[metric] / q[metric])
            else:
                ratio = 'n/a'
            print('| %s | %s | %s | %s | %s |' % (accel, title, cells[0],
                                                  cells[1], ratio))
    if notes:
        print()
    for n in dict.fromkeys(notes):
        print('note: ' + n)
    return 0


if __name__ == '__main__':
    sys.exit(main())
