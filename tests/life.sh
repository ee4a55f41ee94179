#!/bin/bash
# SA lifetimes (Documentation/klips/design.md, "SA lifecycle and groups"): soft and hard limits
# on bytes, packets, add time and use time, reached by real traffic
# through a klips tunnel between two gateways of tests/topology.sh, or by
# the clock on idle SAs. A soft limit marks the SA dying (it keeps carrying
# traffic) and sends one expire event; a hard limit sends an expire event
# and deletes the SA with its group. Events are read from `ipsec monitor`.
# Run inside a test guest.
#
#   tests/life.sh <directory with klips.ko>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/topology.sh"
. "$here/peer.sh"
mod=${1:?usage: life.sh <module dir>}/klips.ko
tmp=$(mktemp -d /var/tmp/klips-life.XXXXXX)
# shellcheck disable=SC2034 # read by peer.sh
PEER_TMP=$tmp
mon=

stat_of() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/ipsec/stats; }
ipsec_in() { local ns=$1; shift; ip netns exec "$ns" "$PEER_IPSEC" "$@"; }
# pings <count>: hostA -> hostB, one echo request every 0.2 s; the count
# of replies (a reply may take 3 s).
pings() {
	ip netns exec hostA ping -c "$1" -W 3 -i 0.2 -s 56 10.2.0.2 2> /dev/null |
		awk '/packets transmitted/ { print $4 }'
}
# spi_line <ns> <said>: the SA's ipsec_spi line, empty if it is gone.
spi_line() { ip netns exec "$1" grep "^$2 " /proc/net/ipsec_spi; }
# sa_packets <ns> <said>: the packets the SA counted (0 when none, or gone).
sa_packets() {
	ip netns exec "$1" awk -v s="$2" '$1 == s && match($0, /packets\([0-9]+/) {
		n = substr($0, RSTART + 8, RLENGTH - 8) } END { print n + 0 }' /proc/net/ipsec_spi
}
# in_proc <ns> <said>: the /proc files of the namespace that name the SA.
in_proc() {
	local f
	for f in /proc/net/ipsec_spi /proc/net/ipsec_spigrp /proc/net/ipsec/spi/all \
		/proc/net/ipsec/spigrp/all; do
		ip netns exec "$1" grep -qF "$2" "$f" && echo "$f"
	done
}
now() { echo "$EPOCHREALTIME"; }
# since <start> <end>: seconds from start to end, one decimal.
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# between <lo> <hi> <x>: lo <= x <= hi.
between() { awk -v l="$1" -v h="$2" -v x="$3" 'BEGIN { exit !(x >= l && x <= h) }'; }

# ipsec monitor in gwA, each event line stamped with the time it came.
stamp() { local l; while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done; }
mon_start() {
	: > "$tmp/events"
	ip netns exec gwA "$PEER_IPSEC" monitor 2> "$tmp/events.err" > >(stamp > "$tmp/events") &
	mon=$!
	wait_until 20 mon_ready gwA || echo "# ipsec monitor has not joined the event group after 20 s"
}
# events: the events since mon_start that are not adds (the set-up's).
events() { cut -d' ' -f2- "$tmp/events" | grep -v '^add '; }
events_ge() { [ "$(events | wc -l)" -ge "$1" ]; }
# mon_stop <n>: those events, once there are the n the caller expects
# (or 20 s passed).
mon_stop() {
	wait_until 20 events_ge "$1"
	kill -INT "$mon" 2> /dev/null
	wait "$mon" 2> /dev/null
	events
	cat "$tmp/events.err"
}
# event_at <regex>: when the first event line matching it came.
event_at() { awk -v r="$1" '$0 ~ r { print $1; exit }' "$tmp/events"; }
# check_event_time <what> <regex> <lo> <hi> <from> [<to>]: the first event
# matching the regex came at least lo s after <from> and at most hi s after
# <to> (default: <from>). An event that never came fails, with the events
# that did as the evidence.
check_event_time() {
	local what=$1 re=$2 lo=$3 hi=$4 from=$5 to=${6:-$5} at t u
	at=$(event_at "$re")
	if [ -z "$at" ]; then
		not_ok "$what: never seen"
		sed 's/^/#   /' "$tmp/events"
		return
	fi
	t=$(since "$from" "$at") u=$(since "$to" "$at")
	if between "$lo" 99 "$t" && between -1 "$hi" "$u"; then
		ok "$what ($t s)"
	else
		not_ok "$what ($t s, $u s)"
	fi
}
# wait_for <ns> <said> <regex> <seconds>: until the SA's line matches (or
# the SA is gone, for the regex "^$").
sa_matches() { [[ $(spi_line "$1" "$2") =~ $3 ]]; }
wait_for() { wait_until "$4" sa_matches "$1" "$2" "$3"; }

