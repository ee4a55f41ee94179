#!/bin/bash
# Benchmark, run inside the release UML guest by scripts/bench.sh. Every
# figure comes from this guest and this run, so only ratios between them
# mean anything (UML: one CPU, generic C crypto).
#
# For now: plain forwarding and the kernel's own XFRM ESP tunnel
# (AES-GCM-128) between the gateways of tests/topology.sh. klips figures and
# the klips/XFRM ratios join when the packet path exists.
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
