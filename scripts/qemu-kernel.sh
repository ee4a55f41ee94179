#!/bin/bash
# Fetch one of Debian's own amd64 kernels, for booting under qemu, and build
# the small initramfs that mounts the host's root over virtio-9p.
#
#   scripts/qemu-kernel.sh 6.1|6.12
#
# The kernel release is the one of the installed linux-headers package of
# that series (what klips.ko is built against), so the module loads there.
# Everything lands in $KLIPS_CACHE/qemu/<release>/ (printed on stdout):
#   linux-image-*.deb   the package, fetched with apt-get download
#   image/              dpkg-deb -x of it, plus a depmod for the guest's modprobe
#   initramfs.cpio.gz   busybox, the 9p modules and /init (see below)
# Nothing is installed on the host: the package is only unpacked there.
set -euo pipefail
series=${1:?usage: qemu-kernel.sh 6.1|6.12}
top=$(cd "$(dirname "$0")/.." && pwd)
self=$(realpath "$0")
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
log() { echo "qemu-kernel: $*" >&2; }
die() { log "$*"; exit 1; }

case $series in
6.1|6.12) ;;
*) die "unknown series '$series' (6.1 or 6.12)" ;;
esac

# --- which release: the installed headers of that series ----------------------
# Package names like linux-headers-6.1.0-56-amd64, linux-headers-6.12.117+deb12-amd64;
# the meta packages (linux-headers-amd64, linux-headers-6.12-amd64) do not match.
re="^linux-headers-${series//./\\.}[.-][0-9][^ ]*-amd64\$"
pkg=$(dpkg-query -W -f='${db:Status-Status} ${Package} ${Version}\n' 'linux-headers-*' 2>/dev/null |
	awk -v re="$re" '$1 == "installed" && $2 ~ re {print $2, $3}' | sort -V | tail -n 1)
