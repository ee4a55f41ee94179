#!/bin/bash
# PID 1 of every test guest (UML with hostfs root, or qemu after the
# initramfs switched to the host's root over 9p). The host's filesystem is
# our root, so everything here must stay inside the guest: private mounts
# only, results written to the directory named by klips_out=.
#
# Kernel command line: klips_cmd=<script> klips_out=<dir> klips_mods=<dir>
# [klips_args=<arg,arg,...>] [klips_cache=<dir>, exported as KLIPS_CACHE]. The script's exit status is written to
# <dir>/exitcode and, under UML, to /proc/exitcode.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

cmd= out= mods= args=
mount -t proc proc /proc 2>/dev/null
for word in $(cat /proc/cmdline); do
	case "$word" in
	klips_cmd=*) cmd=${word#klips_cmd=} ;;
	klips_out=*) out=${word#klips_out=} ;;
	klips_mods=*) mods=${word#klips_mods=} ;;
	klips_args=*) args=${word#klips_args=} ;;
	klips_cache=*) export KLIPS_CACHE=${word#klips_cache=} ;;
	esac
done
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
# bash process substitution (the tests' diffs) needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# The guest's /tmp is its own, but a checkout (or a results directory, or
# the module tree) may live under the host's /tmp: keep the host's /tmp
# reachable and bind what the guest needs from it (the script, the results,
# the modules, paths among the script's arguments) back into place.
mkdir -p /run/klips-host-tmp
mount --bind /tmp /run/klips-host-tmp
mount -t tmpfs tmpfs /tmp
for p in "$cmd" "$out" "$mods" ${args//,/ }; do
	case $p in
	/tmp/?*)
		d=${p#/tmp/}
		d=${d%%/*}
		if [ -d "/run/klips-host-tmp/$d" ] && [ ! -d "/tmp/$d" ]; then
			mkdir -p "/tmp/$d"
			mount --bind "/run/klips-host-tmp/$d" "/tmp/$d"
		fi
		;;
	esac
done
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmpfs /var/run 2>/dev/null
# The guest kernel's own modules, for modprobe (crypto, esp4, ...).
if [ -n "$mods" ] && [ -d "$mods" ]; then
	mount --bind "$mods" /lib/modules
fi
ip link set lo up
hostname klips-guest

rc=1
[ -n "$out" ] && mkdir -p "$out"
if [ -n "$cmd" ] && [ -x "$cmd" ]; then
	IFS=, read -r -a argv <<< "$args"
	export KLIPS_OUT=$out
	# The script's own output (TAP) goes to a file as well as to the
	# console, so that kernel messages never mix into what is counted.
	"$cmd" "${argv[@]}" < /dev/null 2>&1 | tee "$out/output.txt"
	rc=${PIPESTATUS[0]}
else
	echo "guest-init: no runnable klips_cmd= ('$cmd')"
fi
# The whole kernel log, for the host's scan: the console may have missed
# messages (quiet, or printk's rate limits), dmesg has them all (the log
# buffer is sized for a whole run: CONFIG_LOG_BUF_SHIFT, log_buf_len=).
[ -n "$out" ] && dmesg > "$out/dmesg.txt" 2>&1
[ -n "$out" ] && echo "$rc" > "$out/exitcode"
echo "guest-init: exit $rc"
[ -w /proc/exitcode ] && echo "$rc" > /proc/exitcode
sync
poweroff -f
