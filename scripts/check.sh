#!/bin/bash
# `make check`: everything CI runs, ending with one line
# "N passed, N failed[, N skipped]". Exit status non-zero on any failure.
#
# Stages: static checks (W=1 builds against Debian's 6.1 and 6.12 headers,
# sparse, checkpatch --strict), KUnit in the debug UML guest, the namespace
# and packet-path tests in the debug UML guest, and on Debian's own 6.1 and
# 6.12 kernels under qemu a smoke test, the same namespace tests and a
# klips-against-XFRM tunnel with a pcrypt stress run on four CPUs. A guest
# that dies, times out or logs a KASAN, UBSAN, lockdep or kmemleak report
# fails its stage.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
full=${KLIPS_CHECK_FULL:-0}

pass=0 fail=0 skip=0
failed=()
log=$top/build/check
# Every result, one per line: "<status>\t<check>\t<what>", where <check>
# names the check independently of where it ran (the same test on UML and
# on Debian's two kernels, or in another tunnel shard, is one check), for
# the distinct/repeated/control counts at the end.
results=$log/results.tsv

record() {	# record <name> <0|1|skip>
	case $2 in
	0) pass=$((pass + 1)); echo "PASS: $1" ;;
	skip) skip=$((skip + 1)); echo "SKIP: $1" ;;
	*) fail=$((fail + 1)); failed+=("$1"); echo "FAIL: $1" ;;
	esac
	# "qemu 6.1 netns: ..." and "qemu 6.12 netns: ..." are one check.
	printf '%s\t%s\thost\n' "$2" "host|$(sed -E 's/^qemu [0-9.]+ /qemu /' <<< "$1")" >> "$results"
}

# Where the time goes, printed at the end: each phase runs until the next
# one begins.
times=()
phase_name=
phase_t0=$SECONDS
phase() {	# phase <name>
	[ -z "$phase_name" ] ||
		times+=("$(printf '%6d s  %s' $((SECONDS - phase_t0)) "$phase_name")")
	phase_name=$1
	phase_t0=$SECONDS
}

# Counts the TAP lines a guest script wrote. The plan ("1..N") must come
# before the first check and the stage must have run exactly N checks: a
# check that vanished (a helper that died, a guest that stopped early) fails
# the stage. No line at all is a failure too.
count_tap() {	# count_tap <stage> <script> <output.txt>
	local name=$1 script=$2 f=$3 p n planned first
	p=$(grep -c '^ok ' "$f" 2>/dev/null) || p=0
	n=$(grep -c '^not ok ' "$f" 2>/dev/null) || n=0
	grep '^not ok ' "$f" 2>/dev/null | sed "s/^/FAIL: $name: /"
	pass=$((pass + p))
	fail=$((fail + n))
	[ "$n" -eq 0 ] || failed+=("$name ($n cases)")
	sed -nE "s/^ok [0-9]+ - (.*)/0\t$script|\1\t$name/p; s/^not ok [0-9]+ - (.*)/1\t$script|\1\t$name/p" \
		"$f" 2>/dev/null >> "$results"
	planned=$(grep -m1 -nE '^1\.\.[0-9]+$' "$f" 2>/dev/null)
	first=$(grep -m1 -nE '^(not )?ok ' "$f" 2>/dev/null | cut -d: -f1)
	if [ -z "$planned" ] || { [ -n "$first" ] && [ "${planned%%:*}" -gt "$first" ]; }; then
		record "$name: declared its plan before its first check" 1
	elif [ "${planned#*1..}" -ne $((p + n)) ]; then
		record "$name: ran $((p + n)) of ${planned#*1..} planned checks" 1
	else
		record "$name: ran all ${planned#*1..} planned checks" 0
	fi
}

# Reports in the guest's kernel log that do not stop the guest by
# themselves: in the console, and in the whole dmesg the guest saved at its
# end (scripts/guest-init.sh), which has what the console never showed.
sanitizer_scan() {	# sanitizer_scan <stage> <console log> <run dir>
	local hits dmesg=$3/dmesg.txt
	hits=$( { grep -vE '^(not )?ok [0-9]+ - ' "$2"; cat "$dmesg" 2>/dev/null; } |
		grep -E 'BUG:|WARNING:|UBSAN:|KASAN|kmemleak: [0-9]+ new suspected|kmemleak: .*disabled|possible (recursive|circular) locking|inconsistent lock state|bad unlock balance|lock held when returning|turning off the locking correctness validator|suspicious RCU usage|rcu: INFO|self-detected stall|blocked for more than|Oops|general protection|Kernel panic|unregister_netdevice: waiting for|ref_tracker:|printk messages dropped' |
		head -5)
	if [ ! -s "$dmesg" ]; then
		hits="${hits:+$hits
}no dmesg saved by the guest ($dmesg)"
	fi
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed 's/^/    /'
		record "$1: kernel log free of sanitizer reports" 1
	else
		record "$1: kernel log free of sanitizer reports" 0
	fi
}

