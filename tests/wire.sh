#!/bin/bash
# ESP on the wire, judged by decoders that are not ours, and the receive
# path fed by hand-made packets. Run inside the debug UML guest:
#
#   tests/wire.sh <directory with klips.ko>
#
# Topology: tests/topology.sh (hostA - gwA == router == gwB - hostB),
# both gateways klips, keyed with the ipsec tool as scripts/guest/demo.sh
# does; every suite gets fresh keys and SPIs.
#
# 1. Independent decoders. Each suite carries two pings and a TCP payload
#    from hostA to hostB; the router captures the ESP between the gateways
#    and two verifiers decrypt it with the same keys:
#
#    | suite (klips --esp)               | outer/inner | scapy 2.5 | tshark 4.0 |
#    |-----------------------------------|-------------|-----------|------------|
#    | AES-CBC-128 + HMAC-SHA1-96        | v4 / v4     | yes       | yes        |
#    |   (aes-sha1-96)                   |             |           |            |
#    | AES-CBC-256 + HMAC-SHA2-256-128   | v4 / v4     | yes       | yes        |
#    |   (aes256-sha2_256-128)           |             |           |            |
#    | AES-CTR-128 + HMAC-SHA1-96        | v4 / v4     | yes       | yes        |
#    |   (aesctr-sha1-96)                |             |           |            |
#    | AES-CTR-256 + HMAC-SHA2-256-128   | v4 / v4     | yes       | yes        |
#    |   (aes256ctr-sha2_256-128)        |             |           |            |
#    | AES-GCM-16, 128-bit key           | v4 / v4     | yes       | yes        |
#    |   (aes-gcm-16)                    |             |           |            |
#    | AES-CCM-16, 128-bit key           | v4 / v4     | yes       | no (1)     |
#    |   (aes-ccm-16)                    |             |           |            |
#    | ChaCha20-Poly1305                 | v4 / v4     | yes       | no (1)     |
#    |   (chacha20poly1305)              |             |           |            |
#    | AES-CBC-128 + HMAC-SHA2-256-128   | v6 / v6     | yes       | yes        |
#    |   (aes-sha2_256-128)              |             |           |            |
#    | AES-GCM-16, 256-bit key           | v6 / v6     | yes       | yes        |
#    |   (aes256gcm16)                   |             |           |            |
#
#    (1) tshark 4.0's ESP dissector decrypts NULL, 3DES, AES-CBC, AES-CTR,
#        DES, CAST5, Blowfish, Twofish and AES-GCM-8/12/16 only.
#    scapy (tests/espcraft.py decode, SecurityAssociation.decrypt): every
#    ICV verifies and fails under a flipped key bit; sequence numbers 1..N;
#    IVs distinct; padding 1, 2, 3, ... and minimal; the inner packets are
#    the pings and TCP payload sent (echo replies and SYN-ACK back).
#    tshark (-o uat:esp_sa): esp.icv_good on every packet, the inner header
#    decoded, the TCP payload seen.
#
# 2. Injected packets (tests/espcraft.py inject): ESP built with scapy
#    (fixed IVs, known plaintext), sent from the router's eth1 to gwB
#    (tcpdump running on gwB's eth0, so skbs are cloned), delivered to
#    hostB byte for byte (TTL / hop limit one less): ICMP, UDP, ICMPv6,
#    AES-CBC/HMAC and AES-GCM; 3000- and 8000-byte packets in outer
#    fragments (in order, last first, the ESP header itself split), outer
#    IPv4 options and IPv6 destination options; hostB's echo reply comes
#    back through gwB's outbound SA and scapy decrypts it on the router.
#    Every frame sent must read back unchanged from a packet socket on
#    gwB (its clones share data with what klips decrypts).
# 3. Bad packets, each counted in exactly the SA field (ooo_errs,
#    auth_errs, encr_size_errs, encr_pad_errs) and the /proc/net/ipsec/stats
#    counter Documentation/klips/design.md names, nothing else moving (every stats counter,
#    every SA's error fields, /proc/net/xfrm_stat), nothing delivered, and
#    a good packet after it passing: bad ICV, replayed, too old, seq 0,
#    truncation at every offset (IP header only, inside the ESP header:
#    InHdrError; ESP header, part of the IV, no ciphertext, no ICV, ICV
#    short: InSizeError), CBC ciphertext not a block multiple, pad length
#    past the payload, wrong pad bytes, invalid inner headers, inner
#    addresses outside the --addin policy, a skipped IPIP layer, ESP in
#    ESP, the wrong outer source (InPolicyError), RFC 6040 CE onto Not-ECT,
#    next header 59 (InDummy), a larval SA (InStateInvalid), arrival on a
#    device with no ipsecN (InNoDevice), unknown SPIs, SPI 0 and another
#    namespace's SPI (InNotOurs, and esp4/esp6 count XfrmInNoStates).
# 4. AH (tests/ahcraft.py): for HMAC-MD5/SHA1/SHA2-256/384/512 and
#    AES-CMAC, tunnel and transport, IPv4 and IPv6, scapy-made AH from gwA
#    to gwB with the mutable fields changed after the ICV is answered, and
#    scapy verifies the answer's ICV (and refuses it with a key bit
#    flipped); an immutable byte changed (payload, ICV, IPv4
#    identification) counts auth_errs + InAuthError, a replay ooo_errs +
#    InReplay, a cut AH header InHdrError, and is not answered (a good
#    packet after it is: then gwB is done with the bad one). A
#    tun+esp+ah group (IPv4, IPv6) answers AH(ESP(IP)) with the same;
#    a skipped layer (bare ESP, AH over IPIP, bare IPIP) or ESP outside AH
#    counts InPolicyError and is not answered.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/topology.sh
. "$here/topology.sh"
mod=${1:?usage: wire.sh <module dir>}/klips.ko
ipsec=$here/../tools/ipsec
craft=(/usr/bin/python3 "$here/espcraft.py")
work=$(mktemp -d /tmp/wire.XXXXXX)
pattern=6b6c6970732d77697265	# "klips-wire", in the pings
start=$(date +%s)

