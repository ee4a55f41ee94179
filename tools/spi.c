// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec spi: add, delete, flush and list SAs, allocate SPIs
 * (Documentation/klips/cli.md). The tool checks syntax only: the kernel owns
 * the algorithm table and refuses unknown names and wrong key lengths with a
 * message naming them.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"
#include "spi.h"

enum {
	O_AF, O_EDST, O_SPI, O_PROTO, O_SAID,
	O_SRC, O_DST, O_ESP, O_AH, O_COMP, O_ENCKEY, O_AUTHKEY, O_REPLAY,
	O_ESN, O_LIFE, O_DIR, O_NATT, O_SPORT, O_DPORT, O_NATOA, O_IP4, O_IP6,
	O_DEL, O_CLEAR, O_GETSPI, O_RANGE, O_JSON, O_HELP,
};

/* In enum order: spi_opts[id].name is the name of option id. */
static const struct opt spi_opts[] = {
	{ "--af", true, O_AF },
	{ "--edst", true, O_EDST },
	{ "--spi", true, O_SPI },
	{ "--proto", true, O_PROTO },
	{ "--said", true, O_SAID },
	{ "--src", true, O_SRC },
	{ "--dst", true, O_DST },
	{ "--esp", true, O_ESP },
	{ "--ah", true, O_AH },
	{ "--comp", true, O_COMP },
	{ "--enckey", true, O_ENCKEY },
	{ "--authkey", true, O_AUTHKEY },
	{ "--replay_window", true, O_REPLAY },
	{ "--esn", false, O_ESN },
	{ "--life", true, O_LIFE },
	{ "--dir", true, O_DIR },
	{ "--natt", true, O_NATT },
	{ "--sport", true, O_SPORT },
	{ "--dport", true, O_DPORT },
	{ "--natoa", true, O_NATOA },
	{ "--ip4", false, O_IP4 },
	{ "--ip6", false, O_IP6 },
	{ "--del", false, O_DEL },
	{ "--clear", false, O_CLEAR },
	{ "--getspi", false, O_GETSPI },
	{ "--range", true, O_RANGE },
	{ "--json", false, O_JSON },
	{ "--help", false, O_HELP },
};

#define SA_OPTS		(BIT(O_AF) | BIT(O_EDST) | BIT(O_SPI) | BIT(O_PROTO) | \
			 BIT(O_SAID))
#define XFORM_OPTS	(BIT(O_ESP) | BIT(O_AH) | BIT(O_COMP) | BIT(O_IP4) | \
			 BIT(O_IP6))
#define COMMON_OPTS	(BIT(O_SRC) | BIT(O_LIFE) | BIT(O_DIR))
#define ESP_OPTS	(BIT(O_ESP) | BIT(O_ENCKEY) | BIT(O_AUTHKEY) | \
			 BIT(O_REPLAY) | BIT(O_ESN) | BIT(O_NATT) | \
			 BIT(O_SPORT) | BIT(O_DPORT) | BIT(O_NATOA))
#define AH_OPTS		(BIT(O_AH) | BIT(O_AUTHKEY) | BIT(O_REPLAY) | BIT(O_ESN))
#define TUN_OPTS	(BIT(O_IP4) | BIT(O_IP6) | BIT(O_DST))
#define ADD_OPTS	(COMMON_OPTS | ESP_OPTS | AH_OPTS | BIT(O_COMP) | TUN_OPTS)
#define ACTIONS		(BIT(O_DEL) | BIT(O_CLEAR) | BIT(O_GETSPI) | BIT(O_JSON))
#define NATT_OPTS	(BIT(O_SPORT) | BIT(O_DPORT) | BIT(O_NATOA))

