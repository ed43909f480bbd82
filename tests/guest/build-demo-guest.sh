#!/bin/sh
# build-demo-guest.sh OUTDIR - build kemu's demo guest from Debian packages.
#
# Produces OUTDIR/vmlinuz (a copy of Debian's linux-image-amd64 kernel) and
# OUTDIR/initramfs.cpio.gz (a "newc" cpio archive, as the kernel's
# Documentation/filesystems/ramfs-rootfs-initramfs.rst describes) holding
# busybox-static and an /init that mounts proc/sys/dev, prints
# "KEMU-DEMO: userspace reached" and a few facts, then either starts a
# shell on the console or, with kemu.test=1 on the kernel command line,
# runs kemu.cmd="..." (if given), prints "KEMU-DEMO: done" and powers off
# (poweroff -f; the emulator exits with status 0 through ACPI S5).
# OUTDIR/rootfs.ext4 holds the same tree as an ext4 disk: with
# kemu.root=/dev/vda the initramfs mounts it and continues there
# (/bootcount.sh N counts boots in /var/bootcount and reboots until N).
# The virtio_blk, virtio_net, virtio_pci, ext4 (+crc32c_generic), ata_piix,
# sd_mod, sr_mod, isofs, e1000, uhci-hcd and virtio_balloon modules (with their
# dependencies from modules.dep) are included and loaded when present.
# Missing packages (linux-image-amd64, busybox-static, cpio) are installed
# with apt-get when running as root.
#
# Try it:  qemu-system-x86_64 -accel tcg -m 512 -nographic \
#            -kernel OUTDIR/vmlinuz -initrd OUTDIR/initramfs.cpio.gz \
#            -append 'console=ttyS0 kemu.test=1'
# Environment: KERNEL_VERSION=<uname -r of a kernel in /boot> to pick one.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUTDIR=$1

# ---- packages
missing=""
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing="$missing linux-image-amd64"
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx cttyhack \
    && ! ldd /bin/busybox >/dev/null 2>&1 || missing="$missing busybox-static"
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: missing Debian packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "$0: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y $missing >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y $missing
    }
fi

# ---- kernel
if [ -n "${KERNEL_VERSION:-}" ]; then
    KVER=$KERNEL_VERSION
