#!/bin/bash
# Benchmark, run inside the release UML guest by scripts/bench.sh. Every
# figure comes from this guest and this run, so only ratios between them
# mean anything (UML: one CPU, generic C crypto).
#
# Plain forwarding, then for each suite (AES-GCM-128, AES-CBC+HMAC-SHA2-256,
# NULL+HMAC-SHA1) an XFRM ESP tunnel and a klips tunnel between the
# gateways of tests/topology.sh, same namespaces, fresh keys each; then
# the control plane (installing, dumping and flushing many SAs).
#
#   bench.sh [<directory with klips.ko>]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/topology.sh"
secs=${KLIPS_BENCH_SECONDS:-5}
runs=${KLIPS_BENCH_RUNS:-3}

# median <numbers...>
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Single-flow TCP goodput in Mbit/s, as the receiver saw it; median of runs.
tcp_mbps() {
	local i r=()
	for ((i = 0; i < runs; i++)); do
		r+=("$(ip netns exec hostA iperf3 -c 10.2.0.2 -t "$secs" -J 2>/dev/null |
			python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.0f" % (j["end"]["sum_received"]["bits_per_second"]/1e6))')")
	done
	median "${r[@]}"
}

# UDP with 64-byte payloads, unlimited rate: packets delivered per second
# (sender and receiver share UML's one CPU: noisy, hence the median).
udp_pps() {
	local i r=()
	for ((i = 0; i < runs; i++)); do
		r+=("$(ip netns exec hostA iperf3 -c 10.2.0.2 -u -l 64 -b 0 -t "$secs" -J 2>/dev/null |
			python3 -c 'import json,sys; s=json.load(sys.stdin)["end"]["sum"]; print("%.0f" % ((s["packets"]-s["lost_packets"])/s["seconds"]))')")
	done
	median "${r[@]}"
}

# The suites of the comparison: name, klips --esp, key bytes (cipher,
# integrity), and the same transform in `ip xfrm state` syntax.
SUITES=(
	"AES-GCM-128|aes-gcm-16|20|0|aead rfc4106(gcm(aes)) KE 128"
	"AES-CBC-128+HMAC-SHA2-256|aes128-sha2_256-128|16|32|enc cbc(aes) KE auth-trunc hmac(sha256) KA 128"
	"NULL+HMAC-SHA1|null-sha1-96|0|20|enc ecb(cipher_null) KE auth-trunc hmac(sha1) KA 96"
)

# xfrm_args <template> <enckey> <authkey>: the words of `ip xfrm state`.
xfrm_args() {
	local w
	for w in $1; do
		case $w in
		KE) echo "${2:-""}" ;;
		KA) echo "$3" ;;
		*) echo "$w" ;;
		esac
	done
}

# xfrm_tunnel <template> <k1e> <k1a> <k2e> <k2a>: gwA <-> gwB by XFRM.
xfrm_tunnel() {
	local ns a1 a2
	mapfile -t a1 < <(xfrm_args "$1" "$2" "$3")
	mapfile -t a2 < <(xfrm_args "$1" "$4" "$5")
	for ns in gwA gwB; do
		ip -n $ns xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp \
			spi 0x1000 mode tunnel "${a1[@]}"
		ip -n $ns xfrm state add src 198.51.100.1 dst 192.0.2.1 proto esp \
			spi 0x1001 mode tunnel "${a2[@]}"
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

xfrm_down() {
	local ns
	for ns in gwA gwB; do
		ip -n $ns xfrm policy flush
		ip -n $ns xfrm state flush
	done
}

# klips_side <ns> <me> <peer> <mine> <theirs> <spi out> <spi in> <esp>
#            <out enc> <out auth> <in enc> <in auth>: one KLIPS gateway.
klips_side() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 out=$6 in=$7 esp=$8
	local ipsec=$top/tools/ipsec
	local ko=() ki=()
	[ -n "$9" ] && ko+=(--enckey "$9")
	[ -n "${10}" ] && ko+=(--authkey "${10}")
	[ -n "${11}" ] && ki+=(--enckey "${11}")
	[ -n "${12}" ] && ki+=(--authkey "${12}")
	ip -n "$ns" link show ipsec0 > /dev/null 2>&1 ||
		ip -n "$ns" link add ipsec0 type klips
	ip netns exec "$ns" "$ipsec" tncfg --attach --virtual ipsec0 --physical eth0
	ip -n "$ns" link set ipsec0 up
	ip netns exec "$ns" "$ipsec" spi --af inet --edst "$peer" --spi "0x$out" \
		--proto esp --src "$me" --esp "$esp" "${ko[@]}" 2> /dev/null
	ip netns exec "$ns" "$ipsec" spi --af inet --edst "$peer" --spi "0x$out" \
		--proto tun --src "$me" --dst "$peer" --ip4
	ip netns exec "$ns" "$ipsec" spigrp inet "$peer" "0x$out" tun inet "$peer" "0x$out" esp
	ip netns exec "$ns" "$ipsec" spi --af inet --edst "$me" --spi "0x$in" \
		--proto esp --src "$peer" --esp "$esp" "${ki[@]}" 2> /dev/null
	ip netns exec "$ns" "$ipsec" spi --af inet --edst "$me" --spi "0x$in" \
		--proto tun --src "$peer" --dst "$me" --ip4
	ip netns exec "$ns" "$ipsec" spigrp inet "$me" "0x$in" tun inet "$me" "0x$in" esp
	ip netns exec "$ns" "$ipsec" eroute --add --eraf inet --src "$mine" \
		--dst "$theirs" --said "tun.$out@$peer"
	ip netns exec "$ns" "$ipsec" eroute --addin --eraf inet --src "$theirs" \
		--dst "$mine" --said "tun.$in@$me"
	ip -n "$ns" route add "$theirs" dev ipsec0
}

