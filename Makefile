# SPDX-License-Identifier: GPL-2.0
#
# klips: KLIPS-style IPsec for Linux.
#
#   make                 build klips.ko for this machine's kernel (KDIR=...)
#   make tool            build the ipsec admin tool (tools/ipsec)
#   make install         install it (modules_install) and run depmod
#   make demo            boot a UML guest and show the module at work
#   make check           every test, in the debug UML guest and under qemu
#   make check-full      make check plus the long matrices, then check-mutants
#   make check-mutants   the mutation run: deliberate bugs the suite must catch
#   make bench           klips against the kernel's own XFRM, same guest
#   make clean           remove build products (keeps the cached kernels)
#   make distclean       also remove the cached guest kernels

KDIR ?= /lib/modules/$(shell uname -r)/build

all: module

module:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "klips: no kernel build tree at $(KDIR)."; \
		echo "       Install the headers (Debian: apt-get install linux-headers-\$$(uname -r))"; \
		echo "       or point KDIR at a configured kernel tree: make KDIR=/path/to/linux"; \
		exit 1; \
	fi
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

tool:
	$(MAKE) -C tools

install: module
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules_install
	depmod -a

check:
	scripts/check.sh

check-full:
	KLIPS_CHECK_FULL=1 scripts/check.sh && scripts/mutants.sh

check-mutants:
	scripts/mutants.sh

bench:
	scripts/bench.sh

demo:
	scripts/demo.sh

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; fi
	rm -rf build/mod build/runs build/check

distclean: clean
	rm -rf build

.PHONY: all module tool install check check-full check-mutants bench demo clean distclean
