#!/bin/bash
# Build (or reuse) the User-Mode Linux guest kernel the tests run in.
#
#   scripts/uml-build.sh release|debug
#
# Prints the build directory on stdout. The build is cached outside the
# checkout, under $KLIPS_CACHE (default /var/cache/klips), in
# uml/<version>-<variant>-<hash of the config fragments>/, and redone only
# when Debian's linux-source-6.12 or a fragment changes; every clone on the
# machine shares it.
set -euo pipefail

variant=${1:?usage: uml-build.sh release|debug}
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) ||
	{ echo "uml-build: linux-source-6.12 missing: run scripts/setup.sh" >&2; exit 1; }
version=$(dpkg-query -W -f='${Version}' linux-source-6.12 | tr '~' '_')

frags=("$top/kernel/uml.config")
[ "$variant" = debug ] && frags+=("$top/kernel/uml-debug.config")
[ "$variant" = release ] || [ "$variant" = debug ] ||
	{ echo "uml-build: unknown variant '$variant'" >&2; exit 2; }

key=$(cat "${frags[@]}" "$0" | sha256sum | cut -c1-12)
src=$KLIPS_CACHE/linux-$version
out=$KLIPS_CACHE/uml/$version-$variant-$key
log=$KLIPS_CACHE/uml/$version-$variant-$key.log

if [ -f "$out/.klips-done" ]; then
	echo "$out"
	exit 0
fi

# One build at a time: a second caller (another clone, a parallel test run)
# waits for the first and then finds its kernel done.
mkdir -p "$KLIPS_CACHE/uml"
exec 9> "$KLIPS_CACHE/uml/.lock"
flock 9
if [ -f "$out/.klips-done" ]; then
	echo "$out"
	exit 0
fi
if [ ! -f "$src/.klips-extracted" ]; then
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	echo "uml-build: extracting linux-source $version" >&2
	tar -C "$src.tmp" --strip-components=1 -xf "$tarball"
	touch "$src.tmp/.klips-extracted"
	mv "$src.tmp" "$src"
fi

rm -rf "$out"
mkdir -p "$out"
echo "uml-build: building $variant UML kernel in $out (log: $log)" >&2
start=$(date +%s)
(
	set -e
	# The smallest kernel, plus what the fragments ask for: a guest builds
	# in a few minutes, not ten.
	make -C "$src" O="$out" ARCH=um tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
	make -C "$src" O="$out" ARCH=um olddefconfig
	# Every line of a fragment must survive olddefconfig, or the guest is not
	# the kernel the tests think it is.
	for f in "${frags[@]}"; do
		grep -E '^CONFIG_[A-Z0-9_]+=' "$f" | while IFS= read -r line; do
			opt=${line%%=*} val=${line#*=}
			if [ "$val" = n ]; then
				grep -q "^$opt=" "$out/.config" && echo "MISSING: $line"
			else
				grep -qx "$line" "$out/.config" || echo "MISSING: $line"
			fi
		done
	done > "$out/config-check.txt"
	# Checked below; no point compiling a kernel that will be refused.
	[ ! -s "$out/config-check.txt" ] || exit 0
	make -C "$src" O="$out" ARCH=um -j"$(nproc)" linux modules
	make -C "$src" O="$out" ARCH=um INSTALL_MOD_PATH="$out/mods" modules_install
) > "$log" 2>&1 || { echo "uml-build: failed, see $log" >&2; tail -20 "$log" >&2; exit 1; }
# A fragment line that did not take (KASAN or lockdep silently off, say)
# would leave every sanitizer check passing: no guest kernel then.
if [ -s "$out/config-check.txt" ]; then
	echo "uml-build: config options did not take, no kernel built:" >&2
	cat "$out/config-check.txt" >&2
	exit 1
fi
echo "uml-build: $variant done in $(( $(date +%s) - start ))s" >&2
touch "$out/.klips-done"
echo "$out"
