#!/bin/bash
# Generates include/uapi/linux/klips.h from the netlink spec with the
# kernel's own generator (tools/net/ynl/ynl-gen-c.py), which validates the
# spec against the genetlink-legacy schema on the way.
#
#   scripts/ynl-gen.sh [output]     default: include/uapi/linux/klips.h
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$top/include/uapi/linux/klips.h}")
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
src=$(ls -d "$KLIPS_CACHE"/linux-*/ 2>/dev/null | head -1)
[ -n "$src" ] || src=$(dirname "$("$top/scripts/uml-build.sh" release)")/../linux-*/
# The generator finds the schema beside the spec, so the spec must sit in
# the kernel tree's spec folder.
cp "$top/Documentation/netlink/specs/klips.yaml" "$src/Documentation/netlink/specs/klips.yaml"
cd "$src"
/usr/bin/python3 tools/net/ynl/ynl-gen-c.py --mode uapi --header \
	--spec Documentation/netlink/specs/klips.yaml -o "$out"