on() { ip netns exec "$@"; }

# TCP payload of a suite: the rule of espcraft.py's tcp_payload().
tcp_payload() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		printf '%s tcp payload %d\n' "$1" "$i"
	done
}

# A capture in the background: capture <ns> <if> <file>; stop_capture.
capture() {
	on "$1" tcpdump -nUi "$2" -w "$3" 2> "$3.err" &
	cap_pid=$!
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$3.err" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# (TERM: a background job of a script ignores SIGINT.)
stop_capture() {
	local i
	kill -TERM "$cap_pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$cap_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$cap_pid" 2>/dev/null
	wait "$cap_pid" 2>/dev/null
	return 0
}

elapsed() { echo "# $1 after $(($(date +%s) - start)) s"; }

hexkey() { topo_key "$1" | cut -c3-; }

# The suites of part 1 (section 1 of the table above).
# label|af|--esp|enckey bytes|authkey bytes|scapy crypt|scapy auth|tshark
# encryption|tshark authentication (empty: tshark cannot)
SUITES="cbc-sha1|inet|aes-sha1-96|16|20|AES-CBC|HMAC-SHA1-96|AES-CBC [RFC3602]|HMAC-SHA-1-96 [RFC2404]
cbc256-sha256|inet|aes256-sha2_256-128|32|32|AES-CBC|SHA2-256-128|AES-CBC [RFC3602]|HMAC-SHA-256-128 [RFC4868]
ctr-sha1|inet|aesctr-sha1-96|20|20|AES-CTR|HMAC-SHA1-96|AES-CTR [RFC3686]|HMAC-SHA-1-96 [RFC2404]
ctr256-sha256|inet|aes256ctr-sha2_256-128|36|32|AES-CTR|SHA2-256-128|AES-CTR [RFC3686]|HMAC-SHA-256-128 [RFC4868]
gcm16|inet|aes-gcm-16|20|0|AES-GCM|-|AES-GCM with 16 octet ICV [RFC4106]|NULL
ccm16|inet|aes-ccm-16|19|0|AES-CCM|-||
chacha|inet|chacha20poly1305|36|0|CHACHA20-POLY1305|-||
v6-cbc-sha256|inet6|aes-sha2_256-128|16|32|AES-CBC|SHA2-256-128|AES-CBC [RFC3602]|HMAC-SHA-256-128 [RFC4868]
v6-gcm16-256|inet6|aes256gcm16|36|0|AES-GCM|-|AES-GCM with 16 octet ICV [RFC4106]|NULL"
# The AH suites of part 4.
# label|mode|af|--ah|key bytes|scapy auth (scapy has no AES-XCBC: XFRM is
# its peer in tests/tunnel.sh)
AH_SUITES="sha1-tun4|tunnel|inet|hmac-sha1-96|20|HMAC-SHA1-96
sha256-tr4|transport|inet|hmac-sha2_256-128|32|SHA2-256-128
md5-tun6|tunnel|inet6|hmac-md5-96|16|HMAC-MD5-96
sha384-tr6|transport|inet6|hmac-sha2_384-192|48|SHA2-384-192
sha512-tun4|tunnel|inet|hmac-sha2_512-256|64|SHA2-512-256
cmac-tun6|tunnel|inet6|aes-cmac-96|16|AES-CMAC-96
group-tun4|group|inet|hmac-sha1-96|20|HMAC-SHA1-96
group-tun6|group|inet6|hmac-sha1-96|20|HMAC-SHA1-96"

# The plan, from the tables: every suite keyed, pinged, its TCP payload
# checked (3), and the router's capture started; espcraft.py decode's
# checks (1 + 3 per SA, two SAs a suite) and its own; tshark's per SA of
# the suites it decrypts, its run, the flipped key; part 2's keying (3),
# gwB's capture started and holding the packets (2), espcraft.py
# inject's 142 (its fixed list of cases) and its own; per AH suite its
# keying, ahcraft.py's checks (10 over IPv4, 9 over IPv6: one immutable
# field fewer; 7 for a group) and its own; the fuzz keying, fuzz.py's
# (a check per class of sealed packet: 6, 3 more with ESP, 7 with IPComp,
# 4 with AH, all of which its groups have; 5 kinds of damage; the fences)
# and its own; insmod, modprobe, the TCP sink, rmmod; kmemleak.
nsuites=$(grep -c . <<< "$SUITES")
ntshark=$(grep -c '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]' <<< "$SUITES")
decode_checks=$((1 + 3 * 2 * nsuites))
inject_checks=142
fuzz_checks=$((6 + 3 + 7 + 4 + 5 + 1))
ah_checks() {	# ah_checks <mode> <af>: ahcraft.py's checks of one suite
	if [ "$1" = group ]; then
		echo 7
	elif [ "$2" = inet ]; then
		echo 10
	else
		echo 9
	fi
}
ah_total=0
while IFS='|' read -r _ mode af _; do
	ah_total=$((ah_total + 2 + $(ah_checks "$mode" "$af")))
done <<< "$AH_SUITES"
plan $((3 * nsuites + 1 + decode_checks + 1 + 2 * ntshark + 2 + 3 + 2 +
	inject_checks + 1 + ah_total + 1 + fuzz_checks + 1 + 4 + KMEMLEAK))

kmemleak_clear
check "insmod klips.ko" klips_insmod "$mod"
grep -q '^klips ' /proc/modules || { done_testing; exit 1; }
check "modprobe esp4 esp6 (the kernel's ESP behind klips)" \
	bash -c 'modprobe esp4 && modprobe esp6'
topo_up
for ns in gwA gwB; do
	on $ns ip link add ipsec0 type klips
	on $ns "$ipsec" tncfg --attach --virtual ipsec0 --physical eth0
	on $ns ip link set ipsec0 up
done
# shellcheck disable=SC2016 # expanded by that shell
check "the TCP sink listens on hostB" bash -c '
	ip netns exec hostB "$@" > /dev/null 2>&1 &
	for i in $(seq 50); do
		ip netns exec hostB ss -Htln | grep -q ":5001 " && exit 0
		sleep 0.1
	done
	exit 1' _ "${craft[@]}" tcpsink 5001 "$work"

# --- 1. suites through the tunnel, decoded by scapy and tshark ---------------
# (the suites: SUITES at the top)

# One side's pair of SAs and its eroutes: side <ns> <af> <me> <peer>
# <my subnet> <peer subnet> <esp> <spi out> <enc out> <auth out> <spi in>
# <enc in> <auth in>. Keys are hex without 0x ("" for none).
side() {
	local ns=$1 af=$2 me=$3 peer=$4 mine=$5 theirs=$6 esp=$7
	local sep=. tun=--ip4 out=$8 eo=$9 ao=${10} in=${11} ei=${12} ai=${13}
	[ "$af" = inet6 ] && { sep=:; tun=--ip6; }
	sa_add() {	# <edst> <spi> <src> <enc> <auth>
		local a=()
		[ -n "$5" ] && a=(--authkey "0x$5")
		on "$ns" "$ipsec" spi --af "$af" --edst "$1" --spi "0x$2" \
			--proto esp --src "$3" --esp "$esp" --enckey "0x$4" \
			"${a[@]}" &&
		on "$ns" "$ipsec" spi --af "$af" --edst "$1" --spi "0x$2" \
			--proto tun --src "$3" --dst "$1" $tun &&
		on "$ns" "$ipsec" spigrp "$af" "$1" "0x$2" tun "$af" "$1" \
			"0x$2" esp
	}
	sa_add "$peer" "$out" "$me" "$eo" "$ao" &&
	sa_add "$me" "$in" "$peer" "$ei" "$ai" &&
	on "$ns" "$ipsec" eroute --add --eraf "$af" --src "$mine" \
		--dst "$theirs" --said "tun$sep$out@$peer" &&
	on "$ns" "$ipsec" eroute --addin --eraf "$af" --src "$theirs" \
		--dst "$mine" --said "tun$sep$in@$me" &&
	on "$ns" ip route replace "$theirs" dev ipsec0
}

n=0
: > "$work/sas"
tshark_sa=()
while IFS='|' read -r -u 3 label af esp ebytes abytes scrypt sauth tenc tauth; do
	n=$((n + 1))
	ab=$(printf '%x' $((0x1100 + n)))
	ba=$(printf '%x' $((0x2100 + n)))
	if [ "$af" = inet ]; then
		A=192.0.2.1 B=198.51.100.1 hA=10.1.0.2 hB=10.2.0.2
		netA=10.1.0.0/24 netB=10.2.0.0/24 tproto=IPv4
	else
		A=2001:db8:1::1 B=2001:db8:2::1 hA=fd01::2 hB=fd02::2
		netA=fd01::/64 netB=fd02::/64 tproto=IPv6
	fi
	e1=$(hexkey "$ebytes") e2=$(hexkey "$ebytes") a1='' a2=''
	if [ "$abytes" != 0 ]; then
		a1=$(hexkey "$abytes") a2=$(hexkey "$abytes")
	fi
	for ns in gwA gwB; do
		on $ns "$ipsec" eroute --clear
		on $ns "$ipsec" spi --clear
	done
	check "$label: both gateways keyed ($esp, esp.$ab A->B, esp.$ba B->A)" \
		bash -c "$(declare -f on side); ipsec=$ipsec
		side gwA $af $A $B $netA $netB $esp $ab '$e1' '$a1' $ba '$e2' '$a2' &&
		side gwB $af $B $A $netB $netA $esp $ba '$e2' '$a2' $ab '$e1' '$a1'"
	if [ $n = 1 ]; then
		if capture router eth0 "$work/wire.pcap"; then
			ok "tcpdump started on the router"
		else
			not_ok "tcpdump started on the router"
		fi
	fi
	printf '%s/ab %s %s %s %s %s %s %s %s %s\n' "$label" "$ab" "$A" "$B" \
		"$hA" "$hB" "$scrypt" "$e1" "$sauth" "${a1:--}" >> "$work/sas"
	printf '%s/ba %s %s %s %s %s %s %s %s %s\n' "$label" "$ba" "$B" "$A" \
		"$hB" "$hA" "$scrypt" "$e2" "$sauth" "${a2:--}" >> "$work/sas"
	if [ -n "$tenc" ]; then
		tshark_sa+=(-o "uat:esp_sa:\"$tproto\",\"$A\",\"$B\",\"0x$(printf %08x $((0x$ab)))\",\"$tenc\",\"0x$e1\",\"$tauth\",\"${a1:+0x$a1}\""
			-o "uat:esp_sa:\"$tproto\",\"$B\",\"$A\",\"0x$(printf %08x $((0x$ba)))\",\"$tenc\",\"0x$e2\",\"$tauth\",\"${a2:+0x$a2}\"")
	fi
	check_match "$label: 2 pings through the tunnel, 2 answered" \
		"2 packets transmitted, 2 received" \
		"$(on hostA ping -c 2 -i 0.2 -W 3 -s 64 -p $pattern $hB | grep transmitted)"
	payload=$(tcp_payload "$label")
	# shellcheck disable=SC2016 # expanded by that shell
	on hostA timeout 10 bash -c 'printf "%s\n" "$1" > "/dev/tcp/$2/5001"' \
		_ "$payload" "$hB"
	for i in $(seq 50); do
		[ -f "$work/$label.tcp" ] && break
		sleep 0.1
	done
	check_eq "$label: the TCP payload reached hostB" "$payload" \
		"$(cat "$work/$label.tcp" 2>/dev/null)"
done 3<<< "$SUITES"
stop_capture
elapsed "the suites' traffic"

echo "# scapy decodes $(tcpdump -r "$work/wire.pcap" 2>/dev/null | wc -l) captured packets"
helper_run "$decode_checks" "espcraft.py decode" \
	"${craft[@]}" decode "$work/wire.pcap" "$work/sas" "$pattern"

# tshark: per SPI, "<packets> <ICV good> <inner header decoded> <TCP payload>"
tshark -r "$work/wire.pcap" -o esp.enable_encryption_decode:TRUE \
	-o esp.enable_authentication_check:TRUE "${tshark_sa[@]}" \
	-T fields -E separator=/t -e esp.spi -e esp.icv_good -e esp.icv_bad \
	-e ip.src -e ipv6.src -e tcp.payload > "$work/tshark.txt" 2> "$work/tshark.err"
check_eq "tshark ran without complaint" "" \
	"$(grep -v 'Running as user "root"' "$work/tshark.err")"
while IFS=' ' read -r -u 3 label spi _ _ isrc _; do
	grep -q "^${label%/*}|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]" \
		<<< "$SUITES" || continue
	want_payload=- tcp=0 seen=
	if [ "${label#*/}" = ab ]; then
		want_payload=$(tcp_payload "${label%/*}" | od -An -tx1 | tr -d ' \n')
		tcp=1 seen=", the TCP payload seen"
	fi
	got=$(awk -F'\t' -v spi="$(printf '0x%08x' $((0x$spi)))" \
		-v inner="$isrc" -v pl="$want_payload" '
		$1 == spi {
			n++
			if ($2 == "1" && $3 != "1") good++
			split($4 $5, a, ",")
			if (a[2] == inner) dec++
			stream = stream $6
		}
		END { printf "%d %d %d %d", n, good, dec, stream == pl }' "$work/tshark.txt")
	read -r np _ <<< "$got"
	check_eq "tshark ${label%/*} esp.$spi: $np packets, every esp.icv_good, inner $isrc decoded$seen" \
		"$np $np $np $tcp" \
		"$([ "$np" -ge 3 ] && echo "$got" || echo "too few: $got")"
done 3< "$work/sas"

# The tshark check can fail: one flipped bit in one HMAC key.
read -r _ spi _ _ _ _ _ ek _ ak _ < "$work/sas"
read -r np bad < <(awk -F'\t' -v spi="$(printf '0x%08x' $((0x$spi)))" \
	'$1 == spi { n++; if ($3 == "1") bad++ } END { print n + 0, bad + 0 }' <(
	tshark -r "$work/wire.pcap" -o esp.enable_encryption_decode:TRUE \
		-o esp.enable_authentication_check:TRUE \
		-o "uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"198.51.100.1\",\"0x$(printf %08x $((0x$spi)))\",\"AES-CBC [RFC3602]\",\"0x$ek\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x$(printf %02x $((0x${ak:0:2} ^ 1)))${ak:2}\"" \
		-T fields -e esp.spi -e esp.icv_good -e esp.icv_bad 2>/dev/null))
check_eq "tshark: with one HMAC key bit flipped esp.icv_bad on every packet of esp.$spi (the check can fail)" \
	"$([ "$np" -gt 0 ] && echo "$np" || echo "some packets")" "$bad"
elapsed "the decoders"

# --- 2 and 3. packets made by hand, sent to gwB --------------------------------
for ns in gwA gwB; do
	on $ns "$ipsec" eroute --clear
	on $ns "$ipsec" spi --clear
done
# Big inner packets reach hostB whole: only the outer ones are fragmented.
on gwB ip link set eth1 mtu 9000
on hostB ip link set eth0 mtu 9000
k_cbc=$(hexkey 16) a_cbc=$(hexkey 20) k_gcm=$(hexkey 20)
k_v6=$(hexkey 16) a_v6=$(hexkey 32) k_out=$(hexkey 20) k_out6=$(hexkey 20)
k_wdir=$(hexkey 20)
cat > "$work/inject-sas" <<EOF
cbc4 5001 192.0.2.1 198.51.100.1 10.1.0.2 10.2.0.2 AES-CBC $k_cbc HMAC-SHA1-96 $a_cbc
gcm4 5002 192.0.2.1 198.51.100.1 10.1.0.2 10.2.0.2 AES-GCM $k_gcm - -
cbc6 5003 2001:db8:1::1 2001:db8:2::1 fd01::2 fd02::2 AES-CBC $k_v6 SHA2-256-128 $a_v6
wdir4 5004 192.0.2.1 198.51.100.1 10.1.0.2 10.2.0.2 AES-GCM $k_wdir - -
out4 6001 198.51.100.1 192.0.2.1 10.2.0.2 10.1.0.2 AES-GCM $k_out - -
EOF
# gwB: three inbound groups and, for hostB's answers, two outbound ones.
grp() {	# grp <af> <spi> <src> <dst> <esp> <key options...>
	local tun=--ip4
	[ "$1" = inet6 ] && tun=--ip6
	on gwB "$ipsec" spi --af "$1" --edst "$4" --spi "0x$2" --proto esp \
		--src "$3" --esp "$5" "${@:6}" &&
	on gwB "$ipsec" spi --af "$1" --edst "$4" --spi "0x$2" --proto tun \
		--src "$3" --dst "$4" $tun &&
	on gwB "$ipsec" spigrp "$1" "$4" "0x$2" tun "$1" "$4" "0x$2" esp
}
check "gwB keyed for the injected packets" bash -c "
	$(declare -f on grp); ipsec=$ipsec
	grp inet 5001 192.0.2.1 198.51.100.1 aes-sha1-96 \
		--enckey 0x$k_cbc --authkey 0x$a_cbc &&
	grp inet 5002 192.0.2.1 198.51.100.1 aes-gcm-16 --enckey 0x$k_gcm &&
	grp inet6 5003 2001:db8:1::1 2001:db8:2::1 aes-sha2_256-128 \
		--enckey 0x$k_v6 --authkey 0x$a_v6 &&
	grp inet 6001 198.51.100.1 192.0.2.1 aes-gcm-16 --enckey 0x$k_out &&
	on gwB $ipsec spi --af inet --edst 198.51.100.1 --spi 0x5004 \
		--proto esp --src 192.0.2.1 --esp aes-gcm-16 \
		--enckey 0x$k_wdir --dir out &&
	grp inet6 6003 2001:db8:2::1 2001:db8:1::1 aes-gcm-16 \
		--enckey 0x$k_out6 &&
	on gwB $ipsec eroute --addin --eraf inet --src 10.1.0.0/24 \
		--dst 10.2.0.0/24 --said tun.5001@198.51.100.1 &&
	on gwB $ipsec eroute --addin --eraf inet --src 10.1.0.0/24 \
		--dst 10.2.0.0/24 --said tun.5002@198.51.100.1 &&
	on gwB $ipsec eroute --addin --eraf inet6 --src fd01::/64 \
		--dst fd02::/64 --said tun:5003@2001:db8:2::1 &&
	on gwB $ipsec eroute --add --eraf inet --src 10.2.0.0/24 \
		--dst 10.1.0.0/24 --said tun.6001@192.0.2.1 &&
	on gwB $ipsec eroute --add --eraf inet6 --src fd02::/64 \
		--dst fd01::/64 --said tun:6003@2001:db8:1::1 &&
	on gwB ip route replace 10.1.0.0/24 dev ipsec0 &&
	on gwB ip route replace fd01::/64 dev ipsec0"
# An SA of the same destination in another namespace: not gwB's.
check "gwA holds esp.7777@198.51.100.1" on gwA "$ipsec" spi --af inet \
	--edst 198.51.100.1 --spi 0x7777 --proto esp --src 192.0.2.1 \
	--esp aes-gcm-16 --enckey "$(topo_key 20)"

# A larval SA (getspi, 30 s to live): the injector's first case.
check_eq "gwB: getspi gives a larval esp.8000@198.51.100.1" \
	esp.8000@198.51.100.1 "$(on gwB "$ipsec" spi --getspi --af inet \
		--edst 198.51.100.1 --proto esp --range 0x8000-0x8000 2>&1)"
if capture gwB eth0 "$work/gwb.pcap"; then
	ok "tcpdump started on gwB's eth0"
else
	not_ok "tcpdump started on gwB's eth0"
fi
helper_run "$inject_checks" "espcraft.py inject" \
	"${craft[@]}" inject "$work/inject-sas" \
	"$(on gwB cat /sys/class/net/eth0/address)" \
	"$(on router cat /sys/class/net/eth1/address)" \
	"$(on gwB cat /sys/class/net/eth1/address)" \
	"$(on hostB cat /sys/class/net/eth0/address)"
stop_capture
elapsed "the injected packets"
check_match "gwB's capture holds the injected packets (its skbs were cloned)" \
	"^[0-9]{3,}$" "$(tcpdump -r "$work/gwb.pcap" esp 2>/dev/null | wc -l)"
echo "# gwB's counters at the end:"
# shellcheck disable=SC2016 # awk's
on gwB awk '$2 != 0 { print "#   " $0 }' /proc/net/ipsec/stats
on gwB sed 's/^/#   /' /proc/net/ipsec_spi

# --- 4. AH made by hand, answered by gwB, judged by scapy ----------------------
# (the suites: AH_SUITES at the top)
# group: tun+esp+ah, ESP aes-gcm-16 with keys <ekin> <ekout>.
# shellcheck disable=SC2086 # $tun, $esp_in, $esp_out: words or none
ah_side() {	# ah_side <mode> <af> <A> <B> <netA> <netB> <alg> <in> <kin> <out> <kout> [<ekin> <ekout>]
	local mode=$1 af=$2 A=$3 B=$4 netA=$5 netB=$6 alg=$7 sep=. tun=--ip4
	local esp_in='' esp_out=''
	[ "$af" = inet6 ] && sep=: tun=--ip6
	if [ "$mode" = group ]; then
		esp_in="$af $B 0x$8 esp" esp_out="$af $A 0x${10} esp"
		on gwB "$ipsec" spi --af "$af" --edst "$B" --spi "0x$8" --proto esp \
			--src "$A" --esp aes-gcm-16 --enckey "0x${12}" &&
		on gwB "$ipsec" spi --af "$af" --edst "$A" --spi "0x${10}" --proto esp \
			--src "$B" --esp aes-gcm-16 --enckey "0x${13}" || return 1
	fi
	on gwB "$ipsec" spi --af "$af" --edst "$B" --spi "0x$8" --proto ah \
		--src "$A" --ah "$alg" --authkey "0x$9" &&
	on gwB "$ipsec" spi --af "$af" --edst "$A" --spi "0x${10}" --proto ah \
		--src "$B" --ah "$alg" --authkey "0x${11}" || return 1
	if [ "$mode" = transport ]; then
		on gwB "$ipsec" eroute --add --eraf "$af" --src "$netB" --dst "$netA" \
			--said "ah$sep${10}@$A" &&
		on gwB ip route replace "$netA" dev ipsec0 src "$B"
		return
	fi
	on gwB "$ipsec" spi --af "$af" --edst "$B" --spi "0x$8" --proto tun \
		--src "$A" --dst "$B" $tun &&
	on gwB "$ipsec" spigrp "$af" "$B" "0x$8" tun $esp_in "$af" "$B" "0x$8" ah &&
	on gwB "$ipsec" spi --af "$af" --edst "$A" --spi "0x${10}" --proto tun \
		--src "$B" --dst "$A" $tun &&
	on gwB "$ipsec" spigrp "$af" "$A" "0x${10}" tun $esp_out "$af" "$A" "0x${10}" ah &&
	on gwB "$ipsec" eroute --add --eraf "$af" --src "$netB" --dst "$netA" \
		--said "tun$sep${10}@$A" &&
	on gwB "$ipsec" eroute --addin --eraf "$af" --src "$netA" --dst "$netB" \
		--said "tun$sep$8@$B" &&
	on gwB ip route replace "$netA" dev ipsec0
}
n=0
while IFS='|' read -r -u 3 label mode af alg kbytes sauth; do
	n=$((n + 1))
	in=$(printf '%x' $((0x9100 + n))) out=$(printf '%x' $((0x9200 + n)))
	if [ "$af" = inet ]; then
		A=192.0.2.1 B=198.51.100.1 iA=10.1.0.2 iB=10.2.0.2
		netA=10.1.0.0/24 netB=10.2.0.0/24
		[ "$mode" = transport ] && iA=$A iB=$B netA=$A/32 netB=$B/32
	else
		A=2001:db8:1::1 B=2001:db8:2::1 iA=fd01::2 iB=fd02::2
		netA=fd01::/64 netB=fd02::/64
		[ "$mode" = transport ] && iA=$A iB=$B netA=$A/128 netB=$B/128
	fi
	kin=$(hexkey "$kbytes") kout=$(hexkey "$kbytes") ekin='' ekout=''
	[ "$mode" = group ] && ekin=$(hexkey 20) ekout=$(hexkey 20)
	on gwB "$ipsec" eroute --clear
	on gwB "$ipsec" spi --clear
	check "AH $label: gwB keyed ($mode, --ah $alg, ah.$in in, ah.$out out)" \
		ah_side "$mode" "$af" "$A" "$B" "$netA" "$netB" "$alg" "$in" "$kin" \
		"$out" "$kout" "$ekin" "$ekout"
	echo "$label $mode $in $out $A $B $iA $iB $sauth $kin $kout${ekin:+ AES-GCM $ekin $ekout}" \
		> "$work/ah-sa"
	helper_run "$(ah_checks "$mode" "$af")" "AH $label: ahcraft.py" \
		on router /usr/bin/python3 "$here/ahcraft.py" "$work/ah-sa" gwB
	[ "$mode" = transport ] && on gwB ip route del "$netA" dev ipsec0
done 3<<< "$AH_SUITES"
elapsed "the AH packets"

# --- 5. random packets (tests/fuzz.py) ---------------------------------------------
# Four inbound groups on gwB, every layer, both families, ESN on one; the
# fuzzer seals random contents in valid layers (each must be delivered on
# ipsec0 or counted in exactly one In* counter) and breaks sealed packets
# anywhere (counted at most once); after each packet a valid one (a fence)
# must reach hostB, and then the packet's counts are complete.
on gwB "$ipsec" eroute --clear
on gwB "$ipsec" spi --clear
# fuzz_group <af> <spi> <src> <dst> <layers> <esp> <enckey> <authkey> <ahkey> [esn]
fuzz_group() {
	local af=$1 spi=0x$2 src=$3 dst=$4 tun=--ip4 l grp=''
	[ "$af" = inet6 ] && tun=--ip6
	on gwB "$ipsec" spi --af "$af" --edst "$dst" --spi "$spi" --proto tun \
		--src "$src" --dst "$dst" $tun || return 1
	grp="$af $dst $spi tun"
	for l in ${5//+/ }; do
		case $l in
		comp) on gwB "$ipsec" spi --af "$af" --edst "$dst" --spi "$spi" --proto comp \
			--src "$src" --comp deflate || return 1 ;;
		esp) on gwB "$ipsec" spi --af "$af" --edst "$dst" --spi "$spi" --proto esp \
			--src "$src" --esp "$6" --enckey "0x$7" ${8:+--authkey 0x$8} \
			${10:+--esn} 2> /dev/null || return 1 ;;
		ah) on gwB "$ipsec" spi --af "$af" --edst "$dst" --spi "$spi" --proto ah \
			--src "$src" --ah hmac-sha1-96 --authkey "0x$9" || return 1 ;;
		esac
		grp+=" $af $dst $spi $l"
	done
	# shellcheck disable=SC2086 # the group's words
	on gwB "$ipsec" spigrp $grp
}
k1=$(hexkey 20) h1=$(hexkey 20) k2=$(hexkey 16) a2=$(hexkey 20)
k3=$(hexkey 20) k4=$(hexkey 16) a4=$(hexkey 20) h4=$(hexkey 20)
fuzz_keyed() {
	fuzz_group inet a001 192.0.2.1 198.51.100.1 comp+esp+ah aes-gcm-16 "$k1" '' "$h1" &&
	fuzz_group inet a002 192.0.2.1 198.51.100.1 esp aes-sha1-96 "$k2" "$a2" '' &&
	fuzz_group inet6 a003 2001:db8:1::1 2001:db8:2::1 esp aes-gcm-16 "$k3" '' '' esn &&
	fuzz_group inet6 a004 2001:db8:1::1 2001:db8:2::1 comp+esp+ah aes-sha1-96 "$k4" "$a4" "$h4" &&
	on gwB "$ipsec" eroute --addin --eraf inet --src 10.1.0.0/24 \
		--dst 10.2.0.0/24 --said tun.a001@198.51.100.1 &&
	on gwB "$ipsec" eroute --addin --eraf inet --src 10.1.0.0/24 \
		--dst 10.2.0.0/24 --said tun.a002@198.51.100.1 &&
	on gwB "$ipsec" eroute --addin --eraf inet6 --src fd01::/64 \
		--dst fd02::/64 --said tun:a003@2001:db8:2::1 &&
	on gwB "$ipsec" eroute --addin --eraf inet6 --src fd01::/64 \
		--dst fd02::/64 --said tun:a004@2001:db8:2::1
}
check "fuzz: gwB keyed: tun+comp+esp+ah, tun+esp (CBC) over IPv4; tun+esp (ESN), tun+comp+esp+ah over IPv6" \
	fuzz_keyed
