#!/bin/bash
# Namespace tests, run inside a test guest (UML or qemu) as PID 1's child.
#
#   tests/netns.sh <directory with klips.ko>
#
# Topology for now: the initial namespace, which gets ipsec0..3 at load, and
# namespaces ns1/ns2 that create their own ipsecN with `ip link add`.
#
#   init ns: ipsec0 ipsec1 ipsec2 ipsec3      ns1: ipsec2 ipsec7 ipsec10
#                                            ns2: ipsec5 (alive across rmmod)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mod=${1:?usage: netns.sh <module dir>}/klips.ko
ipsec=$here/../tools/ipsec

n1() { ip netns exec ns1 "$@"; }
n2() { ip netns exec ns2 "$@"; }

proc_files="ipsec_spi ipsec_eroute ipsec_spigrp ipsec_tncfg ipsec_version
	ipsec_klipsdebug ipsec/spi/all ipsec/eroute/all ipsec/spigrp/all
	ipsec/tncfg ipsec/version ipsec/klipsdebug ipsec/stats"

# 64 checks of this script's own, plus one per /proc file, twice.
set -- $proc_files
plan $((64 + 2 * $# + KMEMLEAK))
kmemleak_clear

# --- load --------------------------------------------------------------------
check "insmod klips.ko" klips_insmod "$mod"
check_eq "ipsec0..3 exist, and no more, in the initial namespace" \
	"ipsec0 ipsec1 ipsec2 ipsec3" \
	"$(ip -o link show type klips | awk -F': ' '{print $2}' | sort | xargs)"
check_match "ipsecN are of link kind klips" '^klips' \
	"$(ip -d -o link show ipsec0 | grep -o 'klips.*' | head -c 5)"
check_match "ipsec0 is POINTOPOINT,NOARP with MTU 1500" \
	'<POINTOPOINT,NOARP>.* mtu 1500 ' "$(ip -o link show ipsec0)"

# --- /proc: every file reads, with the modes Documentation/klips/proc.md gives ---------------
for f in $proc_files; do
	check "/proc/net/$f reads" cat "/proc/net/$f"
done
for f in spi eroute spigrp tncfg version klipsdebug; do
	case $f in spi|eroute|spigrp) t=ipsec/$f/all ;; *) t=ipsec/$f ;; esac
	check_eq "/proc/net/ipsec_$f -> $t" "$t" "$(readlink "/proc/net/ipsec_$f")"
done
check_eq "modes: 0400 except ipsec_version (0444)" \
	"400 400 400 400 444 400 400" \
	"$(cd /proc/net/ipsec && stat -L -c %a spi/all eroute/all spigrp/all tncfg version klipsdebug stats | xargs)"
for f in spi eroute spigrp; do
	check_eq "ipsec_$f is empty without SAs" "" "$(cat /proc/net/ipsec_$f)"
done
check_eq "ipsec_version names the project and the module version" \
	"klips version: $(modinfo -F version "$mod")" "$(cat /proc/net/ipsec_version)"

# Expected text written from Documentation/klips/proc.md (ipsec_tncfg), not from the code.
check_eq "ipsec_tncfg lists ipsec0..3 detached, in name order" \
"ipsec0 -> NULL mtu=1500(1500) -> 0
ipsec1 -> NULL mtu=1500(1500) -> 0
ipsec2 -> NULL mtu=1500(1500) -> 0
ipsec3 -> NULL mtu=1500(1500) -> 0" "$(cat /proc/net/ipsec_tncfg)"

areas="tunnel xmit xform eroute spi radij esp ah rcv netlink comp"
expect_debug() {	# $1: the areas that are on
	local a
	for a in $areas; do
		if [[ " $1 " == *" $a "* ]]; then
			echo "debug_$a=ffffffff."
		else
			echo "debug_$a=00000000."
		fi
	done
}
check_eq "ipsec_klipsdebug: every area off at load" \
	"$(expect_debug "")" "$(cat /proc/net/ipsec_klipsdebug)"
