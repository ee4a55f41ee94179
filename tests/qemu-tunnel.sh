#!/bin/bash
# On Debian's own kernels under qemu: a klips gateway against an XFRM
# gateway (AES-GCM tunnel) carries traffic both ways; the crypto is made
# asynchronous through pcrypt, spread over the guest's 4 CPUs, and SAs and
# eroutes are replaced and deleted while traffic runs (a short race hunt).
#
#   KLIPS_QEMU_SMP=4 scripts/qemu-run.sh 6.12 tests/qemu-tunnel.sh <directory with klips.ko>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/topology.sh"
. "$here/peer.sh"
mod=${1:?usage: qemu-tunnel.sh <module dir>}/klips.ko
py=/usr/bin/python3
cpus=$(nproc)
tmp=$(mktemp -d /var/tmp/klips-qemu.XXXXXX)

# sa_packets <ns> <said>: the packets the SA counted (0 when none, or gone).
sa_packets() {
	ip netns exec "$1" awk -v s="$2" '$1 == s && match($0, /packets\([0-9]+/) {
		n = substr($0, RSTART + 8, RLENGTH - 8) } END { print n + 0 }' /proc/net/ipsec_spi
}
sa_packets_ge() { [ "$(sa_packets "$1" "$2")" -ge "$3" ]; }

plan 15
# The stage boots with 4 CPUs: fewer would make pcrypt's spread, and the
# races below, a pretence.
check "the guest has the 4 CPUs it was booted with ($cpus)" test "$cpus" -ge 4
modprobe -a veth esp4 xfrm_user 2> /dev/null
modprobe -a pcrypt crypto_user
# pcrypt spreads the AEAD's work over the CPUs, asynchronously.
check "pcrypt instance registered ($cpus CPUs)" $py "$here/cryptd.py" \
	'pcrypt(rfc4106(gcm(aes)))' aead
check "insmod klips.ko on $(uname -r)" klips_insmod "$mod"
topo_up
ip netns exec hostB iperf3 -s -D > /dev/null 2>&1
# AES-GCM-128 (peer.sh's table keys aes-gcm-16 with AES-256).
# shellcheck disable=SC2034 # read by peer.sh
PEER_ALG=aes-gcm-16 PEER_MODE=tunnel
peer_alg aes-gcm-16
k1=$(topo_key 20)/ k2=$(topo_key 20)/
check "gwA by klips" peer_up klips gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 \
	0x1001 0x2001 "$k1" "$k2"
check "gwB by XFRM" peer_up xfrm gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 \
	0x2001 0x1001 "$k2" "$k1"
check "hostA -> hostB through klips and XFRM" \
	ip netns exec hostA ping -c 3 -W 3 10.2.0.2
check "hostB -> hostA" ip netns exec hostB ping -c 3 -W 3 10.1.0.2
check "hostA -> hostB, 3000-byte pings" ip netns exec hostA ping -c 2 -W 3 -s 3000 10.2.0.2
# The client retries a refused connection: the server need not listen yet.
ip netns exec hostB timeout 100 $py "$here/xfer.py" serve 10.2.0.2 7000 1 &
srv=$!
check "1 MB over TCP arrive whole (sha256)" \
	ip netns exec hostA $py "$here/xfer.py" --timeout 90 put 10.2.0.2 7000 1000000
wait "$srv"
spi=$(ip netns exec gwA cat /proc/net/ipsec_spi | grep -o 'esp.2001@192.0.2.1 .*')
check_match "the inbound SA counted packets" 'packets\([1-9]' "$spi"
drv=$(awk '/^driver/ { d = $3 } /^refcnt/ && $3 > 1 && d ~ /^pcrypt/ { print d }' /proc/crypto | sort -u | tr '\n' ' ')
check_match "a pcrypt transform is in use" 'pcrypt\(' "$drv"
# Replace and delete under traffic, in parallel with it: once the
# transfer is under way (the tunnel carried a few hundred packets more).
n0=$(sa_packets gwA esp.1001@198.51.100.1)
timeout 300 ip netns exec hostA iperf3 -c 10.2.0.2 -t 12 -P 2 -J > "$tmp/stress.json" 2> /dev/null &
perf=$!
wait_until 60 sa_packets_ge gwA esp.1001@198.51.100.1 $((n0 + 300)) ||
	echo "# the transfer did not get going in 60 s"
# Rounds as one batch (ipsec -f): one process, many changes, so the
# changes race the traffic rather than the tool's start-up. Every
# round has new SPIs and fresh keys (Documentation/klips/design.md: no key twice).
batch=$tmp/stress
end=$((SECONDS + 10))
i=0 n=0
while [ $SECONDS -lt $end ]; do
	: > "$batch"
	# Ten fresh 20-byte keys from one read of /dev/urandom.
	keys=$(od -An -tx1 -N200 /dev/urandom | tr -d ' \n')
	for k in $(seq 0 9); do
		n=$((n + 1))
		s=$(printf '%x' $((0x3000 + n)))
		# Outside the here-document: bash 5.2 fails a $((...)) inside
		# ${...:...} there ("bad substitution"), and the round with it.
		key=${keys:k * 40:40}
		cat >> "$batch" <<-EOF
		spi --af inet --edst 198.51.100.1 --spi 0x$s --proto esp --src 192.0.2.1 --esp aes-gcm-16 --enckey 0x$key
		spi --af inet --edst 198.51.100.1 --spi 0x$s --proto tun --src 192.0.2.1 --dst 198.51.100.1 --ip4
		spigrp inet 198.51.100.1 0x$s tun inet 198.51.100.1 0x$s esp
		eroute --replace --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun.$s@198.51.100.1
		spi --said tun.$s@198.51.100.1 --del
		eroute --replace --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun.1001@198.51.100.1
		EOF
	done
	# The rounds counted are those the batch holds, once the tool took
	# them all.
	if ip netns exec gwA "$PEER_IPSEC" -f "$batch" > "$batch.out" 2>&1; then
		i=$((i + $(grep -c '^spigrp ' "$batch")))
	else
		grep -v warning "$batch.out" | head -3 | sed 's/^/# /'
	fi
done
wait "$perf"
rc=$?
check_match "stress: $i replace/delete rounds under traffic" '^[1-9]' "$i"
# Once the eroute is back on tun.1001 the connections recover and the
# transfer completes.
check_match "stress: the transfer carried data, then completed (iperf3 exit 0)" \
	'^[1-9][0-9]* bytes, exit 0$' "$(perf_result "$tmp/stress.json") bytes, exit $rc"
check "stress: the tunnel still carries traffic" ip netns exec hostA ping -c 2 -W 3 10.2.0.2
topo_down
check "rmmod klips" rmmod klips
rm -rf "$tmp"
done_testing
