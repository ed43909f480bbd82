#!/usr/bin/env python3
# run_payloads.py - build and run kemu's bare-metal test payloads
# (tests/guest/*.s, multiboot v1 ELF kernels) and compare each one's serial
# output and isa-debug-exit status with the reference QEMU 7.2 run the same
# way, or with the golden files in tests/guest/expected/ when no reference
# binary is installed. Standard library only.
#
# Usage:
#   run_payloads.py [--qemu BIN | BIN] [--accel kvm|tcg] [--reference BIN|none]
#                   [--build-dir DIR] [--only a,b] [--record] [-v]
# Prints one line per payload: "PASS name", "FAIL name: ..." (with a diff)
# or "SKIP name: reason". Exit status: 1 if anything failed, 77 (meson's
# "skipped") if everything was skipped, else 0.
#
# Each payload is run as
#   BIN -accel A -M pc -m 128 -nographic -nodefaults -serial stdio
#       -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel P.elf
# (-enable-kvm for kvm, -smp 2 for smp). The output is compared from the
# payload's "KEMU-TEST <name>" line on, so firmware banners (SeaBIOS prints
# on the serial console under QEMU) are ignored.

import argparse
import difflib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXPECTED_DIR = os.path.join(HERE, 'expected')
REFERENCE_DEFAULT = '/usr/bin/qemu-system-x86_64'

# name -> extra command-line arguments
PAYLOADS = {
    'modes': [],
    'pic-pit': [],
    'apic': [],
    'fwcfg': [],
    'cmos': [],
    'smp': ['-smp', '2'],
}

COMMON_ARGS = ['-M', 'pc', '-m', '128', '-nographic', '-nodefaults',
               '-serial', 'stdio',
               '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']

MARKER = 'KEMU-TEST '
KVM_GET_API_VERSION = 0xAE00


def kvm_unusable_reason():
    """None if /dev/kvm can be opened and answers KVM_GET_API_VERSION = 12."""
    if not os.path.exists('/dev/kvm'):
        return 'no /dev/kvm (KVM module not loaded or no hardware support)'
    try:
        fd = os.open('/dev/kvm', os.O_RDWR | os.O_CLOEXEC)
    except PermissionError:
        return 'no permission to open /dev/kvm (add the user to group kvm)'
    except OSError as e:
        return 'cannot open /dev/kvm: %s' % e.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as e:
        return 'KVM_GET_API_VERSION failed: %s' % e.strerror
    finally:
        os.close(fd)
    if version != 12:
        return 'unexpected KVM API version %d' % version
    return None


def find_ld_flags():
    """--no-warn-rwx-segments exists from binutils 2.39 on."""
    try:
        out = subprocess.run(['ld', '--help'], capture_output=True,
                             text=True).stdout
    except OSError:
        return []
    return ['--no-warn-rwx-segments'] if 'no-warn-rwx-segments' in out else []


def build_payload(name, build_dir):
    """Assemble and link NAME.s into BUILD_DIR/NAME.elf when out of date.
    Returns (path, None) or (None, error message)."""
    src = os.path.join(HERE, name + '.s')
    deps = [src, os.path.join(HERE, 'common.inc'), os.path.join(HERE, 'link.ld')]
    obj = os.path.join(build_dir, name + '.o')
    elf = os.path.join(build_dir, name + '.elf')
    if os.path.exists(elf):
        t = os.path.getmtime(elf)
        if all(os.path.getmtime(d) <= t for d in deps):
            return elf, None
    for tool in ('as', 'ld'):
        if shutil.which(tool) is None:
            return None, '%s not found (install binutils)' % tool
    os.makedirs(build_dir, exist_ok=True)
    cmds = [['as', '--32', '-I', HERE, '-o', obj, src],
            ['ld', '-m', 'elf_i386', '-T', os.path.join(HERE, 'link.ld'),
             '-nostdlib', '-static', '--build-id=none'] + find_ld_flags() +
            ['-o', elf, obj]]
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return None, 'build failed: %s\n%s' % (' '.join(cmd),
                                                    p.stderr.strip())
    return elf, None


def build_all(build_dir, names):
    results = {}
    for name in names:
        results[name] = build_payload(name, build_dir)
    return results


def accel_args(accel):
    return ['-enable-kvm'] if accel == 'kvm' else ['-accel', accel]


def run_one(binary, elf, name, accel, timeout):
    """Run one payload. Returns (normalised output, exit status or
    'timeout', stderr text)."""
    cmd = [binary] + accel_args(accel) + COMMON_ARGS + PAYLOADS[name] + \
        ['-kernel', elf]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        status = 'timeout'
    return normalise(out), status, err.decode('utf-8', 'replace')


def normalise(raw):
    text = raw.decode('latin-1').replace('\r\n', '\n')
    i = text.find(MARKER)
    if i < 0:
        tail = text[-400:]
        return '(no %r line in the output; last output: %r)\n' % (
            MARKER.strip(), tail)
    return text[i:]


def golden_path(name, accel):
    return os.path.join(EXPECTED_DIR, '%s.%s.out' % (name, accel))


def format_result(out, status):
    return out + ('' if out.endswith('\n') else '\n') + \
        'EXIT STATUS %s\n' % status


def read_golden(name, accel):
    try:
        with open(golden_path(name, accel)) as f:
            return f.read()
    except OSError:
        return None


