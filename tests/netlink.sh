#!/bin/bash
# The control plane from outside the tool: raw generic netlink (tests/nlraw.py,
# our own encoder of the spec, no libmnl), permissions, isolation, limits
# and lifecycle, run inside a test guest.
#
#   tests/netlink.sh <directory with klips.ko>
#
#   init ns: dummy d0 192.0.2.2/24      ns1, ns2: their own SA tables
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mod=${1:?usage: netlink.sh <module dir>}/klips.ko
nlraw() { /usr/bin/python3 "$here/nlraw.py" "$@"; }
ipsec=$here/../tools/ipsec

# 63 checks of this script's own, and nlraw's: 40 malformed requests, the
# fuzz's 1, perm's 7 and dumpintr's 4, each helper +1 for itself
# (helper_run).
plan $((63 + 41 + 2 + 8 + 5 + KMEMLEAK))
kmemleak_clear
check "insmod klips.ko" klips_insmod "$mod"
ip link add d0 type dummy
ip addr add 192.0.2.2/24 dev d0
ip link set d0 up

# --- malformed requests: each refused, with the attribute named -----------
helper_run 40 "nlraw cases" nlraw cases

# --- a fuzz loop: every request answered, the kernel still sane --------------
helper_run 1 "nlraw fuzz" nlraw fuzz 3000 "${KLIPS_SEED:-$RANDOM}"
check "after the fuzz: ipsec_spi reads" cat /proc/net/ipsec_spi
check "after the fuzz: SAs and eroutes flush" nlraw flush
check_eq "... and the tables are empty" "" \
	"$(cat /proc/net/ipsec_spi /proc/net/ipsec_eroute /proc/net/ipsec_spigrp)"

# --- permissions ---------------------------------------------------------------
# A user namespace without a mapping has no capability over this namespace.
helper_run 7 "nlraw perm" unshare -U /usr/bin/python3 "$here/nlraw.py" perm
check_fails_with "nobody: /proc/net/ipsec_spi is not readable (0400)" 'Permission denied' \
	setpriv --reuid=65534 --regid=65534 --clear-groups cat /proc/net/ipsec_spi
check "nobody: /proc/net/ipsec_version is readable (0444)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups cat /proc/net/ipsec_version

# --- isolation -----------------------------------------------------------------
ip netns add ns1
ip netns add ns2
check "ns1: add esp.6000@192.0.2.1" ip netns exec ns1 /usr/bin/python3 "$here/nlraw.py" add 0x6000
check_match "ns1 sees its SA" '^esp\.6000@192\.0\.2\.1 ESP_AES_GCM_16: ' \
	"$(ip netns exec ns1 cat /proc/net/ipsec_spi)"
check_eq "ns2 does not" "" "$(ip netns exec ns2 cat /proc/net/ipsec_spi)"
check_eq "the initial namespace does not" "" \
	"$(grep 6000 /proc/net/ipsec_spi)"
check "ns1 deleted with its SA" ip netns del ns1

# --- per-namespace cap ------------------------------------------------------
echo 2 > /sys/module/klips/parameters/max_sas
check "ns2: SA 1 of max_sas=2" ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7001
check "ns2: SA 2 of max_sas=2" ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7002
out=$(ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7003 2>&1)
check_match "ns2: SA 3 refused, the cap named" 'No space left.*max_sas' "$out"
check_eq "ns2: still two SAs" 2 \
	"$(ip netns exec ns2 sh -c 'wc -l < /proc/net/ipsec_spi')"
echo 1048576 > /sys/module/klips/parameters/max_sas

# --- module-wide cap: every namespace together ----------------------------------
# A user may create any number of user and network namespaces, and an SA's
# crypto transforms are not charged to its memory cgroup: max_sas_total
# bounds them all. ns2 holds 2 SAs; 5 in all.
echo 5 > /sys/module/klips/parameters/max_sas_total
ip netns add ns3
check "ns3: SA 3 of max_sas_total=5" ip netns exec ns3 /usr/bin/python3 "$here/nlraw.py" add 0x7101
check "ns3: SA 4 of max_sas_total=5" ip netns exec ns3 /usr/bin/python3 "$here/nlraw.py" add 0x7102
check "ns2: SA 5 of max_sas_total=5" ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7003
out=$(ip netns exec ns3 /usr/bin/python3 "$here/nlraw.py" add 0x7103 2>&1)
check_match "ns3: SA 6 refused, the module-wide cap named" \
	'No space left.*max_sas_total.*all namespaces' "$out"
