// SPDX-License-Identifier: GPL-2.0
/*
 * The SA_ADD request: lifetimes, NAT-T, keys; and the warnings
 * Documentation/klips/cli.md asks for (manual keys with a counter-mode
 * algorithm, deprecated suites).
 */
#include <arpa/inet.h>
#include <string.h>

#include "nl.h"
#include "spi.h"

static const char *const life_kinds[KLIPS_A_LIFETIME_MAX + 1] = {
	[KLIPS_A_LIFETIME_ALLOCATIONS]	= "allocations",
	[KLIPS_A_LIFETIME_BYTES]	= "bytes",
	[KLIPS_A_LIFETIME_ADDTIME]	= "addtime",
	[KLIPS_A_LIFETIME_USETIME]	= "usetime",
	[KLIPS_A_LIFETIME_PACKETS]	= "packets",
};

static int life_kind(const char *name, size_t len)
{
	int k;

	for (k = 1; k <= KLIPS_A_LIFETIME_MAX; k++)
		if (strlen(life_kinds[k]) == len &&
		    !strncmp(life_kinds[k], name, len))
			return k;
	return -1;
}

/* One "<soft|hard>-<kind>=<n>". */
static int life_item(const struct ctx *ctx, const char *item,
		     struct life life[2])
{
	const char *dash = strchr(item, '-'), *eq = strchr(item, '=');
	char what[32];
	uint64_t v;
	int which, k;

	if (!dash || !eq || dash > eq)
		return fail(ctx, EXIT_USAGE, "--life: '%s' is not "
			    "<soft|hard>-<limit>=<n>", item);
	if (dash - item == 4 && !strncmp(item, "soft", 4))
		which = LIFE_SOFT;
	else if (dash - item == 4 && !strncmp(item, "hard", 4))
		which = LIFE_HARD;
	else
		return fail(ctx, EXIT_USAGE, "--life: '%s': not soft or hard",
			    item);
	k = life_kind(dash + 1, eq - dash - 1);
	if (k < 0)
		return fail(ctx, EXIT_USAGE, "--life: '%s': unknown limit "
			    "(allocations, bytes, addtime, usetime, packets)",
			    item);
	snprintf(what, sizeof(what), "--life %.*s", (int)(eq - item), item);
	if (life[which].set & 1U << k)
		return fail(ctx, EXIT_USAGE, "%s: given twice", what);
	if (parse_u64(ctx, what, eq + 1, &v))
		return EXIT_USAGE;
	if (k == KLIPS_A_LIFETIME_ALLOCATIONS && v > UINT32_MAX)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is out of range", what,
			    eq + 1);
	life[which].val[k] = v;
	life[which].set |= 1U << k;
	return 0;
}

int parse_life(const struct ctx *ctx, char *text, struct life life[2])
{
	char *item = text, *comma;
	int err;

	for (;;) {
		comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		err = life_item(ctx, item, life);
		if (comma)
			*comma = ',';
		if (err || !comma)
			return err;
		item = comma + 1;
	}
}

static void put_life(struct nl_req *req, uint16_t type, const struct life *l)
{
	struct nlattr *nest;
	int k;

	if (!l->set)
		return;
	nest = nl_nest_start(req, "--life", type);
	for (k = 1; k <= KLIPS_A_LIFETIME_MAX; k++) {
		if (!(l->set & 1U << k))
			continue;
		if (k == KLIPS_A_LIFETIME_ALLOCATIONS)
			nl_put_u32(req, "--life", k, l->val[k]);
		else
			nl_put_u64(req, "--life", k, l->val[k]);
	}
	nl_nest_end(req, nest);
}

static void put_natt(struct nl_req *req, const struct sa_add *a)
{
	if (a->natt == KLIPS_NATT_TYPE_NONE)
		return;
	nl_put_u8(req, "--natt", KLIPS_A_SA_NATT_TYPE, a->natt);
	nl_put_u16(req, "--sport", KLIPS_A_SA_NATT_SPORT, htons(a->sport));
	nl_put_u16(req, "--dport", KLIPS_A_SA_NATT_DPORT, htons(a->dport));
	if (a->has_natoa)
		nl_put_addr(req, "--natoa", KLIPS_A_SA_NATT_OA, a->said.family,
			    &a->natoa);
}