def short_stderr(err):
    lines = [ln for ln in err.splitlines()
             if 'host doesn\'t support requested feature' not in ln]
    return '\n'.join('    stderr: ' + ln for ln in lines[-8:])


def resolve_binary(path):
    if os.path.isabs(path) or os.path.exists(path):
        return path
    cand = os.path.join(REPO, path)
    return cand if os.path.exists(cand) else path


def main():
    ap = argparse.ArgumentParser(
        description='Run the tests/guest payloads and compare with QEMU.')
    ap.add_argument('binary', nargs='?', help='emulator under test '
                    '(same as --qemu)')
    ap.add_argument('--qemu', default=None,
                    help='emulator under test (default '
                    'build/kemu-system-x86_64)')
    ap.add_argument('--reference', default=REFERENCE_DEFAULT,
                    help='reference QEMU, or "none" to use the golden '
                    'files in tests/guest/expected (default %(default)s)')
    ap.add_argument('--accel', default='kvm', choices=['kvm', 'tcg'])
    ap.add_argument('--build-dir', default=os.path.join(
        tempfile.gettempdir(), 'kemu-guest-payloads-%d' % os.getuid()),
        help='where the payloads are built (default %(default)s)')
    ap.add_argument('--only', default='', help='comma-separated payloads')
    ap.add_argument('--timeout', type=float, default=None,
                    help='seconds per run (default 30 kvm, 120 tcg)')
    ap.add_argument('--record', action='store_true',
                    help='run the reference and write the golden files')
    ap.add_argument('--build-only', action='store_true')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()

    names = list(PAYLOADS)
    if args.only:
        names = [n for n in args.only.split(',') if n]
        bad = [n for n in names if n not in PAYLOADS]
        if bad:
            ap.error('unknown payload(s): %s' % ', '.join(bad))
    timeout = args.timeout or (30 if args.accel == 'kvm' else 120)
    binary = resolve_binary(args.binary or args.qemu or
                            'build/kemu-system-x86_64')
    reference = None if args.reference == 'none' else args.reference
    if reference and not os.access(reference, os.X_OK):
        reference = None

    built = build_all(args.build_dir, names)
    if args.build_only:
        bad = [n for n in names if built[n][0] is None]
        for n in names:
            print(('FAIL %s: %s' % (n, built[n][1])) if built[n][0] is None
                  else 'BUILT %s: %s' % (n, built[n][0]))
        return 1 if bad else 0

    skip_all = None
    if args.accel == 'kvm':
        skip_all = kvm_unusable_reason()
    if skip_all is None and not args.record and \
            not os.access(binary, os.X_OK):
        skip_all = 'emulator under test not found: %s' % binary
    if skip_all is None and args.record and reference is None:
        skip_all = 'no reference QEMU to record from'

    failed = skipped = 0
    for name in names:
        if skip_all:
            print('SKIP %s: %s' % (name, skip_all))
            skipped += 1
            continue
        elf, err = built[name]
        if elf is None:
            print('FAIL %s: %s' % (name, err))
            failed += 1
            continue

        if reference:
            rout, rstatus, rerr = run_one(reference, elf, name, args.accel,
                                          timeout)
            expected = format_result(rout, rstatus)
            kvm_err = [ln for ln in rerr.splitlines()
                       if 'kvm' in ln.lower() and 'warning' not in ln.lower()]
            if args.accel == 'kvm' and kvm_err and rstatus == 1 and \
                    not rout.startswith(MARKER):
                print('SKIP %s: the reference QEMU cannot use KVM here: %s' %
                      (name, kvm_err[0].strip()))
                skipped += 1
                continue
            if rstatus == 'timeout' or not rout.startswith(MARKER):
                print('FAIL %s: the reference %s did not run the payload '
                      '(status %s)\n%s' % (name, reference, rstatus,
                                           short_stderr(rerr)))
                failed += 1
                continue
            if args.record:
                os.makedirs(EXPECTED_DIR, exist_ok=True)
                with open(golden_path(name, args.accel), 'w') as f:
                    f.write(expected)
                print('RECORDED %s: %s' % (name, golden_path(name, args.accel)))
                continue
            source = reference
        else:
            expected = read_golden(name, args.accel)
            if expected is None:
                print('SKIP %s: no reference QEMU and no golden file %s' %
                      (name, golden_path(name, args.accel)))
                skipped += 1
                continue
            source = golden_path(name, args.accel)

        out, status, err = run_one(binary, elf, name, args.accel, timeout)
        got = format_result(out, status)
        if got == expected:
            print('PASS %s' % name)
            if args.verbose:
                sys.stdout.write(''.join('    ' + ln for ln in
                                         got.splitlines(True)))
            continue
        failed += 1
        diff = difflib.unified_diff(expected.splitlines(True),
                                    got.splitlines(True),
                                    fromfile=source, tofile=binary)
        diff = list(diff)
        shown = ''.join('    ' + ln for ln in diff[:40])
        if len(diff) > 40:
            shown += '    ... (%d more diff lines)\n' % (len(diff) - 40)
        print('FAIL %s: output or exit status differs\n%s%s' %
              (name, shown, short_stderr(err)))
    sys.stdout.flush()
    if failed:
        return 1
    if skipped == len(names):
        return 77
    return 0


if __name__ == '__main__':
    sys.exit(main())
