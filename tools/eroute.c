// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec eroute: add, replace, delete and list eroutes, set a group's
 * inbound policy (--addin). Addresses go to the kernel as given: it
 * refuses host bits beyond the prefix length.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include "json.h"
#include "nl.h"

enum {
	O_ADD, O_REPLACE, O_DEL, O_ADDIN, O_CLEAR, O_JSON,
	O_ERAF, O_SRC, O_DST, O_TPROTO, O_SPORT, O_DPORT,
	O_AF, O_EDST, O_SPI, O_PROTO, O_SAID, O_HELP,
};

/* In enum order: eroute_opts[id].name is the name of option id. */
static const struct opt eroute_opts[] = {
	{ "--add", false, O_ADD },
	{ "--replace", false, O_REPLACE },
	{ "--del", false, O_DEL },
	{ "--addin", false, O_ADDIN },
	{ "--clear", false, O_CLEAR },
	{ "--json", false, O_JSON },
	{ "--eraf", true, O_ERAF },
	{ "--src", true, O_SRC },
	{ "--dst", true, O_DST },
	{ "--transport-proto", true, O_TPROTO },
	{ "--src-port", true, O_SPORT },
	{ "--dst-port", true, O_DPORT },
	{ "--af", true, O_AF },
	{ "--edst", true, O_EDST },
	{ "--spi", true, O_SPI },
	{ "--proto", true, O_PROTO },
	{ "--said", true, O_SAID },
	{ "--help", false, O_HELP },
};

static const struct sa_opt_ids sa_ids = { O_AF, O_EDST, O_SPI, O_PROTO, O_SAID };

#define ACTIONS		(BIT(O_ADD) | BIT(O_REPLACE) | BIT(O_DEL) | \
			 BIT(O_ADDIN) | BIT(O_CLEAR) | BIT(O_JSON))
#define SEL_OPTS	(BIT(O_ERAF) | BIT(O_SRC) | BIT(O_DST) | BIT(O_TPROTO) | \
			 BIT(O_SPORT) | BIT(O_DPORT))
#define SA_OPTS		(BIT(O_AF) | BIT(O_EDST) | BIT(O_SPI) | BIT(O_PROTO) | \
			 BIT(O_SAID))

void usage_eroute(FILE *f)
{
	fputs("usage: ipsec eroute                 list eroutes (/proc/net/ipsec_eroute)\n"
	      "       ipsec eroute --json          list eroutes as JSON, one object a line\n"
	      "       ipsec eroute --add|--replace --eraf inet|inet6 --src <net>/<len> --dst <net>/<len>\n"
	      "             [--transport-proto <proto>] [--src-port <port>] [--dst-port <port>]\n"
	      "             <SA> | --said %pass|%drop|%reject|%hold|%trap|%trapsubnet|%passthrough\n"
	      "       ipsec eroute --addin --eraf inet|inet6 --src <net>/<len> --dst <net>/<len> <SA>\n"
	      "       ipsec eroute --del --eraf inet|inet6 --src <net>/<len> --dst <net>/<len>\n"
	      "             [--transport-proto <proto>] [--src-port <port>] [--dst-port <port>]\n"
	      "       ipsec eroute --clear\n"
	      "<SA> := --af inet|inet6 --edst <addr> --spi <spi> --proto ah|esp|tun|comp | --said <SAID>\n",
	      f);
}

struct eroute {
	struct prefix src, dst;
	bool has_proto;
	uint8_t proto;
	uint16_t sport, dport;		/* host order, 0: any */
	struct klips_said said;
};

static uint64_t allowed_opts(int action)
{
	switch (action) {
	case O_ADD:
	case O_REPLACE:
		return SEL_OPTS | SA_OPTS;
	case O_ADDIN:
		return BIT(O_ERAF) | BIT(O_SRC) | BIT(O_DST) | SA_OPTS;
	case O_DEL:
		return SEL_OPTS;
	default:
		return 0;
	}
}

static int check_action(const struct ctx *ctx, const struct cmdline *cl,
			int *action)
{
	return one_action(ctx, cl, ACTIONS, allowed_opts, "no action: --add, "
			  "--replace, --addin, --del or --clear", action);
}