/*
 * Whatever @a holds (the self-test gives it names longer than the
 * command line allows), nothing is written beyond @req: what does not fit
 * leaves @req full, and nl_do() refuses it.
 */
void sa_add_msg(struct nl_req *req, const struct sa_add *a)
{
	nl_msg(req, KLIPS_CMD_SA_ADD);
	nl_put_said(req, "<SA>", KLIPS_A_SA_SAID, &a->said);
	nl_put_addr(req, "--src", KLIPS_A_SA_SRC, a->said.family, &a->src);
	if (a->tun)
		nl_put_addr(req, "--dst", KLIPS_A_SA_TUN_DST, a->said.family,
			    &a->dst);
	if (a->dir != KLIPS_DIR_AUTO)
		nl_put_u8(req, "--dir", KLIPS_A_SA_DIR, a->dir);
	if (a->esp)
		nl_put_strz(req, "--esp", KLIPS_A_SA_ESP, a->esp);
	if (a->ah)
		nl_put_strz(req, "--ah", KLIPS_A_SA_AH, a->ah);
	if (a->comp)
		nl_put_strz(req, "--comp", KLIPS_A_SA_COMP, a->comp);
	if (a->has_enckey)
		nl_put(req, "--enckey", KLIPS_A_SA_ENC_KEY, a->enckey.len,
		       a->enckey.data);
	if (a->has_authkey)
		nl_put(req, "--authkey", KLIPS_A_SA_AUTH_KEY, a->authkey.len,
		       a->authkey.data);
	if (a->has_replay)
		nl_put_u32(req, "--replay_window", KLIPS_A_SA_REPLAY_WINDOW,
			   a->replay);
	if (a->esn)
		nl_put_u32(req, "--esn", KLIPS_A_SA_FLAGS, KLIPS_SA_FLAGS_ESN);
	put_life(req, KLIPS_A_SA_LIFE_SOFT, &a->life[LIFE_SOFT]);
	put_life(req, KLIPS_A_SA_LIFE_HARD, &a->life[LIFE_HARD]);
	put_natt(req, a);
}

/* Warnings given once per batch run */
#define WARN_COUNTER	0x1
#define WARN_DEPRECATED	0x2

static bool has_any(const char *name, const char *const *parts)
{
	for (; *parts; parts++)
		if (strstr(name, *parts))
			return true;
	return false;
}

static const char *const aeads[] = { "gcm", "ccm", "chacha20poly1305",
				     "gmac", NULL };
static const char *const counters[] = { "gcm", "ccm", "ctr",
					"chacha20poly1305", "gmac", NULL };

/* A cipher alone: no "-<integ>" part and not an AEAD. */
static bool no_integrity(const char *esp)
{
	return !strchr(esp, '-') && !has_any(esp, aeads) && strcmp(esp, "null");
}

static bool once(struct ctx *ctx, unsigned int what)
{
	if (ctx->batch && (ctx->warned & what))
		return false;
	ctx->warned |= what;
	return true;
}

void sa_add_warn(struct ctx *ctx, const struct sa_add *a)
{
	const char *opt = a->esp ? "--esp" : "--ah";
	const char *name = a->esp ? a->esp : a->ah;
	bool des = false, md5, none = false;

	if (!name)
		return;
	if (a->esp && has_any(a->esp, counters) && once(ctx, WARN_COUNTER))
		warn(ctx, "%s %s: a counter-mode algorithm keyed by hand reuses "
		     "nonces if this SA is ever added again with the same key",
		     opt, name);
	if (a->esp) {
		des = strstr(name, "3des");
		none = no_integrity(name);
	}
	md5 = strstr(name, "md5");
	if ((des || md5 || none) && once(ctx, WARN_DEPRECATED))
		warn(ctx, "%s %s: deprecated (%s%s%s%s%s)", opt, name,
		     des ? "3DES" : "", des && (md5 || none) ? ", " : "",
		     md5 ? "MD5" : "", md5 && none ? ", " : "",
		     none ? "no integrity" : "");
}