void usage_spi(FILE *f)
{
	fputs("usage: ipsec spi                                   list SAs (/proc/net/ipsec_spi)\n"
	      "       ipsec spi --json                            list SAs as JSON, one object a line\n"
	      "       ipsec spi --clear                           delete every SA\n"
	      "       ipsec spi <SA> --del                        delete the SA and its group\n"
	      "       ipsec spi <SA> --src <addr> --esp <alg> --enckey <key> [--authkey <key>]\n"
	      "                 [--replay_window <n>] [--esn] [--life <lifetimes>] [--dir in|out]\n"
	      "                 [--natt nonesp --sport <p> --dport <p> [--natoa <addr>]]\n"
	      "       ipsec spi <SA> --src <addr> --ah <alg> --authkey <key> [--replay_window <n>]\n"
	      "                 [--esn] [--life <lifetimes>] [--dir in|out]\n"
	      "       ipsec spi <SA> --src <addr> --comp deflate\n"
	      "       ipsec spi <SA> --ip4|--ip6 --src <outer-src> --dst <outer-dst>\n"
	      "       ipsec spi --getspi --af inet|inet6 --edst <addr> --proto <proto> [--range <lo>-<hi>]\n"
	      "<SA>        := --af inet|inet6 --edst <addr> --spi <spi> --proto ah|esp|tun|comp\n"
	      "             | --said <proto><.|:><hex-spi>@<addr>\n"
	      "<spi>       := 0x<hex> | <decimal>\n"
	      "<key>       := 0x<hex> | 0s<base64> | @<file>\n"
	      "<lifetimes> := <soft|hard>-<allocations|bytes|addtime|usetime|packets>=<n>[,...]\n"
	      "--esp: <cipher>[-<integ>], cipher 3des aes aes128 aes192 aes256 aesctr null,\n"
	      "       integ md5-96 sha1-96 sha2_256-128 sha2_384-192 sha2_512-256; or an AEAD:\n"
	      "       aes-gcm-8/12/16 aes-ccm-8/12/16 chacha20poly1305 null-aes-gmac\n"
	      "--ah:  hmac-md5-96 hmac-sha1-96 hmac-sha2_256-128 hmac-sha2_384-192\n"
	      "       hmac-sha2_512-256 aes-xcbc-96 aes-cmac-96\n", f);
}

/* One action at most; then only the options that go with it. */
static int check_action(const struct ctx *ctx, const struct cmdline *cl,
			int *action)
{
	const struct given *a = first_of(cl, ACTIONS), *g;
	uint64_t allowed = SA_OPTS | ADD_OPTS;

	*action = a ? a->id : -1;
	if (a && (g = first_of(cl, ACTIONS & ~BIT(a->id))))
		return fail(ctx, EXIT_USAGE, "%s: not with %s", g->name,
			    a->name);
	if (*action == O_DEL)
		allowed = SA_OPTS;
	else if (*action == O_GETSPI)
		allowed = BIT(O_AF) | BIT(O_EDST) | BIT(O_PROTO) | BIT(O_RANGE);
	else if (a)
		allowed = 0;
	g = first_of(cl, ~(allowed | (a ? BIT(a->id) : 0)));
	if (g && g->id == O_RANGE)
		return fail(ctx, EXIT_USAGE, "%s: only with --getspi", g->name);
	if (g)
		return fail(ctx, EXIT_USAGE, "%s: not with %s", g->name,
			    a ? a->name : "an SA add");
	return 0;
}

static const struct sa_opt_ids sa_ids = { O_AF, O_EDST, O_SPI, O_PROTO, O_SAID };

static int get_said(const struct ctx *ctx, const struct cmdline *cl,
		    struct klips_said *said, bool with_spi)
{
	return get_sa(ctx, cl, spi_opts, &sa_ids, said, with_spi);
}

static int spi_clear(struct ctx *ctx)
{
	struct nl_req req;

	nl_msg(&req, KLIPS_CMD_SA_FLUSH);
	return nl_do(ctx, &req, NULL, NULL);
}

