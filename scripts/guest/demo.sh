#!/bin/bash
# The demo, run inside the release UML guest by scripts/demo.sh: what an
# admin sees after `insmod klips.ko` on a gateway, configured with the
# ipsec tool as a KLIPS admin would. (It carries traffic once the packet
# path exists; for now it shows the configuration.)
set -u
mod=${1:?usage: demo.sh <module dir>}/klips.ko
ipsec=$(cd "$(dirname "$0")/../.." && pwd)/tools/ipsec
# Fresh random keys in files (the guest's own /tmp): keys stay off the
# command line and out of this output.
key() {	# key <file> <bytes>
	echo "0x$(od -An -tx1 -N"$2" /dev/urandom | tr -d ' \n')" > "/tmp/$1"
	chmod 600 "/tmp/$1"
	echo "@/tmp/$1"
}

show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

show insmod "$mod"
ipsec() { "$ipsec" "$@"; }
ip link add eth1 type dummy
ip addr add 192.1.2.23/24 dev eth1
ip link set eth1 up
show ip -br link show type klips
show ipsec version
show ipsec tncfg --attach --virtual ipsec0 --physical eth1
show ipsec spi --af inet --edst 192.1.2.45 --spi 0x12345678 --proto esp \
	--src 192.1.2.23 --esp aes-gcm-16 --enckey "$(key out.key 20)"
show ipsec spi --af inet --edst 192.1.2.45 --spi 0x12345678 --proto tun \
	--src 192.1.2.23 --dst 192.1.2.45 --ip4
show ipsec spigrp inet 192.1.2.45 0x12345678 tun inet 192.1.2.45 0x12345678 esp
show ipsec eroute --add --eraf inet --src 192.0.2.0/24 --dst 192.0.1.0/24 \
	--said tun.12345678@192.1.2.45
show ipsec eroute --add --eraf inet --src 192.1.2.23/32 --dst 192.0.1.1/32 --said %drop
show ipsec spi --said esp.87654321@192.1.2.23 --src 192.1.2.45 \
	--esp aes256-sha2_256-128 --enckey "$(key in.enc 32)" \
	--authkey "$(key in.auth 32)"
show ipsec spi --said esp.1@192.1.2.23 --src 192.1.2.45 --esp aes-gcm-16 --enckey 0x00
show cat /proc/net/ipsec_spi
show cat /proc/net/ipsec_spigrp
show cat /proc/net/ipsec_eroute
show cat /proc/net/ipsec_tncfg
show ipsec look
printf '\n$ ls -l /proc/net/ | grep ipsec\n'
ls -l /proc/net/ | grep ipsec
echo
echo "# A namespace of its own: its own devices and tables."
ip netns add demo
show ip netns exec demo ip link add ipsec0 type klips
show ip netns exec demo cat /proc/net/ipsec_tncfg
show ip netns exec demo cat /proc/net/ipsec_spi
ip netns del demo
show ipsec spi --said tun.12345678@192.1.2.45 --del
show cat /proc/net/ipsec_spi
show rmmod klips
