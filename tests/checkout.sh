#!/bin/bash
# Run from a checkout under /tmp (scripts/check.sh copies the tree there):
# the guest's /tmp is a private tmpfs, yet the checkout, its results
# directory and the module stay visible (scripts/guest-init.sh).
#
#   tests/checkout.sh <directory with klips.ko> <marker name>
#
# The marker is a file this script writes into the guest's /tmp; the host
# checks afterwards that it never reached the host's /tmp.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
moddir=${1:?usage: checkout.sh <module dir> <marker name>}
marker=${2:?usage: checkout.sh <module dir> <marker name>}

plan 8
echo "# running from $here"
check_match "the script runs from a checkout under /tmp" '^/tmp/.+/tests$' "$here"
check "the checkout's files are readable" test -r "$here/../Makefile"
check_eq "the guest's /tmp is a tmpfs" tmpfs "$(stat -f -c %T /tmp)"
check "the guest writes to its own /tmp" touch "/tmp/$marker"
check "the results directory is writable" touch "$KLIPS_OUT/checkout-written"
check "insmod klips.ko" klips_insmod "$moddir/klips.ko"
check "ipsec0 exists" ip link show ipsec0
check "rmmod klips" rmmod klips
done_testing
