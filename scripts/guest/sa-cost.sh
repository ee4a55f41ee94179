#!/bin/bash
# What one SA costs in kernel memory, measured in a guest:
#
#   scripts/uml-run.sh release|debug scripts/guest/sa-cost.sh <module dir> [N]
#
# Adds N (default 2000) ESP SAs of each of two suites in a fresh namespace
# and prints the growth of Slab + Percpu (and MemAvailable's drop) per SA.
# The debug guest's KASAN redzones inflate the slab figures.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/klipsmod.sh
. "$here/../../tests/klipsmod.sh"
mod=${1:?usage: sa-cost.sh <module dir> [N]}/klips.ko
n=${2:-2000}
ipsec=$here/../../tools/ipsec
klips_insmod "$mod" || exit 1
kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
used() { echo $(($(kb Slab) + $(kb Percpu))); }
key() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for suite in "aes-gcm-16 36 0" "aes256-sha2_256-128 32 32"; do
	set -- $suite
	ip netns add cost
	batch=$(mktemp)
	for ((i = 1; i <= n; i++)); do
		printf 'spi --af inet --edst 192.0.2.%d --spi 0x%x --proto esp --src 198.51.100.1 --esp %s --enckey 0x%s%s\n' \
			$((i % 250 + 1)) $((0x10000 + i)) "$1" "$(key "$2")" \
			"$([ "$3" -gt 0 ] && echo " --authkey 0x$(key "$3")")"
	done > "$batch"
	sync
	echo 3 > /proc/sys/vm/drop_caches
	u0=$(used) a0=$(kb MemAvailable)
	ip netns exec cost "$ipsec" -f "$batch" || echo "# batch failed"
	u1=$(used) a1=$(kb MemAvailable)
	got=$(ip netns exec cost sh -c 'wc -l < /proc/net/ipsec_spi')
	echo "$1: $got SAs: Slab+Percpu +$((u1 - u0)) KiB ($(((u1 - u0) * 1024 / got)) bytes an SA), MemAvailable -$((a0 - a1)) KiB ($(((a0 - a1) * 1024 / got)) bytes an SA)"
	ip netns del cost
	rm -f "$batch"
	sleep 2
done
