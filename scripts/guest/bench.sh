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
. "$top/tests/peer.sh"
# shellcheck source=tests/klipsmod.sh
. "$top/tests/klipsmod.sh"
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

# Single-flow TCP with 76-byte segments (MSS 88, the least Linux allows)
# and no segmentation offload on the hosts, in Mbit/s: the cost of each
# packet, not of each byte. (UDP from iperf3 measured the sender instead:
# UML traps every system call, one per datagram.)
tcp_small_mbps() {
	local i r=() ns
	for ns in hostA hostB; do
		ip netns exec "$ns" ethtool -K eth0 tso off gso off > /dev/null 2>&1
	done
	for ((i = 0; i < runs; i++)); do
		r+=("$(ip netns exec hostA iperf3 -c 10.2.0.2 -M 88 -t "$secs" -J 2>/dev/null |
			python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.0f" % (j["end"]["sum_received"]["bits_per_second"]/1e6))')")
	done
	for ns in hostA hostB; do
		ip netns exec "$ns" ethtool -K eth0 tso on gso on > /dev/null 2>&1
	done
	median "${r[@]}"
}

# The suites of the comparison: a name, the --esp of tests/peer.sh's
# table, and the encryption key bytes (AES-128 where the table keys AES-256).
SUITES=(
	"AES-GCM-128|aes-gcm-16|20"
	"AES-CBC-128+HMAC-SHA2-256|aes128-sha2_256-128|16"
	"NULL+HMAC-SHA1|null-sha1-96|0"
)

# keys: fresh "<enckey>/<authkey>" of the current suite.
keys() {
	local e="" a=""
	[ "$PEER_EK" -gt 0 ] && e=$(topo_key "$PEER_EK")
	[ "$PEER_AK" -gt 0 ] && a=$(topo_key "$PEER_AK")
	echo "$e/$a"
}

# tunnel <impl>: gwA <-> gwB for the hosts' subnets, fresh keys.
tunnel() {
	local k1 k2
	k1=$(keys) k2=$(keys)
	peer_up "$1" gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 0x1000 0x1001 "$k1" "$k2" &&
		peer_up "$1" gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 0x1001 0x1000 "$k2" "$k1"
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
row "path" "TCP Mbit/s" "MSS 88 Mbit/s"
row "plain forwarding" "$(tcp_mbps)" "$(tcp_small_mbps)"

# Same namespaces, now through a tunnel instead of plain routes: the
# router forgets the inner subnets, only a tunnel can carry them.
ip -n router route del 10.1.0.0/24
ip -n router route del 10.2.0.0/24
ip -n gwA route del 10.2.0.0/24
ip -n gwB route del 10.1.0.0/24
modprobe -a esp4 xfrm_user 2>/dev/null
[ -n "$mod" ] && klips_insmod "$mod/klips.ko"
summary=()
# measure <impl> <label>: a tunnel by it, its figures in t and u, torn down.
measure() {
	if ! tunnel "$1" || ! reach; then
		echo "bench: no connectivity through the $2 $name tunnel" >&2
		return 1
	fi
	t=$(tcp_mbps) u=$(tcp_small_mbps)
	row "$2 $name tunnel" "$t" "$u"
	peer_down "$1" gwA
	peer_down "$1" gwB
}

# shellcheck disable=SC2034 # PEER_* are read by peer.sh
PEER_MODE=tunnel
for suite in "${SUITES[@]}"; do
	IFS='|' read -r name PEER_ALG ek <<< "$suite"
	peer_alg "$PEER_ALG"
	PEER_EK=$ek
	# Fresh keys for each tunnel: counter modes never see a key twice.
	measure xfrm XFRM || exit 1
	xt=$t xu=$u
	[ -n "$mod" ] || continue
	measure klips klips || exit 1
	kt=$t ku=$u
	summary+=("$(row "klips/XFRM $name" "$(ratio "$kt" "$xt")" "$(ratio "$ku" "$xu")")")
done
echo "XFRM ESP GSO: $(esp_gso)"
if [ ${#summary[@]} -gt 0 ]; then
	echo
	row "ratio (higher is better for klips)" "TCP" "TCP MSS 88"
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

if [ -n "$mod" ] && klips_insmod "$mod/klips.ko" 2>/dev/null; then
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
	printf '%-48s %10s %10s %8s\n' "" "klips" "XFRM" "ratio"
	printf '%-48s %10s %10s %8s\n' "install (ipsec -f / ip -batch)" "$k_add" "$x_add" "$(ratio "$k_add" "$x_add")"
	printf '%-48s %10s %10s %8s\n' "dump (ipsec spi --json / ip xfrm state)" "$k_dump" "$x_dump" "$(ratio "$k_dump" "$x_dump")"
	printf '%-48s %10s %10s %8s\n' "dump (/proc/net/ipsec_spi)" "$k_proc" "" ""
	printf '%-48s %10s %10s %8s\n' "flush (ipsec spi --clear / ip xfrm state flush)" "$k_flush" "$x_flush" "$(ratio "$k_flush" "$x_flush")"
	echo "SAs installed: klips $k_n, XFRM ${x_n:-?}"
	ip netns del cp
	rmmod klips
fi