static int spi_del(struct ctx *ctx, const struct cmdline *cl)
{
	struct klips_said said;
	struct nl_req req;

	if (get_said(ctx, cl, &said, true))
		return EXIT_USAGE;
	nl_msg(&req, KLIPS_CMD_SA_DEL);
	nl_put_said(&req, "<SA>", KLIPS_A_SA_SAID, &said);
	return nl_do(ctx, &req, NULL, NULL);
}

static int parse_range(const struct ctx *ctx, char *text, uint32_t *lo,
		       uint32_t *hi)
{
	char *dash = strchr(text, '-');
	int err;

	if (!dash)
		return fail(ctx, EXIT_USAGE, "--range: '%s' is not <lo>-<hi>",
			    text);
	*dash = '\0';
	err = parse_u32(ctx, "--range", text, lo) ||
	      parse_u32(ctx, "--range", dash + 1, hi);
	*dash = '-';
	if (err)
		return EXIT_USAGE;
	if (*lo > *hi)
		return fail(ctx, EXIT_USAGE, "--range: '%s': low end above high "
			    "end", text);
	return 0;
}

static int getspi_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLIPS_A_SA_MAX + 1];
	char text[KLIPS_SAID_BUFLEN];
	bool *printed = data;

	if (nl_parse(nlh, tb, KLIPS_A_SA_MAX) || !tb[KLIPS_A_SA_SAID])
		return MNL_CB_ERROR;
	printf("%s\n", nl_said_text(tb[KLIPS_A_SA_SAID], text, sizeof(text)));
	*printed = true;
	return MNL_CB_OK;
}

static int spi_getspi(struct ctx *ctx, const struct cmdline *cl)
{
	struct klips_said said;
	struct nl_req req;
	bool printed = false;
	uint32_t lo, hi;
	int err;

	if (get_said(ctx, cl, &said, false))
		return EXIT_USAGE;
	if (has(cl, O_RANGE) && parse_range(ctx, cl->val[O_RANGE], &lo, &hi))
		return EXIT_USAGE;
	nl_msg(&req, KLIPS_CMD_SA_GETSPI);
	nl_put_said(&req, "<SA>", KLIPS_A_SA_SAID, &said);
	if (has(cl, O_RANGE)) {
		nl_put_u32(&req, "--range", KLIPS_A_SA_SPI_MIN, lo);
		nl_put_u32(&req, "--range", KLIPS_A_SA_SPI_MAX, hi);
	}
	err = nl_do(ctx, &req, getspi_cb, &printed);
	if (!err && !printed)
		return fail(ctx, EXIT_REFUSED, "the kernel sent no SAID");
	return err;
}

/* Which option names the SA's transform. */
static int xform_opt(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ESP:
		return O_ESP;
	case IPPROTO_AH:
		return O_AH;
	case IPPROTO_COMP:
		return O_COMP;
	case IPPROTO_IPIP:
		return O_IP4;
	default:
		return -1;
	}
}

static uint64_t proto_opts(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ESP:
		return COMMON_OPTS | ESP_OPTS;
	case IPPROTO_AH:
		return COMMON_OPTS | AH_OPTS;
	case IPPROTO_COMP:
		return COMMON_OPTS | BIT(O_COMP);
	case IPPROTO_IPIP:
		return COMMON_OPTS | TUN_OPTS;
	default:
		return COMMON_OPTS;
	}
}

/* The options fit the SA's protocol, and the required ones are there. */
static int check_proto(const struct ctx *ctx, const struct cmdline *cl,
		       uint8_t proto)
{
	const struct given *g = first_of(cl, ADD_OPTS & ~proto_opts(proto));
	int x = xform_opt(proto);

	if (g)
		return fail(ctx, EXIT_USAGE, "%s: not for %s SAs", g->name,
			    proto_name(proto));
	if (x == O_IP4 && has(cl, O_IP4) && has(cl, O_IP6))
		return fail(ctx, EXIT_USAGE, "--ip6: not with --ip4");
	if (x == O_IP4 && !has(cl, O_IP4) && !has(cl, O_IP6))
		return fail(ctx, EXIT_USAGE, "--ip4 or --ip6: missing");
	if (x >= 0 && x != O_IP4 && !has(cl, x))
		return fail(ctx, EXIT_USAGE, "%s: missing", spi_opts[x].name);
	if (!has(cl, O_SRC))
		return fail(ctx, EXIT_USAGE, "--src: missing");
	if (x == O_IP4 && !has(cl, O_DST))
		return fail(ctx, EXIT_USAGE, "--dst: missing");
	return 0;
}

