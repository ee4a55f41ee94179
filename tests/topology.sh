# shellcheck shell=bash
# The gateway topology of the tunnel tests, benchmarks and the demo:
#
#   hostA ---- gwA ==== router ==== gwB ---- hostB
#   10.1.0.2  10.1.0.1          10.2.0.1  10.2.0.2        inner (protected)
#   fd01::2   fd01::1           fd02::1   fd02::2
#                 192.0.2.1  192.0.2.2 | 198.51.100.2  198.51.100.1   outer
#                 2001:db8:1::1  ::2   | 2001:db8:2::2  2001:db8:2::1
#
# Every box is a network namespace joined by veth pairs; the router holds
# the wire between the gateways (captures are taken there). Routing is
# plain: topo_up gives working forwarding with nothing protected.

TOPO_NS="hostA gwA router gwB hostB"

topo_veth() {	# topo_veth <ns1> <if1> <ns2> <if2>
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

topo_up() {
	local ns
	for ns in $TOPO_NS; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
	done
	topo_veth hostA eth0 gwA eth1
	topo_veth gwA eth0 router eth0
	topo_veth router eth1 gwB eth0
	topo_veth gwB eth1 hostB eth0

	ip -n hostA addr add 10.1.0.2/24 dev eth0
	ip -n hostA addr add fd01::2/64 dev eth0 nodad
	ip -n hostA route add default via 10.1.0.1
	ip -n hostA route add default via fd01::1
	ip -n gwA addr add 10.1.0.1/24 dev eth1
	ip -n gwA addr add fd01::1/64 dev eth1 nodad
	ip -n gwA addr add 192.0.2.1/24 dev eth0
	ip -n gwA addr add 2001:db8:1::1/64 dev eth0 nodad
	ip -n gwA route add default via 192.0.2.2
	ip -n gwA route add default via 2001:db8:1::2

	ip -n router addr add 192.0.2.2/24 dev eth0
	ip -n router addr add 2001:db8:1::2/64 dev eth0 nodad
	ip -n router addr add 198.51.100.2/24 dev eth1
	ip -n router addr add 2001:db8:2::2/64 dev eth1 nodad

	ip -n gwB addr add 198.51.100.1/24 dev eth0
	ip -n gwB addr add 2001:db8:2::1/64 dev eth0 nodad
	ip -n gwB addr add 10.2.0.1/24 dev eth1
	ip -n gwB addr add fd02::1/64 dev eth1 nodad
	ip -n gwB route add default via 198.51.100.2
	ip -n gwB route add default via 2001:db8:2::2
	ip -n hostB addr add 10.2.0.2/24 dev eth0
	ip -n hostB addr add fd02::2/64 dev eth0 nodad
	ip -n hostB route add default via 10.2.0.1
	ip -n hostB route add default via fd02::1
}

# Plain forwarding: the inner subnets are routed, in clear, all the way.
topo_route_plain() {
	ip -n router route add 10.1.0.0/24 via 192.0.2.1
	ip -n router route add fd01::/64 via 2001:db8:1::1
	ip -n router route add 10.2.0.0/24 via 198.51.100.1
	ip -n router route add fd02::/64 via 2001:db8:2::1
	ip -n gwA route add 10.2.0.0/24 via 192.0.2.2
	ip -n gwA route add fd02::/64 via 2001:db8:1::2
	ip -n gwB route add 10.1.0.0/24 via 198.51.100.2
	ip -n gwB route add fd01::/64 via 2001:db8:2::2
}

topo_down() {
	local ns
	for ns in $TOPO_NS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# A fresh random key of n bytes as 0x-hex (tests never reuse a key).
topo_key() {
	echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"
}
