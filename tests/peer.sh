# shellcheck shell=bash
# shellcheck disable=SC2034 # PEER_* are read by the scripts that source this
# One IPsec gateway of tests/topology.sh, configured by either
# implementation with the same algorithm, keys and SPIs:
#
#   klips  the ipsec tool, as a KLIPS admin would: an ipsec0 attached to
#          eth0, an ESP and/or AH SA per direction (grouped, AH outermost,
#          with an IPIP SA innermost in tunnel mode), an eroute out, the
#          inbound policy (eroute --addin), and a route into ipsec0;
#   xfrm   the kernel's own IPsec: ip xfrm state + ip xfrm policy (ESP and
#          AH: a bundle, ESP in tunnel or transport mode, AH in transport
#          mode outside it, a policy with two tmpls).
#
#   peer_up <impl> <ns> <local> <remote> <lnet> <rnet> <spi out> <spi in> <keys out> <keys in>
#   peer_down <impl> <ns>
#
# <local>/<remote> are the gateways' outer addresses, <lnet>/<rnet> the
# protected networks (in transport mode the gateways' own /32 or /128);
# keys are "<enckey>/<authkey>[/<ah authkey>]" in 0x hex, any part empty.
# The cell is named by PEER_MODE (tunnel|transport) and PEER_ALG: an --esp
# name of Documentation/klips/cli.md, "ah-<an --ah name>" (AH alone) or
# "<--esp name>+ah-<--ah name>" (ESP inside AH). PEER_OUT_CLEAR=1 sends
# the outbound traffic in clear instead (tunnel.sh's TUNNEL_BREAK=clear).
# PEER_COMP=1 adds IPComp (DEFLATE, the CPI = the ESP SPI) inside ESP:
# KLIPS's tun+comp+esp, XFRM's comp and esp templates; with PEER_ALG=none
# there is no ESP at all (tun+comp, XFRM's comp alone). PEER_IPSEC is the
# ipsec tool. PEER_LIFE_OUT / PEER_LIFE_IN: klips --life lifetimes of the
# outbound / inbound ESP SA (tests/life.sh), none when empty;
# PEER_LIFE_INNER_IN: of the inbound tun and comp SAs.
# PEER_ESP_ADD: a command that adds klips's two ESP SAs instead of the
# tool, called as <cmd> <ns> <local> <remote> <spi out> <spi in> <keys out>
# <keys in> (life.sh: through the kernel's YNL client). PEER_XFRM_OUT /
# PEER_XFRM_IN: more ip xfrm words for the outbound / inbound ESP state.

PEER_MODE=tunnel
PEER_ALG=aes-gcm-16
PEER_OUT_CLEAR=0
PEER_COMP=0
PEER_LIFE_OUT=
PEER_LIFE_IN=
PEER_LIFE_INNER_IN=
PEER_ESP_ADD=
PEER_XFRM_OUT=
PEER_XFRM_IN=
: "${PEER_IPSEC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/ipsec}"
PEER_TMP=${PEER_TMP:-/tmp}

