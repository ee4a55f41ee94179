# shellcheck shell=bash
# Gateways of tests/topology.sh keyed by hand: one side of a tunnel (or of
# a transport-mode pair) by klips, as a KLIPS admin types it, or by the
# kernel's XFRM with the same SPIs and keys. Used by the packet-path
# tests, the bench and the real-kernel runs.
#
#   gw_klips <ns> <me> <peer> <mine> <theirs> <spi out> <spi in> <mode> \
#            <esp> <out keys> <in keys>
#   gw_xfrm  (same arguments; <esp> the klips name, translated here)
#
# <mode> is tun or transport (then <mine>/<theirs> are ignored and the
# gateways protect their own traffic); SPIs are hex without 0x; a keys
# argument is "<enckey>,<authkey>" with either part empty. The outer
# family follows <me>, the inner family <mine>.
# GW_TOOL is the ipsec tool (default: tools/ipsec of this tree).

GW_TOOL=${GW_TOOL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/ipsec}

gw_af() { case $1 in *:*) echo inet6 ;; *) echo inet ;; esac; }
gw_sep() { case $1 in *:*) echo : ;; *) echo . ;; esac; }
gw_host() { case $1 in *:*) echo 128 ;; *) echo 32 ;; esac; }

# gw_esp_key_bytes <esp>: "<enc bytes> <auth bytes>" of a klips suite.
gw_esp_key_bytes() {
	local c=$1 e a=0
	case $c in
	*-md5-96) a=16 ;; *-sha1-96) a=20 ;; *-sha2_256-128) a=32 ;;
	*-sha2_384-192) a=48 ;; *-sha2_512-256) a=64 ;;
	esac
	[ "$a" -gt 0 ] && c=${c%-*-*}
	case $c in
	3des) e=24 ;; aes|aes128) e=16 ;; aes192) e=24 ;; aes256) e=32 ;;
	aesctr|aes128ctr) e=20 ;; aes256ctr) e=36 ;; null) e=0 ;;
	aes-gcm-*|null-aes-gmac) e=20 ;; aes-ccm-*) e=19 ;;
	chacha20poly1305) e=36 ;;
	*) return 1 ;;
	esac
	echo "$e $a"
}

# gw_keys <esp>: fresh "<enckey>,<authkey>" for a suite (never reused).
gw_keys() {
	local e a k=""
	read -r e a < <(gw_esp_key_bytes "$1") || return 1
	[ "$e" -gt 0 ] && k=$(topo_key "$e")
	k=$k,
	[ "$a" -gt 0 ] && k=$k$(topo_key "$a")
	echo "$k"
}

# The ipsec spi key options of a keys argument.
gw_key_opts() {
	local e=${1%%,*} a=${1#*,}
	[ -n "$e" ] && printf '%s\n' --enckey "$e"
	[ -n "$a" ] && printf '%s\n' --authkey "$a"
	return 0
}

gw_ipsec() { local ns=$1; shift; ip netns exec "$ns" "$GW_TOOL" "$@"; }

gw_klips() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 out=$6 in=$7 mode=$8 esp=$9
	local kout=${10} kin=${11}
	local af sep ko ki ip
	af=$(gw_af "$me") sep=$(gw_sep "$me")
	mapfile -t ko < <(gw_key_opts "$kout")
	mapfile -t ki < <(gw_key_opts "$kin")
	ip -n "$ns" link show ipsec0 > /dev/null 2>&1 ||
		ip -n "$ns" link add ipsec0 type klips || return 1
	gw_ipsec "$ns" tncfg --attach --virtual ipsec0 --physical eth0 || return 1
	ip -n "$ns" link set ipsec0 up
	gw_ipsec "$ns" spi --af "$af" --edst "$peer" --spi "0x$out" --proto esp \
		--src "$me" --esp "$esp" "${ko[@]}" 2> /dev/null || return 1
	gw_ipsec "$ns" spi --af "$af" --edst "$me" --spi "0x$in" --proto esp \
		--src "$peer" --esp "$esp" "${ki[@]}" 2> /dev/null || return 1
	if [ "$mode" = transport ]; then
		gw_ipsec "$ns" eroute --add --eraf "$af" --src "$me/$(gw_host "$me")" \
			--dst "$peer/$(gw_host "$peer")" --said "esp$sep$out@$peer" || return 1
		ip -n "$ns" route add "$peer" dev ipsec0 src "$me"
		return
	fi
	ip=--ip4
	[ "$af" = inet6 ] && ip=--ip6
	gw_ipsec "$ns" spi --af "$af" --edst "$peer" --spi "0x$out" --proto tun \
		--src "$me" --dst "$peer" "$ip" || return 1
	gw_ipsec "$ns" spigrp "$af" "$peer" "0x$out" tun "$af" "$peer" "0x$out" esp || return 1
	gw_ipsec "$ns" spi --af "$af" --edst "$me" --spi "0x$in" --proto tun \
		--src "$peer" --dst "$me" "$ip" || return 1
	gw_ipsec "$ns" spigrp "$af" "$me" "0x$in" tun "$af" "$me" "0x$in" esp || return 1
	gw_ipsec "$ns" eroute --add --eraf "$(gw_af "$mine")" --src "$mine" \
		--dst "$theirs" --said "tun$sep$out@$peer" || return 1
	gw_ipsec "$ns" eroute --addin --eraf "$(gw_af "$mine")" --src "$theirs" \
		--dst "$mine" --said "tun$sep$in@$me" || return 1
	ip -n "$ns" route add "$theirs" dev ipsec0
}