echo 0x405 > /sys/module/klips/parameters/debug
check_eq "ipsec_klipsdebug: tunnel, xform and comp on (debug=0x405)" \
	"$(expect_debug "tunnel xform comp")" "$(cat /proc/net/ipsec_klipsdebug)"
echo 0 > /sys/module/klips/parameters/debug

# Every counter Documentation/klips/design.md names, once, all zero on a fresh namespace.
stat_names="InHdrError InNotOurs InStateInvalid InReplay InAuthError
	InSizeError InPadError InInnerHeaderError InPolicyError InNoDevice InDummy
	InWrongDir
	OutNoEroute OutShunt OutLoop OutStateExpired OutMtu TrapCount
	TrapSendCount HoldDrop"
check_eq "ipsec/stats has every counter of Documentation/klips/design.md, all zero" \
	"$(for s in $stat_names; do echo "$s 0"; done | sort)" \
	"$(awk '{print $1, $2}' /proc/net/ipsec/stats | sort)"

# --- the ipsec tool: a listing subcommand with no arguments prints its file --
# With something in every table (an empty table equals an empty listing
# whatever either does), and an area of debugging on.
gk=0x$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
check "a tun SA, an ESP SA, grouped" sh -c "
	'$ipsec' spi --said tun.2001@192.0.2.1 --src 192.0.2.2 --dst 192.0.2.1 --ip4 &&
	'$ipsec' spi --said esp.2001@192.0.2.1 --src 192.0.2.2 --esp aes-gcm-16 --enckey $gk &&
	'$ipsec' spigrp --said tun.2001@192.0.2.1 esp.2001@192.0.2.1 &&
	'$ipsec' eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 \
		--said tun.2001@192.0.2.1 &&
	'$ipsec' eroute --add --eraf inet --src 10.1.0.0/24 --dst 10.3.0.0/24 --said %drop"
echo 0x20 > /sys/module/klips/parameters/debug
for f in spi eroute spigrp tncfg klipsdebug; do
	check_match "ipsec_$f has content" . "$(cat /proc/net/ipsec_$f)"
	# ipsec_spi's ages may tick between the two reads: not compared.
	check_eq "ipsec $f prints /proc/net/ipsec_$f" \
		"$(sed -E 's/(add|use)\([0-9]+,/\1(T,/g; s/idle=[0-9]+/idle=T/' /proc/net/ipsec_$f)" \
		"$("$ipsec" $f | sed -E 's/(add|use)\([0-9]+,/\1(T,/g; s/idle=[0-9]+/idle=T/')"
done
echo 0 > /sys/module/klips/parameters/debug
check "... all removed again" sh -c "'$ipsec' eroute --clear && '$ipsec' spi --clear &&
	test -z \"\$(cat /proc/net/ipsec_spi /proc/net/ipsec_eroute /proc/net/ipsec_spigrp)\""
check_eq "ipsec version: the tool's and the module's" \
"ipsec tool version: $(modinfo -F version "$mod")
klips version: $(modinfo -F version "$mod")" "$("$ipsec" version)"
"$ipsec" frobnicate 2>/dev/null
check_eq "ipsec <unknown command> is a usage error (exit 2)" 2 $?

# --- traffic routed into an ipsecN with no eroute is dropped and counted ------
# IPv6 off on ipsec0, so that no router solicitation or MLD report joins in.
sysctl -qw net.ipv6.conf.ipsec0.disable_ipv6=1
ip addr add 10.99.0.1/24 dev ipsec0
ip link set ipsec0 up
for i in 1 2 3; do echo x > /dev/udp/10.99.0.2/9; done 2>/dev/null
check_eq "3 packets into ipsec0 without eroutes: OutNoEroute 3" "3" \
	"$(awk '$1 == "OutNoEroute" {print $2}' /proc/net/ipsec/stats)"
check_eq "... and counted as ipsec0 tx drops" "3" \
	"$(ip -s link show ipsec0 | awk '/TX:/ {getline; print $4}')"

