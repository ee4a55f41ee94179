#!/bin/bash
# Benchmark, run inside the release UML guest by scripts/bench.sh. Every
# figure comes from this guest and this run, so only ratios between them
# mean anything (UML: one CPU, generic C crypto).
#
# For now: plain forwarding and the kernel's own XFRM ESP tunnel
# (AES-GCM-128) between the gateways of tests/topology.sh, and the control
# plane (installing, dumping and flushing many SAs) against XFRM. klips's
# traffic figures and their ratios join when the packet path exists.
#
#   bench.sh [<directory with klips.ko>]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/topology.sh"
secs=${KLIPS_BENCH_SECONDS:-5}

# Single-flow TCP goodput in Mbit/s, as the receiver saw it.
tcp_mbps() {
	ip netns exec hostA iperf3 -c 10.2.0.2 -t "$secs" -J 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.0f" % (j["end"]["sum_received"]["bits_per_second"]/1e6))'
}

# UDP with 64-byte payloads, unlimited rate: packets delivered per second.
udp_pps() {
	ip netns exec hostA iperf3 -c 10.2.0.2 -u -l 64 -b 0 -t "$secs" -J 2>/dev/null |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["end"]["sum"]; print("%.0f" % ((s["packets"]-s["lost_packets"])/s["seconds"]))'
}

xfrm_tunnel() {	# AES-GCM-128 tunnel gwA <-> gwB with fresh keys
	local k1 k2
	k1=$(topo_key 20) k2=$(topo_key 20)
	modprobe -a esp4 xfrm_user 2>/dev/null
	for ns in gwA gwB; do
		ip -n $ns xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp \
			spi 0x1000 mode tunnel aead 'rfc4106(gcm(aes))' "$k1" 128
		ip -n $ns xfrm state add src 198.51.100.1 dst 192.0.2.1 proto esp \
			spi 0x1001 mode tunnel aead 'rfc4106(gcm(aes))' "$k2" 128
	done
	ip -n gwA xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
		tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel
	ip -n gwA xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd \
		tmpl src 198.51.100.1 dst 192.0.2.1 proto esp mode tunnel
	ip -n gwB xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out \
		tmpl src 198.51.100.1 dst 192.0.2.1 proto esp mode tunnel
	ip -n gwB xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd \
		tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel
}

# Is the kernel's ESP GSO in use? (esp4_offload loaded, and the gateways'
# devices advertising esp segmentation.)
esp_gso() {
	if lsmod | grep -q '^esp4_offload' &&
		ip netns exec gwA ethtool -k eth0 2>/dev/null | grep -q 'tx-esp-segmentation: on'; then
		echo active
	else
		echo inactive
	fi
}

row() { printf '%-34s %12s %12s\n' "$@"; }

topo_up
topo_route_plain
ip netns exec hostB iperf3 -s -D >/dev/null 2>&1
sleep 0.5
if ! ip netns exec hostA ping -c 1 -W 2 10.2.0.2 >/dev/null 2>&1; then
	echo "bench: no connectivity through the plain topology" >&2
	exit 1
fi
row "path" "TCP Mbit/s" "UDP64 pkt/s"
row "plain forwarding" "$(tcp_mbps)" "$(udp_pps)"

# Same namespaces, now through an XFRM tunnel instead of plain routes.
# The router forgets the inner subnets: only the tunnel can carry them.
ip -n router route del 10.1.0.0/24
ip -n router route del 10.2.0.0/24
xfrm_tunnel
if ! ip netns exec hostA ping -c 1 -W 2 10.2.0.2 >/dev/null 2>&1; then
	echo "bench: no connectivity through the XFRM tunnel" >&2
	exit 1
fi
row "XFRM ESP AES-GCM-128 tunnel" "$(tcp_mbps)" "$(udp_pps)"
echo "XFRM ESP GSO: $(esp_gso)"
echo "XFRM SAs after the run:"
ip -n gwA -s xfrm state | awk '/^src/ {s=$0} /bytes/ && /packets/ {print "  " s; print "  " $0}' | head -8
topo_down

# --- control plane: install, dump and flush N SAs, klips against XFRM -------
n=${KLIPS_BENCH_SAS:-100000}
mod=${1:-}
key=$(topo_key 20)
secs_of() {	# secs_of <command...>: wall seconds, 3 decimals
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }

if [ -n "$mod" ] && insmod "$mod/klips.ko" 2>/dev/null; then
	ip netns add cp
	spi_file=/tmp/klips-sas
	xfrm_file=/tmp/xfrm-sas
	awk -v n="$n" -v key="$key" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "spi --af inet --edst 10.%d.%d.%d --spi 0x%x --proto esp --src 192.0.2.1 --esp aes-gcm-16 --enckey %s\n",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256, 4096 + i, key
	}' > "$spi_file"
	awk -v n="$n" -v key="$key" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "xfrm state add src 192.0.2.1 dst 10.%d.%d.%d proto esp spi 0x%x mode tunnel aead rfc4106(gcm(aes)) %s 128\n",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256, 4096 + i, key
	}' > "$xfrm_file"
	ipsec=$top/tools/ipsec
	k_add=$(secs_of ip netns exec cp "$ipsec" -f "$spi_file")
	k_n=$(ip netns exec cp sh -c 'wc -l < /proc/net/ipsec_spi')
	k_proc=$(secs_of ip netns exec cp cat /proc/net/ipsec_spi)
	k_dump=$(secs_of ip netns exec cp "$ipsec" spi --json)
	k_flush=$(secs_of ip netns exec cp "$ipsec" spi --clear)
	x_add=$(secs_of ip -n cp -batch "$xfrm_file")
	x_n=$(ip -n cp xfrm state | grep -c '^src')
	x_dump=$(secs_of ip -n cp xfrm state)
	x_flush=$(secs_of ip -n cp xfrm state flush)
	echo
	echo "control plane, $n AES-GCM SAs in one namespace (seconds; klips/XFRM, lower is better for klips):"
	printf '%-34s %10s %10s %8s\n' "" "klips" "XFRM" "ratio"
	printf '%-34s %10s %10s %8s\n' "install (ipsec -f / ip -batch)" "$k_add" "$x_add" "$(ratio "$k_add" "$x_add")"
	printf '%-34s %10s %10s %8s\n' "dump (ipsec spi --json / ip xfrm state)" "$k_dump" "$x_dump" "$(ratio "$k_dump" "$x_dump")"
	printf '%-34s %10s %10s %8s\n' "dump (/proc/net/ipsec_spi)" "$k_proc" "" ""
	printf '%-34s %10s %10s %8s\n' "flush (ipsec spi --clear / ip xfrm state flush)" "$k_flush" "$x_flush" "$(ratio "$k_flush" "$x_flush")"
	echo "SAs installed: klips $k_n, XFRM ${x_n:-?}"
	ip netns del cp
	rmmod klips
fi