# keys: fresh "<enckey>/<authkey>[/<ah authkey>]" for the suite peer_alg
# chose last.
keys() {
	local e="" a="" h=""
	[ "$PEER_EK" -gt 0 ] && e=$(topo_key "$PEER_EK")
	[ "$PEER_AK" -gt 0 ] && a=$(topo_key "$PEER_AK")
	[ "$PEER_HK" -gt 0 ] && h=$(topo_key "$PEER_HK")
	echo "$e/$a${h:+/$h}"
}
tunnel_up() {	# tunnel_up [esp]: a klips tunnel gwA <-> gwB, fresh keys
	local e1 e2
	peer_alg "${1:-aes-gcm-16}" || return 1
	PEER_ALG=${1:-aes-gcm-16}
	e1=$(keys) e2=$(keys)
	PEER_LIFE_OUT=$LIFE_OUT PEER_LIFE_IN=$LIFE_IN \
		peer_up klips gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 0x1001 0x2001 "$e1" "$e2" &&
		peer_up klips gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 0x2001 0x1001 "$e2" "$e1"
}
tunnel_down() { peer_down klips gwA; peer_down klips gwB; }

OUT=esp.1001@198.51.100.1
IN=esp.2001@192.0.2.1

# The cells of the loops below: the plan counts their checks.
refused=("soft-packets=10,hard-packets=10" "soft-bytes=11,hard-bytes=10"
	"soft-addtime=5,hard-addtime=5" "soft-usetime=9,hard-usetime=3")
