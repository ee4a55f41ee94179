#!/bin/bash
# End-to-end tunnels through the gateways of tests/topology.sh, run inside a
# test guest (UML or qemu) as PID 1's child:
#
#   tests/tunnel.sh <directory with klips.ko> [VAR=value ...]
#
#   hostA ---- gwA ==== router ==== gwB ---- hostB     (the router holds the captures)
#
# A cell is (gwA's implementation, gwB's, algorithm, layout), named
# <left>-<right>/<alg>/<layout>:
#   implementations (tests/peer.sh): klips, the module configured with
#     tools/ipsec as a KLIPS admin would; xfrm, the kernel's own ip xfrm
#     state + policy, with the same keys and SPIs (the interop peer);
#   algorithms: every --esp name in peer.sh's table (Documentation/klips/cli.md), every
#     --ah name as ah-<name> (AH alone; tun+ah in the tunnel layouts), and
#     ESP inside AH as <esp>+ah-<ah> (esp+ah, tun+esp+ah); fresh random
#     keys per cell;
#   layouts: tunnel4, tunnel6, tunnel4in6 (IPv4 inside IPv6), tunnel6in4
#     (traffic hostA <-> hostB); transport4, transport6 (gwA <-> gwB).
#
# Which cells run:
#   default: 6 xfrm-xfrm controls (one per layout: when these fail, the
#     harness or the guest is at fault, not klips; their checks say
#     "control: ", and the host counts them apart), then pairwise klips
#     cells: every algorithm twice, as klips-klips and as klips-xfrm, in
#     complementary (mode, family) pairs that rotate through tunnel4,
#     transport6, tunnel6, transport4, so every pair of algorithm, mode,
#     family and implementation pair occurs; plus tunnel4in6 and
#     tunnel6in4 for both pairs; the same for the 7 AH algorithms and 4
#     ESP+AH groups (each group once per layout and pair), with 3 more
#     xfrm-xfrm controls of AH and ESP+AH bundles. 89 cells.
#   KLIPS_CHECK_FULL=1: the whole matrix, {xfrm-xfrm, klips-klips,
#     klips-xfrm, xfrm-klips} x 37 algorithms and groups x 6 layouts
#     (888 cells).
#   TUNNEL_CELLS=<glob>[+<glob>...] keeps the cells whose name contains one
#     of the patterns: klips (every cell with klips on a side), xfrm-xfrm,
#     klips-xfrm/aes-gcm, /tunnel4in6 ...
#   TUNNEL_SHARD=<k>/<n> keeps the k-th of every n selected cells (k from
#     1): make check splits the matrix over n guest runs, so that no run
#     comes near the guest's time limit on a slow machine.
#   TUNNEL_IMPL=<left>-<right> runs the selected cells with that pair
#     instead (TUNNEL_IMPL=xfrm-xfrm: the harness alone, no klips anywhere).
#   TUNNEL_XFER_BYTES sizes the TCP transfers: 512 KiB by default, 1 MiB
#     with KLIPS_CHECK_FULL=1.
# Variables come from the environment or as VAR=value arguments (uml-run.sh
# passes no environment, and its arguments may not hold commas or spaces):
#   scripts/uml-run.sh debug tests/tunnel.sh build/mod/uml-debug TUNNEL_CELLS=klips
# In the debug UML guest a passing cell takes 5-6 s (TUNNEL_IMPL=xfrm-xfrm:
# the default's 60 cells in 5.5 minutes); a failing one waits out its pings
# and its connect, 2 s more.
#
# The plan (TAP's 1..N) is computed from the selected cells' names before
# any runs (cell_checks). Each cell checks, and with what:
#   - both gateways configure: the exit status of the ipsec tool / ip.
#   - ping both ways with 56, 1400 and 3000-byte payloads (PMTU discovery,
#     fragments): ping -c 4, every echo answered but for what path MTU
#     discovery loses: the first 1400 or 3000-byte packet each endpoint
#     sends into the tunnel, its first echo (answered by the ICMP error
#     instead) or, over IPv6, its reply to the other side's first echo
#     (ping_result).
#   - TCP, TUNNEL_XFER_BYTES each way: tests/xfer.py, sha256 and length
#     compared between sender and receiver.
#   - SA counters, per direction: the sender's outbound ESP (AH) SA counted at
#     least the transfer's segments, and the receiver's inbound SA agrees on
#     packets, bytes and (with integrity) seq: ip -s xfrm state, or klips's
#     /proc/net/ipsec_spi. Every klips SA line shows, in Documentation/klips/proc.md's order,
#     bytes(), add(), use(), packets() moved and idle=; ESP SAs seq= (an
#     inbound one with integrity only).
#   - no error counted: /proc/net/xfrm_stat, klips's /proc/net/ipsec/stats.
#   - the router's capture (tcpdump -i any): nothing but ESP, or AH when
#     AH is the outer layer (and ARP, ND, multicast) by tcpdump's own filter
#     and by tests/wire.py; per direction, ESP (AH) with the expected SPI
#     only, one packet per sequence number the sender counted and the
#     highest its seq (and ESP inside AH likewise); the ping payload's
#     pattern visible exactly when the cipher is null or there is no ESP.
#
# TUNNEL_BREAK=<what> breaks one thing on purpose, to watch the checks
# fail: key: gwB's inbound key for A->B differs from gwA's; keylen: it is a
# byte short; clear: gwA sends its traffic in clear; cipher: the SAs use
# null encryption where the name says encrypted, and the reverse; xfer: the
# transfer server corrupts a byte; wire: the capture stops as the traffic
# starts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
. "$here/topology.sh"
. "$here/peer.sh"
moddir=${1:?usage: tunnel.sh <module dir> [VAR=value ...]}
shift
T_ARGS="TUNNEL_BREAK TUNNEL_CELLS TUNNEL_IMPL TUNNEL_SHARD TUNNEL_XFER_BYTES KLIPS_CHECK_FULL"
parse_args "$@" || exit 2
# The guest runs from /: a module directory relative to the project.
[ -e "$moddir/klips.ko" ] || [ ! -e "$top/$moddir/klips.ko" ] || moddir=$top/$moddir
xfer_bytes=524288
[ "${KLIPS_CHECK_FULL:-0}" = 1 ] && xfer_bytes=1048576
xfer_bytes=${TUNNEL_XFER_BYTES:-$xfer_bytes}
brk=${TUNNEL_BREAK:-}
py=(/usr/bin/python3 -S)	# stdlib only: no site, quicker to start in the guest
pattern=klips-clear-txt!	# the pings' payload, 16 bytes
pattern_hex=6b6c6970732d636c6561722d74787421
tmp=$(mktemp -d)
PEER_TMP=$tmp

