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

kmemleak_clear
check "insmod klips.ko" klips_insmod "$mod"
ip link add d0 type dummy
ip addr add 192.0.2.2/24 dev d0
ip link set d0 up

# --- malformed requests: each refused, with the attribute named -----------
absorb < <(nlraw cases)

# --- a fuzz loop: every request answered, the kernel still sane --------------
absorb < <(nlraw fuzz 3000 "${KLIPS_SEED:-$RANDOM}")
check "after the fuzz: ipsec_spi reads" cat /proc/net/ipsec_spi
check "after the fuzz: SAs and eroutes flush" nlraw flush
check_eq "... and the tables are empty" "" \
	"$(cat /proc/net/ipsec_spi /proc/net/ipsec_eroute /proc/net/ipsec_spigrp)"

# --- permissions ---------------------------------------------------------------
# A user namespace without a mapping has no capability over this namespace.
absorb < <(unshare -U /usr/bin/python3 "$here/nlraw.py" perm 2>&1)
check_fails "nobody: /proc/net/ipsec_spi is not readable (0400)" \
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

# --- getspi: a larval SA that expires unless filled in -----------------------
echo 2 > /sys/module/klips/parameters/larval_lifetime
check "getspi" nlraw getspi
check_match "a larval SA is listed" ' ESP: dir=out src=0\.0\.0\.0 state=larval life' \
	"$(cat /proc/net/ipsec_spi)"
sleep 3.5
check_eq "... and expires after larval_lifetime" "" \
	"$(grep larval /proc/net/ipsec_spi)"

# --- unload with state present ---------------------------------------------------
check "rmmod klips with SAs in two namespaces" rmmod klips
ip netns del ns2
check_kmemleak "netlink tests"
done_testing
