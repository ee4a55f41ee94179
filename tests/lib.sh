# shellcheck shell=bash
# TAP helpers for the guest-side test scripts. Each check prints one
# "ok N - what" or "not ok N - what" line (with the evidence as "#" lines);
# the host counts those lines, so every check must be able to fail.

# shellcheck source=tests/klipsmod.sh
. "$(dirname "${BASH_SOURCE[0]}")/klipsmod.sh"

T_N=0
T_FAIL=0

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

# check_fails "what" command...: passes when the command fails.
check_fails() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		not_ok "$what"
		printf '%s\n' "$out" | sed 's/^/#   /'
	else
		ok "$what"
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

# A kmemleak scan; passes when nothing new leaked since kmemleak_clear.
kmemleak_clear() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
}

check_kmemleak() {
	local report
	if [ ! -w /sys/kernel/debug/kmemleak ]; then
		# Not a debug kernel: nothing to check, and nothing to count.
		return 0
	fi
	# Objects freed under RCU need a grace period and a second scan.
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	report=$(cat /sys/kernel/debug/kmemleak)
	check_eq "$1: kmemleak reports nothing" "" "$report"
}

# Ends the script: the plan line, and a non-zero status on any failure.
done_testing() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
}