layouts="tunnel4 tunnel6 tunnel4in6 tunnel6in4 transport4 transport6"
# ESP inside AH: every AH algorithm once, with ESP suites of each kind.
groups="aes-gcm-16+ah-hmac-sha1-96 aes128-sha2_256-128+ah-hmac-sha2_512-256
chacha20poly1305+ah-aes-xcbc-96 aes256-sha1-96+ah-aes-cmac-96"

matrix() {
	local pair alg l i=0
	local -a rot=(tunnel4 transport6 tunnel6 transport4)
	if [ "${KLIPS_CHECK_FULL:-0}" = 1 ]; then
		for pair in xfrm-xfrm klips-klips klips-xfrm xfrm-klips; do
			for alg in $(peer_algs) $groups; do
				for l in $layouts; do
					echo "$pair/$alg/$l"
				done
			done
		done
		return
	fi
	printf '%s\n' xfrm-xfrm/aes-gcm-16/tunnel4 xfrm-xfrm/chacha20poly1305/tunnel6 \
		xfrm-xfrm/aes256-sha2_512-256/tunnel4in6 xfrm-xfrm/aesctr-sha1-96/tunnel6in4 \
		xfrm-xfrm/3des-sha1-96/transport4 xfrm-xfrm/null-aes-gmac/transport6 \
		xfrm-xfrm/ah-hmac-sha1-96/tunnel6 xfrm-xfrm/aes-gcm-16+ah-hmac-sha1-96/tunnel4 \
		xfrm-xfrm/aes128-sha2_256-128+ah-hmac-sha2_512-256/transport6
	for alg in $(peer_algs); do
		echo "klips-klips/$alg/${rot[i % 4]}"
		echo "klips-xfrm/$alg/${rot[(i % 4) ^ 1]}"
		i=$((i + 1))
	done
	i=0
	for alg in $groups; do
		echo "klips-klips/$alg/${rot[i % 4]}"
		echo "klips-xfrm/$alg/${rot[(i % 4) ^ 1]}"
		i=$((i + 1))
	done
	printf '%s\n' klips-klips/ah-hmac-sha2_256-128/tunnel4in6 \
		klips-xfrm/aes-gcm-16+ah-hmac-sha1-96/tunnel6in4
	printf '%s\n' klips-klips/aes-gcm-16/tunnel4in6 klips-xfrm/aes128-sha2_256-128/tunnel4in6 \
		klips-klips/aes256-sha1-96/tunnel6in4 klips-xfrm/chacha20poly1305/tunnel6in4
}