klips_down() {
	local ns
	for ns in gwA gwB; do
		ip netns exec $ns "$top/tools/ipsec" eroute --clear
		ip netns exec $ns "$top/tools/ipsec" spi --clear
		ip -n $ns route del 10.1.0.0/24 dev ipsec0 2> /dev/null
		ip -n $ns route del 10.2.0.0/24 dev ipsec0 2> /dev/null
	done
}

# key_or_empty <bytes>: a fresh key, or nothing for 0 bytes.
key_or_empty() { [ "$1" -gt 0 ] && topo_key "$1"; }

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

row() { printf '%-40s %12s %12s\n' "$@"; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }
reach() { ip netns exec hostA ping -c 1 -W 2 10.2.0.2 > /dev/null 2>&1; }

mod=${1:-}
topo_up
topo_route_plain
ip netns exec hostB iperf3 -s -D >/dev/null 2>&1
sleep 0.5
if ! reach; then
	echo "bench: no connectivity through the plain topology" >&2
	exit 1
fi
row "path" "TCP Mbit/s" "UDP64 pkt/s"
row "plain forwarding" "$(tcp_mbps)" "$(udp_pps)"

# Same namespaces, now through a tunnel instead of plain routes: the
# router forgets the inner subnets, only a tunnel can carry them.
ip -n router route del 10.1.0.0/24
ip -n router route del 10.2.0.0/24
ip -n gwA route del 10.2.0.0/24
ip -n gwB route del 10.1.0.0/24
modprobe -a esp4 xfrm_user 2>/dev/null
[ -n "$mod" ] && insmod "$mod/klips.ko"
summary=()
for suite in "${SUITES[@]}"; do
	IFS='|' read -r name esp elen alen tmpl <<< "$suite"
	k1e=$(key_or_empty "$elen") k1a=$(key_or_empty "$alen")
	k2e=$(key_or_empty "$elen") k2a=$(key_or_empty "$alen")
	xfrm_tunnel "$tmpl" "$k1e" "$k1a" "$k2e" "$k2a"
	if ! reach; then
		echo "bench: no connectivity through the XFRM $name tunnel" >&2
		exit 1
	fi
	xt=$(tcp_mbps) xu=$(udp_pps)
	row "XFRM $name tunnel" "$xt" "$xu"
	xfrm_down
	[ -n "$mod" ] || continue
	# Fresh keys again: counter modes never see a key twice (design.md).
	k1e=$(key_or_empty "$elen") k1a=$(key_or_empty "$alen")
	k2e=$(key_or_empty "$elen") k2a=$(key_or_empty "$alen")
	klips_side gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 1000 1001 \
		"$esp" "$k1e" "$k1a" "$k2e" "$k2a"
	klips_side gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 1001 1000 \
		"$esp" "$k2e" "$k2a" "$k1e" "$k1a"
	if ! reach; then
		echo "bench: no connectivity through the klips $name tunnel" >&2
		exit 1
	fi
	kt=$(tcp_mbps) ku=$(udp_pps)
	row "klips $name tunnel" "$kt" "$ku"
	klips_down
	summary+=("$(row "klips/XFRM $name" "$(ratio "$kt" "$xt")" "$(ratio "$ku" "$xu")")")
done
echo "XFRM ESP GSO: $(esp_gso)"
if [ ${#summary[@]} -gt 0 ]; then
	echo
	row "ratio (higher is better for klips)" "TCP" "UDP64"
	printf '%s\n' "${summary[@]}"
fi
topo_down
[ -n "$mod" ] && rmmod klips

# --- control plane: install, dump and flush N SAs, klips against XFRM -------
n=${KLIPS_BENCH_SAS:-100000}
key=$(topo_key 20)
secs_of() {	# secs_of <command...>: wall seconds, 3 decimals
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

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
