#!/bin/bash
# `make check-mutants`: proof that the suite catches real bugs. Each patch
# in tests/mutants/ is one deliberate bug in src/; it is applied to a
# scratch copy of the module, built (W=1, warning-free), and the guest
# stages its "Stages:" line names run against it, cheapest first, until one
# fails. A mutant is killed by a failing check (a "not ok" line, a failing
# KUnit case), a guest that dies or times out, or a sanitizer report in its
# kernel log: what scripts/check.sh fails a stage for. Each stage first
# runs once unmutated in the same scratch copy (its control) and must pass.
#
#   scripts/mutants.sh [mutant...]      (default: every tests/mutants/*.patch)
#
# Prints a table: the mutant, and the stage and first failing check that
# killed it, or SURVIVED. Exit status non-zero if a mutant survived, a
# patch no longer applies (a refactor must carry its mutants along), a
# build failed or warned, or a control failed.
#
# Work happens in $KLIPS_MUTANTS_DIR (default /tmp/klips-mutants): a
# snapshot of the checkout (other work on the tree does not change a run
# under way), one build directory every mutant is built in (objects of the
# files a mutant does not touch are reused: a mutant costs one compile),
# and a run directory per stage run, kept for reading afterwards.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${KLIPS_MUTANTS_DIR:-/tmp/klips-mutants}
snap=$work/tree
build=$work/build
logs=$work/logs
runs=$work/runs

# First the snapshot, then this script again from it: bash reads a script
# as it runs, so not even an edit of this file disturbs a run under way.
if [ "${KLIPS_MUTANTS_SNAPSHOT:-}" != "$snap" ]; then
	mkdir -p "$work"
	exec 8> "$work.lock"
	flock -n 8 || { echo "mutants: another run holds $work.lock" >&2; exit 1; }
	rm -rf "$snap" "$logs" "$runs"
	mkdir -p "$snap" "$logs" "$runs"
	rsync -a --exclude=/build --exclude=/.git "$top/" "$snap/"
	KLIPS_MUTANTS_SNAPSHOT=$snap exec "$snap/scripts/mutants.sh" "$@"
fi
start=$SECONDS

kdir=$("$top/scripts/uml-build.sh" debug) || exit 1
make -C "$snap/tools" > "$logs/tool.log" 2>&1 ||
	{ tail -20 "$logs/tool.log"; echo "mutants: tools/ipsec does not build" >&2; exit 1; }

if [ $# -gt 0 ]; then
	patches=()
	for m in "$@"; do
		patches+=("$snap/tests/mutants/${m%.patch}.patch")
	done
else
	patches=("$snap"/tests/mutants/*.patch)
fi

failures=0
rows=()
row() {	# row <mutant> <result> <seconds>
	rows+=("$(printf '%-30s %4ss  %s' "$1" "$3" "$2")")
	printf '%-30s %4ss  %s\n' "$1" "$3" "$2"
}

# Every patch must apply to the tree as it is, before anything is built:
# exactly (no fuzz; moved lines are fine), else the run fails.
for p in "${patches[@]}"; do
	if [ ! -f "$p" ]; then
		echo "mutants: no such mutant: $p" >&2
		exit 1
	fi
	out=$logs/$(basename "$p" .patch).apply
	if ! patch -d "$snap" -p1 --dry-run --fuzz=0 -s -i "$p" > "$out" 2>&1 ||
	   ! grep -q '^Stages: [a-z]' "$p"; then
		echo "mutants: $(basename "$p") does not apply to src/ (or has no Stages: line):"
		sed 's/^/    /' "$out"
		failures=$((failures + 1))
	fi
done
[ "$failures" -eq 0 ] || { echo "mutants: $failures patches do not apply"; exit 1; }

# The build directory's sources become the snapshot's, and every file
# whose content changed gets a new modification time (rsync without -t),
# so that make rebuilds what the previous mutant compiled. Objects stay.
sync_tree() {
	rsync -rlpD --checksum --delete --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' \
		--exclude='*.mod*' --exclude='modules.order' --exclude='Module.symvers' \
		--filter='protect *.o' --filter='protect *.ko' --filter='protect .*.cmd' \
		--filter='protect *.mod' --filter='protect *.mod.c' --filter='protect *.mod.o' \
		--filter='protect modules.order' --filter='protect Module.symvers' \
		"$snap/Kbuild" "$snap/src" "$snap/include" "$snap/tests" "$build/"
}

# build <name> [patch]: the module, mutated by the patch if one is given,
# W=1; fails when it does not build or the log has a warning (modpost's
# WARNING: too).
build() {
	local name=$1 patch=${2:-} log=$logs/$1.build.log
	mkdir -p "$build"
	: > "$log"
	sync_tree
	if [ -n "$patch" ] && ! patch -d "$build" -p1 --fuzz=0 --no-backup-if-mismatch -s \
			-i "$patch" >> "$log" 2>&1; then
		return 1
	fi
	make -C "$kdir" ARCH=um M="$build" W=1 KLIPS_KUNIT=m modules >> "$log" 2>&1 &&
		! grep -qiE 'warning:|error:' "$log"
}

# The reports scripts/check.sh's sanitizer_scan fails a stage for.
SANITIZER='BUG:|WARNING:|UBSAN:|KASAN|kmemleak: [0-9]+ new suspected|kmemleak: .*disabled|possible (recursive|circular) locking|inconsistent lock state|bad unlock balance|lock held when returning|turning off the locking correctness validator|suspicious RCU usage|rcu: INFO|self-detected stall|blocked for more than|Oops|general protection|Kernel panic|unregister_netdevice: waiting for|ref_tracker:|printk messages dropped'

# The first failing KUnit case of a run, "<suite>: <case>[: <param>]
# (<file:line>)", from the KTAP files tests/kunit.sh saved. In KTAP a
# parameter's line comes before its case's, indented deeper.
ktap_failure() {
	local k
	for k in "$1"/kunit-*.ktap; do
		[ -f "$k" ] || continue
		awk -v suite="$(basename "$k" .ktap)" '
			/(EXPECTATION|ASSERTION) FAILED at / && !at {
				at = $0; sub(/.* FAILED at /, "", at); sub(/.*\//, "", at)
			}
			/^[[:space:]]*not ok / {
				match($0, /^[[:space:]]*/)
				d = RLENGTH
				name = $0
				sub(/^[[:space:]]*not ok [0-9]+ /, "", name)
				if (!first) { first = name; depth = d; next }
				# The case a parameter belongs to; not the suite (column 0).
				if (d < depth && d > 0 && !parent) { parent = name; depth = d }
			}
			END {
				if (!first) exit 1
				sub(/^kunit-/, "", suite)
				printf "%s: %s%s%s\n", suite, parent ? parent ": " : "", first,
					at ? " (" at ")" : ""
			}' "$k" && return 0
	done
	return 1
}