rm -rf "$log"
mkdir -p "$log"
: > "$results"

echo "== setup"
phase "setup (packages)"
"$top/scripts/setup.sh" > "$log/setup.log" 2>&1 || { cat "$log/setup.log"; exit 1; }

echo "== builds"
phase "guest kernel (UML debug; cached after the first build)"
kdir=$("$top/scripts/uml-build.sh" debug) || exit 1
phase "module, tool and static checks"
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
src=$(ls -d "$KLIPS_CACHE"/linux-*/ | head -1)
mod=$top/build/mod/uml-debug
if "$top/scripts/build-module.sh" "$kdir" "$mod" W=1 KLIPS_KUNIT=m > "$log/build-uml.log" 2>&1; then
	! grep -iE 'warning:|error:' "$log/build-uml.log"
	record "build: UML debug guest, W=1, warning-free" $?
else
	tail -20 "$log/build-uml.log"
	record "build: UML debug guest, W=1, warning-free" 1
	echo "$pass passed, $fail failed"
	exit 1
fi
if make -C "$top/tools" -s -B > "$log/build-tool.log" 2>&1; then
	! grep -iE 'warning:|error:' "$log/build-tool.log"
	record "build: tools/ipsec, -Wall -Wextra warning-free" $?
else
	cat "$log/build-tool.log"
	record "build: tools/ipsec, -Wall -Wextra warning-free" 1
fi
# The tool's parsers and request builders, offline, under valgrind and
# again built with AddressSanitizer and UBSan (leaks, bad reads, overflows
# fail it).
if make -C "$top/tools" -s check > "$log/tool-selftest.log" 2>&1; then
	n=$(grep -c '^ok' "$log/tool-selftest.log")
	[ "$n" -gt 0 ] && ! grep -q '^not ok' "$log/tool-selftest.log"
	record "tools self-test under valgrind and ASan/UBSan: $n passed" $?
else
	tail -20 "$log/tool-selftest.log"
	record "tools self-test under valgrind" 1
fi
if "$top/scripts/build-module.sh" "$kdir" "$top/build/mod/uml-sparse" C=2 KLIPS_KUNIT=m > "$log/sparse.log" 2>&1; then
	! grep -iE 'warning:|error:' "$log/sparse.log"
	record "sparse: no warnings" $?
else
	tail -20 "$log/sparse.log"
	record "sparse: no warnings" 1
fi
# Both of Debian's trees, or a failure (not two builds and every qemu stage
# silently gone).
if ! debian=$("$top/scripts/debian-headers.sh"); then
	record "Debian's 6.1 and 6.12 header trees are installed" 1
	debian=
fi
for hdr in $debian; do
	name=$(basename "$hdr")
	if "$top/scripts/build-module.sh" "$hdr" "$top/build/mod/$name" W=1 > "$log/build-$name.log" 2>&1; then
		! grep -iE 'warning:|error:' "$log/build-$name.log"
		record "build: Debian $name, W=1, warning-free" $?
	else
		tail -20 "$log/build-$name.log"
		record "build: Debian $name, W=1, warning-free" 1
	fi
done
# The uapi header is the kernel's ynl generator's output, not ours to
# restyle: it is checked by regenerating it instead.
if "$top/scripts/ynl-gen.sh" "$log/klips.h" > "$log/ynl-gen.log" 2>&1 &&
	diff -u include/uapi/linux/klips.h "$log/klips.h" > "$log/ynl-gen.diff"; then
	record "include/uapi/linux/klips.h is what ynl-gen makes of the spec" 0
else
	head -20 "$log/ynl-gen.log" "$log/ynl-gen.diff"
	record "include/uapi/linux/klips.h is what ynl-gen makes of the spec" 1
fi
# The per-op policies and the op table are written by hand for 6.1 (no
# split ops), entry for entry what the generator makes of the spec.
if "$top/scripts/ynl-policy-check.sh" "$log/ynl-policy" > "$log/ynl-policy.log" 2>&1; then
	record "src/ netlink policies are what ynl-gen makes of the spec" 0
