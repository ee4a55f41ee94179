#!/bin/bash
# On Debian's own kernels under qemu: a klips gateway against an XFRM
# gateway (AES-GCM tunnel) carries traffic both ways; with more than one
# CPU the crypto is made asynchronous through pcrypt and SAs and eroutes
# are replaced and deleted while traffic runs (a short race hunt).
#
#   tests/qemu-tunnel.sh <directory with klips.ko>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/topology.sh"
. "$here/peer.sh"
mod=${1:?usage: qemu-tunnel.sh <module dir>}/klips.ko
py=/usr/bin/python3
cpus=$(nproc)

modprobe -a veth esp4 xfrm_user 2> /dev/null
if [ "$cpus" -gt 1 ]; then
	modprobe -a pcrypt crypto_user
	# pcrypt spreads the AEAD's work over the CPUs, asynchronously.
	check "pcrypt instance registered ($cpus CPUs)" $py "$here/cryptd.py" \
		'pcrypt(rfc4106(gcm(aes)))' aead
fi
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
ip netns exec hostB timeout 100 $py "$here/xfer.py" serve 10.2.0.2 7000 1 &
sleep 1
check "1 MB over TCP arrive whole (sha256)" \
	ip netns exec hostA $py "$here/xfer.py" --timeout 90 put 10.2.0.2 7000 1000000
wait
spi=$(ip netns exec gwA cat /proc/net/ipsec_spi | grep -o 'esp.2001@192.0.2.1 .*')
check_match "the inbound SA counted packets" 'packets\([1-9]' "$spi"
if [ "$cpus" -gt 1 ]; then
	drv=$(awk '/^driver/ { d = $3 } /^refcnt/ && $3 > 1 && d ~ /^pcrypt/ { print d }' /proc/crypto | sort -u | tr '\n' ' ')
	check_match "a pcrypt transform is in use" 'pcrypt\(' "$drv"
	# Replace and delete under traffic, in parallel with it.
	ip netns exec hostA iperf3 -c 10.2.0.2 -t 12 -P 2 > /dev/null 2>&1 &
	perf=$!
	# Rounds as one batch (ipsec -f): one process, many changes, so the
	# changes race the traffic rather than the tool's start-up. Every
	# round has new SPIs and fresh keys (design.md: no key twice).
	batch=$(mktemp /var/tmp/klips-stress.XXXXXX)
	end=$((SECONDS + 10))
	i=0 n=0
	while [ $SECONDS -lt $end ]; do
		: > "$batch"
		# Ten fresh 20-byte keys from one read of /dev/urandom.
		keys=$(od -An -tx1 -N200 /dev/urandom | tr -d ' \n')
		for k in $(seq 0 9); do
			n=$((n + 1))
			s=$(printf '%x' $((0x3000 + n)))
			cat >> "$batch" <<-EOF
			spi --af inet --edst 198.51.100.1 --spi 0x$s --proto esp --src 192.0.2.1 --esp aes-gcm-16 --enckey 0x${keys:$((k * 40)):40}
			spi --af inet --edst 198.51.100.1 --spi 0x$s --proto tun --src 192.0.2.1 --dst 198.51.100.1 --ip4
			spigrp inet 198.51.100.1 0x$s tun inet 198.51.100.1 0x$s esp
			eroute --replace --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun.$s@198.51.100.1
			spi --said tun.$s@198.51.100.1 --del
			eroute --replace --eraf inet --src 10.1.0.0/24 --dst 10.2.0.0/24 --said tun.1001@198.51.100.1
			EOF
		done
		if ip netns exec gwA "$PEER_IPSEC" -f "$batch" > "$batch.out" 2>&1; then
			i=$((i + 10))
		else
			grep -v warning "$batch.out" | head -3 | sed 's/^/# /'
		fi
	done
	rm -f "$batch" "$batch.out"
	wait "$perf"
	check_match "stress: $i replace/delete rounds under traffic" '^[1-9]' "$i"
	check "stress: the tunnel still carries traffic" ip netns exec hostA ping -c 2 -W 3 10.2.0.2
fi
topo_down
check "rmmod klips" rmmod klips
done_testing
