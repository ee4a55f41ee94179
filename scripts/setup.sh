#!/bin/bash
# Install every Debian package klips needs to build, test and benchmark.
# Idempotent: re-running it installs only what is missing.
set -euo pipefail

PKGS=(
	# module and UML kernel builds
	build-essential bc bison flex libelf-dev libssl-dev dwarves sparse kmod cpio
	rsync xz-utils linux-source-6.12
	# real-gateway builds against Debian's own kernels (CI builds both with W=1)
	linux-headers-amd64 linux-headers-6.12-amd64
	# the userspace tool, and its self-test's leak checker
	libmnl-dev pkg-config valgrind
	# netlink: the kernel's ynl generator and client (python3-yaml, -jsonschema)
	python3-yaml python3-jsonschema
	# inside the guests: namespaces, traffic, peers and verifiers
	iproute2 iperf3 tcpdump tshark python3 python3-scapy busybox-static
	iputils-ping ethtool procps nftables conntrack
	# distribution kernels under software emulation
	qemu-system-x86
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: all ${#PKGS[@]} packages present"