# verdict <stage> <run dir> <exit status>: prints why the run failed, the
# first failing check first; prints nothing when it passed.
verdict() {
	local stage=$1 run=$2 rc=$3 line planned ran hit sub
	# The KUnit cases first: tests/kunit.sh's own checks only say that a
	# suite had a failure.
	if [ "$stage" = kunit ] && line=$(ktap_failure "$run"); then
		echo "kunit: $line"
		return
	fi
	line=$(grep -m1 -E '^not ok ' "$run/output.txt" 2>/dev/null)
	if [ -n "$line" ]; then
		echo "$stage: ${line#not ok }"
		return
	fi
	hit=$( { grep -vE '^(not )?ok [0-9]+ - ' "$run.console"; cat "$run/dmesg.txt" 2>/dev/null; } |
		grep -m1 -E "$SANITIZER")
	# Where a guest died: in which KUnit suite after which case, or after
	# which check of the script.
	sub=$(awk '
		/^    # Subtest: / { suite = $0; sub(/.*# Subtest: /, "", suite); w = "in " suite }
		/^    (not )?ok [0-9]+ [^-]/ { c = $0; sub(/^ *(not )?ok [0-9]+ /, "", c); w = "in " suite " after " c }
		/^(not )?ok [0-9]+ - / { c = $0; sub(/^(not )?ok [0-9]+ - /, "", c); w = "after \"" c "\"" }
		END { print w }' "$run.console" 2>/dev/null)
	case $rc in
	0) ;;
	124) echo "$stage: timed out${sub:+ $sub}${hit:+: $hit}"; return ;;
	125) echo "$stage: guest died${sub:+ $sub}${hit:+: $hit}"; return ;;
	*)
		line=$(grep -m1 -E '^# ran [0-9]+ of [0-9]+' "$run/output.txt" 2>/dev/null)
		echo "$stage: exit $rc${line:+ ($line)}${hit:+: $hit}"
		return
		;;
	esac
	if [ -n "$hit" ]; then
		echo "$stage: kernel log: $hit"
		return
	fi
	planned=$(grep -m1 -oE '^1\.\.[0-9]+$' "$run/output.txt" 2>/dev/null)
	ran=$(grep -cE '^(not )?ok ' "$run/output.txt" 2>/dev/null)
	if [ -z "$planned" ] || [ "${planned#1..}" -ne "$ran" ]; then
		echo "$stage: ran $ran of ${planned#1..} planned checks"
		return
	fi
	if [ ! -s "$run/dmesg.txt" ]; then
		echo "$stage: no dmesg saved by the guest"
		return
	fi
}

