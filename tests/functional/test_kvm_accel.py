#!/usr/bin/env python3
"""Functional tests for kemu's KVM accelerator (stdlib only).

Runs build/kemu-system-x86_64 -enable-kvm with tiny 64 KiB -bios images
built here (real-mode code, the reset vector at 0xfff0 jumps to offset 0):
exit status through isa-debug-exit, CPUID as the guest sees it, triple
fault -> reset, `info registers` at power-on, and the error texts when
/dev/kvm is missing, not accessible or has no driver. Each result is
compared with QEMU 7.2 (/usr/bin/qemu-system-x86_64, or $QEMU_REF) run
the same way when it is installed.

    KEMU=build/kemu-system-x86_64 python3 tests/functional/test_kvm_accel.py -v

Tests that need a usable /dev/kvm, root (mount namespaces, runuser) or
QEMU skip with the reason.
"""
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEMU = os.environ.get('KEMU', os.path.join(ROOT, 'build', 'kemu-system-x86_64'))
QEMU = os.environ.get('QEMU_REF', '/usr/bin/qemu-system-x86_64')
KVM_GET_API_VERSION = 0xAE00          # _IO(KVMIO, 0x00)
TIMEOUT = 20

# Real-mode payloads (GNU as, .code16, linked at 0; sources in the comments).
# hello: print "kemu kvm real mode ok\n" on COM1, write 0x2a to port 0xf4 (status 85).
HELLO = ('fabaf803be1b002e8a0484c07404ee46ebf5baf400b02aeef4ebfd6b656d75206b766d20'
         '7265616c206d6f6465206f6b0a')
# cpuid: for a table of (leaf, subleaf) print "LLLLLLLL.SSSSSSSS: EAX EBX ECX EDX",
# then exit with 0x10 (status 33).
CPUID = (
    'fa31c08ed0bc00708cc88ed8be9100668b046683f8ff7445668b4c0466506651e84c00b02e'
    'e8620067668b0424e83f00b03ae85500665966580fa2665266516653e822006658e81d0066'
    '58e818006658e81300b00ae8320083c608ebb2baf400b010eef4ebf76650b020e81d006658'
    'b9080066c1c0046650240f04303c3976020407e805006658e2e9c352baf803ee5ac3000000'
    '000000000001000000000000000200000000000000040000000000000004000000010000'
    '000400000002000000040000000300000005000000000000000600000000000000070000'
    '000000000007000000010000000a000000000000000b000000000000000b000000010000'
    '000d000000000000000d000000010000000d000000020000000000004000000000010000'
    '40000000000000008000000000010000800000000002000080000000000300008000000000'
    '040000800000000005000080000000000600008000000000070000800000000008000080'
    '000000000a00008000000000ffffffff')
# reset: count boots in RAM at 0x500, print "boot N"; below 3, enter protected
# mode with an empty IDT and execute UD2 (#UD -> #GP -> #DF -> triple fault).
# At 3, exit with 0x10 (status 33).
RESET = (
    'fa31c08ed88ed0bc0070fe060005baf803be56002e8a0484c07404ee46ebf5a000050430ee'
    'b00aee803e00050373202e660f011e5c002e660f011678000f20c00c010f22c066ea4d00ff'
    'ff08000f0bbaf400b010eef4626f6f7420000000000000008db400006690000000000000000'
    '0ffff0000009bcf000f006800ffff')

# daa: print "boot 1", enter protected mode, execute DAA (which some KVMs
# cannot emulate: "KVM internal error ... emulation failure" and a register
# dump), then exit with 0x10 (status 33) where DAA runs natively.
DAA = (
    'fa31c08ed88ed0bc0070fe060005baf803be5b002e8a0484c07404ee46ebf5a000050430ee'
    'b00aee2e660f011e61002e660f011678000f20c00c010f22c066ea4600ffff0800b8341200'
    '002766baf400b010eef4baf400b010eef4626f6f742000000000000000900000000000000000'
    'ffff0000009bcf000f006800ffff')


