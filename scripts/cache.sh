# shellcheck shell=bash
# Sourced by the build and run scripts: where the heavy builds (guest
# kernels, Debian's kernel packages, the extracted Linux source) are cached.
# Outside the checkout, so that every clone on the machine (CI's included)
# reuses them and `git clean` never throws them away.
KLIPS_CACHE=${KLIPS_CACHE:-/var/cache/klips}
export KLIPS_CACHE
