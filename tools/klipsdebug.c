// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec klipsdebug: switch the module's debug areas on and off. The areas
 * are bits 0..10 in the order /proc/net/ipsec_klipsdebug lists them.
 */
#include <string.h>

#include "json.h"
#include "nl.h"

enum { O_SET, O_CLEAR, O_ALL, O_NONE, O_JSON, O_HELP };

static const struct opt debug_opts[] = {
	{ "--set", true, O_SET },
	{ "--clear", true, O_CLEAR },
	{ "--all", false, O_ALL },
	{ "--none", false, O_NONE },
	{ "--json", false, O_JSON },
	{ "--help", false, O_HELP },
};

static const char *const areas[] = {
	"tunnel", "xmit", "xform", "eroute", "spi", "radij", "esp", "ah",
	"rcv", "netlink", "comp",
};

#define ALL_AREAS	((1U << ARRAY_LEN(areas)) - 1)

void usage_klipsdebug(FILE *f)
{
	fputs("usage: ipsec klipsdebug                 the debug areas (/proc/net/ipsec_klipsdebug)\n"
	      "       ipsec klipsdebug --json          the same as JSON\n"
	      "       ipsec klipsdebug [--set|--clear] <area>|all\n"
	      "       ipsec klipsdebug --all | --none\n"
	      "<area> := tunnel|xmit|xform|eroute|spi|radij|esp|ah|rcv|netlink|comp\n",
	      f);
}

static int area_mask(const struct ctx *ctx, const char *what,
		     const char *name, uint32_t *mask)
{
	size_t i;

	if (!strcmp(name, "all")) {
		*mask |= ALL_AREAS;
		return 0;
	}
	for (i = 0; i < ARRAY_LEN(areas); i++) {
		if (!strcmp(name, areas[i])) {
			*mask |= 1U << i;
			return 0;
		}
	}
	return fail(ctx, EXIT_USAGE, "%s'%s': unknown debug area (tunnel, "
		    "xmit, xform, eroute, spi, radij, esp, ah, rcv, netlink, "
		    "comp or all)", what, name);
}

static int get_masks(const struct ctx *ctx, const struct cmdline *cl,
		     uint32_t *set, uint32_t *clear)
{
	int i;

	*set = *clear = 0;
	if (has(cl, O_ALL) && has(cl, O_NONE))
		return fail(ctx, EXIT_USAGE, "--none: not with --all");
	if (has(cl, O_ALL))
		*set = ALL_AREAS;
	if (has(cl, O_NONE))
		*clear = ALL_AREAS;
	if (has(cl, O_SET) && area_mask(ctx, "--set: ", cl->val[O_SET], set))
		return EXIT_USAGE;
	if (has(cl, O_CLEAR) &&
	    area_mask(ctx, "--clear: ", cl->val[O_CLEAR], clear))
		return EXIT_USAGE;
	for (i = 0; i < cl->nword; i++)
		if (area_mask(ctx, "", cl->word[i], set))
			return EXIT_USAGE;
	return 0;
}

static int mask_json_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLIPS_A_DEBUG_MAX + 1];
	char name[32];
	uint32_t mask;
	struct json j;
	size_t i;

	(void)data;
	if (nl_parse(nlh, tb, KLIPS_A_DEBUG_MAX) || !tb[KLIPS_A_DEBUG_MASK])
		return MNL_CB_ERROR;
	mask = attr_u32(tb[KLIPS_A_DEBUG_MASK]);
	json_begin(&j, stdout);
	for (i = 0; i < ARRAY_LEN(areas); i++) {
		snprintf(name, sizeof(name), "debug_%s", areas[i]);
		json_bool(&j, name, mask & 1U << i);
	}
	json_end(&j);
	return MNL_CB_OK;
}

static int send_masks(struct ctx *ctx, uint32_t set, uint32_t clear,
		      bool json)
{
	struct nl_req req;
	int err;

	nl_msg(&req, KLIPS_CMD_DEBUG_SET);
	nl_put_u32(&req, "--set", KLIPS_A_DEBUG_SET, set);
	nl_put_u32(&req, "--clear", KLIPS_A_DEBUG_CLEAR, clear);
	if (!json)
		return nl_do(ctx, &req, NULL, NULL);
	err = nl_do(ctx, &req, mask_json_cb, NULL);
	if (fflush(stdout) && !err)
		err = fail(ctx, EXIT_REFUSED, "stdout: write error");
	return err;
}

int cmd_klipsdebug(struct ctx *ctx, int argc, char **argv)
{
	uint32_t set, clear;
	struct cmdline cl;
	int err;

	err = parse_cmdline(ctx, argc, argv, debug_opts, ARRAY_LEN(debug_opts),
			    &cl);
	if (err)
		return err;
	if (has(&cl, O_HELP)) {
		usage_klipsdebug(stdout);
		return 0;
	}
	if (!cl.nopt && !cl.nword)
		return cat_file(ctx, PROC_KLIPSDEBUG);
	if (has(&cl, O_JSON)) {
		if (cl.nopt > 1 || cl.nword)
			return fail(ctx, EXIT_USAGE, "--json: takes no other "
				    "argument");
		/* A change of nothing: the reply is the current mask. */
		return send_masks(ctx, 0, 0, true);
	}
	if (get_masks(ctx, &cl, &set, &clear))
		return EXIT_USAGE;
	return send_masks(ctx, set, clear, false);
}
