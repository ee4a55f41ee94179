#!/bin/bash
# The control plane under fire, run inside a test guest: a stateful fuzzer of
# the klips generic netlink family in two namespaces, a churn of SAs, groups
# and eroutes under /proc readers and slow dumps in a third (with a process
# without CAP_NET_ADMIN beside it), while a klips tunnel between two more
# namespaces carries pings; then /proc and the dumps must agree in every
# namespace, the tunnel must still work, and the module must unload with
# nothing leaked (tests/nlfuzz.py says what each part checks).
#
#   tests/nlfuzz.sh <directory with klips.ko> [VAR=value ...]
#
#   fz1   one fuzz worker alone: every outcome its model predicts is checked
#   fz2   two fuzz workers racing in one namespace
#   nfc   the churn, its /proc readers, dumper and events listener, and
#         nlfuzz.py perm under unshare -U (no capability over nfc)
#   gwA ==== gwB   a tun+esp (aes-gcm-16) tunnel, 10.1.0.1 <-> 10.2.0.1,
#         keyed with tools/ipsec; nothing else touches these two
#
# Variables, from the environment or as VAR=value arguments (uml-run.sh
# passes no environment):
#   NLFUZZ_SECONDS  how long the fuzz runs: 60 s, 600 s with KLIPS_CHECK_FULL=1
#   NLFUZZ_LARVAL   the module's larval_lifetime for the run: 5 s, so that
#                   getspi SAs expire under the fuzz (most are filled in,
#                   deleted or flushed before the default 30 s)
#   KLIPS_SEED      the seed (printed at the start, for a replay); the
#                   requests of each worker go to $KLIPS_OUT/nlfuzz/ as well
# In the debug UML guest the default run takes about two minutes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
. "$here/topology.sh"
. "$here/peer.sh"
moddir=${1:?usage: nlfuzz.sh <module dir> [VAR=value ...]}
shift
T_ARGS="NLFUZZ_SECONDS NLFUZZ_LARVAL KLIPS_SEED KLIPS_CHECK_FULL"
parse_args "$@" || exit 2
# The guest runs from /: a module directory relative to the project.
[ -e "$moddir/klips.ko" ] || [ ! -e "$top/$moddir/klips.ko" ] || moddir=$top/$moddir
secs=60
[ "${KLIPS_CHECK_FULL:-0}" = 1 ] && secs=600
secs=${NLFUZZ_SECONDS:-$secs}
larval=${NLFUZZ_LARVAL:-5}
seed=${KLIPS_SEED:-$(($(od -An -tu4 -N4 /dev/urandom) % 1000000))}
echo "# nlfuzz: seed $seed, $secs s of fuzzing, larval_lifetime $larval s; to replay:" \
	"scripts/uml-run.sh debug tests/nlfuzz.sh <module dir> KLIPS_SEED=$seed" \
	"NLFUZZ_SECONDS=$secs NLFUZZ_LARVAL=$larval"
py=(/usr/bin/python3 -S "$here/nlfuzz.py")
tmp=$(mktemp -d)
PEER_TMP=$tmp
logdir=${KLIPS_OUT:-$tmp}/nlfuzz
mkdir -p "$logdir"
start=$(date +%s)
on() { ip netns exec "$@"; }

# helper <name> <ns> [unshare] -- <nlfuzz.py args>: runs nlfuzz.py in the
# background in a namespace, its output in $tmp/<name>.out; harvest reads
# them all back.
declare -A pids
helper() {
	local name=$1 ns=$2
	shift 2
	local pre=()
	[ "$1" = unshare ] && { pre=(unshare -U); shift; }
	shift	# --
	on "$ns" timeout $((secs + 240)) "${pre[@]}" "${py[@]}" "$@" \
		> "$tmp/$name.out" 2>&1 &
	pids[$name]=$!
}

# result <name> <status> <checks>: the helper's TAP lines into this plan,
# and a check of the helper itself (tests/lib.sh helper_result): it ran to
# its end and printed the <checks> this script planned for.
result() {
	helper_result "$3" "$1" "$tmp/$1.out" "$2"
}

# A namespace of the fuzz: dummy eth0 with an address of each family, and
# dummy d1 for ipsecN to attach to.
fuzz_ns() {
	local ns=$1 a4=$2 a6=$3
	ip netns add "$ns" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" link add eth0 type dummy &&
		ip -n "$ns" link add d1 type dummy &&
		ip -n "$ns" addr add "$a4" dev eth0 &&
		ip -n "$ns" addr add "$a6" dev eth0 nodad &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" link set d1 up
}

# The tunnel: veth eth0 between gwA and gwB, the inner addresses on a dummy.
tunnel_up() {
	ip netns add gwA && ip netns add gwB &&
		ip link add eth0 netns gwA type veth peer name eth0 netns gwB &&
		ip -n gwA addr add 198.51.100.1/24 dev eth0 &&
		ip -n gwB addr add 198.51.100.2/24 dev eth0 &&
		ip -n gwA link set eth0 up && ip -n gwB link set eth0 up &&
		ip -n gwA link set lo up && ip -n gwB link set lo up &&
		ip -n gwA link add in0 type dummy && ip -n gwB link add in0 type dummy &&
		ip -n gwA addr add 10.1.0.1/24 dev in0 &&
		ip -n gwB addr add 10.2.0.1/24 dev in0 &&
		ip -n gwA link set in0 up && ip -n gwB link set in0 up || return 1
	# shellcheck disable=SC2034 # read by peer.sh
	PEER_MODE=tunnel PEER_ALG=aes-gcm-16
	peer_alg aes-gcm-16 || return 1
	local k1 k2
	k1=$(topo_key 36)/ k2=$(topo_key 36)/
	peer_up klips gwA 198.51.100.1 198.51.100.2 10.1.0.0/24 10.2.0.0/24 \
		0x1001 0x2001 "$k1" "$k2" &&
		peer_up klips gwB 198.51.100.2 198.51.100.1 10.2.0.0/24 10.1.0.0/24 \
			0x2001 0x1001 "$k2" "$k1"
}