# inner layers: the group is deleted once its inbound tun SA counted this
# many packets (soft limit 15, hard 30).
inner_rounds=(5 15 25)
esn_algs=(aes-gcm-16 aes128-sha2_256-128)
# 68 checks outside those loops; one per refused limit, 4 per inner layers
# round, 9 per ESN suite.
plan $((68 + ${#refused[@]} + 4 * ${#inner_rounds[@]} + 9 * ${#esn_algs[@]} + KMEMLEAK))

check "insmod klips.ko" klips_insmod "$mod"
topo_up
# The bytes test's CBC+HMAC runs asynchronously (its inbound SA counts from
# the crypto completion); GCM stays synchronous. Before any transform exists.
modprobe -a cryptd crypto_user
check "cryptd hmac(sha256) registered" /usr/bin/python3 "$here/cryptd.py" \
	'cryptd(hmac(sha256-generic))' ahash

# --- refused ----------------------------------------------------------------------------------
for l in "${refused[@]}"; do
	out=$(ipsec_in gwA spi --said esp.3001@198.51.100.1 --src 192.0.2.1 \
		--esp aes-gcm-16 --enckey "$(topo_key 20)" --life "$l" 2>&1 | grep -v ': warning: ')
	check_match "--life $l: refused, the soft limit is not below the hard one" \
		'^ipsec spi: kernel refused: Invalid argument: --life: a soft limit must be below its non-zero hard limit' \
		"$out"
done
check_eq "nothing was added" "" "$(ip netns exec gwA cat /proc/net/ipsec_spi)"

# --- packets, outbound: 4 pass, the 5th is soft, the 10th hard -------------------------------
LIFE_OUT=soft-packets=5,hard-packets=10 LIFE_IN=''
check "packets: tunnel up" tunnel_up
mon_start
check_eq "packets: 4 pings answered" 4 "$(pings 4)"
check_match "packets: 4 counted, no limit reached, not dying" \
	'^esp.1001@198.51.100.1 ESP_AES_GCM_16: dir=out src=192.0.2.1 iv_bits=64 seq=4 alen=128 eklen=256 life\(c,s,h\)=bytes\(336,0,0\)add\([0-9]+,0,0\)use\([0-9]+,0,0\)packets\(4,5,10\) idle=[0-9]+$' \
	"$(spi_line gwA $OUT)"
check_eq "packets: the 5th answered" 1 "$(pings 1)"
check "packets: the 5th made the SA dying" wait_for gwA $OUT ' state=dying .*packets\(5,5,10\)' 10
check_eq "packets: a dying SA carries traffic: 4 more answered" 4 "$(pings 4)"
check_match "packets: still there, 9 counted" 'state=dying .*packets\(9,5,10\)' "$(spi_line gwA $OUT)"
exp0=$(stat_of gwA OutStateExpired)
check_eq "packets: the 10th, the last one, answered" 1 "$(pings 1)"
check "packets: the 10th deleted the SA" wait_for gwA $OUT '^$' 10
check_eq "packets: the group went with it, from every /proc file" "" \
	"$(in_proc gwA 1001@198.51.100.1)"
check_eq "packets: the inbound group stays" "tun.2001@192.0.2.1 esp.2001@192.0.2.1" \
	"$(ip netns exec gwA cat /proc/net/ipsec_spigrp)"
check_eq "packets: no ping answered after the hard limit" 0 "$(pings 2)"
check_eq "packets: those 2 counted as OutStateExpired" $((exp0 + 2)) "$(stat_of gwA OutStateExpired)"
check_eq "packets: the eroute stays and drops (Documentation/klips/design.md)" 1 \
	"$(ip netns exec gwA grep -c 'tun.1001@198.51.100.1' /proc/net/ipsec_eroute)"
check_eq "packets: events: one soft expire, one hard expire, a del per SA of the group" \
"expire soft esp.1001@198.51.100.1 ESP_AES_GCM_16
expire hard esp.1001@198.51.100.1 ESP_AES_GCM_16
del tun.1001@198.51.100.1 IPIP
del esp.1001@198.51.100.1 ESP_AES_GCM_16" "$(mon_stop 4)"
tunnel_down

# --- bytes, inbound (84-byte inner packets): soft at 400 (5th), hard at 800 (10th) -----------
LIFE_OUT='' LIFE_IN=soft-bytes=400,hard-bytes=800
check "bytes: tunnel up (CBC + HMAC, asynchronous)" tunnel_up aes128-sha2_256-128
mon_start
check_eq "bytes: 4 pings answered" 4 "$(pings 4)"
check_match "bytes: 4 replies counted, 84 bytes each, no limit reached" \
	'^esp.2001@192.0.2.1 ESP_AES_HMAC_SHA2_256: dir=in src=198.51.100.1 iv_bits=128 ooowin=64 seq=4 bit=0xf alen=256 aklen=256 eklen=128 life\(c,s,h\)=bytes\(336,400,800\)add\([0-9]+,0,0\)use\([0-9]+,0,0\)packets\(4,0,0\) idle=[0-9]+$' \
	"$(spi_line gwA $IN)"
check_eq "bytes: the 5th answered" 1 "$(pings 1)"
check "bytes: the 5th reply made the SA dying" wait_for gwA $IN ' state=dying .*bytes\(420,400,800\)' 10
check_eq "bytes: the dying SA receives: 4 more answered" 4 "$(pings 4)"
drv=$(awk '/^driver/ { d = $3 } /^refcnt/ && $3 > 1 && d ~ /^cryptd/ { print d }' /proc/crypto | sort -u)
check_match "bytes: the SAs use the cryptd HMAC" 'cryptd\(hmac\(sha256' "$drv"
check_eq "bytes: the 10th answered" 1 "$(pings 1)"
check "bytes: the 10th reply deleted the SA" wait_for gwA $IN '^$' 10
check_eq "bytes: the inbound group went, from every /proc file" "" "$(in_proc gwA 2001@192.0.2.1)"
check_eq "bytes: no ping answered after the hard limit" 0 "$(pings 2)"
check_eq "bytes: events" \
"expire soft esp.2001@192.0.2.1 ESP_AES_HMAC_SHA2_256
expire hard esp.2001@192.0.2.1 ESP_AES_HMAC_SHA2_256
del tun.2001@192.0.2.1 IPIP
del esp.2001@192.0.2.1 ESP_AES_HMAC_SHA2_256" "$(mon_stop 4)"
tunnel_down

# --- add time, an idle SA: soft after 3 s, hard after 5 s ------------------------------------
# Times count whole seconds: a limit of n s is reached between n - 1 and n s
# after the add (or the first use); the windows allow for the polling.
LIFE_OUT='' LIFE_IN=''
mon_start
t0=$(now)
check "addtime: an idle SA with soft-addtime=3,hard-addtime=5" \
	ipsec_in gwA spi --said esp.3001@198.51.100.1 --src 192.0.2.1 \
	--esp aes-gcm-16 --enckey "$(topo_key 20)" --life soft-addtime=3,hard-addtime=5
# The add happened between t0 and t1: the lower bounds count from t0, the
# upper ones from t1, so that a slow start of the tool is no lateness.
t1=$(now)
# The SA ages: once its add time shows a second, it is not dying yet.
wait_for gwA esp.3001@198.51.100.1 'add\([1-9]' 10
check_match "addtime: mature, 1 or 2 s old, not dying" 'life\(c,s,h\)=add\([12],3,5\)$' \
	"$(spi_line gwA esp.3001@198.51.100.1)"
check "addtime: dying" wait_for gwA esp.3001@198.51.100.1 'state=dying' 10
check_match "addtime: a dying SA shows as such" \
	'^esp.3001@198.51.100.1 ESP_AES_GCM_16: dir=out src=192.0.2.1 state=dying iv_bits=64 alen=128 eklen=128 life\(c,s,h\)=add\([34],3,5\)$' \
	"$(spi_line gwA esp.3001@198.51.100.1)"
check "addtime: gone" wait_for gwA esp.3001@198.51.100.1 '^$' 10
events=$(mon_stop 3)
check_event_time "addtime: soft expire event 2 to 3.5 s after the add" \
	'^[0-9.]+ expire soft' 2 3.5 "$t0" "$t1"
check_event_time "addtime: hard expire event 4 to 5.5 s after the add" \
	'^[0-9.]+ expire hard' 4 5.5 "$t0" "$t1"
check_eq "addtime: events" \
"expire soft esp.3001@198.51.100.1 ESP_AES_GCM_16
expire hard esp.3001@198.51.100.1 ESP_AES_GCM_16
del esp.3001@198.51.100.1 ESP_AES_GCM_16" "$events"

# --- use time: nothing before the first packet; then soft 2 s, hard 4 s after it, idle -------
LIFE_OUT=soft-usetime=2,hard-usetime=4 LIFE_IN=''
check "usetime: tunnel up" tunnel_up
mon_start
# Nothing may happen for 3 s: waiting them out is the test.
sleep 3
check_match "usetime: unused for 3 s: the clock has not started" \
	'life\(c,s,h\)=add\([0-9]+,0,0\)use\(0,2,4\)$' "$(spi_line gwA $OUT)"
t0=$(now)
check_eq "usetime: one ping answered" 1 "$(pings 1)"
check "usetime: dying" wait_for gwA $OUT 'state=dying' 10
check_eq "usetime: a dying SA carries traffic" 1 "$(pings 1)"
check "usetime: gone" wait_for gwA $OUT '^$' 10
events=$(mon_stop 4)
# The first packet leaves a little after t0 (ping starts): up to 0.7 s late.
check_event_time "usetime: soft expire event 1 to 2.7 s after the first packet, idle since" \
	'^[0-9.]+ expire soft' 1 2.7 "$t0"
check_event_time "usetime: hard expire event 3 to 4.7 s after the first packet" \
	'^[0-9.]+ expire hard' 3 4.7 "$t0"
check_eq "usetime: events" \
"expire soft esp.1001@198.51.100.1 ESP_AES_GCM_16
expire hard esp.1001@198.51.100.1 ESP_AES_GCM_16
del tun.1001@198.51.100.1 IPIP
del esp.1001@198.51.100.1 ESP_AES_GCM_16" "$events"
tunnel_down

# --- a hard limit on a layer inside another, its crypto asynchronous ----------------------------
# ESP (CBC + cryptd's HMAC-SHA2-256) inside AH: the packet that reaches
# ESP's limit is still in cryptd when the life work deletes the group; it
# must still get its AH and leave (output.c pins the group).
LIFE_OUT=hard-packets=3 LIFE_IN=''
check "inner limit: tunnel up, tun+esp+ah" tunnel_up aes128-sha2_256-128+ah-hmac-sha1-96
check_eq "inner limit: 3 pings answered, the 3rd the last one" 3 "$(pings 3)"
check "inner limit: the 3rd deleted the group" wait_for gwA $OUT '^$' 10
check_eq "inner limit: AH went with it" "" "$(in_proc gwA ah.1001@198.51.100.1)"
check_eq "inner limit: no ping answered after" 0 "$(pings 1)"
tunnel_down

# --- a hard limit reached while a --del races it: one of them deletes, nothing breaks ---------
LIFE_OUT=soft-packets=1,hard-packets=2 LIFE_IN=''
check "race: tunnel up" tunnel_up
pings 3 > /dev/null &
pid=$!
# The first ping made the SA dying; the second, 0.2 s later, reaches the
# hard limit: the --del races that one.
wait_for gwA $OUT 'state=dying' 10
ipsec_in gwA spi --said $OUT --del 2> /dev/null
wait "$pid"
check_eq "race: the group is gone either way" "" "$(in_proc gwA 1001@198.51.100.1)"
tunnel_down

# --- limits on inbound tun and comp layers, the group deleted under traffic --------------------
# The receive path counts packets on these layers under RCU alone (input.c,
# comp.c): a group deleted while a packet crosses a limit of one of them
# must neither take a reference from zero (a warning: the guest dies) nor
# leave a freed SA on the life work's list (KASAN, kmemleak).
LIFE_OUT='' LIFE_IN=''
# tun_at <n>: gwA's inbound tun SA counted n packets, or is gone already.
tun_at() {
	[ -z "$(spi_line gwA tun.2001@192.0.2.1)" ] || [ "$(sa_packets gwA tun.2001@192.0.2.1)" -ge "$1" ]
}
for round in "${inner_rounds[@]}"; do
	PEER_COMP=1 PEER_LIFE_INNER_IN=soft-packets=15,hard-packets=30 \
		check "inner layers, delete at $round: tunnel up, tun+comp+esp, limits on gwA's inbound tun and comp" \
		tunnel_up
	check_match "inner layers, delete at $round: the inbound tun SA has its limits" \
		'packets\(0,15,30\)' "$(spi_line gwA tun.2001@192.0.2.1)"
	ip netns exec hostA ping -q -c 60 -i 0.01 -s 1000 -p 00 -W 1 10.2.0.2 > /dev/null 2>&1 &
	pid=$!
	# The delete comes before the soft limit, around it, near the hard
	# one: once the layer counted that many of the replies.
	wait_until 20 tun_at "$round"
	ipsec_in gwA spi --said tun.2001@192.0.2.1 --del 2> /dev/null
	wait "$pid"
	check "inner layers, delete at $round: the inbound group is gone" wait_for gwA tun.2001@192.0.2.1 '^$' 10
	check_eq "inner layers, delete at $round: its comp SA went with it" "" "$(in_proc gwA comp.2001@192.0.2.1)"
	tunnel_down
done

# --- the end of the sequence numbers, against XFRM ---------------------------------------------
# SAs that resume where another host left off: klips's ESP SAs are added
# with seq= (and esn) through the kernel's own YNL client, which builds
# the request from Documentation/netlink/specs/klips.yaml; gwB runs XFRM
# with replay-oseq / replay-seq. Without ESN the number 2^32 - 1 is the
# last sent and the next packet is a hard expiry (Documentation/klips/design.md); with ESN both
# directions cross 2^32, which the ICVs cover (authencesn, and the 12-byte
# AAD of GCM).
ynl_dir=$(ls -d "${KLIPS_CACHE:-/var/cache/klips}"/linux-*/tools/net/ynl 2> /dev/null | head -1)
# ynl <ns> <cli.py arguments>
ynl() {
	local ns=$1
	shift
	ip netns exec "$ns" /usr/bin/python3 "$ynl_dir/cli.py" \
		--spec "$here/../Documentation/netlink/specs/klips.yaml" \
		--schema "$ynl_dir/../../../Documentation/netlink/genetlink-legacy.yaml" "$@"
}
ip4int() { local IFS=.; set -- $1; echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4)); }
# esp_json <dst> <src> <spi> <keys> <dir: 1 in, 2 out> <seq> [<bitmap>]: an
# sa-add request for YNL.
esp_json() {
	local ek ak flags=0
	IFS=/ read -r ek ak <<< "$4"
	[ "$SEQ_ESN" = 1 ] && flags=256
	printf '{"said": {"proto": 50, "spi": %d, "dst": {"ip4": %d}}, "src": {"ip4": %d}, "esp": "%s", "enc-key": "%s"%s, "flags": %d, "dir": %d, "seq": %d%s}' \
		"$3" "$(ip4int "$1")" "$(ip4int "$2")" "$PEER_ESP" "${ek#0x}" \
		"${ak:+, \"auth-key\": \"${ak#0x}\"}" "$flags" "$5" "$6" "${7:+, \"bitmap\": $7}"
}
# The PEER_ESP_ADD of peer.sh: SEQ_OUT, SEQ_IN and SEQ_IN_BITMAP are the
# seq and bitmap attributes.
ynl_esp_add() {
	local ns=$1 loc=$2 rem=$3 spo=$4 spi=$5 ko=$6 ki=$7
	ynl "$ns" --do sa-add --json "$(esp_json "$rem" "$loc" "$spo" "$ko" 2 "$SEQ_OUT")" \
		> "$tmp/ynl.out" 2>&1 &&
		ynl "$ns" --do sa-add \
			--json "$(esp_json "$loc" "$rem" "$spi" "$ki" 1 "$SEQ_IN" "$SEQ_IN_BITMAP")" \
			>> "$tmp/ynl.out" 2>&1 || { cat "$tmp/ynl.out"; return 1; }
}
# seq_up <esp>: gwA klips (ESP SAs through YNL), gwB XFRM; fresh keys.
seq_up() {
	local e1 e2
	peer_alg "$1" || return 1
	PEER_ALG=$1
	e1=$(keys) e2=$(keys)
	PEER_ESP_ADD=ynl_esp_add peer_up klips gwA 192.0.2.1 198.51.100.1 10.1.0.0/24 10.2.0.0/24 0x1001 0x2001 "$e1" "$e2" &&
		peer_up xfrm gwB 198.51.100.1 192.0.2.1 10.2.0.0/24 10.1.0.0/24 0x2001 0x1001 "$e2" "$e1"
}
seq_down() { peer_down klips gwA; peer_down xfrm gwB; }
# The ESP sequence numbers the router saw for one SPI, in order, in hex.
wire_start() {
	ip netns exec router tcpdump -n -l -i eth0 esp > "$tmp/wire" 2> "$tmp/wire.err" &
	wire=$!
	wait_until 20 grep -q 'listening on' "$tmp/wire.err" ||
		echo "# tcpdump is not listening after 20 s: $(cat "$tmp/wire.err")"
}
wire_of() { sed -n "s/.*ESP(spi=0x0000$1,seq=\(0x[0-9a-f]*\)).*/\1/p" "$tmp/wire"; }
wire_ge() { [ "$(wire_of "$1" | wc -l)" -ge "$2" ]; }
# wire_seqs <spi> <n>: once tcpdump printed the n packets the caller
# expects of that SPI (or 20 s passed).
wire_seqs() {
	wait_until 20 wire_ge "$1" "$2"
	wire_of "$1" | tr '\n' ' '
}
wire_stop() { kill "$wire" 2> /dev/null; wait "$wire" 2> /dev/null; }
xfrm_errs() {
	ip netns exec gwB awk '$1 ~ /^XfrmIn(StateProtoError|StateSeqError)$/ { printf "%s ", $2 }' \
		/proc/net/xfrm_stat
}
xfrm_ctx() { ip -n gwB -s xfrm state get src "$1" dst "$2" proto esp spi "$3"; }

check "seq: the kernel's YNL client is there" test -f "$ynl_dir/cli.py"
SEQ_ESN=0 SEQ_OUT=$((0xfffffffd)) SEQ_IN=0 SEQ_IN_BITMAP='' PEER_XFRM_OUT='' PEER_XFRM_IN=''
check "seq end: tunnel up, gwA's counter at 2^32 - 3 (klips/XFRM, aes-gcm-16)" seq_up aes-gcm-16
check_match "seq end: /proc shows the counter as added" ' dir=out .* seq=4294967293 ' \
	"$(spi_line gwA $OUT)"
mon_start
wire_start
exp0=$(stat_of gwA OutStateExpired)
check_eq "seq end: 2 pings answered, numbers 2^32 - 2 and 2^32 - 1" 2 "$(pings 2)"
check_match "seq end: XFRM received 2^32 - 1 last" 'seq 0xffffffff, oseq' \
	"$(xfrm_ctx 192.0.2.1 198.51.100.1 0x1001)"
check_eq "seq end: the next ping is not answered" 0 "$(pings 1)"
check_eq "seq end: the wire: the last two numbers, no wrap to 0" "0xfffffffe 0xffffffff " "$(wire_seqs 1001 2)"
wire_stop
check "seq end: the SA is gone" wait_for gwA $OUT '^$' 10
check_eq "seq end: its group with it, from every /proc file" "" "$(in_proc gwA 1001@198.51.100.1)"
check_eq "seq end: the refused packet counted as OutStateExpired" $((exp0 + 1)) \
	"$(stat_of gwA OutStateExpired)"
check_eq "seq end: events: a hard expire, a del per SA of the group" \
"expire hard esp.1001@198.51.100.1 ESP_AES_GCM_16
del tun.1001@198.51.100.1 IPIP
del esp.1001@198.51.100.1 ESP_AES_GCM_16" "$(mon_stop 3)"
seq_down

for alg in "${esn_algs[@]}"; do
	SEQ_ESN=1 SEQ_OUT=$((0xfffffffd)) SEQ_IN=$((0xfffffff0)) SEQ_IN_BITMAP=1
	PEER_XFRM_OUT="flag esn replay-window 32 replay-oseq 0xfffffffd" PEER_XFRM_IN="flag esn replay-seq 0xfffffff0"
	check "esn $alg: tunnel up, both counters at 2^32 - 3 (klips/XFRM)" seq_up "$alg"
	errs0="$(stat_of gwA InAuthError) $(stat_of gwA InReplay) $(xfrm_errs)"
	wire_start
	check_eq "esn $alg: 6 pings answered across 2^32 both ways" 6 "$(pings 6)"
	check_eq "esn $alg: the wire: klips's low halves wrap to 0" \
		"0xfffffffe 0xffffffff 0x0 0x1 0x2 0x3 " "$(wire_seqs 1001 6)"
	check_eq "esn $alg: the wire: XFRM's too" \
		"0xfffffffe 0xffffffff 0x0 0x1 0x2 0x3 " "$(wire_seqs 2001 6)"
	wire_stop
	check_match "esn $alg: klips's counter is 2^32 + 3" ' dir=out .* seq=4294967299 ' \
		"$(spi_line gwA $OUT)"
	# bit 19: 2^32 - 16, the top that was added, received as the bitmap said.
	check_match "esn $alg: klips received up to 2^32 + 3, all 6" ' dir=in .* seq=4294967299 bit=0x8003f ' \
		"$(spi_line gwA $IN)"
	out=$(xfrm_ctx 192.0.2.1 198.51.100.1 0x1001)
	check_match "esn $alg: XFRM received up to 2^32 + 3" 'seq-hi 0x1, seq 0x3,' "$out"
	out=$(xfrm_ctx 198.51.100.1 192.0.2.1 0x2001)
	check_match "esn $alg: XFRM sent up to 2^32 + 3" 'oseq-hi 0x1, oseq 0x3[^0-9a-f]' "$out"
	check_eq "esn $alg: no replay or ICV error on either side" "$errs0" \
		"$(stat_of gwA InAuthError) $(stat_of gwA InReplay) $(xfrm_errs)"
	seq_down
done
SEQ_ESN=0 PEER_XFRM_OUT='' PEER_XFRM_IN=''

# --- a namespace with pending expiries goes away; the module unloads ---------------------------
LIFE_OUT=soft-addtime=30,hard-addtime=60 LIFE_IN=soft-usetime=30,hard-usetime=60
check "teardown: tunnel up with time limits" tunnel_up
check_eq "teardown: traffic" 2 "$(pings 2)"
topo_down
check "rmmod klips with the life work armed in gone namespaces" rmmod klips
check_kmemleak "life tests"
rm -rf "$tmp"
done_testing
