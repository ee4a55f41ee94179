// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec: the klips admin tool (Documentation/klips/cli.md). A subcommand with
 * no arguments prints its /proc file, as KLIPS's tools did; with --json the
 * netlink dump; changes go to the module over generic netlink.
 *
 * Batch mode, `ipsec -f <file>` or `ipsec batch <file>`, reads one command
 * a line (without the leading "ipsec"; '#' starts a comment) and sends the
 * changes over one socket without waiting for each ack (NL_WINDOW at
 * most unread). It stops at the first failure and reports it with its
 * line number; the lines sent before it stay applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

#define BATCH_MAX_WORDS	64

static const struct {
	const char *name;
	int (*run)(struct ctx *ctx, int argc, char **argv);
} commands[] = {
	{ "spi", cmd_spi },
	{ "eroute", cmd_eroute },
	{ "spigrp", cmd_spigrp },
	{ "tncfg", cmd_tncfg },
	{ "klipsdebug", cmd_klipsdebug },
	{ "look", cmd_look },
	{ "version", cmd_version },
	{ "monitor", cmd_monitor },
};

static void usage(FILE *f)
{
	fputs("usage: ipsec <command> [options]        (ipsec <command> --help for more)\n"
	      "       ipsec -f <file> | ipsec batch <file>   commands from a file, one a line\n"
	      "commands:\n"
	      "  spi         SAs: add, delete, flush, allocate an SPI\n"
	      "  eroute      eroutes: which traffic goes into which SA group\n"
	      "  spigrp      group SAs inner to outer\n"
	      "  tncfg       ipsecN devices: attach, detach, create, delete\n"
	      "  klipsdebug  the module's debug areas\n"
	      "  look        eroutes with SA chains, devices and SAs at a glance\n"
	      "  version     the tool's and the module's versions\n"
	      "  monitor     print the module's events as they happen\n"
	      "spi, eroute, spigrp, tncfg and klipsdebug alone print their /proc file;\n"
	      "with --json, the kernel's listing as JSON, one object a line.\n", f);
}

int cmd_version(struct ctx *ctx, int argc, char **argv)
{
	if (argc > 1)
		return unexpected(ctx, argv[1]);
	printf("ipsec tool version: %s\n", KLIPS_TOOL_VERSION);
	return cat_file(ctx, PROC_VERSION);
}

static int run_command(struct ctx *ctx, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(commands); i++) {
		if (!strcmp(argv[0], commands[i].name)) {
			ctx->cmd = commands[i].name;
			return commands[i].run(ctx, argc, argv);
		}
	}
	ctx->cmd = NULL;
	return fail(ctx, EXIT_USAGE, "unknown command '%s'", argv[0]);
}

/* Splits @line into words, dropping a '#' comment. Returns the count. */
static int split_line(const struct ctx *ctx, char *line, char **words)
{
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, " \t\r\n", &save); w;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (w[0] == '#')
			break;
		if (n == BATCH_MAX_WORDS)
			return -fail(ctx, EXIT_USAGE, "more than %d words",
				     BATCH_MAX_WORDS);
		words[n++] = w;
	}
	if (n < BATCH_MAX_WORDS)
		words[n] = NULL;
	return n;
}

/* Runs one line; its error, if any, waits in ctx->defer. */
static int batch_line(struct ctx *ctx, char *line)
{
	char *words[BATCH_MAX_WORDS + 1];
	int n;

	ctx->cmd = NULL;
	n = split_line(ctx, line, words);
	if (n <= 0)
		return -n;
	if (!strcmp(words[0], "-f") || !strcmp(words[0], "batch"))
		return fail(ctx, EXIT_USAGE, "no batch within a batch");
	return run_command(ctx, n, words);
}

/* The first failure: a refusal of an earlier line wins over this line's. */
static int batch_end(struct ctx *ctx, int status)
{
	int drained = nl_drain(ctx);

	if (ctx->nl->failed)
		return EXIT_REFUSED;
	if (ctx->defer[0]) {
		fflush(stdout);
		fprintf(stderr, "%s\n", ctx->defer);
	}
	return status ? status : drained;
}

static int batch(struct ctx *ctx, const char *path)
{
	char defer[1024];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t size = 0;
	int status = 0;

	if (!f)
		return fail(ctx, EXIT_REFUSED, "%s: %s", path, strerror(errno));
	ctx->batch = true;
	/* Room for NL_WINDOW acks whatever their size (capped by rmem_max). */
	ctx->nl->rcvbuf = 1 << 20;
	ctx->file = path;
	ctx->defer = defer;
	ctx->defer_size = sizeof(defer);
	defer[0] = '\0';
	while (!status && getline(&line, &size, f) >= 0) {
		ctx->line++;
		status = batch_line(ctx, line);
		explicit_bzero(line, size);	/* keys, maybe */
	}
	if (!status && ferror(f))
		status = fail(ctx, EXIT_REFUSED, "%s: %s", path,
			      strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	status = batch_end(ctx, status);
	fflush(stdout);
	return status;
}

int main(int argc, char **argv)
{
	struct nl nl = { 0 };
	struct ctx ctx = { .nl = &nl };
	int status;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		argv[1] = "version";
	if (!strcmp(argv[1], "-f") || !strcmp(argv[1], "batch")) {
		if (argc != 3)
			return fail(&ctx, EXIT_USAGE, "%s: needs one file",
				    argv[1]);
		status = batch(&ctx, argv[2]);
	} else {
		status = run_command(&ctx, argc - 1, argv + 1);
	}
	nl_close(&nl);
	if (fflush(stdout) && !status)
		status = EXIT_REFUSED;
	return status;
}
