// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec tncfg: attach ipsecN devices to physical ones, detach them,
 * create and delete them, list them.
 */
#include <net/if.h>
#include <string.h>

#include "json.h"
#include "nl.h"

enum {
	O_ATTACH, O_DETACH, O_CLEAR, O_CREATE, O_DELETE, O_JSON,
	O_VIRTUAL, O_PHYSICAL, O_HELP,
};

static const struct opt tncfg_opts[] = {
	{ "--attach", false, O_ATTACH },
	{ "--detach", false, O_DETACH },
	{ "--clear", false, O_CLEAR },
	{ "--create", true, O_CREATE },
	{ "--delete", true, O_DELETE },
	{ "--json", false, O_JSON },
	{ "--virtual", true, O_VIRTUAL },
	{ "--physical", true, O_PHYSICAL },
	{ "--help", false, O_HELP },
};

#define ACTIONS	(BIT(O_ATTACH) | BIT(O_DETACH) | BIT(O_CLEAR) | \
		 BIT(O_CREATE) | BIT(O_DELETE) | BIT(O_JSON))

void usage_tncfg(FILE *f)
{
	fputs("usage: ipsec tncfg                 list ipsecN devices (/proc/net/ipsec_tncfg)\n"
	      "       ipsec tncfg --json          list them as JSON, one object a line\n"
	      "       ipsec tncfg --attach --virtual <ipsecN> --physical <dev>\n"
	      "       ipsec tncfg --detach --virtual <ipsecN>\n"
	      "       ipsec tncfg --clear         detach all\n"
	      "       ipsec tncfg --create <ipsecN> | --delete <ipsecN>\n", f);
}

static uint64_t allowed_opts(int action)
{
	switch (action) {
	case O_ATTACH:
		return BIT(O_VIRTUAL) | BIT(O_PHYSICAL);
	case O_DETACH:
		return BIT(O_VIRTUAL);
	default:
		return 0;
	}
}

static int check_name(const struct ctx *ctx, const char *what,
		      const char *name)
{
	if (!name[0])
		return fail(ctx, EXIT_USAGE, "%s: empty device name", what);
	if (strlen(name) >= IFNAMSIZ)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is longer than %d "
			    "characters", what, name, IFNAMSIZ - 1);
	return 0;
}

static int check_args(const struct ctx *ctx, const struct cmdline *cl,
		      int *action)
{
	const struct given *g;

	if (one_action(ctx, cl, ACTIONS, allowed_opts, "no action: --attach, "
		       "--detach, --clear, --create or --delete", action))
		return EXIT_USAGE;
	if ((*action == O_ATTACH || *action == O_DETACH) &&
	    !has(cl, O_VIRTUAL))
		return fail(ctx, EXIT_USAGE, "--virtual: missing");
	if (*action == O_ATTACH && !has(cl, O_PHYSICAL))
		return fail(ctx, EXIT_USAGE, "--physical: missing");
	for (g = cl->opt; g < cl->opt + cl->nopt; g++)
		if (g->val && check_name(ctx, g->name, g->val))
			return EXIT_USAGE;
	return 0;
}

static int dev_json_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLIPS_A_DEV_MAX + 1];
	struct json j;

	(void)data;
	if (nl_parse(nlh, tb, KLIPS_A_DEV_MAX) || !tb[KLIPS_A_DEV_NAME])
		return MNL_CB_ERROR;
	json_begin(&j, stdout);
	json_str(&j, "name", attr_str(tb[KLIPS_A_DEV_NAME]));
	if (tb[KLIPS_A_DEV_PHYSICAL])
		json_str(&j, "physical", attr_str(tb[KLIPS_A_DEV_PHYSICAL]));
	else
		json_null(&j, "physical");
	json_u64(&j, "mtu", attr_u32(tb[KLIPS_A_DEV_MTU]));
	json_u64(&j, "effective_mtu", attr_u32(tb[KLIPS_A_DEV_EFFECTIVE_MTU]));
	json_u64(&j, "physical_mtu", attr_u32(tb[KLIPS_A_DEV_PHYSICAL_MTU]));
	json_end(&j);
	return MNL_CB_OK;
}

static int tncfg_json(struct ctx *ctx)
{
	int err = nl_dump(ctx, KLIPS_CMD_DEV_GET, dev_json_cb, NULL);

	if (fflush(stdout) && !err)
		err = fail(ctx, EXIT_REFUSED, "stdout: write error");
	return err;
}

static void tncfg_msg(struct nl_req *req, int action,
		      const struct cmdline *cl)
{
	static const uint8_t cmds[] = {
		[O_ATTACH] = KLIPS_CMD_DEV_ATTACH,
		[O_DETACH] = KLIPS_CMD_DEV_DETACH,
		[O_CLEAR] = KLIPS_CMD_DEV_DETACH,
		[O_CREATE] = KLIPS_CMD_DEV_ADD,
		[O_DELETE] = KLIPS_CMD_DEV_DEL,
	};
	const char *name = cl->val[O_VIRTUAL], *what = "--virtual";

	nl_msg(req, cmds[action]);
	if (action == O_CREATE || action == O_DELETE) {
		name = cl->val[action];
		what = tncfg_opts[action].name;
	}
	if (name)
		nl_put_strz(req, what, KLIPS_A_DEV_NAME, name);
	if (cl->val[O_PHYSICAL])
		nl_put_strz(req, "--physical", KLIPS_A_DEV_PHYSICAL,
			    cl->val[O_PHYSICAL]);
}

int cmd_tncfg(struct ctx *ctx, int argc, char **argv)
{
	struct nl_req req;
	struct cmdline cl;
	int err, action = -1;

	err = parse_cmdline(ctx, argc, argv, tncfg_opts, ARRAY_LEN(tncfg_opts),
			    &cl);
	if (err)
		return err;
	if (has(&cl, O_HELP)) {
		usage_tncfg(stdout);
		return 0;
	}
	if (cl.nword)
		return unexpected(ctx, cl.word[0]);
	if (!cl.nopt)
		return cat_file(ctx, PROC_TNCFG);
	if (check_args(ctx, &cl, &action))
		return EXIT_USAGE;
	if (action == O_JSON)
		return tncfg_json(ctx);
	tncfg_msg(&req, action, &cl);
	return nl_do(ctx, &req, NULL, NULL);
}
