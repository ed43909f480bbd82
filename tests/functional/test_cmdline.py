#!/usr/bin/env python3
"""Command-line compatibility: kemu against QEMU 7.2.

Each case runs the same arguments through kemu ($KEMU) and, when
installed, /usr/bin/qemu-system-x86_64, and compares the exit status and
stderr/stdout with the program name normalised. Without QEMU the
recorded QEMU 7.2 texts below are the reference. Also checks that
-machine none/pc -S wait and that SIGTERM ends kemu cleanly.
Standard library only; prints 'N passed, N failed'.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_guest import Results  # noqa: E402

KEMU = os.environ.get("KEMU", "build/kemu-system-x86_64")
QEMU = "/usr/bin/qemu-system-x86_64"
HAVE_QEMU = os.path.exists(QEMU)

# (args, expected exit status, expected stderr as QEMU 7.2 prints it, with
# "PROG" for the program name). Chosen so that no display/disk/NIC
# difference between the two binaries is involved.
ERROR_CASES = [
    (["-frobnicate"], 1, "PROG: -frobnicate: invalid option\n"),
    (["--frobnicate"], 1, "PROG: --frobnicate: invalid option\n"),
    (["-m"], 1, "PROG: -m: requires an argument\n"),
    (["-M", "none", "-m", "1x"], 1,
     "PROG: -m 1x: Parameter 'size' expects a non-negative number below 2^64\n"
     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
     "and exabytes, respectively.\n"),
    (["-machine", "foo"], 1, "PROG: unsupported machine type\nUse -machine help to list supported machines\n"),
    (["-accel", "foo"], 1, "PROG: -accel foo: invalid accelerator foo\n"),
    (["-M", "none", "-cpu", "foo"], 1, "PROG: unable to find CPU model 'foo'\n"),
    (["-M", "none", "-initrd", "/x"], 1, "PROG: -initrd only allowed with -kernel option\n"),
    (["-M", "none", "-append", "x"], 1, "PROG: -append only allowed with -kernel option\n"),
    (["-M", "pc", "-display", "none", "-smp", "300"], 1,
     "PROG: Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-7.2' is 255\n"),
    (["-M", "none", "-smp", "2,sockets=3"], 1,
     "PROG: Invalid CPU topology: product of the hierarchy must match maxcpus: "
     "sockets (3) * cores (0) * threads (1) != maxcpus (2)\n"),
    (["-display", "none", "-kernel", "/nonexistent"], 1,
     "qemu: could not open kernel file '/nonexistent': No such file or directory\n"),
    (["-display", "none", "-kernel", "/etc/hostname"], 1, "qemu: invalid kernel header\n"),
    (["-display", "none", "-bios", "/nonexistent"], 1, "qemu: could not load PC BIOS '/nonexistent'\n"),
    (["-M", "pc,foo=bar", "-display", "none"], 1, "PROG: Property 'pc-i440fx-7.2-machine.foo' not found\n"),
    (["-M", "none", "-uuid", "zz"], 1, "PROG: -uuid zz: failed to parse UUID string: wrong format\n"),
    (["-M", "none", "-name", "guest=x,foo=bar"], 1, "PROG: -name guest=x,foo=bar: Invalid parameter 'foo'\n"),
    (["-M", "none", "-chardev", "foo,id=x"], 1, "PROG: -chardev foo,id=x: 'foo' is not a valid char driver name\n"),
    (["-M", "pc", "-display", "none", "-device", "isa-debug-exit,foo=1"], 1,
     "PROG: -device isa-debug-exit,foo=1: Property 'isa-debug-exit.foo' not found\n"),
    (["-M", "pc", "-display", "none", "-device", "isa-debug-exit,iobase=zz"], 1,
     "PROG: -device isa-debug-exit,iobase=zz: Parameter 'iobase' expects integer\n"),
    (["-M", "pc", "-display", "none", "-device", "isa-debug-exit,iobase=0x100000000"], 1,
     "PROG: -device isa-debug-exit,iobase=0x100000000: Parameter 'iobase' expects uint32_t\n"),
    (["-M", "pc", "-display", "none", "-device", "isa-debugcon,chardev=nope"], 1,
     "PROG: -device isa-debugcon,chardev=nope: Property 'isa-debugcon.chardev' can't find value 'nope'\n"),
    (["-M", "none", "-device", "isa-serial"], 1,
     "PROG: -device isa-serial: No 'ISA' bus found for device 'isa-serial'\n"),
    (["-d", "foo"], 1, None),
    (["-M", "none", "-object", "foo,id=x"], 1,
     "PROG: -object foo,id=x: Parameter 'qom-type' does not accept value 'foo'\n"),
    (["-M", "none", "-object", "memory-backend-ram,id=m1"], 1,
     "PROG: -object memory-backend-ram,id=m1: Parameter 'size' is missing\n"),
    (["-M", "none", "-object", "memory-backend-ram,size=1M"], 1,
     "PROG: -object memory-backend-ram,size=1M: Parameter 'id' is missing\n"),
    (["-M", "none", "-object", "memory-backend-ram,id=m,size=1M,foo=1"], 1,
     "PROG: -object memory-backend-ram,id=m,size=1M,foo=1: Invalid parameter 'foo'\n"),
    (["-M", "none", "-object", "iothread,id=a", "-object", "iothread,id=a"], 1,
     "PROG: -object iothread,id=a: Duplicate ID 'a' for object\n"),
    (["-M", "none", "-object", "memory-backend-file,id=m,size=1M"], 1,
     "PROG: -object memory-backend-file,id=m,size=1M: Parameter 'mem-path' is missing\n"),
    (["-M", "none", "-object", "memory-backend-ram,id=m,size=1M,prealloc=maybe"], 1,
     "PROG: -object memory-backend-ram,id=m,size=1M,prealloc=maybe: "
     "Parameter 'prealloc' expects 'on' or 'off'\n"),
    (["-display", "none", "-m", "256", "-object", "memory-backend-ram,id=pc.ram,size=128M",
      "-machine", "memory-backend=pc.ram"], 1,
     "PROG: Machine memory size does not match the size of the memory backend\n"),
    (["-display", "none", "-object", "memory-backend-ram,id=m,size=128M",
      "-machine", "memory-backend=zz"], 1, "PROG: Memory backend 'zz' not found\n"),
    (["-display", "none", "-object", "memory-backend-ram,id=pc.ram,size=128M"], 1,
     "PROG: object name 'pc.ram' is reserved for the default RAM backend, it can't be used "
     "for any other purposes. Change the object's 'id' to something else\n"),
    (["-M", "none", "-audiodev", "foo,id=a"], 1,
     "PROG: -audiodev foo,id=a: Parameter 'driver' does not accept value 'foo'\n"),
    (["-M", "none", "-audiodev", "none"], 1, "PROG: -audiodev none: Parameter 'id' is missing\n"),
]

# Listings that must be identical on stdout.
STDOUT_CASES = [
    ["-device", "isa-debug-exit,help"],
    ["-device", "isa-debugcon,help"],
]


def run(binary, args, timeout=20):
    p = subprocess.run([binary] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def norm(text, binary):
    name = os.path.basename(binary)
    text = text.replace(name + ":", "PROG:")
    # QEMU's gtk fallback line is not part of the comparison
    return "".join(l for l in text.splitlines(True) if "gtk initialization failed" not in l)


def error_cases(r):
    for args, status, expected in ERROR_CASES:
        name = " ".join(args)
        rc, out, err = run(KEMU, args)
        err = norm(err, KEMU)
        if HAVE_QEMU:
            qrc, qout, qerr = run(QEMU, args)
            qerr = norm(qerr, QEMU)
            r.check(f"qemu-reference {name}", qrc == status and (expected is None or qerr == expected),
                    f"QEMU gave {qrc} {qerr!r}: the recorded text is stale")
        ok = rc == status and (expected is None or err == expected)
        r.check(name, ok, f"exit {rc} (want {status}), stderr {err!r} (want {expected!r})")


def stdout_cases(r):
    for args in STDOUT_CASES:
        name = " ".join(args)
        rc, out, err = run(KEMU, args)
        if HAVE_QEMU:
            qrc, qout, _ = run(QEMU, args)
            r.check(name, rc == qrc == 0 and out == qout, f"kemu:\n{out}\nqemu:\n{qout}")
        else:
            r.check(name, rc == 0 and "options:" in out, out)


def version_and_listings(r):
    rc, out, _ = run(KEMU, ["-version"])
    r.check("-version", rc == 0 and re.match(r"QEMU emulator version 7\.2\.0 \(kemu [^)]+\)\n", out) is not None, out)
    rc, out, _ = run(KEMU, ["-machine", "help"])
    lines = out.splitlines()
    r.check("-machine help", rc == 0 and lines[0] == "Supported machines are:" and
            "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)" in lines and
            "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)" in lines and
            "none                 empty machine" in lines, out)
    if HAVE_QEMU:
        qlines = run(QEMU, ["-machine", "help"])[1].splitlines()
        pc_lines = [l for l in qlines if l.startswith("pc ") or l.startswith("pc-i440fx")]
        mine = [l for l in lines if l.startswith("pc ") or l.startswith("pc-i440fx")]
        r.check("-machine help matches QEMU's pc lines", pc_lines == mine, f"{mine} vs {pc_lines}")
    rc, out, _ = run(KEMU, ["-accel", "help"])
    r.check("-accel help", rc == 0 and out.splitlines()[0] == "Accelerators supported in QEMU binary:"
            and "tcg" in out.split() and "kvm" in out.split(), out)


def waits_then_sigterm(r, args, name):
    p = subprocess.Popen([KEMU] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    alive = p.poll() is None
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        r.check(name, False, "did not exit on SIGTERM")
        return
    msg = re.search(r"terminating on signal 15 from pid \d+ \(", err) is not None
    r.check(name, alive and p.returncode == 0 and msg,
            f"alive={alive} rc={p.returncode} stderr={err!r}")


def kvm_tcg_fallback(r):
    """-machine accel=kvm:tcg: a host whose KVM cannot run a stock kernel
    (no /dev/kvm, or no VT-x/AMD-V) falls back to tcg with a reason."""
    cpuinfo = open("/proc/cpuinfo").read()
    hw_virt = re.search(r"\b(vmx|svm)\b", cpuinfo) is not None
    kvm_ok = os.access("/dev/kvm", os.R_OK | os.W_OK)
    p = subprocess.Popen([KEMU, "-machine", "none,accel=kvm:tcg", "-S", "-display", "none"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    if hw_virt and kvm_ok:
        r.check("accel=kvm:tcg uses KVM where it works", "falling back" not in err, err)
    else:
        r.check("accel=kvm:tcg falls back to tcg with a reason", "falling back to tcg" in err and p.returncode == 0, err)


def main():
    if not os.path.exists(KEMU):
        print(f"kemu binary {KEMU} not found")
        print("0 passed, 1 failed")
        return 1
    r = Results()
    error_cases(r)
    stdout_cases(r)
    version_and_listings(r)
    kvm_tcg_fallback(r)
    waits_then_sigterm(r, ["-machine", "none", "-S", "-nodefaults", "-display", "none"], "-machine none -S waits, SIGTERM ends it")
    waits_then_sigterm(r, ["-machine", "pc", "-S", "-nodefaults", "-display", "none"], "-machine pc -S waits, SIGTERM ends it")
    return r.summary()


if __name__ == "__main__":
    sys.exit(main())
