#!/bin/bash
# Runs the KUnit suites inside a test guest: klips_test.ko runs them when it
# is loaded. The kernel log of that load is saved for kunit.py parse on the
# host (the boot-time KUnit block is left behind by `dmesg -C`).
#
#   tests/kunit.sh <directory with klips.ko and klips_test.ko>
set -u
dir=${1:?usage: kunit.sh <module dir>}
insmod "$dir/klips.ko" || exit 1
dmesg -C
insmod "$dir/klips_test.ko"
dmesg > "$KLIPS_OUT/kunit.log"
rmmod klips_test
rmmod klips
echo "kunit: $(grep -c '^\[.*\] *ok\|not ok' "$KLIPS_OUT/kunit.log") result lines saved"