[ -n "$pkg" ] || die "no installed linux-headers package for $series (run scripts/setup.sh)"
release=${pkg%% *}
release=${release#linux-headers-}
version=${pkg#* }

cache=$KLIPS_CACHE/qemu/$release
mkdir -p "$cache"
# Two runs at once must not both download, unpack or build.
exec 9> "$cache/.lock"
flock 9

# --- the kernel package ----------------------------------------------------------
# .complete holds the package version: a rebuild under the same ABI name
# (same release string) is fetched again.
if [ "$(cat "$cache/image/.complete" 2>/dev/null)" != "$version" ]; then
	rm -rf "$cache/image" "$cache/image.tmp" "$cache"/linux-image-*.deb
	# The signed image is what Debian users boot; -unsigned has the same code.
	got=
	for p in "linux-image-$release" "linux-image-$release-unsigned"; do
		log "fetching $p=$version"
		# Sandbox user root: _apt may not write into the cache.
		if (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$p=$version" >&2); then
			got=$p
			break
		fi
	done
	[ -n "$got" ] || die "cannot download linux-image-$release $version (apt-get update?)"
	mkdir "$cache/image.tmp"
	dpkg-deb -x "$cache/${got}_"*.deb "$cache/image.tmp"
	# Bookworm packages use /lib/modules; be ready for /usr/lib/modules too.
	if [ ! -d "$cache/image.tmp/lib/modules/$release" ] &&
		[ -d "$cache/image.tmp/usr/lib/modules/$release" ]; then
		mkdir -p "$cache/image.tmp/lib"
		mv "$cache/image.tmp/usr/lib/modules" "$cache/image.tmp/lib/modules"
	fi
	[ -f "$cache/image.tmp/boot/vmlinuz-$release" ] ||
		die "no boot/vmlinuz-$release in $got"
	[ -d "$cache/image.tmp/lib/modules/$release/kernel" ] ||
		die "no lib/modules/$release in $got"
	# The package leaves depmod to its postinst: the guest's modprobe needs it.
	depmod -b "$cache/image.tmp" "$release"
	echo "$version" > "$cache/image.tmp/.complete"
	mv "$cache/image.tmp" "$cache/image"
fi
moddir=$cache/image/lib/modules/$release

# --- the initramfs --------------------------------------------------------------
# 9pnet_virtio needs a virtio transport that nothing depends on by symbol
# (virtio_pci), so it is named here; the rest comes from modules.dep.
want=(virtio_pci 9pnet_virtio 9p)
stamp=$( { echo "$release $version ${want[*]}"; sha256sum "$self" /bin/busybox; } |
	sha256sum | cut -d' ' -f1)
if [ ! -f "$cache/initramfs.cpio.gz" ] || [ "$(cat "$cache/initramfs.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "building the initramfs for $release"
	if ! { [ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root; }; then
		die "/bin/busybox (busybox-static) is missing"
	fi
	root=$cache/initramfs.tmp
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,newroot,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	# Without a console node /init would start with no stdout at all.
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
	# kmod's own resolution, in load order: "insmod <path>" per module.
	: > "$root/modules.load"
	modprobe -d "$cache/image" -S "$release" --show-depends -a "${want[@]}" |
		while read -r what path _; do
			[ "$what" = insmod ] || continue
			name=$(basename "$path")
			case $name in
			*.ko.xz) xz -dc "$path" > "$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
			*.ko.zst) zstd -qdc "$path" > "$root/lib/modules/${name%.zst}"; name=${name%.zst} ;;
			*.ko) cp "$path" "$root/lib/modules/$name" ;;
			*) die "unexpected module file $path" ;;
			esac
			grep -qx "$name" "$root/modules.load" || echo "$name" >> "$root/modules.load"
		done
	for m in "${want[@]}"; do
		grep -q "^${m//_/[_-]}\.ko\$" "$root/modules.load" ||
			grep -q "/${m//_/[_-]}\.ko\$" "$moddir/modules.builtin" ||
			die "module $m is neither in modules.dep nor built in"
	done
	log "initramfs modules: $(tr '\n' ' ' < "$root/modules.load")"
	cat > "$root/init" <<'EOF'
#!/bin/busybox sh
# initramfs PID 1: mount the host's root (virtio-9p tag "hostroot") and
# switch to it, running init= from the command line (scripts/guest-init.sh).
# Any failure powers off, which qemu-run.sh reports as a dead guest (125).
bb=/bin/busybox
fail() {
	echo "initramfs: $*"
	$bb sync
	$bb poweroff -f
	# poweroff returns only if it could not; dying panics, which also ends qemu.
	exit 1
}
$bb mount -t proc proc /proc || fail "cannot mount /proc"
$bb mount -t sysfs sys /sys || fail "cannot mount /sys"
$bb mount -t devtmpfs dev /dev || fail "cannot mount /dev"
# What udev would add: bash's <(...) needs /dev/fd. The links stay, as
# guest-init.sh's own devtmpfs mount is this same instance.
$bb ln -sf /proc/self/fd /dev/fd
$bb ln -sf /proc/self/fd/0 /dev/stdin
$bb ln -sf /proc/self/fd/1 /dev/stdout
$bb ln -sf /proc/self/fd/2 /dev/stderr
for m in $($bb cat /modules.load); do
	$bb insmod "/lib/modules/$m" || fail "insmod $m failed"
done
init=
for word in $($bb cat /proc/cmdline); do
	case $word in
	init=*) init=${word#init=} ;;
	esac
done
[ -n "$init" ] || fail "no init= on the kernel command line"
# cache=loose: the host's files do not change under a test run, and
# guest-init.sh syncs before powering off.
$bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,rw \
	hostroot /newroot || fail "cannot mount the host root over 9p"
[ -x "/newroot$init" ] || fail "init $init is not executable on the host root"
# Move /proc and /dev rather than unmount them: the guest must never use
# the host's own /proc through 9p (writes there would reach the host's
# kernel). guest-init.sh mounts sysfs itself, before anything touches /sys.
for d in proc dev; do
	$bb mount --move "/$d" "/newroot/$d" || fail "cannot move /$d"
done
$bb umount /sys
exec $bb switch_root /newroot "$init"
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -9 > "$cache/initramfs.cpio.gz.tmp"
	mv "$cache/initramfs.cpio.gz.tmp" "$cache/initramfs.cpio.gz"
	echo "$stamp" > "$cache/initramfs.stamp"
	rm -rf "$root"
fi
echo "$cache"
