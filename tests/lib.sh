# shellcheck shell=bash
# TAP helpers for the guest-side test scripts. Each check prints one
# "ok N - what" or "not ok N - what" line (with the evidence as "#" lines);
# the host counts those lines, so every check must be able to fail.

# shellcheck source=tests/klipsmod.sh
. "$(dirname "${BASH_SOURCE[0]}")/klipsmod.sh"

T_N=0
T_FAIL=0
T_PLAN=

# Is kmemleak on in this guest? (uml-run.sh boots the debug guest with
# kmemleak=on; Debian's kernels under qemu have none.) Scripts add it to
# their plan: check_kmemleak counts one check exactly when it is 1.
KMEMLEAK=0
grep -qw kmemleak=on /proc/cmdline 2>/dev/null && KMEMLEAK=1

# plan <n>: how many checks this script runs, declared before the first one
# (the TAP plan line "1..n"). done_testing fails a script that ran a
# different number, and scripts/check.sh fails a stage whose output has
# fewer: a check that vanishes (a helper that died, a loop cut short) is
# a failure, not a smaller total.
plan() {
	if [ -n "$T_PLAN" ] || [ "$T_N" -ne 0 ]; then
		echo "# plan declared twice or after a check"
		T_FAIL=$((T_FAIL + 1))
		return 1
	fi
	T_PLAN=$1
	echo "1..$T_PLAN"
}

ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $*"
}

not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $*"
}

# check "what" command...: passes when the command succeeds.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		not_ok "$what"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check_fails_with "what" regex command...: passes when the command fails
# and what it printed (stdout and stderr) matches the extended regex: the
# errno or message the contract promises, not just any failure.
check_fails_with() {
	local what=$1 regex=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$what"
		echo "#   succeeded:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	elif [[ $out =~ $regex ]]; then
		ok "$what"
	else
		not_ok "$what"
		printf '%s\n' "$out" | sed 's/^/#   /'
		printf '#   does not match /%s/\n' "$regex"
	fi
}

# check_eq "what" expected actual: exact text comparison, diff on failure.
check_eq() {
	local what=$1 expected=$2 actual=$3
	if [ "$expected" = "$actual" ]; then
		ok "$what"
	else
		not_ok "$what"
		diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") |
			sed 's/^/#   /'
	fi
}

# check_match "what" regex actual: actual must match the extended regex.
check_match() {
	local what=$1 regex=$2 actual=$3
	if [[ $actual =~ $regex ]]; then
		ok "$what"
	else
		not_ok "$what"
		printf '#   %s\n#   does not match /%s/\n' "$actual" "$regex"
	fi
}

# absorb: reads unnumbered "ok - what" / "not ok - what" lines (from a
# helper program) into this script's numbered plan; other lines pass.
# Prints nothing of its own; helper_run is what checks the helper.
absorb() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

# helper_run <n> <name> command...: runs a helper that prints unnumbered
# TAP and, as its last line once it ran to its end, "# checks: <count>".
# Its lines join this script's plan, plus one check of the helper itself
# (helper_result). A helper that dies early, or skips checks, fails that
# check instead of shrinking the total.
helper_run() {
	local n=$1 name=$2 out rc
	shift 2
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	helper_result "$n" "$name" "$out" "$rc"
	rm -f "$out"
}

# helper_result <n> <name> <output file> <exit status>: for a helper that
# ran in the background. Absorbs its output; the check: it ran to the end,
# printed exactly <n> checks (the number the caller planned for), counted
# them itself, and its exit status is 0 with no failure, 1 with some.
helper_result() {
	local n=$1 name=$2 out=$3 rc=$4 said got fails want
	absorb < "$out"
	said=$(sed -n 's/^# checks: \([0-9]*\)$/\1/p' "$out" | tail -1)
	got=$(grep -cE '^(not )?ok - ' "$out")
	fails=$(grep -c '^not ok - ' "$out")
	want=$([ "$fails" -eq 0 ] && echo 0 || echo 1)
	check_eq "$name: ran to its end, $n checks, exit status $want" \
		"checks printed $n, counted $n, exit $want" \
		"checks printed $got, counted ${said:-none (died?)}, exit $rc"
}

