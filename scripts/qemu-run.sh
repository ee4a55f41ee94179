#!/bin/bash
# Boot a Debian distribution kernel under qemu (software emulation), with
# the host's root over virtio-9p as the guest's root, and run one script
# there as scripts/guest-init.sh's child.
#
#   scripts/qemu-run.sh 6.1|6.12 <guest-script> [args...]
#
# The guest's console goes to stdout (and to <run>/console.log); the exit
# status is the script's, or 124 on timeout, 125 when the guest died before
# the script finished (panic, oops, failed mount). KLIPS_RUN_DIR, if set, is
# where results go (default: a fresh directory under build/qemu/runs/);
# KLIPS_QEMU_TIMEOUT bounds the run (default 600 s), KLIPS_QEMU_SMP sets the
# number of CPUs (default 2), KLIPS_QEMU_APPEND adds kernel parameters,
# KLIPS_QEMU_TCG_THREAD=multi tries multi-threaded TCG (unreliable, below).
set -euo pipefail
usage="usage: qemu-run.sh 6.1|6.12 <script> [args]"
series=${1:?$usage}
script=${2:?$usage}
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
cache=$("$top/scripts/qemu-kernel.sh" "$series")
release=$(basename "$cache")
script=$(realpath "$script")
[ -x "$script" ] || { echo "qemu-run: $script is not executable" >&2; exit 2; }

# The arguments travel on the kernel command line, comma-separated.
for a in "$@"; do
	case $a in
	*[[:space:],]*|'') echo "qemu-run: argument '$a' has a blank or comma" >&2; exit 2 ;;
	esac
done
args=$(IFS=,; echo "$*")

run=${KLIPS_RUN_DIR:-$top/build/qemu/runs/$(date +%s)-$$}
mkdir -p "$run"
run=$(realpath "$run")
rm -f "$run/exitcode"
echo "qemu-run: $release, results in $run" >&2

# guest-init.sh mounts fresh tmpfs on these, hiding the host's files: run a
# script from there as a copy (its own arguments must live elsewhere). A
# checkout under /tmp stays visible (guest-init binds it back).
case $script in
/run/*|/var/run/*|/dev/shm/*)
	cp "$script" "$run/guest-script"
	script=$run/guest-script
	;;
esac

# log_buf_len: the guest saves its whole dmesg for the host's scan
# (scripts/guest-init.sh); Debian's default buffer may not hold a run.
cmdline=(console=ttyS0 panic=-1 oops=panic rw log_buf_len=4M
	init="$top/scripts/guest-init.sh"
	klips_cmd="$script" klips_out="$run"
	klips_mods="$cache/image/lib/modules" klips_cache="$KLIPS_CACHE")
[ -n "$args" ] && cmdline+=(klips_args="$args")
# shellcheck disable=SC2206 # extra parameters are meant to be split
[ -n "${KLIPS_QEMU_APPEND:-}" ] && cmdline+=($KLIPS_QEMU_APPEND)

# One TCG thread for all vCPUs: with multi-threaded TCG (qemu 7.2) the
# guest's live code patching (static keys: text_poke_bp) races and the
# kernel dies with "Oops: int3" or hangs, within seconds of static-key flips.
# No NIC: the guest's traffic stays in its own namespaces. -no-reboot turns
# the reboot of panic=-1 into qemu's exit.
qemu=(qemu-system-x86_64 -accel "tcg,thread=${KLIPS_QEMU_TCG_THREAD:-single}"
	-m 1G -smp "${KLIPS_QEMU_SMP:-2}"
	-nographic -no-reboot -nic none -monitor none -vga none
	-chardev "stdio,id=con,signal=off,logfile=$run/console.log"
	-serial chardev:con
	-kernel "$cache/image/boot/vmlinuz-$release"
	-initrd "$cache/initramfs.cpio.gz"
	-append "${cmdline[*]}"
	-fsdev "local,id=hostroot,path=/,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot")

# timeout runs in its own process group (with qemu): kill that group on any
# way out, so that no qemu outlives this script.
pid=
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null || true
		sleep 1
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

start=$SECONDS
timeout --kill-after=10 "${KLIPS_QEMU_TIMEOUT:-600}" "${qemu[@]}" < /dev/null &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=
echo "qemu-run: qemu exited ($rc) after $((SECONDS - start)) s" >&2
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "qemu-run: timed out" >&2
	exit 124
fi
if [ ! -s "$run/exitcode" ]; then
	echo "qemu-run: the guest died before its script finished (qemu exit $rc)" >&2
	exit 125
fi
exit "$(cat "$run/exitcode")"