else
	head -30 "$log/ynl-policy.log"
	record "src/ netlink policies are what ynl-gen makes of the spec" 1
fi
if perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f \
	$(git ls-files 'src/*.[ch]' 'include/*.h' 'tests/kunit/*.[ch]' |
		grep -v '^include/uapi/linux/klips.h$') > "$log/checkpatch.log" 2>&1; then
	record "checkpatch --strict: src/ include/ tests/kunit/" 0
else
	grep -E 'ERROR|WARNING|CHECK' "$log/checkpatch.log" | head -20
	record "checkpatch --strict: src/ include/ tests/kunit/" 1
fi
if scripts/cite-check.sh > "$log/cite.log" 2>&1; then
	record "citations in src/ tests/ tools/ point into Documentation/klips/" 0
else
	head -20 "$log/cite.log"
	record "citations in src/ tests/ tools/ point into Documentation/klips/" 1
fi

# The guests: every stage boots its own (UML, or Debian's kernel under
# qemu) and writes its results to its own run directory, so up to
# $KLIPS_CHECK_JOBS of them (default: one per CPU; a UML guest keeps one
# CPU busy) run at once. Their results are read afterwards, in the order
# below, whichever finished first.
jobs_max=${KLIPS_CHECK_JOBS:-$(nproc)}
# A guest that shares the CPUs runs longer than one alone: a limit twice
# uml-run.sh's own still stops a hung guest.
export KLIPS_UML_TIMEOUT=${KLIPS_UML_TIMEOUT:-2400}
start_guest() {	# start_guest <name> <command...>: in the background
	local name=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	echo "    started $name"
	(
		t0=$SECONDS
		"$@" > "$log/$name.console" 2>&1 < /dev/null
		echo $? > "$log/$name.rc"
		echo $((SECONDS - t0)) > "$log/$name.secs"
	) &
}

# Debian's kernels for qemu, fetched once before their guests start.
phase "Debian kernels for qemu (cached after the first fetch)"
for hdr in $debian; do
	series=$(sed -E 's/^linux-headers-([0-9]+\.[0-9]+).*/\1/' <<< "$(basename "$hdr")")
	"$top/scripts/qemu-kernel.sh" "$series" > "$log/qemu-kernel-$series.log" 2>&1 ||
		{ tail -5 "$log/qemu-kernel-$series.log"; record "qemu: Debian $series kernel ready" 1; }
done

# One guest boot per script, many cases each. The tunnel matrix is split
# over six guests (TUNNEL_SHARD): each far below the guest's time limit
# (uml-run.sh, 1200 s) even on a loaded machine (three shards took over
# 1200 s each with five guests on two CPUs), and small pieces pack well
# beside the other guests.
# nlfuzz: the stateful netlink fuzzer, 60 s (600 s in make check-full).
# make check-full's tunnel matrix (888 cells) takes 20 guests.
stages=(netns netlink nlfuzz tool path life wire)
shards=6
[ "$full" = 1 ] && shards=20
for ((k = 1; k <= shards; k++)); do
	stages+=("tunnel:$k/$shards")
done
# On Debian's kernels: the smoke test, the same namespace tests as in UML,
# and a klips gateway against an XFRM one on four CPUs with pcrypt.
qstages=()
for hdr in $debian; do
	series=$(sed -E 's/^linux-headers-([0-9]+\.[0-9]+).*/\1/' <<< "$(basename "$hdr")")
	for t in qemu-smoke netns netlink qemu-tunnel; do
		qstages+=("$series:$t:$(basename "$hdr")")
	done
done

# A checkout under /tmp: the guest hides the host's /tmp behind its own
# tmpfs, but not the checkout; the copy reuses the cached guest kernel.
copy=$(mktemp -d /tmp/klips-checkout.XXXXXX)
git ls-files -z | tar --null -T - -cf - | tar -C "$copy" -xf -
marker=klips-guest-private-$$

