#!/bin/bash
# Boot a UML guest whose PID 1 (scripts/guest-init.sh) runs one script.
#
#   scripts/uml-run.sh release|debug <guest-script> [args...]
#
# The guest's console goes to stdout; the exit status is the script's, or
# 124 on timeout, 125 when the guest died before the script finished
# (panic, oops, any warning: the debug guest runs with panic_on_warn).
# KLIPS_RUN_DIR, if set, is where results go (default: a fresh directory
# under build/runs/); KLIPS_UML_TIMEOUT bounds the run (default 1200 s).
set -euo pipefail
variant=${1:?usage: uml-run.sh release|debug <script> [args]}
script=${2:?usage: uml-run.sh release|debug <script> [args]}
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
kdir=$("$top/scripts/uml-build.sh" "$variant")
script=$(realpath "$script")

run=${KLIPS_RUN_DIR:-$top/build/runs/$(date +%s)-$$}
mkdir -p "$run/uml"
rm -f "$run/exitcode"
args=$(IFS=,; echo "$*")

cmdline=(mem=1536M rootfstype=hostfs rootflags=/ rw
	init="$top/scripts/guest-init.sh" uml_dir="$run/uml" umid=klips
	con=null con0=null,fd:1 panic=-1 oops=panic
	klips_cmd="$script" klips_out="$run" klips_mods="$kdir/mods/lib/modules"
	klips_cache="$KLIPS_CACHE")
[ -n "$args" ] && cmdline+=(klips_args="$args")
[ -n "${KLIPS_UML_QUIET:-}" ] && cmdline+=(quiet)
if [ "$variant" = debug ]; then
	cmdline+=(panic_on_warn=1 kmemleak=on)
fi

set +e
timeout --kill-after=10 "${KLIPS_UML_TIMEOUT:-1200}" \
	"$kdir/linux" "${cmdline[@]}" < /dev/null
rc=$?
set -e
stty sane 2>/dev/null || true
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "uml-run: timed out" >&2
	exit 124
fi
if [ ! -f "$run/exitcode" ]; then
	echo "uml-run: the guest died before its script finished (uml exit $rc)" >&2
	exit 125
fi
exit "$(cat "$run/exitcode")"
