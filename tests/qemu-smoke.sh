#!/bin/bash
# Smoke test of klips.ko on a Debian distribution kernel, run inside a qemu
# guest by scripts/qemu-run.sh:
#
#   scripts/qemu-run.sh 6.1|6.12 tests/qemu-smoke.sh /abs/path/to/klips.ko
#
# (the path is taken in the guest, whose working directory is /). Load, the
# devices and /proc files of the initial namespace, an empty new namespace,
# unload leaving nothing behind, and a kernel log free of warnings. TAP out;
# non-zero exit on any failure. No `set -e`: every check is reported.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
ko=${1:?usage: qemu-smoke.sh <path to klips.ko>}

proc_files="ipsec_spi ipsec_eroute ipsec_spigrp ipsec_tncfg ipsec_version
	ipsec_klipsdebug ipsec/stats ipsec/spi/all ipsec/eroute/all ipsec/spigrp/all
	ipsec/tncfg ipsec/version ipsec/klipsdebug"
# Kernel log lines that mean something went wrong, whatever the check said.
bad_log='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection'

deps=$(modinfo -F depends "$ko" 2>/dev/null | tr ',' ' ')
set -- $proc_files $deps
# 15 checks of this script's own, one per /proc file and per dependency.
plan $((15 + $#))
echo "# kernel: $(uname -r)"
echo "# module: $ko"

# --- load ----------------------------------------------------------------------
# A distribution kernel refuses a module built for another release: say so
# plainly rather than only through insmod's "Invalid module format".
check_match "klips.ko is built for $(uname -r)" "^$(uname -r | sed 's/[.+]/\\&/g') " \
	"$(modinfo -F vermagic "$ko" 2>&1)"
# insmod does not resolve dependencies: load what modinfo names (crypto, ...).
for dep in $deps; do
	check "modprobe $dep (needed by klips)" modprobe "$dep"
done
check "insmod klips.ko" insmod "$ko"

# --- the initial namespace ---------------------------------------------------------
for n in 0 1 2 3; do
	check "ipsec$n exists" ip link show "ipsec$n"
done
for f in $proc_files; do
	check "/proc/net/$f reads" cat "/proc/net/$f"
done
version=$(cat /proc/net/ipsec_version 2>&1)
if [ "$(printf '%s\n' "$version" | wc -l)" -eq 1 ] &&
	[[ $version =~ ^klips\ version:\ .+$ ]]; then
	ok "ipsec_version is one line 'klips version: ...'"
else
	not_ok "ipsec_version is one line 'klips version: ...'"
	printf '%s\n' "$version" | sed 's/^/#   /'
fi

# --- a new namespace has no ipsecN ------------------------------------------------
check "ip netns add x" ip netns add x
if tncfg=$(ip netns exec x cat /proc/net/ipsec_tncfg 2>&1); then
	ok "x: /proc/net/ipsec_tncfg reads"
else
	not_ok "x: /proc/net/ipsec_tncfg reads"
	printf '%s\n' "$tncfg" | sed 's/^/#   /'
	tncfg="(unreadable)"
fi
check_eq "x: ipsec_tncfg is empty (no ipsecN in a new namespace)" "" "$tncfg"
check "ip netns del x" ip netns del x

# --- unload leaves nothing ----------------------------------------------------------
check "rmmod klips" rmmod klips
check_eq "no ipsecN device left" "" \
	"$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^ipsec[0-9]+(@|$)')"
check_eq "no /proc/net/ipsec* left" "" "$(compgen -G '/proc/net/ipsec*')"

# --- the kernel log ------------------------------------------------------------------
check_eq "dmesg has no BUG/WARNING/Oops/KASAN/UBSAN/GPF line" "" \
	"$(dmesg | grep -E "$bad_log")"

done_testing