# The processes a run started, by id: the guest kernel (UML) makes a
# session of its own, so neither its process group nor its session is the
# run's.
descendants() {	# descendants <pid>
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}

# run_stage <stage> <run dir> <timeout s> [stop]: one guest; with "stop"
# it is stopped soon after its first failing check (a mutant needs no
# more: the rest of the stage would only cost time). Sets $rc.
run_stage() {
	local stage=$1 run=$2 stop=${4:-} pid p pids
	local -A born
	rm -rf "$run" "$run.console"
	mkdir -p "$run"
	KLIPS_UML_TIMEOUT=$3 KLIPS_RUN_DIR=$run "$snap/scripts/uml-run.sh" debug \
		"$snap/tests/$stage.sh" "$build" > "$run.console" 2>&1 < /dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$stop" ] && grep -q '^not ok ' "$run/output.txt" 2>/dev/null; then
			sleep 3	# the evidence lines that follow it
			pids=$(descendants "$pid")
			born=()
			for p in $pids; do
				born[$p]=$(ps -o lstart= -p "$p")
				kill -TERM "$p" 2>/dev/null
			done
			sleep 5
			# Those still there, and still the same processes.
			for p in $pids; do
				[ -n "${born[$p]}" ] &&
					[ "$(ps -o lstart= -p "$p")" = "${born[$p]}" ] &&
					kill -KILL "$p" 2>/dev/null
			done
			break
		fi
		sleep 2
	done
	wait "$pid"
	rc=$?
}

# Controls: each stage once, unmutated, before the first mutant that needs
# it; its time sets the mutants' timeout for that stage.
declare -A control_ok control_time
control_spent=0
control() {	# control <stage>: 0 if the stage passes unmutated
	local stage=$1 why t0=$SECONDS
	[ -n "${control_ok[$stage]:-}" ] && return "${control_ok[$stage]}"
	control_ok[$stage]=1
	built=control
	if ! build control; then
		echo "mutants: the unmutated module does not build warning-free:"
		grep -iE 'warning:|error:' "$logs/control.build.log" | head -5 | sed 's/^/    /'
		control_spent=$((control_spent + SECONDS - t0))
		failures=$((failures + 1))
		return 1
	fi
	control_spent=$((control_spent + SECONDS - t0))
	t0=$SECONDS
	run_stage "$stage" "$runs/control-$stage" 1200
	control_time[$stage]=$((SECONDS - t0))
	control_spent=$((control_spent + SECONDS - t0))
	why=$(verdict "$stage" "$runs/control-$stage" "$rc")
	if [ -n "$why" ]; then
		row "control: $stage" "FAILED: $why" "${control_time[$stage]}"
		failures=$((failures + 1))
		return 1
	fi
	row "control: $stage" "passed" "${control_time[$stage]}"
	control_ok[$stage]=0
}

survivors=0 kills=0
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	read -r -a stages <<< "$(sed -n 's/^Stages: //p' "$p" | head -1)"
	# The mutant's own time: without a control that ran for it.
	t0=$SECONDS c0=$control_spent
	killed='' built=''
	for st in "${stages[@]}"; do
		# A control rebuilds the unmutated module: the mutant after it.
		if ! control "$st"; then
			killed="NOT RUN: the control of $st failed"
			break
		fi
		if [ "$built" != "$name" ] && ! build "$name" "$p"; then
			why=$(grep -m1 -iE 'warning:|error:|failed|reject' "$logs/$name.build.log")
			killed="BUILD FAILED OR WARNED: ${why:-see $logs/$name.build.log}"
			failures=$((failures + 1))
			break
		fi
		built=$name
		# KUnit is short, and its KTAP is saved only at its end.
		run_stage "$st" "$runs/$name-$st" $((2 * control_time[$st] + 120)) \
			"$([ "$st" = kunit ] || echo stop)"
		killed=$(verdict "$st" "$runs/$name-$st" "$rc")
		[ -n "$killed" ] && break
	done
	if [ -n "$killed" ]; then
		row "$name" "$killed" $((SECONDS - t0 - control_spent + c0))
		case $killed in
		"NOT RUN: "* | "BUILD FAILED"*) ;;
		*) kills=$((kills + 1)) ;;
		esac
	else
		row "$name" "SURVIVED (${stages[*]})" $((SECONDS - t0 - control_spent + c0))
		survivors=$((survivors + 1))
	fi
done

echo
echo "== mutation run: ${#patches[@]} mutants, $((SECONDS - start)) s (runs: $runs)"
printf '%-30s %5s  %s\n' mutant time "killed by (stage: first failing check)"
printf '%s\n' "${rows[@]}"
echo "$kills killed, $survivors survived, $failures failures (patch, build or control)"
[ "$survivors" -eq 0 ] && [ "$failures" -eq 0 ]