ping_ok() { on gwA ping -c "$1" -W 3 -i 0.2 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1; }

# 9 checks of this script's own; the helpers' (warm 6, fz1 8, fz2 11,
# churn 22, perm 2, consist 7 in each of 3 namespaces), each +1 for itself.
plan $((9 + 6 + 8 + 11 + 22 + 2 + 3 * 7 + 8 + KMEMLEAK))
kmemleak_clear
check "insmod klips.ko larval_lifetime=$larval" \
	klips_insmod "$moddir/klips.ko" larval_lifetime="$larval"
grep -q '^klips ' /proc/modules || { done_testing; exit 1; }
check "namespaces fz1, fz2 (192.0.2.1, 2001:db8:1::1) and nfc (203.0.113.1, 2001:db8:3::1)" \
	bash -c "$(declare -f fuzz_ns);
	fuzz_ns fz1 192.0.2.1/24 2001:db8:1::1/64 &&
	fuzz_ns fz2 192.0.2.1/24 2001:db8:1::1/64 &&
	fuzz_ns nfc 203.0.113.1/24 2001:db8:3::1/64"
check "tunnel gwA 198.51.100.1 <-> gwB 198.51.100.2 keyed (tun+esp aes-gcm-16)" tunnel_up
check "tunnel: pings 10.1.0.1 -> 10.2.0.1 before the fuzz" ping_ok 3
echo "# setup took $(($(date +%s) - start)) s"
# Every algorithm once, before the clock of the fuzz runs (the crypto API
# builds and self-tests each transform on its first use, slowly here).
on fz1 timeout 300 "${py[@]}" warm > "$tmp/warm.out" 2>&1
result warm $? 6
echo "# setup and warm-up took $(($(date +%s) - start)) s"

# --- the fuzz, the churn and the traffic, all at once ----------------------------
on gwA ping -q -i 0.05 -w "$secs" -I 10.1.0.1 10.2.0.1 > "$tmp/ping.out" 2>&1 &
ping_pid=$!
helper fz1 fz1 -- fuzz "$secs" "$seed" ns=fz1 workers=1 exact=1 base=0x1000 \
	local=192.0.2.1,2001:db8:1::1 phys=eth0,d1 log="$logdir"
helper fz2 fz2 -- fuzz "$secs" $((seed + 1)) ns=fz2 workers=2 base=0x4000 \
	local=192.0.2.1,2001:db8:1::1 phys=eth0,d1 log="$logdir"
helper churn nfc -- churn "$secs" $((seed + 2))
helper perm nfc unshare -- perm "$secs" $((seed + 3))
declare -A rcs
for name in "${!pids[@]}"; do
	wait "${pids[$name]}"
	rcs[$name]=$?
done
wait "$ping_pid"
echo "# the fuzz took $(($(date +%s) - start)) s since the start"
result fz1 "${rcs[fz1]}" 8
result fz2 "${rcs[fz2]}" 11
result churn "${rcs[churn]}" 22
result perm "${rcs[perm]}" 2

# --- the tunnel, left alone, kept working --------------------------------------
sent=0 got=0
if [[ $(< "$tmp/ping.out") =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
	sent=${BASH_REMATCH[1]} got=${BASH_REMATCH[2]}
fi
if [ "$sent" -gt 0 ] && [ $((got * 2)) -ge "$sent" ]; then
	ok "tunnel: $got of $sent pings answered during the fuzz (at least half)"
else
	not_ok "tunnel: $got of $sent pings answered during the fuzz (at least half)"
	sed 's/^/#   /' "$tmp/ping.out"
fi
check "tunnel: pings still pass after the fuzz" ping_ok 3
check_match "tunnel: gwB's inbound ESP SA counted them (seq=)" \
	'^esp\.1001@198\.51\.100\.2 ESP_AES_GCM_16: dir=in .* seq=[1-9]' \
	"$(on gwB grep '^esp\.1001@' /proc/net/ipsec_spi)"

# --- /proc against the dumps, then empty tables ---------------------------------
for ns in fz1 fz2 nfc; do
	on "$ns" timeout 120 "${py[@]}" consist "$ns" > "$tmp/consist-$ns.out" 2>&1
	result "consist-$ns" $? 7
done
check_eq "klipsdebug: every area off again (debug-set is module-wide)" \
	"" "$(grep -v '=00000000\.$' /proc/net/ipsec_klipsdebug)"

# --- teardown: the namespaces go, the module unloads, nothing leaked -------------
for ns in fz1 fz2 nfc gwA gwB; do
	ip netns pids "$ns" 2> /dev/null | xargs -r kill 2> /dev/null
	ip netns del "$ns"
done
# Namespaces are torn down by a workqueue: give it a moment before rmmod.
unload() {
	local _
	for _ in $(seq 20); do
		rmmod klips 2> /dev/null && return 0
		sleep 0.5
	done
	rmmod klips
}
check "rmmod klips after the namespaces are gone" unload
check_kmemleak "nlfuzz"
echo "# nlfuzz.sh took $(($(date +%s) - start)) s (seed $seed)"
rm -rf "$tmp"
done_testing