# The algorithm table: --esp name | encryption key bytes (with the salt of
# RFC 4106/4309/3686/7634/4543) | authentication key bytes | the same
# transform in ip xfrm state syntax, E and A standing for the keys.
peer_alg_table() {
	cat <<'EOF'
aes-gcm-16|36|0|aead rfc4106(gcm(aes)) E 128
aes-gcm-8|20|0|aead rfc4106(gcm(aes)) E 64
aes-gcm-12|28|0|aead rfc4106(gcm(aes)) E 96
aes-ccm-8|19|0|aead rfc4309(ccm(aes)) E 64
aes-ccm-12|27|0|aead rfc4309(ccm(aes)) E 96
aes-ccm-16|35|0|aead rfc4309(ccm(aes)) E 128
chacha20poly1305|36|0|aead rfc7539esp(chacha20,poly1305) E 128
null-aes-gmac|20|0|aead rfc4543(gcm(aes)) E 128
aes128-sha1-96|16|20|enc cbc(aes) E auth-trunc hmac(sha1) A 96
aes128-sha2_256-128|16|32|enc cbc(aes) E auth-trunc hmac(sha256) A 128
aes128-sha2_384-192|16|48|enc cbc(aes) E auth-trunc hmac(sha384) A 192
aes128-sha2_512-256|16|64|enc cbc(aes) E auth-trunc hmac(sha512) A 256
aes128-md5-96|16|16|enc cbc(aes) E auth-trunc hmac(md5) A 96
aes256-sha1-96|32|20|enc cbc(aes) E auth-trunc hmac(sha1) A 96
aes256-sha2_256-128|32|32|enc cbc(aes) E auth-trunc hmac(sha256) A 128
aes256-sha2_384-192|32|48|enc cbc(aes) E auth-trunc hmac(sha384) A 192
aes256-sha2_512-256|32|64|enc cbc(aes) E auth-trunc hmac(sha512) A 256
aes256-md5-96|32|16|enc cbc(aes) E auth-trunc hmac(md5) A 96
aesctr-sha1-96|20|20|enc rfc3686(ctr(aes)) E auth-trunc hmac(sha1) A 96
aesctr-sha2_256-128|36|32|enc rfc3686(ctr(aes)) E auth-trunc hmac(sha256) A 128
3des-sha1-96|24|20|enc cbc(des3_ede) E auth-trunc hmac(sha1) A 96
3des-md5-96|24|16|enc cbc(des3_ede) E auth-trunc hmac(md5) A 96
null-sha1-96|0|20|enc ecb(cipher_null) "" auth-trunc hmac(sha1) A 96
null-sha2_256-128|0|32|enc ecb(cipher_null) "" auth-trunc hmac(sha256) A 128
aes|24|0|enc cbc(aes) E
3des|24|0|enc cbc(des3_ede) E
ah-hmac-md5-96|0|16|auth-trunc hmac(md5) A 96
ah-hmac-sha1-96|0|20|auth-trunc hmac(sha1) A 96
ah-hmac-sha2_256-128|0|32|auth-trunc hmac(sha256) A 128
ah-hmac-sha2_384-192|0|48|auth-trunc hmac(sha384) A 192
ah-hmac-sha2_512-256|0|64|auth-trunc hmac(sha512) A 256
ah-aes-xcbc-96|0|16|auth-trunc xcbc(aes) A 96
ah-aes-cmac-96|0|16|auth-trunc cmac(aes) A 96
EOF
}

# peer_alg <name>: sets PEER_EK / PEER_AK (ESP key bytes), PEER_HK (AH
# key bytes), PEER_XFRM / PEER_AH_XFRM (the ip xfrm words), PEER_ESP /
# PEER_AH (the --esp / --ah name, or empty without that layer),
# PEER_OUTER (esp or ah: the outermost layer, what the wire shows),
# PEER_INTEG (1 if the ESP SA has integrity, so a replay window; 1 for AH
# alone) and PEER_CLEARTEXT (1 if the payload travels unencrypted).
PEER_TABLE=$(peer_alg_table)
peer_alg_row() {
	local name ek ak x
	while IFS='|' read -r name ek ak x; do
		[ "$name" = "$1" ] || continue
		ROW_EK=$ek ROW_AK=$ak ROW_X=$x
		return 0
	done <<< "$PEER_TABLE"
	echo "peer_alg: unknown algorithm '$1'" >&2
	return 1
}