stage_name() {	# stage_name <tunnel:1/3> -> tunnel-1of3
	local st=$1 t=${1%%:*}
	if [ "$st" = "$t" ]; then
		echo "$t"
	else
		local n=$t-${st#*:}
		echo "${n/\//of}"
	fi
}

echo "== guests, $jobs_max at a time"
phase "guests ($jobs_max at a time; each one's own time below)"
start_uml() {	# start_uml <stage>: a stages[] entry in the debug UML guest
	local st=$1 t=${1%%:*} name
	name=$(stage_name "$st")
	# uml-run.sh passes no environment: the guest scripts take arguments.
	if [ "$t" = tunnel ]; then
		KLIPS_RUN_DIR=$log/$name start_guest "$name" "$top/scripts/uml-run.sh" debug \
			tests/tunnel.sh "$mod" "KLIPS_CHECK_FULL=$full" "TUNNEL_SHARD=${st#*:}"
	elif [ "$t" = nlfuzz ]; then
		KLIPS_RUN_DIR=$log/$t start_guest "$t" "$top/scripts/uml-run.sh" debug \
			"tests/$t.sh" "$mod" "KLIPS_CHECK_FULL=$full"
	else
		KLIPS_RUN_DIR=$log/$t start_guest "$t" "$top/scripts/uml-run.sh" debug \
			"tests/$t.sh" "$mod"
	fi
}
# Longest first, so that the last to finish is a short one and both CPUs
# stay busy to the end. The order follows a warm run alone on 2 CPUs (s):
# tool 617, path 463, wire 338, each tunnel shard 150-170, life 158,
# nlfuzz 130, a qemu stage 13-64, netlink 55, kunit 55, netns 37.
declare -A started=()
first=(tool path wire)
for st in "${stages[@]}"; do
	[ "${st%%:*}" != tunnel ] || first+=("$st")
done
first+=(life nlfuzz)
for st in "${first[@]}"; do
	start_uml "$st"
	started[$st]=1
done
for q in "${qstages[@]}"; do
	IFS=: read -r series t hname <<< "$q"
	arg=$top/build/mod/$hname
	smp=2
	[ "$t" = qemu-smoke ] && arg=$arg/klips.ko
	[ "$t" = qemu-tunnel ] && smp=4
	KLIPS_QEMU_SMP=$smp KLIPS_RUN_DIR=$log/qemu-$series-$t start_guest "qemu-$series-$t" \
		"$top/scripts/qemu-run.sh" "$series" "tests/$t.sh" "$arg"
done
for st in "${stages[@]}"; do
	[ -n "${started[$st]:-}" ] || start_uml "$st"
done
KLIPS_RUN_DIR=$log/kunit start_guest kunit "$top/scripts/uml-run.sh" debug tests/kunit.sh "$mod"
KLIPS_UML_TIMEOUT=300 KLIPS_RUN_DIR=$copy/build/runs/checkout start_guest checkout \
	"$copy/scripts/uml-run.sh" debug "$copy/tests/checkout.sh" "$mod" "$marker"
wait
phase ""

guest_rc() {	# guest_rc <name>: its exit status, 255 if it left none
	cat "$log/$1.rc" 2>/dev/null || echo 255
}
guest_time() {	# guest_time <name>
	times+=("$(printf '%6s s  %s' "$(cat "$log/$1.secs" 2>/dev/null || echo '?')" "  $1")")
}

echo "== a checkout under /tmp (debug UML guest)"
run=$copy/build/runs/checkout
rc=$(guest_rc checkout)
guest_time checkout
cp "$run/output.txt" "$log/checkout.txt" 2>/dev/null
count_tap checkout checkout "$log/checkout.txt"
record "checkout under /tmp: guest finished (exit $rc)" "$([ "$rc" -eq 0 ] && echo 0 || echo 1)"
[ -f "$run/checkout-written" ] && [ ! -e "/tmp/$marker" ]
record "checkout under /tmp: results reached the host, the guest's /tmp did not" $?
sanitizer_scan checkout "$log/checkout.console" "$run"
rm -rf "$copy" "/tmp/$marker"

echo "== KUnit (debug UML guest)"
# tests/kunit.sh checks (TAP, with its plan) that every suite in
# tests/kunit/ registered, and scans for leaks once both modules are gone;
# the suites' own results are KTAP files, parsed here by kunit.py.
run=$log/kunit
rc=$(guest_rc kunit)
guest_time kunit
count_tap kunit kunit "$run/output.txt"
record "kunit: guest finished (exit $rc)" "$([ "$rc" -eq 0 ] && echo 0 || echo 1)"
sanitizer_scan kunit "$run.console" "$run"
ktaps=$(ls "$run"/kunit-*.ktap 2>/dev/null)
if [ -n "$ktaps" ]; then
	for k in $ktaps; do
		suite=$(basename "$k" .ktap)
		python3 "$src/tools/testing/kunit/kunit.py" parse "$k" > "$log/$suite-parse.txt" 2>&1
		summary=$(grep -o 'Ran [0-9]* tests: .*' "$log/$suite-parse.txt" | sed 's/\x1b\[[0-9;]*m//g')
		echo "    ${suite#kunit-}: ${summary:-no summary}"
		grep -E '\[FAILED\]|\[CRASHED\]|\[ERROR\]|\[SKIPPED\]' "$log/$suite-parse.txt" |
			sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
		kp=$(sed -n 's/.*passed: \([0-9]*\).*/\1/p' <<< "$summary")
		kf=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' <<< "$summary")
		kc=$(sed -n 's/.*crashed: \([0-9]*\).*/\1/p' <<< "$summary")
		ks=$(sed -n 's/.*skipped: \([0-9]*\).*/\1/p' <<< "$summary")
		ke=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<< "$summary")
		pass=$((pass + ${kp:-0}))
		# A skipped case is a check that did not run: a failure here.
		fail=$((fail + ${kf:-0} + ${kc:-0} + ${ke:-0} + ${ks:-0}))
		[ $((${kf:-0} + ${kc:-0} + ${ke:-0} + ${ks:-0})) -eq 0 ] || failed+=("$suite cases")
		[ "${kp:-0}" -gt 0 ] || record "$suite: ran no test" 1
		# Each KUnit case and parameter is its own check, run once.
		for ((i = 1; i <= ${kp:-0}; i++)); do
			printf '0\tkunit|%s|%d\tkunit\n' "$suite" "$i"
		done >> "$results"
		for ((i = 1; i <= ${kf:-0} + ${kc:-0} + ${ke:-0} + ${ks:-0}; i++)); do
			printf '1\tkunit|%s|not passed %d\tkunit\n' "$suite" "$i"
		done >> "$results"
	done