static int parse_tproto(const struct ctx *ctx, const char *text,
			uint8_t *proto)
{
	struct protoent *pe;
	uint32_t v;

	if (text[0] >= '0' && text[0] <= '9') {
		if (parse_u32(ctx, "--transport-proto", text, &v))
			return EXIT_USAGE;
		if (v > 255)
			return fail(ctx, EXIT_USAGE, "--transport-proto: '%s' is "
				    "out of range", text);
		*proto = v;
		return 0;
	}
	pe = getprotobyname(text);
	endprotoent();
	if (!pe)
		return fail(ctx, EXIT_USAGE, "--transport-proto: '%s' is not a "
			    "protocol number or name", text);
	*proto = pe->p_proto;
	return 0;
}

static int get_ports(const struct ctx *ctx, const struct cmdline *cl,
		     struct eroute *e)
{
	const struct given *g = first_of(cl, BIT(O_SPORT) | BIT(O_DPORT));
	struct protoent *pe;
	char pname[32] = "";

	if (!g)
		return 0;
	if (!e->has_proto)
		return fail(ctx, EXIT_USAGE, "%s: needs --transport-proto",
			    g->name);
	pe = getprotobynumber(e->proto);
	if (pe)
		snprintf(pname, sizeof(pname), "%s", pe->p_name);
	endprotoent();
	if (has(cl, O_SPORT) && parse_port(ctx, "--src-port", cl->val[O_SPORT],
					   pname[0] ? pname : NULL, &e->sport))
		return EXIT_USAGE;
	if (has(cl, O_DPORT) && parse_port(ctx, "--dst-port", cl->val[O_DPORT],
					   pname[0] ? pname : NULL, &e->dport))
		return EXIT_USAGE;
	return 0;
}

static int get_selectors(const struct ctx *ctx, const struct cmdline *cl,
			 struct eroute *e)
{
	static const int need[] = { O_ERAF, O_SRC, O_DST };
	size_t i;
	int af;

	for (i = 0; i < ARRAY_LEN(need); i++)
		if (!has(cl, need[i]))
			return fail(ctx, EXIT_USAGE, "%s: missing",
				    eroute_opts[need[i]].name);
	if (parse_af(ctx, "--eraf", cl->val[O_ERAF], &af))
		return EXIT_USAGE;
	e->src.af = af;
	e->dst.af = af;
	if (parse_prefix(ctx, "--src", cl->val[O_SRC], &e->src) ||
	    parse_prefix(ctx, "--dst", cl->val[O_DST], &e->dst))
		return EXIT_USAGE;
	if (has(cl, O_TPROTO)) {
		if (parse_tproto(ctx, cl->val[O_TPROTO], &e->proto))
			return EXIT_USAGE;
		e->has_proto = true;
	}
	return get_ports(ctx, cl, e);
}

static void put_nets(struct nl_req *req, const struct eroute *e)
{
	nl_put_addr(req, "--src", KLIPS_A_EROUTE_SRC, e->src.af, &e->src.addr);
	nl_put_u8(req, "--src", KLIPS_A_EROUTE_SRC_LEN, e->src.len);
	nl_put_addr(req, "--dst", KLIPS_A_EROUTE_DST, e->dst.af, &e->dst.addr);
	nl_put_u8(req, "--dst", KLIPS_A_EROUTE_DST_LEN, e->dst.len);
}

static void put_selectors(struct nl_req *req, const struct eroute *e)
{
	put_nets(req, e);
	if (e->has_proto)
		nl_put_u8(req, "--transport-proto", KLIPS_A_EROUTE_PROTO,
			  e->proto);
	if (e->sport)
		nl_put_u16(req, "--src-port", KLIPS_A_EROUTE_SPORT,
			   htons(e->sport));
	if (e->dport)
		nl_put_u16(req, "--dst-port", KLIPS_A_EROUTE_DPORT,
			   htons(e->dport));
}