peer_alg() {
	local esp=${1%+ah-*} ah=
	if [ "$1" = none ]; then	# no ESP (PEER_COMP=1 alone)
		PEER_ESP='' PEER_AH='' PEER_EK=0 PEER_AK=0 PEER_HK=0 PEER_XFRM=''
		PEER_AH_XFRM='' PEER_INTEG=0 PEER_CLEARTEXT=1 PEER_OUTER=comp
		return 0
	fi
	[[ $1 == *+ah-* ]] && ah=ah-${1#*+ah-}
	[[ $1 == ah-* ]] && esp='' ah=$1
	PEER_ESP=$esp PEER_AH=${ah#ah-} PEER_EK=0 PEER_AK=0 PEER_HK=0
	PEER_XFRM='' PEER_AH_XFRM='' PEER_INTEG=1 PEER_CLEARTEXT=1 PEER_OUTER=ah
	if [ -n "$ah" ]; then
		[[ $ah == ah-* ]] && peer_alg_row "$ah" || return 1
		PEER_HK=$ROW_AK PEER_AH_XFRM=$ROW_X
	fi
	if [ -n "$esp" ]; then
		[[ $esp != ah-* ]] && peer_alg_row "$esp" || return 1
		PEER_EK=$ROW_EK PEER_AK=$ROW_AK PEER_XFRM=$ROW_X PEER_CLEARTEXT=0
		[[ $ROW_X == enc* && $ROW_X != *auth-trunc* ]] && PEER_INTEG=0
		[[ $esp == null-* ]] && PEER_CLEARTEXT=1
		[ -n "$ah" ] || PEER_OUTER=esp
	fi
	return 0
}

peer_algs() { peer_alg_table | cut -d'|' -f1; }

peer_up() {
	case $1 in
	klips) shift; peer_klips_up "$@" ;;
	xfrm) shift; peer_xfrm_up "$@" ;;
	*) echo "peer_up: unknown implementation '$1'" >&2; return 2 ;;
	esac
}

peer_down() {
	case $1 in
	klips) ip netns exec "$2" "$PEER_IPSEC" -f - \
		<<< $'eroute --clear\nspi --clear\ntncfg --delete ipsec0' ;;
	xfrm) ip -n "$2" -batch - <<< $'xfrm policy flush\nxfrm state flush' ;;
	esac
}

# PEER_OPTS: the --enckey/--authkey options of the ESP SA for
# "<enckey>/<authkey>[/<ah authkey>]"; PEER_AH_OPTS: the AH SA's.
peer_klips_keys() {
	local ek ak hk
	IFS=/ read -r ek ak hk <<< "$1"
	PEER_OPTS=${ek:+ --enckey $ek}${ak:+ --authkey $ak}
	PEER_AH_OPTS=${hk:+ --authkey $hk}
}