selected() {
	local id pat
	local -a pats
	IFS='+, ' read -r -a pats <<< "${TUNNEL_CELLS:-}"
	while read -r id; do
		[ -n "${TUNNEL_IMPL:-}" ] && id=$TUNNEL_IMPL/${id#*/}
		if [ ${#pats[@]} -eq 0 ]; then
			echo "$id"
			continue
		fi
		for pat in "${pats[@]}"; do
			# shellcheck disable=SC2053
			if [[ $id == *$pat* ]]; then
				echo "$id"
				break
			fi
		done
	done < <(matrix) | awk '!seen[$0]++' | shard
}

# shard: the k-th of every n lines (TUNNEL_SHARD=k/n), or all of them.
shard() {
	local k n
	if [ -z "${TUNNEL_SHARD:-}" ]; then
		cat
		return
	fi
	k=${TUNNEL_SHARD%/*} n=${TUNNEL_SHARD#*/}
	awk -v k="$k" -v n="$n" '(NR - k) % n == 0'
}

# check_ge "what" <min> <actual>
check_ge() {
	if [[ $3 =~ ^[0-9]+$ ]] && [ "$3" -ge "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '#   %s, expected at least %s\n' "$3" "$2"
	fi
}

# agree "what" <sender's counters> <receiver's>: equal, and not for want
# of traffic.
agree() {
	if [[ $2 =~ ^packets=[1-9] ]]; then
		check_eq "$@"
	else
		not_ok "$1"
		echo "#   nothing sent to compare: $2"
	fi
}

# bg <name> command...: runs it in the background, its output in
# $tmp/<name>.out; bg_wait waits for them all and puts each exit status in
# bg_rc[<name>]. (Forks are dear in the guest: no subshell around them.)
declare -A bg_pid bg_rc
bg() {
	local name=$1
	shift
	"$@" > "$tmp/$name.out" 2>&1 &
	bg_pid[$name]=$!
}

bg_wait() {
	local name
	for name in "${!bg_pid[@]}"; do
		wait "${bg_pid[$name]}"
		bg_rc[$name]=$?
	done
	bg_pid=()
}

# evidence <file>: its non-empty lines as TAP comments.
evidence() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] && echo "#   $line"
	done < "$1"
}

# result "what" <name> [verbose]: a check from a bg job's status; its
# output is the evidence (also on success when verbose).
result() {
	if [ "${bg_rc[$2]}" = 0 ]; then
		ok "$1"
		[ -z "${3:-}" ] || evidence "$tmp/$2.out"
	else
		not_ok "$1"
		evidence "$tmp/$2.out"
	fi
}

# ping_parse <name>: of ping's output in $tmp/<name>.out, sets P_TX (sent),
# P_ERRS (ping's error count), P_PMTU (1 when echo 1 was answered by a
# path MTU error) and P_REPLIED (" 1 2 ..." the echoes answered).
ping_parse() {
	local line
	P_TX=0 P_ERRS=0 P_PMTU=0 P_REPLIED=" "
	while IFS= read -r line; do
		if [[ $line =~ bytes\ from\ .*\ icmp_seq=([0-9]+)\  ]]; then
			[[ $P_REPLIED == *" ${BASH_REMATCH[1]} "* ]] ||
				P_REPLIED+="${BASH_REMATCH[1]} "
		elif [[ $line =~ icmp_seq=1\ (Frag\ needed|Packet\ too\ big) ]]; then
			P_PMTU=1
		elif [[ $line =~ ^([0-9]+)\ packets\ transmitted,\ [0-9]+\ received(,\ \+([0-9]+)\ errors)? ]]; then
			P_TX=${BASH_REMATCH[1]} P_ERRS=${BASH_REMATCH[3]:-0}
		fi
	done < "$tmp/$1.out"
}

# ping_result "what" <name> <size> <the reverse ping's name> <inner
# family>: every one of ping -c 4's echoes is answered, but for what path
# MTU discovery loses, exactly: each cell starts with the endpoints'
# route cache flushed, at the link's MTU of 1500, and a tunnel's MTU is
# smaller by its headers (klips's ipsecN: 1380), so the first packet of
# 1400 or 3000 bytes that each endpoint sends into the tunnel meets
# "fragmentation needed" / "packet too big" from its gateway and is lost.
# When that packet is its first echo request, ping counts the error
# (echo 1 answered by the error, one error in all). Over IPv6 (no
# fragmentation on the way) it may instead be the endpoint's echo reply
# to the other side's first echo that got through (the reverse ping had
# not sent its first request yet: then that one met no error): that echo
# of this ping goes unanswered, silently. IPv4 echo replies leave without
# DF and are fragmented. No other loss: ping waits two round trips (at
# least -i) for the last reply, and no reply came later than that in a
# shard's 180 pings on a loaded machine.
ping_result() {
	local what=$1 name=$2 size=$3 rev=$4 iaf=$5 rev_pmtu first i silent='' lost=''
	ping_parse "$rev"
	rev_pmtu=$P_PMTU
	ping_parse "$name"
	first=$((P_PMTU + 1))	# the first echo that got through
	for i in 1 2 3 4; do
		if [[ $P_REPLIED == *" $i "* ]] || { [ "$i" = 1 ] && [ "$P_PMTU" = 1 ]; }; then
			continue
		elif [ "$i" = "$first" ] && [ "$iaf" = 6 ] && [ "$size" != 56 ] &&
			[ "$rev_pmtu" = 0 ]; then
			silent=$i
		else
			lost+=" $i"
		fi
	done
	if [ "$P_TX" = 4 ] && [ "$P_ERRS" = "$P_PMTU" ] && [ -z "$lost" ] &&
		{ [ "$size" != 56 ] || [ "$P_PMTU" = 0 ]; }; then
		ok "$what"
		[ -z "$silent" ] || echo "#   the reply to echo $silent met the path MTU"
	else
		not_ok "$what"
		[ -z "$silent" ] || silent=", the reply to echo $silent met the path MTU"
		echo "#   sent $P_TX, errors $P_ERRS, echo 1 met the path MTU: $P_PMTU, lost:${lost:- none}$silent"
		evidence "$tmp/$name.out"
	fi
}

# The router's capture, from cap_start to cap_stop.
cap_start() {
	rm -f "$tmp/cap" "$tmp/cap.err"
	: > "$tmp/cap.err"
	# Immediate mode: no packet waits in the ring when tcpdump is stopped.
	# -U: each packet written as it comes, for cell_settle to read.
	ip netns exec router tcpdump -i any -n --immediate-mode -U -s 300 -B 8192 -Z root \
		-w "$tmp/cap" 2> "$tmp/cap.err" &
	cap_pid=$!
}

cap_wait() {
	local i lines
	for ((i = 0; i < 100; i++)); do
		mapfile -t lines < "$tmp/cap.err"
		[[ ${lines[*]} == *listening* ]] && return 0
		sleep 0.05
	done
	echo "# tcpdump did not start: ${lines[*]}"
}

cap_stop() {
	[ -n "${cap_pid:-}" ] || return 0
	kill -INT "$cap_pid" 2>/dev/null
	wait "$cap_pid"
	cap_pid=
}

# tcpdump's own account of the capture, for the evidence.
cap_stats() {
	local line out=
	while IFS= read -r line; do
		[[ $line == *packets* ]] && out+=${out:+, }$line
	done < "$tmp/cap.err"
	echo "(tcpdump: $out)"
}

# check_eq on the capture, with tcpdump's account on failure.
wire_eq() {
	local before=$T_FAIL
	check_eq "$@"
	[ "$T_FAIL" = "$before" ] || echo "#   $(cap_stats)"
}

# LINES: the lines of $2 that begin with $1.
lines_with() {
	local line
	LINES=
	while IFS= read -r line; do
		[[ $line == "$1"* ]] && LINES+=${LINES:+$'\n'}$line
	done <<< "$2"
}

# klips_sa_lines <side> <ns> <mode> <sep> <spi out> <remote> <spi in> <local> <integ>:
# every SA of a klips gateway shows its counters moved (Documentation/klips/proc.md).
klips_sa_checks() {
	local id=$1 ns=$2 sep=$3 spo=$4 rem=$5 spi=$6 loc=$7 integ=$8 procs said dir src re
	local life='life\(c,s,h\)=bytes\([1-9][0-9]*,0,0\)add\([0-9]+,0,0\)use\([0-9]+,0,0\)packets\([1-9][0-9]*,0,0\) idle=[0-9]+$'
	procs=$(ip netns exec "$ns" cat /proc/net/ipsec_spi 2>&1)
	local -a sas=()
	[ -n "$PEER_ESP" ] && sas+=("esp out $spo $rem $loc" "esp in $spi $loc $rem")
	[ -n "$PEER_AH" ] && sas+=("ah out $spo $rem $loc" "ah in $spi $loc $rem")
	[ "$PEER_MODE" = tunnel ] && sas+=("tun out $spo $rem $loc" "tun in $spi $loc $rem")
	local proto spin dst
	for said in "${sas[@]}"; do
		read -r proto dir spin dst src <<< "$said"
		printf -v said '%s%s%x@%s' "$proto" "$sep" "$spin" "$dst"
		re="^${said//./\\.} (ESP_[A-Z0-9_]+|AH_[A-Z0-9_]+|IPIP): dir=$dir src=${src//./\\.} "
		if [ "$proto" = ah ] ||
			{ [ "$proto" = esp ] && { [ "$dir" = out ] || [ "$integ" = 1 ]; }; }; then
			re+=".*seq=[1-9][0-9]* "
		fi
		re+=".*$life"
		lines_with "$said " "$procs"
		check_match "$id: $ns klips: $said counters moved (/proc/net/ipsec_spi)" "$re" \
			"$LINES"
	done
}

case ${TUNNEL_SHARD:-1/1} in
[1-9]/[1-9] | [1-9]/[1-9][0-9] | [1-9][0-9]/[1-9][0-9]) ;;
*) echo "tunnel.sh: TUNNEL_SHARD=k/n with 1 <= k <= n" >&2; exit 2 ;;
esac
shard_spec=${TUNNEL_SHARD:-1/1}
[ "${shard_spec%/*}" -le "${shard_spec#*/}" ] ||
	{ echo "tunnel.sh: TUNNEL_SHARD=k/n with 1 <= k <= n" >&2; exit 2; }
