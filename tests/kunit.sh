#!/bin/bash
# Runs the KUnit suites inside a test guest: klips_test.ko runs them when it
# is loaded. Each suite's KTAP is saved from debugfs (complete, unlike the
# kernel log buffer) for kunit.py parse on the host.
#
#   tests/kunit.sh <directory with klips.ko and klips_test.ko>
#
# Its own TAP checks that every suite declared in tests/kunit/ registered
# and left results (a suite that fails to register would otherwise just be
# missing from the host's count), and that nothing leaked once both modules
# are gone.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
dir=${1:?usage: kunit.sh <module dir>}

# The suites the sources declare: every "kunit_test_suite(x)" names a
# struct whose .name is "klips_...".
mapfile -t suites < <(sed -n 's/^[[:space:]]*\.name = "\(klips_[a-z0-9_]*\)",$/\1/p' \
	"$here"/kunit/*_test.c | sort)
plan $((4 + ${#suites[@]} + KMEMLEAK))

check_eq "tests/kunit/ declares as many suites as kunit_test_suite() calls" \
	"$(cat "$here"/kunit/*_test.c | grep -c '^kunit_test_suite(')" "${#suites[@]}"
kmemleak_clear
check "insmod klips.ko" klips_insmod "$dir/klips.ko"
check "insmod klips_test.ko (runs the suites)" insmod "$dir/klips_test.ko"
for s in "${suites[@]}"; do
	# debugfs has a directory per registered suite, results once it ran.
	# (debugfs files have no size: copy, then look at the copy.)
	check "suite $s registered and ran" \
		sh -c "cat '/sys/kernel/debug/kunit/$s/results' > '$KLIPS_OUT/kunit-$s.ktap' &&
			grep -q '^ *ok ' '$KLIPS_OUT/kunit-$s.ktap'"
done
check "rmmod klips_test klips" rmmod klips_test klips
check_kmemleak "KUnit suites, both modules removed"
done_testing
