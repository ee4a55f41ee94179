// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec spigrp: group two to four SAs inner to outer, or ungroup one
 * (the same request with a single SAID), and list the groups.
 */
#include <string.h>

#include "json.h"
#include "nl.h"

enum { O_SAID, O_JSON, O_HELP };

static const struct opt spigrp_opts[] = {
	{ "--said", true, O_SAID },
	{ "--json", false, O_JSON },
	{ "--help", false, O_HELP },
};

void usage_spigrp(FILE *f)
{
	fputs("usage: ipsec spigrp                  list groups (/proc/net/ipsec_spigrp)\n"
	      "       ipsec spigrp --json           list groups as JSON, one object a line\n"
	      "       ipsec spigrp <af> <dst> <spi> <proto> [<af> <dst> <spi> <proto> ...]\n"
	      "       ipsec spigrp --said <SAID> [<SAID> ...]\n"
	      "Up to 4 SAs, inner to outer (tun, comp, esp, ah); one SA ungroups it.\n"
	      "<af> := inet|inet6, <spi> := 0x<hex>|<decimal>, <proto> := ah|esp|tun|comp\n",
	      f);
}

/* "<af> <dst> <spi> <proto>": SA number @n (from 1), in words[0..3]. */
static int parse_quad(const struct ctx *ctx, char *const *words, int n,
		      struct klips_said *said)
{
	static const char *const protos[] = { "ah", "esp", "tun", "comp" };
	static const uint8_t numbers[] = {
		IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPIP, IPPROTO_COMP
	};
	char what[32];
	size_t i;
	int af = AF_UNSPEC;

	memset(said, 0, sizeof(*said));
	snprintf(what, sizeof(what), "SA %d", n);
	if (parse_af(ctx, what, words[0], &af) ||
	    parse_addr(ctx, what, words[1], &af, &said->dst) ||
	    parse_u32(ctx, what, words[2], &said->spi))
		return EXIT_USAGE;
	said->family = af;
	for (i = 0; i < ARRAY_LEN(protos); i++)
		if (!strcmp(words[3], protos[i]))
			break;
	if (i == ARRAY_LEN(protos))
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not ah, esp, tun or "
			    "comp", what, words[3]);
	said->proto = numbers[i];
	return 0;
}

static int get_saids(const struct ctx *ctx, const struct cmdline *cl,
		     struct klips_said *saids, int *n)
{
	int i;

	if (has(cl, O_SAID)) {
		*n = 1 + cl->nword;
		if (*n > KLIPS_GROUP_MAX)
			return fail(ctx, EXIT_USAGE, "at most %d SAs",
				    KLIPS_GROUP_MAX);
		if (parse_said(ctx, "--said", cl->val[O_SAID], &saids[0]))
			return EXIT_USAGE;
		for (i = 1; i < *n; i++)
			if (parse_said(ctx, "--said", cl->word[i - 1], &saids[i]))
				return EXIT_USAGE;
		return 0;
	}
	if (cl->nword % 4)
		return fail(ctx, EXIT_USAGE, "'%s': an SA is <af> <dst> <spi> "
			    "<proto>", cl->word[cl->nword - cl->nword % 4]);
	*n = cl->nword / 4;
	if (*n > KLIPS_GROUP_MAX)
		return fail(ctx, EXIT_USAGE, "at most %d SAs", KLIPS_GROUP_MAX);
	for (i = 0; i < *n; i++)
		if (parse_quad(ctx, cl->word + 4 * i, i + 1, &saids[i]))
			return EXIT_USAGE;
	return 0;
}

static int group_json_cb(const struct nlmsghdr *nlh, void *data)
{
	char text[KLIPS_SAID_BUFLEN];
	const struct nlattr *a;
	struct json j;

	(void)data;
	json_begin(&j, stdout);
	json_arr(&j, "said");
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == KLIPS_A_GROUP_SAID)
			json_str(&j, NULL, nl_said_text(a, text, sizeof(text)));
	json_close(&j);
	json_end(&j);
	return MNL_CB_OK;
}

static int spigrp_json(struct ctx *ctx)
{
	int err = nl_dump(ctx, KLIPS_CMD_GRP_GET, group_json_cb, NULL);

	if (fflush(stdout) && !err)
		err = fail(ctx, EXIT_REFUSED, "stdout: write error");
	return err;
}

int cmd_spigrp(struct ctx *ctx, int argc, char **argv)
{
	struct klips_said saids[KLIPS_GROUP_MAX];
	struct nl_req req;
	struct cmdline cl;
	int err, n = 0, i;

	err = parse_cmdline(ctx, argc, argv, spigrp_opts,
			    ARRAY_LEN(spigrp_opts), &cl);
	if (err)
		return err;
	if (has(&cl, O_HELP)) {
		usage_spigrp(stdout);
		return 0;
	}
	if (!cl.nopt && !cl.nword)
		return cat_file(ctx, PROC_SPIGRP);
	if (has(&cl, O_JSON)) {
		if (cl.nopt > 1 || cl.nword)
			return fail(ctx, EXIT_USAGE, "--json: takes no other "
				    "argument");
		return spigrp_json(ctx);
	}
	if (get_saids(ctx, &cl, saids, &n))
		return EXIT_USAGE;
	nl_msg(&req, KLIPS_CMD_GRP_ADD);
	for (i = 0; i < n; i++)
		nl_put_said(&req, "<SA>", KLIPS_A_GROUP_SAID, &saids[i]);
	return nl_do(ctx, &req, NULL, NULL);
}