# wait_until <seconds> command...: runs the command every 0.1 s until it
# succeeds (status 0) or the deadline passes (status 1). For conditions that
# take an unknown time on a loaded machine: never a fixed sleep.
wait_until() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# mon_ready <netns>: a generic netlink socket of the namespace has joined a
# multicast group (an `ipsec monitor` started there is listening). The
# groups column of /proc/net/netlink shows the first 32 groups; klips's
# event group id is below that on the kernels tested.
mon_ready() {
	ip netns exec "$1" awk '$2 == 16 && $4 != "00000000" { f = 1 } END { exit !f }' \
		/proc/net/netlink
}

# now_ms: the time in milliseconds, for timing checks.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# parse_args VAR=value...: the guest scripts' optional settings, exported.
# uml-run.sh passes no environment, so a stage takes them as arguments;
# only the names listed in T_ARGS (space separated) are accepted.
parse_args() {
	local a
	for a in "$@"; do
		case " $T_ARGS " in
		*" ${a%%=*} "*) export "${a%%=*}=${a#*=}" ;;
		*) echo "${0##*/}: unknown argument '$a' (takes: $T_ARGS)" >&2; return 2 ;;
		esac
	done
}

# perf_result <iperf3 -J file>: "<bytes>" the receiver counted at the end
# (end.sum_received.bytes), or what went wrong.
perf_result() {
	/usr/bin/python3 -c 'import json, sys
try:
    e = json.load(open(sys.argv[1]))
except Exception as x:
    sys.exit(print("no JSON result: %s" % x))
if "error" in e:
    print("error: %s" % e["error"])
else:
    print(e["end"]["sum_received"]["bytes"])' "$1" 2>&1
}

# dmesg_mark; ... dmesg_since [dmesg options]: the kernel log since the
# mark. The log is never cleared (dmesg -C): the host scans all of it at
# the end of the run (scripts/guest-init.sh saves it).
dmesg_mark() {
	T_DMESG_MARK="klips-test: mark $$.$RANDOM.$SECONDS"
	echo "$T_DMESG_MARK" > /dev/kmsg
}
dmesg_since() {
	dmesg "$@" | sed -n "/$T_DMESG_MARK\$/,\$p" | sed 1d
}

# A kmemleak scan; passes when nothing new leaked since kmemleak_clear.
# In a guest booted with kmemleak=on a kmemleak that cannot scan (disabled
# after an internal error, or never started) fails the check.
kmemleak_clear() {
	[ "$KMEMLEAK" = 1 ] || return 0
	echo scan > /sys/kernel/debug/kmemleak 2>/dev/null
	echo clear > /sys/kernel/debug/kmemleak 2>/dev/null
}

# check_kmemleak "what": one check, counted only when KMEMLEAK is 1.
check_kmemleak() {
	local report err=""
	[ "$KMEMLEAK" = 1 ] || return 0
	# kmemleak reports only objects older than 5 s (MSECS_MIN_AGE in
	# mm/kmemleak.c), and objects freed after an RCU grace period need a
	# second scan: wait past the age, scan, scan again.
	sleep 6
	echo scan 2> /dev/null > /sys/kernel/debug/kmemleak || err="the scan write failed"
	sleep 1
	echo scan 2> /dev/null > /sys/kernel/debug/kmemleak || err="the scan write failed"
	report=$(cat /sys/kernel/debug/kmemleak 2>&1)
	if dmesg | grep -q 'kmemleak: .*disabled'; then
		err="kmemleak is disabled: $(dmesg | grep -m1 'kmemleak: .*disabled')"
	fi
	check_eq "$1: kmemleak scanned and reports nothing" "" "$err$report"
}

# Ends the script: a non-zero status on any failure, or when the number of
# checks run is not the plan.
done_testing() {
	if [ -z "$T_PLAN" ]; then
		echo "# no plan: the script never called plan"
		return 1
	fi
	if [ "$T_N" -ne "$T_PLAN" ]; then
		echo "# ran $T_N of $T_PLAN planned checks"
		return 1
	fi
	[ "$T_FAIL" -eq 0 ]
}
