#!/bin/bash
# Build klips.ko against one kernel tree, out of the source tree.
#
#   scripts/build-module.sh <kernel build dir> <output dir> [make args...]
#
# The sources are mirrored into <output dir> so that builds for several
# kernels (UML release/debug, Debian 6.1/6.12) never share objects.
set -euo pipefail
kdir=${1:?usage: build-module.sh KDIR OUTDIR [make args]}
out=${2:?usage: build-module.sh KDIR OUTDIR [make args]}
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$kdir/Makefile" ] || { echo "build-module: no kernel build tree at $kdir" >&2; exit 1; }
mkdir -p "$out"
out=$(realpath "$out")
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' \
	--exclude='*.mod*' --exclude='modules.order' --exclude='Module.symvers' \
	--filter='protect *.o' --filter='protect *.ko' --filter='protect .*.cmd' \
	--filter='protect *.mod' --filter='protect *.mod.c' --filter='protect *.mod.o' \
	--filter='protect modules.order' --filter='protect Module.symvers' \
	"$top/Kbuild" "$top/src" "$top/include" "$top/tests" "$out/"
arch=()
grep -q '^CONFIG_UML=y' "$kdir/.config" 2>/dev/null && arch=(ARCH=um)
make -C "$kdir" "${arch[@]}" M="$out" "$@" modules