# gw_xfrm_alg <esp> <keys>: the algorithm words of `ip xfrm state`.
gw_xfrm_alg() {
	local esp=$1 e=${2%%,*} a=${2#*,} c i="" bits
	case $esp in
	aes-gcm-*) printf '%s\n' aead 'rfc4106(gcm(aes))' "$e" $((${esp#aes-gcm-} * 8)); return ;;
	aes-ccm-*) printf '%s\n' aead 'rfc4309(ccm(aes))' "$e" $((${esp#aes-ccm-} * 8)); return ;;
	chacha20poly1305) printf '%s\n' aead 'rfc7539esp(chacha20,poly1305)' "$e" 128; return ;;
	null-aes-gmac) printf '%s\n' aead 'rfc4543(gcm(aes))' "$e" 128; return ;;
	esac
	case $esp in
	*-md5-96) i='hmac(md5)' bits=96 ;; *-sha1-96) i='hmac(sha1)' bits=96 ;;
	*-sha2_256-128) i='hmac(sha256)' bits=128 ;;
	*-sha2_384-192) i='hmac(sha384)' bits=192 ;;
	*-sha2_512-256) i='hmac(sha512)' bits=256 ;;
	esac
	c=$esp
	[ -n "$i" ] && c=${esp%-*-*}
	case $c in
	3des) c='cbc(des3_ede)' ;; aes*ctr) c='rfc3686(ctr(aes))' ;;
	aes*) c='cbc(aes)' ;; null) c='ecb(cipher_null)' ;;
	esac
	printf '%s\n' enc "$c" "${e:-""}"
	# No integrity (klips "aes" / "3des" alone): no auth words at all.
	[ -z "$i" ] || printf '%s\n' auth-trunc "$i" "$a" "$bits"
}

gw_xfrm() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 out=$6 in=$7 mode=$8 esp=$9
	local kout=${10} kin=${11} ao ai m=tunnel sel_out sel_in
	mapfile -t ao < <(gw_xfrm_alg "$esp" "$kout")
	mapfile -t ai < <(gw_xfrm_alg "$esp" "$kin")
	[ "$mode" = transport ] && m=transport
	ip -n "$ns" xfrm state add src "$me" dst "$peer" proto esp spi "0x$out" \
		mode $m "${ao[@]}" || return 1
	ip -n "$ns" xfrm state add src "$peer" dst "$me" proto esp spi "0x$in" \
		mode $m "${ai[@]}" || return 1
	if [ "$mode" = transport ]; then
		ip -n "$ns" xfrm policy add src "$me" dst "$peer" dir out \
			tmpl proto esp mode transport || return 1
		ip -n "$ns" xfrm policy add src "$peer" dst "$me" dir in \
			tmpl proto esp mode transport
		return
	fi
	sel_out=(src "$mine" dst "$theirs")
	sel_in=(src "$theirs" dst "$mine")
	ip -n "$ns" xfrm policy add "${sel_out[@]}" dir out \
		tmpl src "$me" dst "$peer" proto esp mode tunnel || return 1
	ip -n "$ns" xfrm policy add "${sel_in[@]}" dir fwd \
		tmpl src "$peer" dst "$me" proto esp mode tunnel || return 1
	ip -n "$ns" xfrm policy add "${sel_in[@]}" dir in \
		tmpl src "$peer" dst "$me" proto esp mode tunnel || return 1
	# The peer's subnet is reached through the tunnel, via the default route.
	return 0
}

# gw_down <ns>: forget every SA, eroute, policy and ipsec0 route.
gw_down() {
	local ns=$1
	gw_ipsec "$ns" eroute --clear 2> /dev/null
	gw_ipsec "$ns" spi --clear 2> /dev/null
	ip -n "$ns" xfrm policy flush
	ip -n "$ns" xfrm state flush
	ip -n "$ns" route flush dev ipsec0 2> /dev/null
	ip -n "$ns" -6 route flush dev ipsec0 2> /dev/null
	return 0
}