else
    KVER=$(ls /boot/vmlinuz-* | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
fi
KERNEL=/boot/vmlinuz-$KVER
if [ ! -r "$KERNEL" ]; then
    echo "$0: cannot read $KERNEL" >&2
    exit 1
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/kemu-demo-guest.XXXXXX")
trap 'rm -rf "$STAGE" "$STAGE.list" "$STAGE.cpio"' EXIT INT TERM

# ---- root filesystem
cd "$STAGE"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run mnt \
    "lib/modules/$KVER"
cp /bin/busybox bin/busybox
chmod 755 bin/busybox
for applet in $(/bin/busybox --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$(dirname "$applet")"
    # relative link to /bin/busybox from the applet's directory
    up=$(dirname "$applet" | sed 's|[^/][^/]*|..|g')
    [ -e "$applet" ] || ln -s "$up/bin/busybox" "$applet"
done
if [ "$(id -u)" -eq 0 ]; then
    mknod -m 600 dev/console c 5 1
    mknod -m 666 dev/null c 1 3
fi

# ---- optional modules, in dependency order (deps first)
MODDIR=/lib/modules/$KVER
: > etc/kemu-modules
if [ -r "$MODDIR/modules.dep" ]; then
    for want in virtio_pci virtio_blk virtio_net ext4 crc32c_generic ata_piix sd_mod sr_mod isofs e1000 uhci-hcd virtio_balloon; do
        line=$(grep -E "/$want\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" || true)
        [ -n "$line" ] || continue
        mod=${line%%:*}
        deps=${line#*:}
        # modules.dep lists the dependencies of a module, deepest last
        for m in $(echo $deps | tr ' ' '\n' | sed -n '1!G;h;$p') $mod; do
            grep -qx "$m" etc/kemu-modules && continue
            mkdir -p "lib/modules/$KVER/$(dirname "$m")"
            cp "$MODDIR/$m" "lib/modules/$KVER/$m"
            echo "$m" >> etc/kemu-modules
        done
    done
fi

cat > init <<'EOF'
#!/bin/sh
# /init of the kemu demo guest (built by tests/guest/build-demo-guest.sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
[ -c /dev/console ] && exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
hostname kemu-demo
echo "KEMU-DEMO: userspace reached"
echo "KEMU-DEMO: uname: $(uname -a)"
echo "KEMU-DEMO: cpus: $(grep -c ^processor /proc/cpuinfo)"
echo "KEMU-DEMO: $(grep MemTotal /proc/meminfo)"
echo "KEMU-DEMO: uptime: $(cut -d' ' -f1 /proc/uptime) s"
KVER=$(uname -r)
nmod=0
todo=$(cat /etc/kemu-modules)
for pass in 1 2 3; do
    left=""
    for m in $todo; do
        if insmod "/lib/modules/$KVER/$m" 2>/dev/null; then
            nmod=$((nmod + 1))
        else
            left="$left $m"
        fi
    done
    todo=$left
done
echo "KEMU-DEMO: modules loaded: $nmod"
cmdline=$(cat /proc/cmdline)
# kemu.root=DEV: continue on the ext4 root disk (rootfs.ext4) with its /init
root=$(echo "$cmdline" | sed -n 's/.*kemu\.root=\([^ ]*\).*/\1/p')
if [ -n "$root" ] && [ ! -e /kemu-rootdisk ]; then
    mkdir -p /newroot
    if mount -t ext4 "$root" /newroot; then
        echo "KEMU-DEMO: switching to root $root"
        umount /dev/pts /tmp 2>/dev/null
        mount --move /dev /newroot/dev
        umount /proc /sys
        exec switch_root /newroot /init
    fi
    echo "KEMU-DEMO: cannot mount root $root"
    poweroff -f
    sleep 10
fi
[ -e /kemu-rootdisk ] && echo "KEMU-DEMO: running from the root disk"
case " $cmdline " in
*" kemu.test=1 "*)
    cmd=$(echo "$cmdline" | sed -n 's/.*kemu\.cmd="\([^"]*\)".*/\1/p')
    [ -n "$cmd" ] || cmd=$(echo "$cmdline" | sed -n 's/.*kemu\.cmd=\([^ ]*\).*/\1/p')
    if [ -n "$cmd" ]; then
        echo "KEMU-DEMO: running: $cmd"
        sh -c "$cmd"
        echo "KEMU-DEMO: command exit status $?"
    fi
    echo "KEMU-DEMO: done"
    sync
    poweroff -f
    echo o > /proc/sysrq-trigger
    sleep 5
    ;;
*)
    echo "KEMU-DEMO: starting a shell; 'poweroff -f' ends the guest"
    setsid cttyhack sh -l
    poweroff -f
    ;;
esac
while true; do sleep 1000; done
EOF
chmod 755 init
cat > etc/profile <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
PS1='kemu-demo:\w# '
EOF
# boot counter for reboot tests on the root disk: kemu.cmd="sh /bootcount.sh N"
# increments /var/bootcount and reboots until it reaches N
cat > bootcount.sh <<'EOF'
n=$(cat /var/bootcount 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > /var/bootcount
sync
echo "KEMU-DEMO: boot count $n"
if [ "$n" -lt "${1:-2}" ]; then
    echo "KEMU-DEMO: rebooting"
    reboot -f
    sleep 10
fi
EOF
mkdir -p var
echo "root:x:0:0:root:/root:/bin/sh" > etc/passwd
echo "root:x:0:" > etc/group

# ---- archive (owned by root, fixed timestamps)
find . -mindepth 1 -exec touch -h -d @0 {} +
repro=""
cpio --help 2>/dev/null | grep -q -- --reproducible && repro=--reproducible
find . -mindepth 1 | LC_ALL=C sort > "$STAGE.list"
cpio -o -H newc -R 0:0 --quiet $repro < "$STAGE.list" > "$STAGE.cpio"
rm -f "$STAGE.list"
gzip -n -9 < "$STAGE.cpio" > "$OUTDIR/initramfs.cpio.gz.tmp"
rm -f "$STAGE.cpio"
mv "$OUTDIR/initramfs.cpio.gz.tmp" "$OUTDIR/initramfs.cpio.gz"

# ---- the same tree as an ext4 root disk (kemu.root=/dev/vda), when
# mkfs.ext4 can populate one (e2fsprogs >= 1.43, -d)
if command -v mkfs.ext4 >/dev/null 2>&1; then
    touch kemu-rootdisk
    rm -f "$OUTDIR/rootfs.ext4"
    if mkfs.ext4 -q -F -L kemu-root -d "$STAGE" "$OUTDIR/rootfs.ext4.tmp" 64M 2>/dev/null; then
        mv "$OUTDIR/rootfs.ext4.tmp" "$OUTDIR/rootfs.ext4"
        echo "$OUTDIR/rootfs.ext4 (ext4 root disk)"
    else
        rm -f "$OUTDIR/rootfs.ext4.tmp"
    fi
    rm -f kemu-rootdisk
fi
cp "$KERNEL" "$OUTDIR/vmlinuz.tmp"
chmod 644 "$OUTDIR/vmlinuz.tmp"
mv "$OUTDIR/vmlinuz.tmp" "$OUTDIR/vmlinuz"
echo "$OUTDIR/vmlinuz ($KVER)"
echo "$OUTDIR/initramfs.cpio.gz ($(wc -l < etc/kemu-modules) modules)"