printf '%s\n' \
	"g1 a001 192.0.2.1 198.51.100.1 10.1.0.2 10.2.0.2 comp+esp+ah gcm $k1 - $h1" \
	"g2 a002 192.0.2.1 198.51.100.1 10.1.0.2 10.2.0.2 esp cbc $k2 $a2" \
	"g3 a003 2001:db8:1::1 2001:db8:2::1 fd01::2 fd02::2 esp gcm-esn $k3 -" \
	"g4 a004 2001:db8:1::1 2001:db8:2::1 fd01::2 fd02::2 comp+esp+ah cbc $k4 $a4 $h4" \
	> "$work/fuzz-sas"
helper_run "$fuzz_checks" "fuzz.py" \
	/usr/bin/python3 "$here/fuzz.py" "$work/fuzz-sas" "${KLIPS_FUZZ:-3000}" \
	"${KLIPS_SEED:-$RANDOM}" "$(on gwB cat /sys/class/net/eth0/address)" \
	"$(on router cat /sys/class/net/eth1/address)"
elapsed "the random packets"

# --- teardown ------------------------------------------------------------------
topo_down
check "rmmod klips" rmmod klips
rm -rf "$work"
check_kmemleak "wire"
echo "# wire.sh took $(($(date +%s) - start)) s"
done_testing
