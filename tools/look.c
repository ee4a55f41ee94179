// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec look: a summary built from the /proc files, as KLIPS's look was:
 * hostname and date, each eroute with its SA chain, the attached ipsecN
 * devices, then the SAs sorted.
 *
 *   192.0.2.0/24       -> 192.0.1.0/24       => tun.12a@192.1.2.45 esp.12a@192.1.2.45 (8)
 *   ipsec0->eth1 mtu=1420(1420)->1500
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipsec.h"

/* A file's lines: pointers into its text, which they own. */
struct lines {
	char *text;
	char **line;
	size_t n;
};

static void lines_free(struct lines *l)
{
	free(l->text);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static int lines_read(const struct ctx *ctx, const char *path,
		      struct lines *l)
{
	size_t len, max = 1, i;
	char *p, *nl;

	memset(l, 0, sizeof(*l));
	l->text = read_file(ctx, path, &len);
	if (!l->text)
		return EXIT_REFUSED;
	for (i = 0; i < len; i++)
		max += l->text[i] == '\n';
	l->line = calloc(max, sizeof(*l->line));
	if (!l->line) {
		lines_free(l);
		return fail(ctx, EXIT_REFUSED, "out of memory");
	}
	for (p = l->text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		l->line[l->n++] = p;
		if (!nl)
			break;
	}
	return 0;
}

/* Is @said one of the space-separated words of @group? */
static bool in_group(const char *group, const char *said, size_t len)
{
	const char *p = group;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n == len && !strncmp(p, said, len))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/*
 * The SAID of an eroute target without its ":<proto>" suffix: an IPv6
 * SAID with one is bracketed; in an IPv4 SAID ("esp.<spi>@...") or a
 * shunt, a ':' can only start the suffix.
 */
static void target_said(const char *target, const char **said, size_t *len)
{
	const char *at = strchr(target, '@');
	const char *sep = target + strspn(target, "abcdefghijklmnopqrstuvwxyz");
	const char *colon = NULL;

	*said = target;
	*len = strlen(target);
	if (target[0] == '[') {
		*said = target + 1;
		*len = strcspn(target + 1, "]");
		return;
	}
	if (!at)
		colon = strchr(target, ':');
	else if (*sep != ':')
		colon = strchr(at, ':');
	if (colon)
		*len = colon - target;
}

static void look_eroute(char *line, const struct lines *groups)
{
	char *f[6], *save = NULL, *tok;
	const char *said, *chain = NULL;
	size_t n = 0, len, i;

	for (tok = strtok_r(line, " ", &save); tok && n < 6;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 6)
		return;
	target_said(f[5], &said, &len);
	for (i = 0; i < groups->n && !chain; i++)
		if (in_group(groups->line[i], said, len))
			chain = groups->line[i];
	if (chain)
		printf("%-18s -> %-18s => %s%s (%s)\n", f[1], f[3], chain,
		       said + len + (f[5][0] == '[' ? 1 : 0), f[0]);
	else
		printf("%-18s -> %-18s => %s (%s)\n", f[1], f[3], f[5], f[0]);
}

/* "ipsec0 -> eth1 mtu=1420(1420) -> 1500" as "ipsec0->eth1 mtu=...->1500" */
static void look_tncfg(const char *line)
{
	const char *p;

	if (strstr(line, " -> NULL "))
		return;
	for (p = line; *p; p++) {
		if (!strncmp(p, " -> ", 4)) {
			fputs("->", stdout);
			p += 3;
		} else {
			putchar(*p);
		}
	}
	putchar('\n');
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void look_header(void)
{
	char host[256] = "?", date[64] = "";
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	if (localtime_r(&now, &tm))
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Z %Y", &tm);
	printf("%s %s\n", host, date);
}

enum { F_EROUTE, F_SPIGRP, F_TNCFG, F_SPI, F_MAX };

static int read_all(const struct ctx *ctx, struct lines *f)
{
	static const char *const paths[F_MAX] = {
		PROC_EROUTE, PROC_SPIGRP, PROC_TNCFG, PROC_SPI
	};
	int i, j, err;

	for (i = 0; i < F_MAX; i++) {
		err = lines_read(ctx, paths[i], &f[i]);
		if (err) {
			for (j = 0; j < i; j++)
				lines_free(&f[j]);
			return err;
		}
	}
	return 0;
}

int cmd_look(struct ctx *ctx, int argc, char **argv)
{
	struct lines f[F_MAX];
	size_t i;
	int err;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		puts("usage: ipsec look     eroutes with their SA chains, "
		     "devices, SAs");
		return 0;
	}
	if (argc > 1)
		return unexpected(ctx, argv[1]);
	err = read_all(ctx, f);
	if (err)
		return err;
	look_header();
	for (i = 0; i < f[F_EROUTE].n; i++)
		look_eroute(f[F_EROUTE].line[i], &f[F_SPIGRP]);
	for (i = 0; i < f[F_TNCFG].n; i++)
		look_tncfg(f[F_TNCFG].line[i]);
	qsort(f[F_SPI].line, f[F_SPI].n, sizeof(*f[F_SPI].line), cmp_line);
	for (i = 0; i < f[F_SPI].n; i++)
		puts(f[F_SPI].line[i]);
	for (i = 0; i < F_MAX; i++)
		lines_free(&f[i]);
	return fflush(stdout) ? fail(ctx, EXIT_REFUSED, "stdout: write error")
			      : 0;
}