cells=$(selected)
ncells=$(grep -c . <<< "$cells")
echo "# $ncells cells${TUNNEL_CELLS:+ matching $TUNNEL_CELLS}${TUNNEL_SHARD:+, shard $TUNNEL_SHARD}${TUNNEL_IMPL:+ as $TUNNEL_IMPL}${brk:+, broken on purpose: $brk}"
if [ "$ncells" -eq 0 ]; then
	plan 1
	not_ok "TUNNEL_CELLS=${TUNNEL_CELLS:-} selects no cell"
	done_testing
	exit
fi

# cell_settle: reads run_cell's counters (sAB rAB sBA rBA: the outer
# layer's SA of each sender and receiver, as peer_sa says, without seq
# when there is no integrity: no replay window, no inbound seq; pAB pBA
# qAB qBA: the senders' packets and seq) once they are final: when each
# direction's receiver counted what its sender sent, and the router's
# capture (written packet by packet) holds a packet per sequence number
# the senders counted. Polled, at most 3 s: a broken cell never gets there.
cell_settle() {
	local until=$((${EPOCHREALTIME/./} + 3000000)) w ab
	while :; do
		peer_sa "$left" gwA "$gA" "$gB" "$spi_ab" "$outer"; sAB=$PEER_SA
		peer_sa "$right" gwB "$gA" "$gB" "$spi_ab" "$outer"; rAB=$PEER_SA
		peer_sa "$right" gwB "$gB" "$gA" "$spi_ba" "$outer"; sBA=$PEER_SA
		peer_sa "$left" gwA "$gB" "$gA" "$spi_ba" "$outer"; rBA=$PEER_SA
		pAB=${sAB#packets=} pBA=${sBA#packets=} qAB=${sAB##*seq=} qBA=${sBA##*seq=}
		pAB=${pAB%% *} pBA=${pBA%% *}
		if [ "$PEER_INTEG" = 0 ]; then
			sAB=${sAB% seq=*} rAB=${rAB% seq=*} sBA=${sBA% seq=*} rBA=${rBA% seq=*}
		fi
		if [ "$sAB" = "$rAB" ] && [ "$sBA" = "$rBA" ]; then
			# (no capture running: TUNNEL_BREAK=wire stopped it)
			[ -n "${cap_pid:-}" ] || return 0
			w=$("${py[@]}" "$here/wire.py" "$tmp/cap" "$pattern" 2>&1)
			lines_with "$outer $gA $gB " "$w"
			ab=$LINES
			lines_with "$outer $gB $gA " "$w"
			[ "$ab" = "$outer $gA $gB $xab $pAB $qAB" ] &&
				[ "$LINES" = "$outer $gB $gA $xba $pBA $qBA" ] && return 0
		fi
		if [ "${EPOCHREALTIME/./}" -ge "$until" ]; then
			echo "# after 3 s the receivers' counters or the capture still differ from the senders'"
			return 0
		fi
		sleep 0.05
	done
}

# cell_params <cell>: what run_cell and the plan read of a cell's name:
# pair, left, right, the outer addresses gA/gB and their separator sep,
# the protected networks, the endpoints and their addresses, the inner
# family iaf, PEER_MODE, PEER_ALG and the rest of peer_alg's PEER_*
# (after TUNNEL_BREAK=cipher), and cleartext (what the name says). The
# caller declares them local. Fails with 1 on an unknown layout, 2 on an
# unknown algorithm.
cell_params() {
	local alg layout
	IFS=/ read -r pair alg layout <<< "$1"
	left=${pair%-*} right=${pair#*-} sep=.
	case $layout in
	tunnel4 | transport4 | tunnel6in4) gA=192.0.2.1 gB=198.51.100.1 ;;
	*) gA=2001:db8:1::1 gB=2001:db8:2::1 sep=: ;;
	esac
	case $layout in
	tunnel4 | tunnel4in6)
		PEER_MODE=tunnel netA=10.1.0.0/24 netB=10.2.0.0/24 iaf=4
		epA=hostA epB=hostB addrA=10.1.0.2 addrB=10.2.0.2 ;;
	tunnel6 | tunnel6in4)
		PEER_MODE=tunnel netA=fd01::/64 netB=fd02::/64 iaf=6
		epA=hostA epB=hostB addrA=fd01::2 addrB=fd02::2 ;;
	transport4)
		PEER_MODE=transport netA=$gA/32 netB=$gB/32 iaf=4
		epA=gwA epB=gwB addrA=$gA addrB=$gB ;;
	transport6)
		PEER_MODE=transport netA=$gA/128 netB=$gB/128 iaf=6
		epA=gwA epB=gwB addrA=$gA addrB=$gB ;;
	*) return 1 ;;
	esac
	PEER_ALG=$alg
	peer_alg "$alg" 2> /dev/null || return 2
	cleartext=$PEER_CLEARTEXT
	if [ "$brk" = cipher ]; then	# the other kind of cipher than the name says
		PEER_ALG=null-sha1-96
		[ "$cleartext" = 1 ] && PEER_ALG=aes128-sha1-96
		peer_alg "$PEER_ALG"
	fi
	return 0
}