static int get_addrs(const struct ctx *ctx, const struct cmdline *cl,
		     struct sa_add *a)
{
	int af = a->said.family;

	if (has(cl, O_IP4) || has(cl, O_IP6)) {
		int outer = has(cl, O_IP4) ? AF_INET : AF_INET6;

		if (outer != af)
			return fail(ctx, EXIT_USAGE, "%s: the SA's destination "
				    "is an %s address", has(cl, O_IP4) ?
				    "--ip4" : "--ip6", af_name(af));
	}
	if (parse_addr(ctx, "--src", cl->val[O_SRC], &af, &a->src))
		return EXIT_USAGE;
	if (has(cl, O_DST) &&
	    parse_addr(ctx, "--dst", cl->val[O_DST], &af, &a->dst))
		return EXIT_USAGE;
	if (has(cl, O_NATOA) &&
	    parse_addr(ctx, "--natoa", cl->val[O_NATOA], &af, &a->natoa))
		return EXIT_USAGE;
	return 0;
}

static int get_natt(const struct ctx *ctx, const struct cmdline *cl,
		    struct sa_add *a)
{
	const struct given *g = first_of(cl, NATT_OPTS);
	const char *natt = cl->val[O_NATT];

	if (natt && !strcmp(natt, "nonesp"))
		a->natt = KLIPS_NATT_TYPE_NONESP;
	else if (natt && strcmp(natt, "none"))
		return fail(ctx, EXIT_USAGE, "--natt: '%s' is not nonesp or none",
			    natt);
	if (a->natt != KLIPS_NATT_TYPE_NONESP) {
		if (g)
			return fail(ctx, EXIT_USAGE, "%s: only with --natt nonesp",
				    g->name);
		return 0;
	}
	if (!has(cl, O_SPORT) || !has(cl, O_DPORT))
		return fail(ctx, EXIT_USAGE, "%s: missing (--natt nonesp needs "
			    "--sport and --dport)",
			    has(cl, O_SPORT) ? "--dport" : "--sport");
	if (parse_port(ctx, "--sport", cl->val[O_SPORT], "udp", &a->sport) ||
	    parse_port(ctx, "--dport", cl->val[O_DPORT], "udp", &a->dport))
		return EXIT_USAGE;
	return 0;
}

static int get_misc(const struct ctx *ctx, const struct cmdline *cl,
		    struct sa_add *a)
{
	const char *dir = cl->val[O_DIR];

	if (dir && !strcmp(dir, "in"))
		a->dir = KLIPS_DIR_IN;
	else if (dir && !strcmp(dir, "out"))
		a->dir = KLIPS_DIR_OUT;
	else if (dir)
		return fail(ctx, EXIT_USAGE, "--dir: '%s' is not in or out", dir);
	if (has(cl, O_REPLAY) &&
	    parse_u32(ctx, "--replay_window", cl->val[O_REPLAY], &a->replay))
		return EXIT_USAGE;
	if (has(cl, O_LIFE) && parse_life(ctx, cl->val[O_LIFE], a->life))
		return EXIT_USAGE;
	return get_natt(ctx, cl, a);
}

/* Parses a key and wipes its text from the command line. */
static int get_key(const struct ctx *ctx, const struct cmdline *cl, int id,
		   struct key *key)
{
	char *text = cl->val[id];
	int err;