def bios_image(code_hex, path):
    img = bytearray(0x10000)
    code = bytes.fromhex(code_hex)
    img[:len(code)] = code
    img[0xfff0:0xfff5] = bytes.fromhex('ea000000f0')     # ljmp $0xf000, $0
    with open(path, 'wb') as f:
        f.write(img)
    return path


def kvm_unusable_reason():
    if not os.path.exists('/dev/kvm'):
        return 'no /dev/kvm'
    try:
        fd = os.open('/dev/kvm', os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return 'cannot open /dev/kvm: %s' % e.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    finally:
        os.close(fd)
    if version != 12:
        return 'KVM API version %d, not 12' % version
    return None


def run_killed(argv, seconds):
    """Run for `seconds` (a stopped VM does not exit), then SIGTERM; (status, out, err)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors='replace')
    try:
        out, err = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate(timeout=TIMEOUT)
    return p.returncode, out, err


def have(binary):
    return os.path.isfile(binary) and os.access(binary, os.X_OK)


def run(argv, stdin_text=None, timeout=TIMEOUT, wrap=None):
    """Run argv (optionally through a wrapper prefix); return (status, stdout, stderr)."""
    cmd = (wrap or []) + argv
    p = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True,
                       timeout=timeout, errors='replace')
    return p.returncode, p.stdout, p.stderr


def normalize(text, binary):
    """Program name -> PROG; drop the SIGTERM line both print when killed."""
    name = os.path.basename(binary)
    lines = [ln.replace(name + ':', 'PROG:') for ln in text.splitlines()]
    return [ln for ln in lines if 'terminating on signal' not in ln]


BASE_ARGS = ['-display', 'none', '-nodefaults', '-serial', 'stdio',
             '-device', 'isa-debug-exit,iobase=0xf4,iosize=4']


class KVMRunTest(unittest.TestCase):
    """Guests that run under -enable-kvm."""

    @classmethod
    def setUpClass(cls):
        if not have(KEMU):
            raise unittest.SkipTest('%s not built' % KEMU)
        reason = kvm_unusable_reason()
        if reason:
            raise unittest.SkipTest('KVM unusable: ' + reason)
        cls.tmp = tempfile.mkdtemp(prefix='kemu-kvm-')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def image(self, name, code):
        return bios_image(code, os.path.join(self.tmp, name + '.bin'))

    def both(self, extra, **kw):
        """Run kemu and (if installed) QEMU with the same arguments."""
        k = run([KEMU, '-enable-kvm'] + BASE_ARGS + extra, **kw)
        q = run([QEMU, '-enable-kvm'] + BASE_ARGS + extra, **kw) if have(QEMU) else None
        return k, q

    def test_real_mode_exit_status(self):
        (kst, kout, kerr), q = self.both(['-bios', self.image('hello', HELLO)])
        self.assertEqual(kout, 'kemu kvm real mode ok\n', kerr)
        self.assertEqual(kst, 85, kerr)
        if q:
            self.assertEqual((kst, kout), q[:2])

    def test_cpuid_as_qemu(self):
        if not have(QEMU):
            self.skipTest('QEMU not installed: nothing to compare CPUID with')
        img = self.image('cpuid', CPUID)
        for smp in ('1', '2'):
            with self.subTest(smp=smp):
                (kst, kout, kerr), (qst, qout, qerr) = self.both(['-bios', img, '-smp', smp])
                self.assertEqual(kst, 33, kerr)
                self.assertEqual(kout.splitlines(), qout.splitlines())
                # "host doesn't support requested feature" warnings, per CPU
                self.assertEqual(sorted(normalize(kerr, KEMU)), sorted(normalize(qerr, QEMU)))

    def test_triple_fault_resets(self):
        img = self.image('reset', RESET)
        (kst, kout, kerr), q = self.both(['-bios', img])
        self.assertEqual(kout, 'boot 1\nboot 2\nboot 3\n', kerr)
        self.assertEqual(kst, 33, kerr)
        if q:
            self.assertEqual((kst, kout), q[:2])

    def test_triple_fault_no_reboot(self):
        img = self.image('reset', RESET)
        (kst, kout, kerr), q = self.both(['-bios', img, '-no-reboot'])
        self.assertEqual(kout, 'boot 1\n', kerr)
        if q:
            self.assertEqual((kst, kout), q[:2])

    def test_emulation_failure_report_as_qemu(self):
        if not have(QEMU):
            self.skipTest('QEMU not installed: nothing to compare with')
        img = self.image('daa', DAA)
        args = ['-enable-kvm'] + BASE_ARGS + ['-bios', img]
        kst, kout, kerr = run_killed([KEMU] + args, 5)
        qst, qout, qerr = run_killed([QEMU] + args, 5)
        self.assertEqual(kout, qout)
        if 'KVM internal error' in qerr:
            # QEMU's text, register dump and Code= line, then the VM stops
            self.assertEqual(normalize(kerr, KEMU), normalize(qerr, QEMU))
        else:
            self.assertEqual((kst, kout), (33, 'boot 1\n'), kerr)
            self.assertEqual(kst, qst)

    def test_info_registers_at_power_on(self):
        if not have(QEMU):
            self.skipTest('QEMU not installed: nothing to compare info registers with')
        img = self.image('hello', HELLO)
        args = ['-bios', img, '-S', '-monitor', 'stdio', '-serial', 'null']
        dumps = []
        for binary in (KEMU, QEMU):
            _, out, err = run([binary, '-enable-kvm', '-display', 'none', '-nodefaults'] + args,
                              stdin_text='info registers\nquit\n')
            out = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', out).replace('\r', '')
            lines = out.splitlines()
            start = [i for i, ln in enumerate(lines) if ln.startswith('EAX=')]
            self.assertTrue(start, '%s printed no registers: %s' % (binary, err))
            body = lines[start[0]:]
            end = [i for i, ln in enumerate(body) if ln.startswith('XMM06=')]
            self.assertTrue(end, out)
            dumps.append(body[:end[0] + 1])
        self.assertEqual(dumps[0], dumps[1])


def in_dev_namespace(setup):
    """Wrapper: run in a private mount namespace with a fresh /dev, after `setup`."""
    script = ('mount -t tmpfs -o mode=755 none /dev && '
              'mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && '
              'mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8 && '
              + (setup + ' && ' if setup else '') + 'exec "$@"')
    return ['unshare', '-m', 'sh', '-c', script, 'sh']


class KVMErrorTest(unittest.TestCase):
    """Why KVM is unusable: QEMU's two lines, then kemu's own hint."""

    @classmethod
    def setUpClass(cls):
        if not have(KEMU):
            raise unittest.SkipTest('%s not built' % KEMU)
        if os.geteuid() != 0 or not shutil.which('unshare'):
            raise unittest.SkipTest('needs root and unshare(1) to hide /dev/kvm')
        probe = subprocess.run(['unshare', '-m', 'true'], capture_output=True)
        if probe.returncode != 0:
            raise unittest.SkipTest('cannot create a mount namespace here')

    def check(self, wrap, errno_text, hint_words, runner_for_qemu=None):
        args = ['-enable-kvm', '-display', 'none', '-nodefaults', '-S']
        kst, _, kerr = run([KEMU] + args, wrap=wrap)
        klines = normalize(kerr, KEMU)
        expect = ['Could not access KVM kernel module: ' + errno_text,
                  'PROG: failed to initialize kvm: ' + errno_text]
        self.assertEqual(kst, 1, kerr)
        self.assertEqual(klines[:2], expect, kerr)
        hint = ' '.join(klines[2:])
        for w in hint_words:
            self.assertIn(w, hint, kerr)
        if have(QEMU):
            qst, _, qerr = run([QEMU] + args, wrap=runner_for_qemu or wrap)
            self.assertEqual(qst, kst)
            self.assertEqual(normalize(qerr, QEMU), klines[:2])

    def test_no_dev_kvm(self):
        self.check(in_dev_namespace(''), 'No such file or directory', ['/dev/kvm'])

    def test_no_driver(self):
        # a character device number no driver owns: open() fails with ENXIO/ENODEV
        wrap = in_dev_namespace('mknod -m 666 /dev/kvm c 10 250')
        kst, _, kerr = run([KEMU, '-enable-kvm', '-display', 'none', '-nodefaults', '-S'],
                           wrap=wrap)
        m = re.search(r'Could not access KVM kernel module: (.*)', kerr)
        self.assertTrue(m, kerr)
        self.check(wrap, m.group(1), ['modprobe'])

    def test_permission_denied(self):
        if not shutil.which('runuser'):
            self.skipTest('needs runuser(1)')
        st = os.stat('/dev/kvm') if os.path.exists('/dev/kvm') else None
        if st is None:
            self.skipTest('no /dev/kvm to be denied access to')
        if st.st_mode & 0o006:
            self.skipTest('/dev/kvm is world-accessible here')
        wrap = ['runuser', '-u', 'nobody', '--']
        self.check(wrap, 'Permission denied', ['group', 'kvm'])


if __name__ == '__main__':
    unittest.main()


# ---------------------------------------------------------------------------
# Payload sources. Rebuild one with:
#   as --32 -o x.o x.S && ld -m elf_i386 -Ttext 0 --oformat binary -o x.bin x.o
# and take bytes [0, end of code) of x.bin (the test adds the reset jump).
#
# ===== hello.S =====
#       .code16
#       .text
#       .globl _start
#   _start:
#       cli
#       movw $0x3f8, %dx
#       movw $msg, %si
#   1:  movb %cs:(%si), %al
#       testb %al, %al
#       jz 2f
#       outb %al, %dx
#       incw %si
#       jmp 1b
#   2:  movw $0xf4, %dx
#       movb $0x2a, %al
#       outb %al, %dx
#   3:  hlt
#       jmp 3b
#   msg: .asciz "kemu kvm real mode ok\n"
#
# ===== cpuid.S =====
#   /* 64 KiB -bios image: print CPUID leaves on COM1 and exit via isa-debug-exit */
#       .code16
#       .text
#       .globl _start
#   _start:
#       cli
#       xorw %ax, %ax
#       movw %ax, %ss
#       movw $0x7000, %sp
#       movw %cs, %ax
#       movw %ax, %ds
#       movw $table, %si
#   1:  movl (%si), %eax
#       cmpl $0xffffffff, %eax
#       je 9f
#       movl 4(%si), %ecx
#       pushl %eax
#       pushl %ecx
#       call puthex
#       movb $'.', %al
#       call putc
#       movl (%esp), %eax
#       call puthex
#       movb $':', %al
#       call putc
#       popl %ecx
#       popl %eax
#       cpuid
#       pushl %edx
#       pushl %ecx
#       pushl %ebx
#       call sp_hex
#       popl %eax
#       call sp_hex
#       popl %eax
#       call sp_hex
#       popl %eax
#       call sp_hex
#       movb $'\n', %al
#       call putc
#       addw $8, %si
#       jmp 1b
#   9:  movw $0xf4, %dx
#       movb $0x10, %al
#       outb %al, %dx
#       hlt
#       jmp 9b
#
#   sp_hex:
#       pushl %eax
#       movb $' ', %al
#       call putc
#       popl %eax
#   puthex:                 /* eax */
#       movw $8, %cx
#   2:  roll $4, %eax
#       pushl %eax
#       andb $0xf, %al
#       addb $'0', %al
#       cmpb $'9', %al
#       jbe 3f
#       addb $7, %al
#   3:  call putc
#       popl %eax
#       loop 2b
#       ret
#   putc:
#       pushw %dx
#       movw $0x3f8, %dx
#       outb %al, %dx
#       popw %dx
#       ret
#
#   table:
#       .long 0,0, 1,0, 2,0, 4,0, 4,1, 4,2, 4,3, 5,0, 6,0, 7,0, 7,1, 0xa,0, 0xb,0, 0xb,1, 0xd,0, 0xd,1, 0xd,2
#       .long 0x40000000,0, 0x40000001,0, 0x80000000,0, 0x80000001,0, 0x80000002,0, 0x80000003,0, 0x80000004,0
#       .long 0x80000005,0, 0x80000006,0, 0x80000007,0, 0x80000008,0, 0x8000000a,0
#       .long 0xffffffff
#
#
# ===== reset.S =====
#   /* 64 KiB -bios image: count boots in RAM at 0x500, print "boot N", triple-fault until N=3 */
#       .code16
#       .text
#       .globl _start
#   _start:
#       cli
#       xorw %ax, %ax
#       movw %ax, %ds
#       movw %ax, %ss
#       movw $0x7000, %sp
#       incb 0x500
#       movw $0x3f8, %dx
#       movw $msg, %si
#   1:  movb %cs:(%si), %al
#       testb %al, %al
#       jz 2f
#       outb %al, %dx
#       incw %si
#       jmp 1b
#   2:  movb 0x500, %al
#       addb $'0', %al
#       outb %al, %dx
#       movb $'\n', %al
#       outb %al, %dx
#       cmpb $3, 0x500
#       jae 9f
#       lidtl %cs:zidt
#       lgdtl %cs:gdtr
#       movl %cr0, %eax
#       orb $1, %al
#       movl %eax, %cr0
#       ljmpl $0x08, $0xffff0000 + pm
#       .code32
#   pm: ud2                     /* IDT limit 0: #UD -> #GP -> #DF -> triple fault -> reset */
#       .code16
#   9:  movw $0xf4, %dx
#       movb $0x10, %al
#       outb %al, %dx
#       hlt
#   msg: .asciz "boot "
#   zidt: .word 0
#       .long 0
#       .align 8
#   gdt: .quad 0, 0x00cf9b000000ffff
#   gdtr: .word 15
#       .long 0xffff0000 + gdt
#
# ===== daa.S =====
#   /* 64 KiB -bios image: count boots in RAM at 0x500, print "boot N", triple-fault until N=3 */
#       .code16
#       .text
#       .globl _start
#   _start:
#       cli
#       xorw %ax, %ax
#       movw %ax, %ds
#       movw %ax, %ss
#       movw $0x7000, %sp
#       incb 0x500
#       movw $0x3f8, %dx
#       movw $msg, %si
#   1:  movb %cs:(%si), %al
#       testb %al, %al
#       jz 2f
#       outb %al, %dx
#       incw %si
#       jmp 1b
#   2:  movb 0x500, %al
#       addb $'0', %al
#       outb %al, %dx
#       movb $'\n', %al
#       outb %al, %dx
#       lidtl %cs:zidt
#       lgdtl %cs:gdtr
#       movl %cr0, %eax
#       orb $1, %al
#       movl %eax, %cr0
#       ljmpl $0x08, $0xffff0000 + pm
#       .code32
#   pm: movl $0x1234, %eax
#       daa                     /* emulated by some KVMs ("emulation failure") */
#       movw $0xf4, %dx
#       movb $0x10, %al
#       outb %al, %dx
#       hlt
#       .code16
#   9:  movw $0xf4, %dx
#       movb $0x10, %al
#       outb %al, %dx
#       hlt
#   msg: .asciz "boot "
#   zidt: .word 0
#       .long 0
#       .align 8
#   gdt: .quad 0, 0x00cf9b000000ffff
#   gdtr: .word 15
#       .long 0xffff0000 + gdt