# cell_checks <cell>: sets CELL_CHECKS to how many checks run_cell makes
# for it, from its parameters alone: the two gateways configured (2), the
# pings (6), the transfers (2), the senders' counters (2), the receivers'
# agreement (2), no error counted (2), the wire: nothing else, each
# direction, the pattern (4); ESP inside AH: that agreement and its wire
# (4); on each klips side, klips_sa_checks's: an outbound and an inbound
# SA per layer (ESP, AH, IPIP in tunnel mode). An unknown layout or
# algorithm: one.
cell_checks() {
	local pair left right gA gB sep netA netB epA epB addrA addrB iaf cleartext
	local nsa=0
	CELL_CHECKS=1
	cell_params "$1" || return 0
	CELL_CHECKS=20
	[ -n "$PEER_ESP" ] && [ "$PEER_OUTER" = ah ] && CELL_CHECKS=$((CELL_CHECKS + 4))
	[ -n "$PEER_ESP" ] && nsa=$((nsa + 2))
	[ -n "$PEER_AH" ] && nsa=$((nsa + 2))
	[ "$PEER_MODE" = tunnel ] && nsa=$((nsa + 2))
	[ "$left" = klips ] && CELL_CHECKS=$((CELL_CHECKS + nsa))
	[ "$right" = klips ] && CELL_CHECKS=$((CELL_CHECKS + nsa))
	return 0
}

