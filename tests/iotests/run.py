#!/usr/bin/env python3
"""Run kemu's block iotests: numbered shell scripts with golden output.

Each test NNN runs in a fresh temporary directory with KEMU_IMG, KEMU_IO,
QEMU_IMG, QEMU_IO and TEST_DIR exported; its merged stdout+stderr (with the
directory replaced by "TEST_DIR") must equal NNN.out exactly. Debian's
qemu-img/qemu-io serve as the independent judge; tests with a
"# requires: qemu" line are skipped when they are not installed.
Exit status is non-zero if any test fails.

usage: run.py [--build-root DIR] [--update] [-v] [TEST...]
"""
import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def find_tool(build_root, env_name, candidates):
    if os.environ.get(env_name):
        return os.environ[env_name]
    for c in candidates:
        p = os.path.join(build_root, c)
        if os.access(p, os.X_OK):
            return p
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build-root', default=os.environ.get('KEMU_BUILD_ROOT', 'build'))
    ap.add_argument('--update', action='store_true', help='rewrite the .out files')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('tests', nargs='*')
    args = ap.parse_args()

    kimg = find_tool(args.build_root, 'KEMU_IMG', ['kemu-img'])
    kio = find_tool(args.build_root, 'KEMU_IO', ['block/kemu-io', 'kemu-io'])
    if not kimg or not kio:
        print('run.py: kemu-img/kemu-io not found under %s' % args.build_root)
        return 2
    qimg = shutil.which('qemu-img')
    qio = shutil.which('qemu-io')

    tests = args.tests or sorted(f for f in os.listdir(HERE)
                                 if len(f) == 3 and f.isdigit())
    failed, skipped, passed = [], [], []
    for name in tests:
        path = os.path.join(HERE, name)
        with open(path) as f:
            src = f.read()
        if '# requires: qemu' in src and not (qimg and qio):
            print('%s skipped (qemu-img/qemu-io not installed)' % name)
            skipped.append(name)
            continue
        tmp = tempfile.mkdtemp(prefix='kemu-iotest-%s-' % name)
        env = dict(os.environ, KEMU_IMG=kimg, KEMU_IO=kio, QEMU_IMG=qimg or 'qemu-img',
                   QEMU_IO=qio or 'qemu-io', TEST_DIR=tmp, LC_ALL='C', TZ='UTC',
                   IOTESTS=HERE)
        t0 = time.time()
        try:
            p = subprocess.run(['bash', path], cwd=tmp, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=300)
            out = p.stdout.decode('utf-8', 'replace')
        except subprocess.TimeoutExpired:
            out = '*** timeout ***\n'
        out = out.replace(tmp, 'TEST_DIR')
        shutil.rmtree(tmp, ignore_errors=True)
        golden = path + '.out'
        if args.update:
            with open(golden, 'w') as f:
                f.write(out)
        expected = open(golden).read() if os.path.exists(golden) else ''
        dt = time.time() - t0
        if out == expected:
            print('%s ok (%.1fs)' % (name, dt))
            passed.append(name)
        else:
            print('%s FAIL (%.1fs)' % (name, dt))
            sys.stdout.writelines(difflib.unified_diff(
                expected.splitlines(True), out.splitlines(True),
                golden, 'actual output'))
            failed.append(name)
    print('iotests: %d passed, %d failed, %d skipped' % (len(passed), len(failed),
                                                          len(skipped)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