# --- a second namespace has its own, empty, files -----------------------------
ip netns add ns1
for f in $proc_files; do
	check "ns1: /proc/net/$f reads" n1 cat "/proc/net/$f"
done
check_eq "ns1: no ipsecN devices at first" "" "$(n1 cat /proc/net/ipsec_tncfg)"
check_eq "ns1: counters are its own (OutNoEroute 0)" "0" \
	"$(n1 awk '$1 == "OutNoEroute" {print $2}' /proc/net/ipsec/stats)"
check "ns1: ip link add ipsec7 type klips" n1 ip link add ipsec7 type klips
check "ns1: ip link add ipsec10 type klips" n1 ip link add ipsec10 type klips
check "ns1: ip link add ipsec2 type klips" n1 ip link add ipsec2 type klips
check_eq "ns1: tncfg shows its devices in name order (2 < 7 < 10)" \
"ipsec2 -> NULL mtu=1500(1500) -> 0
ipsec7 -> NULL mtu=1500(1500) -> 0
ipsec10 -> NULL mtu=1500(1500) -> 0" "$(n1 cat /proc/net/ipsec_tncfg)"
check_eq "init ns: tncfg unchanged by ns1's devices" 4 \
	"$(wc -l < /proc/net/ipsec_tncfg)"
# A device bound to its namespace: EINVAL, with an extack message on 6.12
# (netns_immutable), without one on 6.1 (NETIF_F_NETNS_LOCAL).
check_fails_with "ipsec0 cannot move to another namespace (EINVAL)" \
	'netns is immutable|Invalid argument' \
	ip link set ipsec0 netns ns1
check "ns1: ip link del ipsec7" n1 ip link del ipsec7
check_eq "ns1: tncfg follows the delete" "ipsec2 ipsec10" \
	"$(n1 awk '{print $1}' /proc/net/ipsec_tncfg | xargs)"
check "ns1: deleting the namespace with ipsecN devices" ip netns del ns1

# --- unload with a namespace that still has a device --------------------------
ip netns add ns2
check "ns2: ip link add ipsec5 type klips" n2 ip link add ipsec5 type klips
check "rmmod klips" rmmod klips
check_eq "no ipsecN left in the initial namespace" "" \
	"$(ip -o link show type klips 2>/dev/null)"
check_eq "no ipsecN left in ns2" "" "$(n2 ip -o link show | grep ipsec)"
check_eq "no /proc/net/ipsec* left in the initial namespace" "" \
	"$(ls /proc/net | grep ipsec)"
check_eq "no /proc/net/ipsec* left in ns2" "" "$(n2 ls /proc/net | grep ipsec)"
ip netns del ns2

# --- module parameters ---------------------------------------------------------
dmesg_mark
check "insmod klips.ko devices=2 debug=0x1" klips_insmod "$mod" devices=2 debug=0x1
check_eq "debug area tunnel on: device creation logged at KERN_DEBUG" \
"<7>klips: created ipsec0
<7>klips: created ipsec1" "$(dmesg_since -r | grep 'klips: created' | sed 's/\[.*\] //')"
check_eq "devices=2 creates ipsec0 and ipsec1 only" "ipsec0 ipsec1" \
	"$(awk '{print $1}' /proc/net/ipsec_tncfg | xargs)"
check "rmmod klips" rmmod klips
check_fails_with "devices=65 is refused (EINVAL)" 'Invalid (parameters|argument)' \
	klips_insmod "$mod" devices=65
check_eq "a refused load leaves no device" "" "$(ip -o link show type klips 2>/dev/null)"
dmesg_mark
check "insmod klips.ko devices=1" klips_insmod "$mod" devices=1
check_eq "debug areas off: nothing logged" "" "$(dmesg_since | grep 'klips: created')"
check "rmmod klips" rmmod klips
check "insmod klips.ko devices=0" klips_insmod "$mod" devices=0
check_eq "devices=0: tncfg empty" "" "$(cat /proc/net/ipsec_tncfg)"
check "rmmod klips" rmmod klips

check_kmemleak "load, namespaces, unload"
done_testing
