#!/bin/bash
# `make demo`: boots the release UML guest and runs scripts/guest/demo.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" > /dev/null
echo "demo: building the guest kernel (cached after the first time) and klips.ko" >&2
kdir=$("$top/scripts/uml-build.sh" release)
"$top/scripts/build-module.sh" "$kdir" "$top/build/mod/uml-release" > /dev/null
make -C "$top/tools" -s
run=$top/build/runs/demo-$(date +%s)
mkdir -p "$run"
KLIPS_RUN_DIR=$run KLIPS_UML_QUIET=1 "$top/scripts/uml-run.sh" release \
	"$top/scripts/guest/demo.sh" "$top/build/mod/uml-release" > "$run/console.log" 2>&1 || {
	tail -30 "$run/console.log"
	exit 1
}
cat "$run/output.txt"