run_cell() {
	local cell=$1 n=$2 id pair left right ctl=
	local gA gB netA netB epA epB addrA addrB iaf sep cleartext
	local t0=$EPOCHREALTIME
	# xfrm against xfrm tests the test bed, not klips: a control, counted
	# apart by the host.
	[[ $cell == xfrm-xfrm/* ]] && ctl="control: "
	id=$ctl$cell
	cell_params "$cell"
	case $? in
	1) not_ok "$id: unknown layout"; return ;;
	2) not_ok "$id: unknown algorithm"; return ;;
	esac
	# Per cell: its own SPIs and port, fresh keys.
	local spi_ab=$((0x10000 + n)) spi_ba=$((0x20000 + n)) port=$((20000 + n))
	local k kAB kBA kAB_B d
	# shellcheck disable=SC2153 # PEER_AK: set by peer_alg
	k=$(topo_key $((2 * (PEER_EK + PEER_AK + PEER_HK))))
	k=${k#0x}
	local e=$((2 * PEER_EK)) h=$((2 * PEER_AK)) a=$((2 * PEER_HK))
	local ek1=${k:0:e} ak1=${k:e:h} hk1=${k:e+h:a}
	local ek2=${k:e+h+a:e} ak2=${k:2*e+h+a:h} hk2=${k:2*(e+h)+a:a}
	kAB="${ek1:+0x$ek1}/${ak1:+0x$ak1}/${hk1:+0x$hk1}"
	kBA="${ek2:+0x$ek2}/${ak2:+0x$ak2}/${hk2:+0x$hk2}"
	kAB_B=$kAB
	if [ "$brk" = key ]; then	# gwB: the first digit of the first key differs
		local pre=${kAB%%0x*}
		d=0
		[[ ${kAB#"$pre"} == 0x0* ]] && d=1
		kAB_B=${pre}0x$d${kAB:${#pre}+3}
	elif [ "$brk" = keylen ]; then	# gwB: the first key a byte short
		kAB_B=${kAB/0x??/0x}
	fi
	local xab xba
	printf -v xab %x "$spi_ab"
	printf -v xba %x "$spi_ba"
	echo "# cell $n: $id (${PEER_MODE}, outer $gA - $gB, SPIs 0x$xab/0x$xba)"

	cap_start	# (tcpdump starts up while the gateways are configured)
	PEER_OUT_CLEAR=0
	[ "$brk" = clear ] && PEER_OUT_CLEAR=1
	check "$id: gwA configured ($left)" peer_up "$left" gwA "$gA" "$gB" "$netA" "$netB" \
		"$spi_ab" "$spi_ba" "$kAB" "$kBA"
	PEER_OUT_CLEAR=0
	check "$id: gwB configured ($right)" peer_up "$right" gwB "$gB" "$gA" "$netB" "$netA" \
		"$spi_ba" "$spi_ab" "$kBA" "$kAB_B"
	# Each cell discovers the path MTU afresh.
	ip -n "$epA" -"$iaf" route flush cache 2>/dev/null
	ip -n "$epB" -"$iaf" route flush cache 2>/dev/null

	cap_wait
	# All the traffic at once: pings and transfers mostly wait (for the
	# network, a path MTU or a timeout), and the guest has one CPU.
	local size srv flip=0
	[ "$brk" = xfer ] && flip=1
	XFER_FLIP=$flip ip netns exec "$epB" "${py[@]}" "$here/xfer.py" serve "$addrB" "$port" 2 \
		> "$tmp/srv.out" 2>&1 &
	srv=$!
	for size in 56 1400 3000; do
		bg "ping-ab-$size" ip netns exec "$epA" ping -n -c 4 -i 0.2 -W 1 -s "$size" \
			-p "$pattern_hex" "$addrB"
		bg "ping-ba-$size" ip netns exec "$epB" ping -n -c 4 -i 0.2 -W 1 -s "$size" \
			-p "$pattern_hex" "$addrA"
	done
	bg put ip netns exec "$epA" "${py[@]}" "$here/xfer.py" --timeout 30 put "$addrB" "$port" "$xfer_bytes"
	bg get ip netns exec "$epA" "${py[@]}" "$here/xfer.py" --timeout 30 get "$addrB" "$port" "$xfer_bytes"
	[ "$brk" = wire ] && cap_stop
	bg_wait
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	for size in 56 1400 3000; do
		ping_result "$id: ping $epA -> $epB, $size bytes" "ping-ab-$size" "$size" \
			"ping-ba-$size" "$iaf"
		ping_result "$id: ping $epB -> $epA, $size bytes" "ping-ba-$size" "$size" \
			"ping-ab-$size" "$iaf"
	done
	result "$id: TCP $epA -> $epB, $xfer_bytes bytes, sha256 checked" put verbose
	result "$id: TCP $epB -> $epA, $xfer_bytes bytes, sha256 checked" get verbose

	# Counters: gwA's outbound SA for A->B, gwB's inbound; and back.
	# The outermost layer's SAs (AH in a group): what the wire shows.
	# Read once the last packets (the last ACKs) are in, then the capture
	# stops.
	local sAB rAB sBA rBA outer=$PEER_OUTER pAB pBA qAB qBA
	cell_settle
	cap_stop
	local min=$((xfer_bytes / 1500)) what="packets, bytes, seq"
	check_ge "$id: A->B: gwA's ($left) outbound SA counted the traffic (packets)" "$min" "$pAB"
	check_ge "$id: B->A: gwB's ($right) outbound SA counted the traffic (packets)" "$min" "$pBA"
	[ "$PEER_INTEG" = 0 ] && what="packets, bytes"
	agree "$id: A->B: gwB's ($right) inbound $outer SA agrees with the sender ($what)" "$sAB" "$rAB"
	agree "$id: B->A: gwA's ($left) inbound $outer SA agrees with the sender ($what)" "$sBA" "$rBA"
	# ESP inside AH: its SAs agree too, and the wire shows it inside AH.
	local eAB='' eBA='' x
	if [ -n "$PEER_ESP" ] && [ "$outer" = ah ]; then
		peer_sa "$left" gwA "$gA" "$gB" "$spi_ab" esp; eAB=$PEER_SA
		peer_sa "$right" gwB "$gA" "$gB" "$spi_ab" esp; x=$PEER_SA
		agree "$id: A->B: gwB's ($right) inbound esp SA agrees with the sender (packets, bytes, seq)" "$eAB" "$x"
		peer_sa "$right" gwB "$gB" "$gA" "$spi_ba" esp; eBA=$PEER_SA
		peer_sa "$left" gwA "$gB" "$gA" "$spi_ba" esp; x=$PEER_SA
		agree "$id: B->A: gwA's ($left) inbound esp SA agrees with the sender (packets, bytes, seq)" "$eBA" "$x"
	fi
	[ "$left" = klips ] && klips_sa_checks "$id" gwA "$sep" "$spi_ab" "$gB" "$spi_ba" "$gA" "$PEER_INTEG"
	[ "$right" = klips ] && klips_sa_checks "$id" gwB "$sep" "$spi_ba" "$gA" "$spi_ab" "$gB" "$PEER_INTEG"
	check_eq "$id: gwA ($left): no error counted" "" "$(peer_errors "$left" gwA 2>&1)"
	check_eq "$id: gwB ($right): no error counted" "" "$(peer_errors "$right" gwB 2>&1)"

	# The wire.
	local leaks wire OUTER=${outer^^} pnum=50
	[ "$outer" = ah ] && pnum=51
	leaks=$(tcpdump -nr "$tmp/cap" "not (arp or ip proto $pnum or ip6 protochain $pnum or ip6 multicast or (icmp6 and ip6[40] >= 130 and ip6[40] <= 143))" 2>&1 |
		grep -Ev '^(reading from file|Warning: interface names)' | head -5)
	wire=$("${py[@]}" "$here/wire.py" "$tmp/cap" "$pattern" 2>&1)
	local clear
	lines_with clear "$wire"
	clear=$LINES
	[ "$clear" = "clear 0" ] || leaks+=${leaks:+$'\n'}"wire.py: ${clear:-$wire}"
	wire_eq "$id: router: nothing but $OUTER between the gateways, no clear traffic" "" "$leaks"
	# (esp|ah <src> <dst> <spi> <distinct sequence numbers> <highest>)
	lines_with "$outer $gA $gB " "$wire"
	wire_eq "$id: router: A->B $OUTER, SPI 0x$xab only, a packet per sequence number gwA counted" \
		"$outer $gA $gB $xab $pAB $qAB" "$LINES"
	lines_with "$outer $gB $gA " "$wire"
	wire_eq "$id: router: B->A $OUTER, SPI 0x$xba only, a packet per sequence number gwB counted" \
		"$outer $gB $gA $xba $pBA $qBA" "$LINES"
	if [ -n "$eAB" ]; then
		x=${eAB#packets=}
		lines_with "esp $gA $gB " "$wire"
		wire_eq "$id: router: A->B ESP inside AH, SPI 0x$xab, a packet per sequence number gwA counted" \
			"esp $gA $gB $xab ${x%% *} ${eAB##*seq=}" "$LINES"
		x=${eBA#packets=}
		lines_with "esp $gB $gA " "$wire"
		wire_eq "$id: router: B->A ESP inside AH, SPI 0x$xba, a packet per sequence number gwB counted" \
			"esp $gB $gA $xba ${x%% *} ${eBA##*seq=}" "$LINES"
	fi
	lines_with marker "$wire"
	if [ "$cleartext" = 1 ]; then
		check_match "$id: router: the ping pattern shows inside $OUTER (null cipher or AH alone)" \
			'^marker [1-9]' "$LINES"
	else
		check_eq "$id: router: the ping pattern never shows (encrypted)" \
			"marker 0" "$LINES"
	fi

	peer_down "$left" gwA > /dev/null 2>&1
	peer_down "$right" gwB > /dev/null 2>&1
	local us=$((${EPOCHREALTIME/./} - ${t0/./}))
	printf '# cell %d: %d.%d s\n' "$n" $((us / 1000000)) $((us / 100000 % 10))
}

# The plan, from the cells' names: each cell's checks (cell_checks), the
# module loaded and unloaded when a cell has klips on a side, kmemleak.
with_klips=0
grep -q klips <<< "$cells" && with_klips=1
total=0
while read -r id; do
	cell_checks "$id"
	total=$((total + CELL_CHECKS))
done <<< "$cells"
plan $((total + 2 * with_klips + KMEMLEAK))

kmemleak_clear
[ "$with_klips" = 1 ] && check "insmod klips.ko" klips_insmod "$moddir/klips.ko"
if grep -q xfrm <<< "$cells"; then
	modprobe -a esp4 esp6 ah4 ah6 xfrm_user 2>/dev/null
fi
topo_up

start=$SECONDS
n=0
while read -r id; do
	n=$((n + 1))
	run_cell "$id" "$n"
done <<< "$cells"
echo "# $n cells in $((SECONDS - start)) s"

topo_down
[ "$with_klips" = 1 ] && check "rmmod klips" rmmod klips
rm -rf "$tmp"
check_kmemleak "the tunnel tests"
done_testing