out=$(ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7004 2>&1)
check_match "ns2: refused too" 'No space left.*max_sas_total' "$out"
# An unprivileged user, root of its own user and network namespaces.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare -U -r -n /usr/bin/python3 "$here/nlraw.py" add 0x7201 2>&1)
check_match "nobody's own namespaces: refused as well" 'No space left.*max_sas_total' "$out"
check_eq "ns3: still two SAs" 2 "$(ip netns exec ns3 sh -c 'wc -l < /proc/net/ipsec_spi')"
check_eq "ns2: three" 3 "$(ip netns exec ns2 sh -c 'wc -l < /proc/net/ipsec_spi')"
check "ns3: an SA deleted" ip netns exec ns3 "$ipsec" spi --said esp.7101@192.0.2.1 --del
check "ns2: then one more fits" ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7004
check "ns3 deleted with its SA" ip netns del ns3
check "ns2: and then another" ip netns exec ns2 /usr/bin/python3 "$here/nlraw.py" add 0x7005
echo 262144 > /sys/module/klips/parameters/max_sas_total

# --- ipsecN devices per namespace, however they are made --------------------------
echo 2 > /sys/module/klips/parameters/max_devices
ip netns add ns4
check "ns4: ipsec0 of max_devices=2 (ip link)" ip -n ns4 link add ipsec0 type klips
check "ns4: ipsec1 of max_devices=2 (tncfg --create)" \
	ip netns exec ns4 "$ipsec" tncfg --create ipsec1
out=$(ip -n ns4 link add ipsec2 type klips 2>&1)
check_match "ns4: a third by ip link is refused" 'No space left' "$out"
out=$(ip netns exec ns4 "$ipsec" tncfg --create ipsec2 2>&1)
check_match "ns4: a third by tncfg --create is refused, the cap named" \
	'max_devices' "$out"
check_eq "ns4: two ipsecN devices" "ipsec0 ipsec1" \
	"$(ip -n ns4 -o link show type klips | awk -F': ' '{print $2}' | sort | xargs)"
check "the initial namespace's ipsec0..3 are there still" ip link show ipsec3
check "ns4: one deleted, another fits" bash -c \
	"ip -n ns4 link del ipsec0 && ip -n ns4 link add ipsec2 type klips"
check "ns4 deleted with its devices" ip netns del ns4
echo 64 > /sys/module/klips/parameters/max_devices

# --- an eroute to a larval SA: it leads nowhere yet --------------------------------
# A larval SA (getspi) has no transform: the effective MTU of ipsec_tncfg
# and of the device dump leaves it out, and a DF packet routed into it is
# dropped (before, each of these dereferenced its missing transform).
check "ipsec0 attached to d0" "$ipsec" tncfg --attach --virtual ipsec0 --physical d0
ip link set ipsec0 up
ip route add 10.2.0.0/24 dev ipsec0 src 192.0.2.2
for proto in ah esp; do
	said=$("$ipsec" spi --getspi --af inet --edst 192.0.2.9 --proto $proto 2>&1)
	check_match "larval $proto: getspi" "^$proto\\.[0-9a-f]+@192\\.0\\.2\\.9\$" "$said"
	check "larval $proto: an eroute to it" "$ipsec" eroute --add --eraf inet \
		--src 192.0.2.2/32 --dst 10.2.0.0/24 --said "$said"
	check_match "larval $proto: ipsec_tncfg reads, the device's MTU" \
		'^ipsec0 -> d0 mtu=1420\(1420\) -> 1500$' "$(grep '^ipsec0 ' /proc/net/ipsec_tncfg)"
	check_match "larval $proto: the device dump agrees" '"effective_mtu":1420' \
		"$("$ipsec" tncfg --json | grep '"name":"ipsec0"')"
	# Dropped, not refused: ping sends and hears nothing back.
	check_fails_with "larval $proto: a DF packet into it is not answered" \
		'1 packets transmitted, 0 received' ping -c 1 -W 1 -M do -s 56 10.2.0.1
	"$ipsec" eroute --del --eraf inet --src 192.0.2.2/32 --dst 10.2.0.0/24
	"$ipsec" spi --said "$said" --del
done
ip route del 10.2.0.0/24
"$ipsec" tncfg --detach --virtual ipsec0

