#!/bin/bash
# Prints the build trees of Debian's installed amd64 kernel headers that CI
# builds against: the newest 6.1 and the newest 6.12 (scripts/setup.sh
# installs them). Both are required: a missing tree fails here, loudly,
# instead of silently dropping its builds and qemu stages from make check.
set -euo pipefail
for series in 6.1 6.12; do
	tree=$(ls -d /usr/src/linux-headers-"$series".*-amd64 2>/dev/null |
		grep -v -e cloud -e rt- | sort -V | tail -1) || true
	if [ -z "$tree" ] || [ ! -f "$tree/Makefile" ]; then
		echo "debian-headers: no linux-headers-$series.*-amd64 tree in /usr/src: run scripts/setup.sh" >&2
		exit 1
	fi
	echo "$tree"
done