static void eroute_msg(struct nl_req *req, int action, const struct eroute *e)
{
	switch (action) {
	case O_ADDIN:
		nl_msg(req, KLIPS_CMD_POLICY_SET);
		put_nets(req, e);
		nl_put_said(req, "<SA>", KLIPS_A_EROUTE_SAID, &e->said);
		break;
	case O_DEL:
		nl_msg(req, KLIPS_CMD_EROUTE_DEL);
		put_selectors(req, e);
		break;
	default:
		nl_msg(req, KLIPS_CMD_EROUTE_ADD);
		put_selectors(req, e);
		nl_put_said(req, "<SA>", KLIPS_A_EROUTE_SAID, &e->said);
		if (action == O_REPLACE)
			nl_put(req, "--replace", KLIPS_A_EROUTE_REPLACE, 0,
			       NULL);
		break;
	}
}

static int eroute_json_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLIPS_A_EROUTE_MAX + 1];
	char text[KLIPS_SAID_BUFLEN + 8];
	struct json j;

	(void)data;
	if (nl_parse(nlh, tb, KLIPS_A_EROUTE_MAX))
		return MNL_CB_ERROR;
	json_begin(&j, stdout);
	json_u64(&j, "count", attr_u64(tb[KLIPS_A_EROUTE_PACKETS]));
	json_str(&j, "src", nl_sel_text(tb[KLIPS_A_EROUTE_SRC],
					attr_u8(tb[KLIPS_A_EROUTE_SRC_LEN]), 0,
					text, sizeof(text)));
	json_u64(&j, "src_port", ntohs(attr_u16(tb[KLIPS_A_EROUTE_SPORT])));
	json_str(&j, "dst", nl_sel_text(tb[KLIPS_A_EROUTE_DST],
					attr_u8(tb[KLIPS_A_EROUTE_DST_LEN]), 0,
					text, sizeof(text)));
	json_u64(&j, "dst_port", ntohs(attr_u16(tb[KLIPS_A_EROUTE_DPORT])));
	json_u64(&j, "proto", attr_u8(tb[KLIPS_A_EROUTE_PROTO]));
	json_str(&j, "said", nl_said_text(tb[KLIPS_A_EROUTE_SAID], text,
					  sizeof(text)));
	json_end(&j);
	return MNL_CB_OK;
}

static int eroute_json(struct ctx *ctx)
{
	int err = nl_dump(ctx, KLIPS_CMD_EROUTE_GET, eroute_json_cb, NULL);

	if (fflush(stdout) && !err)
		err = fail(ctx, EXIT_REFUSED, "stdout: write error");
	return err;
}

static int eroute_change(struct ctx *ctx, const struct cmdline *cl,
			 int action)
{
	struct nl_req req;
	struct eroute e;

	memset(&e, 0, sizeof(e));
	if (get_selectors(ctx, cl, &e))
		return EXIT_USAGE;
	if (action != O_DEL &&
	    get_sa(ctx, cl, eroute_opts, &sa_ids, &e.said, true))
		return EXIT_USAGE;
	eroute_msg(&req, action, &e);
	return nl_do(ctx, &req, NULL, NULL);
}

int cmd_eroute(struct ctx *ctx, int argc, char **argv)
{
	struct nl_req req;
	struct cmdline cl;
	int err, action = -1;

	err = parse_cmdline(ctx, argc, argv, eroute_opts,
			    ARRAY_LEN(eroute_opts), &cl);
	if (err)
		return err;
	if (has(&cl, O_HELP)) {
		usage_eroute(stdout);
		return 0;
	}
	if (cl.nword)
		return unexpected(ctx, cl.word[0]);
	if (!cl.nopt)
		return cat_file(ctx, PROC_EROUTE);
	if (check_action(ctx, &cl, &action))
		return EXIT_USAGE;
	if (action == O_JSON)
		return eroute_json(ctx);
	if (action == O_CLEAR) {
		nl_msg(&req, KLIPS_CMD_EROUTE_FLUSH);
		return nl_do(ctx, &req, NULL, NULL);
	}
	return eroute_change(ctx, &cl, action);
}
