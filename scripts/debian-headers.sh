#!/bin/bash
# Prints the build trees of Debian's installed amd64 kernel headers that CI
# builds against: the newest 6.1 and the newest 6.12 (scripts/setup.sh
# installs them).
set -euo pipefail
for series in 6.1 6.12; do
	ls -d /usr/src/linux-headers-"$series".*-amd64 2>/dev/null |
		grep -v -e cloud -e rt- | sort -V | tail -1
done
