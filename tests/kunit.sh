#!/bin/bash
# Runs the KUnit suites inside a test guest: klips_test.ko runs them when it
# is loaded. Each suite's KTAP is saved from debugfs (complete, unlike the
# kernel log buffer) for kunit.py parse on the host.
#
#   tests/kunit.sh <directory with klips.ko and klips_test.ko>
set -u
dir=${1:?usage: kunit.sh <module dir>}
# shellcheck source=tests/klipsmod.sh
. "$(dirname "$0")/klipsmod.sh"
klips_insmod "$dir/klips.ko" || exit 1
insmod "$dir/klips_test.ko" || exit 1
n=0
for suite in /sys/kernel/debug/kunit/klips_*; do
	cat "$suite/results" > "$KLIPS_OUT/kunit-$(basename "$suite").ktap"
	n=$((n + 1))
done
rmmod klips_test
rmmod klips
echo "kunit: $n suites saved"
[ "$n" -gt 0 ]
