# shellcheck shell=bash
# klips_insmod <klips.ko> [parameters...]: insmod, after loading what the
# module depends on (insmod does not; modprobe of an installed module
# would). tunnel6, for bare IPIP receive, is a module on Debian's kernels
# and in the UML guest.
klips_insmod() {
	local ko=$1 deps
	deps=$(modinfo -F depends "$ko") || return
	if [ -n "$deps" ]; then
		# shellcheck disable=SC2086 # one word per module
		modprobe -a ${deps//,/ } || return
	fi
	insmod "$@"
}
