#!/bin/bash
# The demo, run inside the release UML guest by scripts/demo.sh: what an
# admin sees after `insmod klips.ko` on a gateway. Grows into the
# two-gateway tunnel demo with the packet path.
set -u
mod=${1:?usage: demo.sh <module dir>}/klips.ko

show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

show insmod "$mod"
show ip -br link show type klips
show cat /proc/net/ipsec_version
show cat /proc/net/ipsec_tncfg
show cat /proc/net/ipsec_spi
show cat /proc/net/ipsec_eroute
printf "\n$ ls -l /proc/net | grep ipsec\n"
ls -l /proc/net | grep ipsec
echo
echo "# A namespace of its own: its own devices and tables."
ip netns add demo
show ip netns exec demo ip link add ipsec0 type klips
show ip netns exec demo cat /proc/net/ipsec_tncfg
ip netns del demo
show rmmod klips
