#!/bin/bash
# `make bench`: boots the release UML guest and runs scripts/guest/bench.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" > /dev/null
kdir=$("$top/scripts/uml-build.sh" release)
"$top/scripts/build-module.sh" "$kdir" "$top/build/mod/uml-release" > /dev/null
make -C "$top/tools" -s
# 100k XFRM states make UML map more than the default 65530 areas of the
# host (UML then reports "ran out of memory on the host side").
if [ "$(sysctl -n vm.max_map_count)" -lt 1048576 ]; then
	sysctl -qw vm.max_map_count=1048576 || true
fi
run=$top/build/runs/bench-$(date +%s)
mkdir -p "$run"
KLIPS_RUN_DIR=$run KLIPS_UML_QUIET=1 "$top/scripts/uml-run.sh" release \
	"$top/scripts/guest/bench.sh" "$top/build/mod/uml-release" > "$run/console.log" 2>&1 || {
	tail -30 "$run/console.log"
	exit 1
}
cat "$run/output.txt"
