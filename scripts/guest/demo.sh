#!/bin/bash
# The demo, run inside the release UML guest by scripts/demo.sh: two KLIPS
# gateways between two hosts (tests/topology.sh, every box a namespace),
# the tunnel keyed by hand with the ipsec tool exactly as a KLIPS admin
# did, a ping and an iperf3 run across, then what the admin reads back.
set -u
mod=${1:?usage: demo.sh <module dir>}/klips.ko
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/topology.sh"
# shellcheck source=tests/klipsmod.sh
. "$top/tests/klipsmod.sh"
ipsec=$top/tools/ipsec
keys=$(mktemp -d /tmp/demo-keys.XXXXXX)
chmod 700 "$keys"

# Fresh random keys in files (the guest's own /tmp): keys stay off the
# command line and out of this output.
key() {	# key <file> <bytes>
	[ -f "$keys/$1" ] || topo_key "$2" > "$keys/$1"
	echo "@$keys/$1"
}

show() {	# show <namespace> <command...>: print it as a prompt, run it
	local ns=$1
	shift
	printf '\n%s# %s\n' "$ns" "$*"
	ip netns exec "$ns" "$@"
}

# One side of the tunnel: <ns> <my outer> <peer outer> <my subnet> <peer
# subnet> <SPI out> <SPI in>. The outbound key of one side is the inbound
# key of the other. Each direction is a full KLIPS group, inner to outer:
# tun (IPIP), comp (DEFLATE, the CPI = the SPI), esp (AES-GCM-16), ah
# (HMAC-SHA1-96, the SPI + 0x100).
gateway() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 out=$6 in=$7 d s
	show "$ns" ip link add ipsec0 type klips
	show "$ns" ipsec tncfg --attach --virtual ipsec0 --physical eth0
	show "$ns" ip link set ipsec0 up
	for d in out in; do
		if [ $d = out ]; then
			set -- "$peer" "$me" "$out"
		else
			set -- "$me" "$peer" "$in"
		fi
		s=$3
		show "$ns" ipsec spi --af inet --edst "$1" --spi "0x$s" --proto tun \
			--src "$2" --dst "$1" --ip4
		show "$ns" ipsec spi --af inet --edst "$1" --spi "0x$s" --proto comp \
			--src "$2" --comp deflate
		show "$ns" ipsec spi --af inet --edst "$1" --spi "0x$s" --proto esp \
			--src "$2" --esp aes-gcm-16 --enckey "$(key "esp$s" 20)"
		show "$ns" ipsec spi --af inet --edst "$1" --spi "0x$((s + 100))" --proto ah \
			--src "$2" --ah hmac-sha1-96 --authkey "$(key "ah$s" 20)"
		show "$ns" ipsec spigrp inet "$1" "0x$s" tun inet "$1" "0x$s" comp \
			inet "$1" "0x$s" esp inet "$1" "0x$((s + 100))" ah
	done
	show "$ns" ipsec eroute --add --eraf inet --src "$mine" --dst "$theirs" \
		--said "tun.$out@$peer"
	show "$ns" ipsec eroute --addin --eraf inet --src "$theirs" --dst "$mine" \
		--said "tun.$in@$me"
	show "$ns" ip route add "$theirs" dev ipsec0
}

# The tool and the guest's PATH: `ipsec` as an admin types it.
mkdir -p /tmp/demo-bin
ln -sf "$ipsec" /tmp/demo-bin/ipsec
export PATH=/tmp/demo-bin:$PATH

printf "# modprobe -a %s; insmod %s\n" "$(modinfo -F depends "$mod" | tr , " ")" "$mod"
klips_insmod "$mod" || exit 1
echo "# Topology: hostA 10.1.0.2 - gwA 192.0.2.1 == router == 198.51.100.1 gwB - hostB 10.2.0.2"
topo_up
gateway gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 1001 2001
gateway gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 2001 1001

# The router knows only the gateways' outer subnets: hostA reaches hostB
# through the tunnel or not at all.
ip netns exec router tcpdump -nli eth0 -c 4 ah > "$keys/wire" 2>/dev/null &
cap=$!
sleep 0.5
show hostA ping -c 3 10.2.0.2
# Zeros compress: IPComp inside ESP, ratio= in ipsec_spi below.
show hostA ping -c 2 -s 1000 -p 00 10.2.0.2
ip netns exec hostB iperf3 -s -D -1 > /dev/null 2>&1
sleep 0.3
show hostA iperf3 -c 10.2.0.2 -t 3 -f m
wait "$cap" 2>/dev/null
printf '\nrouter# tcpdump -ni eth0 ah      (the wire between the gateways)\n'
cat "$keys/wire"

show gwA ipsec look
show gwA cat /proc/net/ipsec_spi
show gwB cat /proc/net/ipsec_spi
show gwA cat /proc/net/ipsec_tncfg
show gwA awk '$2 != 0 { print; n++ } END { if (!n) print "(every counter is 0)" }' \
	/proc/net/ipsec/stats
show gwA ipsec spi --said tun.1001@198.51.100.1 --del
show gwA cat /proc/net/ipsec_spi
echo
echo "# With its group gone the eroute stays and drops (OutStateExpired):"
show hostA ping -c 1 -W 1 10.2.0.2
topo_down
rm -rf "$keys"
printf '\n# rmmod klips\n'
rmmod klips && echo "(unloaded)"