peer_klips_up() {
	local ns=$1 loc=$2 rem=$3 lnet=$4 rnet=$5 spo=$6 spi=$7 ko=$8 ki=$9
	local af=inet sep=. ipv=--ip4 iaf=inet b="$PEER_TMP/peer-$ns"
	[[ $loc == *:* ]] && af=inet6 sep=: ipv=--ip6
	[[ $lnet == *:* ]] && iaf=inet6
	local said_out said_in out_said grp_out="" grp_in=""
	printf -v said_out '%s%x@%s' "$sep" "$spo" "$rem"
	printf -v said_in '%s%x@%s' "$sep" "$spi" "$loc"
	# The group, inner to outer: [tun] [comp] [esp] [ah] (spigrp's order).
	local p
	[ "$PEER_MODE" = tunnel ] && grp_out+=" tun" grp_in+=" tun"
	[ "$PEER_COMP" = 1 ] && grp_out+=" comp" grp_in+=" comp"
	[ -n "$PEER_ESP" ] && grp_out+=" esp" grp_in+=" esp"
	[ -n "$PEER_AH" ] && grp_out+=" ah" grp_in+=" ah"
	{
		echo "tncfg --create ipsec0"
		echo "tncfg --attach --virtual ipsec0 --physical eth0"
		peer_klips_keys "$ko"
		[ -n "$PEER_ESP" ] && [ -z "$PEER_ESP_ADD" ] &&
			echo "spi --af $af --edst $rem --spi $spo --proto esp --src $loc --esp $PEER_ESP$PEER_OPTS${PEER_LIFE_OUT:+ --life $PEER_LIFE_OUT}"
		[ -n "$PEER_AH" ] &&
			echo "spi --af $af --edst $rem --spi $spo --proto ah --src $loc --ah $PEER_AH$PEER_AH_OPTS"
		peer_klips_keys "$ki"
		[ -n "$PEER_ESP" ] && [ -z "$PEER_ESP_ADD" ] &&
			echo "spi --af $af --edst $loc --spi $spi --proto esp --src $rem --esp $PEER_ESP$PEER_OPTS${PEER_LIFE_IN:+ --life $PEER_LIFE_IN}"
		[ -n "$PEER_AH" ] &&
			echo "spi --af $af --edst $loc --spi $spi --proto ah --src $rem --ah $PEER_AH$PEER_AH_OPTS"
		if [ "$PEER_COMP" = 1 ]; then
			echo "spi --af $af --edst $rem --spi $spo --proto comp --src $loc --comp deflate"
			echo "spi --af $af --edst $loc --spi $spi --proto comp --src $rem --comp deflate${PEER_LIFE_INNER_IN:+ --life $PEER_LIFE_INNER_IN}"
		fi
		if [ "$PEER_MODE" = tunnel ]; then
			echo "spi --af $af --edst $rem --spi $spo --proto tun --src $loc --dst $rem $ipv"
			echo "spi --af $af --edst $loc --spi $spi --proto tun --src $rem --dst $loc $ipv${PEER_LIFE_INNER_IN:+ --life $PEER_LIFE_INNER_IN}"
		fi
		# (one SA alone is no group)
		if [[ ${grp_out# } == *' '* ]]; then
			echo "spigrp$(for p in $grp_out; do printf ' %s %s %s %s' "$af" "$rem" "$spo" "$p"; done)"
			echo "spigrp$(for p in $grp_in; do printf ' %s %s %s %s' "$af" "$loc" "$spi" "$p"; done)"
		fi
		[ "$PEER_MODE" = tunnel ] &&
			echo "eroute --addin --eraf $iaf --src $rnet --dst $lnet --said tun$said_in"
		p=${grp_out# }
		out_said=${p%% *}$said_out
		[ "$PEER_OUT_CLEAR" = 1 ] && out_said=%pass
		echo "eroute --add --eraf $iaf --src $lnet --dst $rnet --said $out_said"
	} > "$b.ipsec"
	{
		echo "link set ipsec0 up"
		if [ "$PEER_MODE" = tunnel ]; then
			echo "route add $rnet dev ipsec0"
		else
			echo "route add $rnet dev ipsec0 src $loc"
		fi
	} > "$b.ip"
	local rc line
	if [ -n "$PEER_ESP" ] && [ -n "$PEER_ESP_ADD" ]; then
		"$PEER_ESP_ADD" "$ns" "$loc" "$rem" "$spo" "$spi" "$ko" "$ki" || return 1
	fi
	ip netns exec "$ns" "$PEER_IPSEC" -f "$b.ipsec" > "$b.out" 2>&1
	rc=$?
	while IFS= read -r line; do	# the tool's warnings are no failure
		[[ $line == *': warning: '* ]] || echo "$line"
	done < "$b.out"
	[ "$rc" -eq 0 ] && ip -n "$ns" -batch "$b.ip"
}

# PEER_OPTS: the ip xfrm words of PEER_ALG's ESP for
# "<enckey>/<authkey>[/<ah authkey>]", PEER_AH_OPTS its AH's.
peer_xfrm_alg() {
	local w="$PEER_XFRM " h="$PEER_AH_XFRM " ek ak hk
	IFS=/ read -r ek ak hk <<< "$1"
	w=${w/ E / $ek }
	w=${w/ A / $ak }
	h=${h/ A / $hk }
	PEER_OPTS=${w% }
	PEER_AH_OPTS=${h% }
}

peer_xfrm_up() {
	local ns=$1 loc=$2 rem=$3 lnet=$4 rnet=$5 spo=$6 spi=$7 ko=$8 ki=$9
	local flag='' rw='' b="$PEER_TMP/peer-$ns.xfrm"
	# An IPv4 network in an IPv6 tunnel or the reverse: the inner family
	# comes from each packet, not from the state's selector.
	if { [[ $loc == *:* ]] && [[ $lnet != *:* ]]; } ||
		{ [[ $loc != *:* ]] && [[ $lnet == *:* ]]; }; then
		flag=" flag af-unspec"
	fi
	[ "$PEER_INTEG" = 1 ] && rw=" replay-window 32"
	# AH after IPv4 padded to 32 bits, as RFC 4302 says (XFRM: 64 unless align4).
	local ahflag=' replay-window 32'
	[[ $loc == *:* ]] || ahflag=" flag align4$ahflag"
	# The bundle's tmpls, inner to outer: IPComp (carrying the tunnel) and
	# ESP over it in transport mode, or ESP alone (tunnel or transport);
	# then AH in transport mode on the outer header; AH alone takes
	# PEER_MODE.
	local espmode=$PEER_MODE tout tin ahmode=transport
	[ -z "$PEER_ESP" ] && [ "$PEER_COMP" != 1 ] && ahmode=$PEER_MODE
	if [ "$PEER_MODE" = tunnel ]; then
		tout="tmpl src $loc dst $rem" tin="tmpl src $rem dst $loc"
	else
		tout=tmpl tin=tmpl
	fi
	{
		if [ "$PEER_COMP" = 1 ]; then
			# IPComp carries the tunnel, ESP goes over it in transport
			# mode; the inbound comp template is optional ("level use"):
			# small and incompressible packets come without IPComp.
			echo "xfrm state add src $loc dst $rem proto comp spi $spo reqid $spo mode $PEER_MODE$flag comp deflate"
			echo "xfrm state add src $rem dst $loc proto comp spi $spi reqid $spi mode $PEER_MODE$flag comp deflate"
			tout="$tout proto comp reqid $spo mode $PEER_MODE"
			tin="$tin proto comp reqid $spi mode $PEER_MODE level use"
			espmode=transport flag=''
			if [ -n "$PEER_ESP" ]; then
				tout="$tout tmpl proto esp reqid $spo mode transport"
				tin="$tin tmpl proto esp reqid $spi mode transport"
			fi
		elif [ -n "$PEER_ESP" ]; then
			tout="$tout proto esp reqid $spo mode $PEER_MODE"
			tin="$tin proto esp reqid $spi mode $PEER_MODE"
		fi
		if [ -n "$PEER_AH" ]; then
			local ta="proto ah reqid $spo mode $ahmode" ti="proto ah reqid $spi mode $ahmode"
			if [ -n "$PEER_ESP" ] || [ "$PEER_COMP" = 1 ]; then
				if [ "$PEER_MODE" = tunnel ]; then
					ta="tmpl src $loc dst $rem $ta" ti="tmpl src $rem dst $loc $ti"
				else
					ta="tmpl $ta" ti="tmpl $ti"
				fi
			fi
			tout="$tout $ta" tin="$tin $ti"
		fi
		peer_xfrm_alg "$ko"
		[ -n "$PEER_ESP" ] &&
			echo "xfrm state add src $loc dst $rem proto esp spi $spo reqid $spo mode $espmode$flag $PEER_OPTS${PEER_XFRM_OUT:+ $PEER_XFRM_OUT}"
		[ -n "$PEER_AH" ] &&
			echo "xfrm state add src $loc dst $rem proto ah spi $spo reqid $spo mode $ahmode$flag${ahflag% replay-window 32} $PEER_AH_OPTS"
		peer_xfrm_alg "$ki"
		[ -n "$PEER_ESP" ] &&
			echo "xfrm state add src $rem dst $loc proto esp spi $spi reqid $spi mode $espmode$flag$rw $PEER_OPTS${PEER_XFRM_IN:+ $PEER_XFRM_IN}"
		[ -n "$PEER_AH" ] &&
			echo "xfrm state add src $rem dst $loc proto ah spi $spi reqid $spi mode $ahmode$flag$ahflag $PEER_AH_OPTS"
		local dir=in
		[ "$PEER_MODE" = tunnel ] && dir=fwd
		[ "$PEER_OUT_CLEAR" = 1 ] ||
			echo "xfrm policy add src $lnet dst $rnet dir out $tout"
		echo "xfrm policy add src $rnet dst $lnet dir $dir $tin"
	} > "$b"
	ip -n "$ns" -batch "$b"
}

# peer_sa <impl> <ns> <src> <dst> <spi> [esp|ah]: sets PEER_SA to
# "packets=<n> bytes=<n> seq=<n>" for that ESP (or AH) SA (seq: the
# highest sent or received), and PEER_SA_LINE to its /proc/net/ipsec_spi
# line (klips).
peer_sa() {
	local impl=$1 ns=$2 src=$3 dst=$4 spi=$5 proto=${6:-esp} out line said p=0 b=0 s=0
	PEER_SA="packets=? bytes=? seq=?" PEER_SA_LINE=
	if [ "$impl" = xfrm ]; then
		out=$(ip -n "$ns" -s xfrm state get src "$src" dst "$dst" proto "$proto" spi "$spi" 2>&1) ||
			return 1
		[[ $out =~ ([0-9]+)\(bytes\),\ ([0-9]+)\(packets\) ]] &&
			b=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]}
		[[ $out =~ context:\ seq\ 0x([0-9a-f]+),\ oseq\ 0x([0-9a-f]+) ]] &&
			s=$((16#${BASH_REMATCH[1]} > 16#${BASH_REMATCH[2]} ? 16#${BASH_REMATCH[1]} : 16#${BASH_REMATCH[2]}))
	else
		local sep=.
		[[ $dst == *:* ]] && sep=:
		printf -v said '%s%s%x@%s' "$proto" "$sep" "$spi" "$dst"
		out=$(ip netns exec "$ns" cat /proc/net/ipsec_spi) || return 1
		while IFS= read -r line; do
			[[ $line == "$said "* ]] && PEER_SA_LINE=$line
		done <<< "$out"
		[ -n "$PEER_SA_LINE" ] || return 1
		[[ $PEER_SA_LINE =~ bytes\(([0-9]+), ]] && b=${BASH_REMATCH[1]}
		[[ $PEER_SA_LINE =~ packets\(([0-9]+), ]] && p=${BASH_REMATCH[1]}
		[[ $PEER_SA_LINE =~ \ seq=([0-9]+) ]] && s=${BASH_REMATCH[1]}
	fi
	PEER_SA="packets=$p bytes=$b seq=$s"
}

# peer_errors <impl> <ns>: the error counters that are not zero
# (/proc/net/xfrm_stat, or klips's /proc/net/ipsec/stats without the
# counters of policy decisions: a link-local packet of ipsec0 itself
# meets no eroute; nor InNotOurs, the ESP klips passed on to XFRM, which
# (and AH) the xfrm cells before in the same namespaces send; nor OutMtu, a packet
# answered with ICMP too-big: path MTU discovery at work when a 1400-byte
# ping meets an IPv6 outer header and a long ICV).
peer_errors() {
	local f=/proc/net/xfrm_stat name value
	[ "$1" = klips ] && f=/proc/net/ipsec/stats
	while read -r name value; do
		case $name in
		OutNoEroute | OutShunt | TrapCount | TrapSendCount | HoldDrop | InNotOurs | OutMtu) ;;
		*) [ "$value" = 0 ] || echo "$name $value" ;;
		esac
	done < <(ip netns exec "$2" cat "$f" 2>&1 || echo "$f unreadable")
}