else
	record "kunit: no KUnit output" 1
fi

for st in "${stages[@]}"; do
	name=$(stage_name "$st")
	echo "== $name tests (debug UML guest)"
	run=$log/$name
	rc=$(guest_rc "$name")
	guest_time "$name"
	count_tap "$name" "${st%%:*}" "$run/output.txt"
	record "$name: guest finished (exit $rc)" "$([ "$rc" -eq 0 ] && echo 0 || echo 1)"
	sanitizer_scan "$name" "$run.console" "$run"
done

echo "== Debian kernels under qemu"
for q in "${qstages[@]}"; do
	IFS=: read -r series t _ <<< "$q"
	run=$log/qemu-$series-$t
	rc=$(guest_rc "qemu-$series-$t")
	guest_time "qemu-$series-$t"
	count_tap "qemu $series $t" "$t" "$run/output.txt"
	record "qemu $series $t: guest finished (exit $rc)" "$([ "$rc" -eq 0 ] && echo 0 || echo 1)"
	sanitizer_scan "qemu $series $t" "$run.console" "$run"
done

phase ""
echo
echo "== time (s)"
printf '    %s\n' "${times[@]}"
printf '%6d s  in all\n' "$SECONDS" | sed 's/^/    /'

# Honest counts: a check that ran on three kernels, or in each tunnel
# shard, is one check with several results; checks of the peers against
# each other (descriptions "control: ...") are controls, not klips checks.
echo
echo "== counts (results: every ok/not ok; distinct: first time a check ran)"
awk -F'\t' '
	!($3 in res) { order[++ns] = $3 }
	{ res[$3]++ }
	$2 ~ /^[^|]*\|control: / { ctl[$3]++; next }
	!($2 in id) { id[$2] = 1; dist[$3]++; next }
	{ rep[$3]++ }
	END {
		for (i = 1; i <= ns; i++) {
			st = order[i]
			printf "    %-24s %5d results: %5d distinct, %4d repeated, %4d control\n",
				st, res[st], dist[st], rep[st], ctl[st]
		}
	}' "$results"
total=$(wc -l < "$results")
controls=$(cut -f2 "$results" | grep -c '^[^|]*|control: ')
distinct=$(cut -f2 "$results" | grep -v '^[^|]*|control: ' | sort -u | wc -l)
echo
[ ${#failed[@]} -eq 0 ] || printf 'failed: %s\n' "${failed[@]}"
echo "logs: $log"
echo "$distinct distinct checks, $total results ($((total - distinct - controls)) repeated on another kernel or shard, $controls controls)"
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