# --- ipsec_eroute read in chunks while the table changes ---------------------------
# 90 eroutes fill more than one read() of 4096 bytes; between the first
# read and the rest, an eroute that sorts before all of them is added (then
# deleted): every one of the 90 must still be listed exactly once.
ip netns add ns6
for ((j = 0; j < 90; j++)); do
	echo "eroute --add --eraf inet --src 10.$j.0.0/16 --dst 10.200.0.0/16 --said %drop"
done > /tmp/eroutes90
check "ns6: 90 eroutes" ip netns exec ns6 "$ipsec" -f /tmp/eroutes90
for what in add del; do
	out=$(ip netns exec ns6 /usr/bin/python3 -c '
import os, subprocess, sys
fd = os.open("/proc/net/ipsec_eroute", os.O_RDONLY)
text = os.read(fd, 4096)
subprocess.run([sys.argv[1], "eroute", "--" + sys.argv[2], "--eraf", "inet",
                "--src", "10.250.0.0/16", "--dst", "10.250.0.1/32"] +
               (["--said", "%drop"] if sys.argv[2] == "add" else []), check=True)
while True:
    chunk = os.read(fd, 4096)
    if not chunk:
        break
    text += chunk
counts = {}
for line in text.decode().splitlines():
    key = " ".join(line.split()[1:4])
    counts[key] = counts.get(key, 0) + 1
bad = ["%s x%d" % (k, n) for k, n in counts.items() if n != 1 and "10.200.0.0/16" in k]
bad += ["10.%d.0.0/16 missing" % j for j in range(90)
        if not any(k.startswith("10.%d.0.0/16 " % j) for k in counts)]
print(" ".join(bad) or "each once")' "$ipsec" $what 2>&1)
	check_eq "ipsec_eroute: an eroute sorting first ${what}ed between read()s, the rest each listed once" \
		"each once" "$out"
done
ip netns del ns6
rm -f /tmp/eroutes90

# --- getspi: a larval SA that expires unless filled in -----------------------
echo 2 > /sys/module/klips/parameters/larval_lifetime
t0=$(now_ms)
check "getspi" nlraw getspi
check_match "a larval SA is listed" ' ESP: dir=out src=0\.0\.0\.0 state=larval life' \
	"$(cat /proc/net/ipsec_spi)"
# Gone once larval_lifetime (2 s) is over, not before; the deadline is
# only for a machine under load.
wait_until 30 sh -c '! grep -q larval /proc/net/ipsec_spi'
gone=$(( $(now_ms) - t0 ))
check_eq "... and expires after larval_lifetime (2 s), within 30 s" "" \
	"$(grep larval /proc/net/ipsec_spi)"
check_match "... not before 2 s (gone after ${gone} ms)" '^([2-9][0-9]{3}|[1-9][0-9]{4,})$' "$gone"

# --- dumps that resume across a change: NLM_F_DUMP_INTR --------------------------
# Eroutes and devices in a namespace of their own, many enough for a dump
# in several parts.
echo 200 > /sys/module/klips/parameters/max_devices
ip netns add ns7
helper_run 4 "nlraw dumpintr" ip netns exec ns7 /usr/bin/python3 "$here/nlraw.py" dumpintr
ip netns del ns7
echo 64 > /sys/module/klips/parameters/max_devices

# --- unload with state present ---------------------------------------------------
check "rmmod klips with SAs in two namespaces" rmmod klips
ip netns del ns2

# --- eroutes per namespace (max_eroutes is set at load) ---------------------------
check "insmod klips.ko max_eroutes=3" klips_insmod "$mod" max_eroutes=3
ip netns add ns5
for n in 1 2 3; do
	check "ns5: eroute $n of max_eroutes=3" ip netns exec ns5 "$ipsec" eroute --add \
		--eraf inet --src 10.0.$n.0/24 --dst 10.9.0.0/24 --said %drop
done
out=$(ip netns exec ns5 "$ipsec" eroute --add --eraf inet --src 10.0.4.0/24 \
	--dst 10.9.0.0/24 --said %drop 2>&1)
check_match "ns5: eroute 4 refused, the cap named" 'max_eroutes' "$out"
check_eq "ns5: three eroutes" 3 "$(ip netns exec ns5 sh -c 'wc -l < /proc/net/ipsec_eroute')"
check "the initial namespace still takes one" "$ipsec" eroute --add --eraf inet \
	--src 10.0.1.0/24 --dst 10.9.0.0/24 --said %drop
check "ns5 deleted" ip netns del ns5
check "rmmod klips" rmmod klips
check_kmemleak "netlink tests"
done_testing
