// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec: the klips admin tool (spec/cli.md). A subcommand with no
 * arguments prints its /proc file, as KLIPS's tools did; the commands that
 * change state talk to the module over generic netlink (to come).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/klips.h>

#define EXIT_REFUSED	1
#define EXIT_USAGE	2

static const struct {
	const char *cmd;
	const char *proc;
} listings[] = {
	{ "spi", "/proc/net/ipsec_spi" },
	{ "eroute", "/proc/net/ipsec_eroute" },
	{ "spigrp", "/proc/net/ipsec_spigrp" },
	{ "tncfg", "/proc/net/ipsec_tncfg" },
	{ "klipsdebug", "/proc/net/ipsec_klipsdebug" },
};

static int cat(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "ipsec: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (is klips.ko loaded?)" : "");
		return EXIT_REFUSED;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

static int version(void)
{
	printf("ipsec tool version: %s\n", KLIPS_TOOL_VERSION);
	return cat("/proc/net/ipsec_version");
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ipsec <command> [options]\n"
		"commands: spi eroute spigrp tncfg klipsdebug version\n"
		"With no options, spi/eroute/spigrp/tncfg/klipsdebug print their /proc file.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") && argc == 2)
		return version();
	for (i = 0; i < sizeof(listings) / sizeof(listings[0]); i++) {
		if (strcmp(argv[1], listings[i].cmd))
			continue;
		if (argc == 2)
			return cat(listings[i].proc);
		fprintf(stderr, "ipsec %s: option '%s' is not supported yet\n",
			argv[1], argv[2]);
		return EXIT_USAGE;
	}
	fprintf(stderr, "ipsec: unknown command '%s'\n", argv[1]);
	return EXIT_USAGE;
}
