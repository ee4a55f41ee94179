#!/bin/bash
# Every citation of the project's contracts in src/, tests/ and tools/
# names its file under Documentation/klips/ (the living copy, which a clone
# has), and every file so named exists. Prints each offending line; exit
# status 1 if there is one.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bad=0
files=$(git ls-files src tests tools | grep -vE '\.(pcap|bin|gz)$')
# A contract cited by its bare name, or by a path outside the repository.
# shellcheck disable=SC2086
if grep -nHE '(design|proc|cli|architecture)\.md|\.\./shared/' $files |
	sed -E 's#Documentation/klips/[[:alnum:]_]+\.md##g' |
	grep -E '(^|[^[:alnum:]_])(design|proc|cli|architecture)\.md|\.\./shared/'; then
	bad=1
fi
# shellcheck disable=SC2086
for f in $(grep -ohE 'Documentation/klips/[[:alnum:]_.-]+\.(md|dot)' $files | sort -u); do
	if [ ! -f "$f" ]; then
		echo "cited but missing: $f"
		bad=1
	fi
done
exit $bad