	if (!text)
		return 0;
	err = parse_key(ctx, spi_opts[id].name, text, key);
	if (text[0] != '@')
		explicit_bzero(text, strlen(text));
	return err;
}

static int get_keys(const struct ctx *ctx, const struct cmdline *cl,
		    struct sa_add *a)
{
	int err = get_key(ctx, cl, O_ENCKEY, &a->enckey);

	if (!err)
		err = get_key(ctx, cl, O_AUTHKEY, &a->authkey);
	if (err) {
		/* Don't leave the other key's text behind either. */
		key_wipe(&a->enckey);
		if (cl->val[O_AUTHKEY] && cl->val[O_AUTHKEY][0] != '@')
			explicit_bzero(cl->val[O_AUTHKEY],
				       strlen(cl->val[O_AUTHKEY]));
	}
	return err;
}

/* The names are the kernel's to check, but a name is short. */
static int get_algs(const struct ctx *ctx, const struct cmdline *cl,
		    struct sa_add *a)
{
	static const int ids[] = { O_ESP, O_AH, O_COMP };
	const char *name;
	size_t i;

	for (i = 0; i < ARRAY_LEN(ids); i++) {
		name = cl->val[ids[i]];
		if (name && strnlen(name, SA_ALG_NAME_MAX + 1) > SA_ALG_NAME_MAX)
			return fail(ctx, EXIT_USAGE, "%s: longer than %d "
				    "characters: not an algorithm name",
				    spi_opts[ids[i]].name, SA_ALG_NAME_MAX);
	}
	a->esp = cl->val[O_ESP];
	a->ah = cl->val[O_AH];
	a->comp = cl->val[O_COMP];
	return 0;
}

static int parse_add(const struct ctx *ctx, const struct cmdline *cl,
		     struct sa_add *a)
{
	memset(a, 0, sizeof(*a));
	if (get_said(ctx, cl, &a->said, true) ||
	    check_proto(ctx, cl, a->said.proto) || get_addrs(ctx, cl, a) ||
	    get_misc(ctx, cl, a) || get_algs(ctx, cl, a))
		return EXIT_USAGE;
	a->tun = has(cl, O_IP4) || has(cl, O_IP6);
	a->esn = has(cl, O_ESN);
	a->has_replay = has(cl, O_REPLAY);
	a->has_enckey = has(cl, O_ENCKEY);
	a->has_authkey = has(cl, O_AUTHKEY);
	a->has_natoa = has(cl, O_NATOA);
	return get_keys(ctx, cl, a);
}

static int spi_add(struct ctx *ctx, const struct cmdline *cl)
{
	struct nl_req req;
	struct sa_add a;
	int err;

	err = parse_add(ctx, cl, &a);
	if (!err) {
		sa_add_warn(ctx, &a);
		sa_add_msg(&req, &a);
		err = nl_do(ctx, &req, NULL, NULL);
		explicit_bzero(&req, sizeof(req));
	}
	key_wipe(&a.enckey);
	key_wipe(&a.authkey);
	return err;
}

int cmd_spi(struct ctx *ctx, int argc, char **argv)
{
	struct cmdline cl;
	int err, action = -1;

	err = parse_cmdline(ctx, argc, argv, spi_opts, ARRAY_LEN(spi_opts), &cl);
	if (err)
		return err;
	if (has(&cl, O_HELP)) {
		usage_spi(stdout);
		return 0;
	}
	if (cl.nword)
		return unexpected(ctx, cl.word[0]);
	if (!cl.nopt)
		return cat_file(ctx, PROC_SPI);
	if (check_action(ctx, &cl, &action))
		return EXIT_USAGE;
	switch (action) {
	case O_CLEAR:
		return spi_clear(ctx);
	case O_JSON:
		return spi_json(ctx);
	case O_DEL:
		return spi_del(ctx, &cl);
	case O_GETSPI:
		return spi_getspi(ctx, &cl);
	default:
		return spi_add(ctx, &cl);
	}
}
