# Shared setup for the shell iotests (sourced). run.py exports KEMU_IMG,
# KEMU_IO, QEMU_IMG, QEMU_IO and TEST_DIR; output is compared with NNN.out
# after TEST_DIR is replaced by the literal "TEST_DIR".
set -u
cd "$TEST_DIR"
KIMG="$KEMU_IMG"
KIO="$KEMU_IO"
QIMG="${QEMU_IMG:-qemu-img}"
QIO="${QEMU_IO:-qemu-io}"

# qemu-img check verdict only (first line of the human output) and exit code
qcheck() {
    out=$("$QIMG" check "$@" 2>&1); rc=$?
    echo "qemu-img check: $(echo "$out" | head -n 1) (rc=$rc)"
}

# kemu-io/qemu-io output without timing lines
kio() { "$KIO" "$@" | grep -v '^read\|^wrote\|^discard'; }
qio() { "$QIO" "$@" | grep -v 'ops/sec\|^read \|^wrote \|^discard '; }

# Deterministic pattern file: name size
mkpattern() {
    python3 - "$1" "$2" <<'PY'
import sys
name, size = sys.argv[1], int(sys.argv[2])
b = bytearray(size)
seg = bytes((i * 37 + 11) & 0xff for i in range(65536))
for off in (0, 100000, 700000, size // 2, size - 4096):
    n = min(150000, size - off)
    for k in range(0, n, 65536):
        m = min(65536, n - k)
        b[off + k:off + k + m] = seg[:m]
open(name, 'wb').write(b)
PY
}

# Filter snapshot dates/times so listings are stable
filter_dates() {
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/YYYY-MM-DD hh:mm:ss/; s/"date-(sec|nsec)": [0-9]+/"date-\1": N/'
}

# Replace the program name of error messages so goldens do not depend on it
filter_prog() {
    sed -E 's/^(kemu-img|qemu-img): /IMG: /'
}
