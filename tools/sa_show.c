// SPDX-License-Identifier: GPL-2.0
/*
 * SAs from the kernel's SA_GET dump as JSON, one object a line, with the field
 * names of /proc/net/ipsec_spi (Documentation/klips/proc.md); and the short
 * form monitor prints.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "nl.h"
#include "spi.h"

static const char *dir_name(uint8_t dir)
{
	static const char *const names[] = {
		[KLIPS_DIR_AUTO] = "auto", [KLIPS_DIR_IN] = "in",
		[KLIPS_DIR_OUT] = "out",
	};

	return dir < ARRAY_LEN(names) ? names[dir] : "?";
}

static const char *state_name(uint8_t state)
{
	static const char *const names[] = {
		[KLIPS_STATE_LARVAL] = "larval", [KLIPS_STATE_MATURE] = "mature",
		[KLIPS_STATE_DYING] = "dying", [KLIPS_STATE_DEAD] = "dead",
	};

	return state < ARRAY_LEN(names) ? names[state] : "?";
}

/* "<net>/<len>-><net>/<len>", as /proc prints an inbound policy. */
static void json_policy(struct json *j, const struct nlattr *nest)
{
	const struct nlattr *tb[KLIPS_A_POLICY_MAX + 1];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], text[128];

	if (nl_parse_nested(nest, tb, KLIPS_A_POLICY_MAX))
		return;
	snprintf(text, sizeof(text), "%s/%u->%s/%u",
		 nl_addr_text(tb[KLIPS_A_POLICY_SRC], src, sizeof(src)),
		 attr_u8(tb[KLIPS_A_POLICY_SRC_LEN]),
		 nl_addr_text(tb[KLIPS_A_POLICY_DST], dst, sizeof(dst)),
		 attr_u8(tb[KLIPS_A_POLICY_DST_LEN]));
	json_str(j, "policy", text);
}

static void json_addr(struct json *j, const char *key, const struct nlattr *a)
{
	char text[INET6_ADDRSTRLEN];

	if (a)
		json_str(j, key, nl_addr_text(a, text, sizeof(text)));
}

static void json_hex(struct json *j, const char *key, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, v);
	json_str(j, key, text);
}

/* life: { alloc: {c, s, h}, bytes: ..., add: ..., use: ..., packets: ... } */
static void json_life(struct json *j, const struct nlattr **tb)
{
	static const char *const names[KLIPS_A_LIFETIME_MAX + 1] = {
		[KLIPS_A_LIFETIME_ALLOCATIONS] = "alloc",
		[KLIPS_A_LIFETIME_BYTES] = "bytes",
		[KLIPS_A_LIFETIME_ADDTIME] = "add",
		[KLIPS_A_LIFETIME_USETIME] = "use",
		[KLIPS_A_LIFETIME_PACKETS] = "packets",
	};
	static const int which[3] = { KLIPS_A_SA_LIFE_CURRENT,
				      KLIPS_A_SA_LIFE_SOFT,
				      KLIPS_A_SA_LIFE_HARD };
	static const char *const csh[3] = { "c", "s", "h" };
	const struct nlattr *lt[3][KLIPS_A_LIFETIME_MAX + 1];
	int i, k;

	for (i = 0; i < 3; i++)
		if (!tb[which[i]] ||
		    nl_parse_nested(tb[which[i]], lt[i], KLIPS_A_LIFETIME_MAX))
			memset(lt[i], 0, sizeof(lt[i]));
	json_obj(j, "life");
	for (k = 1; k <= KLIPS_A_LIFETIME_MAX; k++) {
		json_obj(j, names[k]);
		for (i = 0; i < 3; i++)
			json_u64(j, csh[i], k == KLIPS_A_LIFETIME_ALLOCATIONS ?
				 attr_u32(lt[i][k]) : attr_u64(lt[i][k]));
		json_close(j);
	}
	json_close(j);
}

/* Counters that /proc prints under the same name */
static const struct {
	int attr;
	const char *name;
	bool u64;
} counters[] = {
	{ KLIPS_A_SA_IV_BITS, "iv_bits", false },
	{ KLIPS_A_SA_REPLAY_WINDOW, "ooowin", false },
	{ KLIPS_A_SA_OOO_ERRS, "ooo_errs", true },
	{ KLIPS_A_SA_SEQ, "seq", true },
	{ KLIPS_A_SA_MAX_SEQ_DIFF, "max_seq_diff", false },
	{ KLIPS_A_SA_ALEN, "alen", false },
	{ KLIPS_A_SA_AKLEN, "aklen", false },
	{ KLIPS_A_SA_AUTH_ERRS, "auth_errs", true },
	{ KLIPS_A_SA_EKLEN, "eklen", false },
	{ KLIPS_A_SA_ENCR_SIZE_ERRS, "encr_size_errs", true },
	{ KLIPS_A_SA_ENCR_PAD_ERRS, "encr_pad_errs", true },
};

static void json_counters(struct json *j, const struct nlattr **tb)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(counters); i++) {
		const struct nlattr *a = tb[counters[i].attr];

		if (a)
			json_u64(j, counters[i].name,
				 counters[i].u64 ? attr_u64(a) : attr_u32(a));
	}
	if (tb[KLIPS_A_SA_BITMAP])
		json_hex(j, "bit", attr_u64(tb[KLIPS_A_SA_BITMAP]));
	if (tb[KLIPS_A_SA_FLAGS])
		json_hex(j, "flags", attr_u32(tb[KLIPS_A_SA_FLAGS]));
}

static void json_tail(struct json *j, const struct nlattr **tb)
{
	if (tb[KLIPS_A_SA_IDLE])
		json_u64(j, "idle", attr_u64(tb[KLIPS_A_SA_IDLE]));
	if (tb[KLIPS_A_SA_RATIO_IN] || tb[KLIPS_A_SA_RATIO_OUT]) {
		json_obj(j, "ratio");
		json_u64(j, "d", attr_u64(tb[KLIPS_A_SA_RATIO_IN]));
		json_u64(j, "c", attr_u64(tb[KLIPS_A_SA_RATIO_OUT]));
		json_close(j);
	}
	if (attr_u8(tb[KLIPS_A_SA_NATT_TYPE]) != KLIPS_NATT_TYPE_NONESP)
		return;
	json_str(j, "natencap", "nonesp");
	json_u64(j, "natsport", ntohs(attr_u16(tb[KLIPS_A_SA_NATT_SPORT])));
	json_u64(j, "natdport", ntohs(attr_u16(tb[KLIPS_A_SA_NATT_DPORT])));
	json_addr(j, "natoa", tb[KLIPS_A_SA_NATT_OA]);
}

static int sa_json_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KLIPS_A_SA_MAX + 1];
	char said[KLIPS_SAID_BUFLEN];
	struct json j;

	(void)data;
	if (nl_parse(nlh, tb, KLIPS_A_SA_MAX) || !tb[KLIPS_A_SA_SAID])
		return MNL_CB_ERROR;
	json_begin(&j, stdout);
	json_str(&j, "said", nl_said_text(tb[KLIPS_A_SA_SAID], said,
					   sizeof(said)));
	if (tb[KLIPS_A_SA_XFORM])
		json_str(&j, "xform", attr_str(tb[KLIPS_A_SA_XFORM]));
	if (tb[KLIPS_A_SA_DIR])
		json_str(&j, "dir", dir_name(attr_u8(tb[KLIPS_A_SA_DIR])));
	json_addr(&j, "src", tb[KLIPS_A_SA_SRC]);
	json_addr(&j, "dst", tb[KLIPS_A_SA_TUN_DST]);
	if (tb[KLIPS_A_SA_POLICY])
		json_policy(&j, tb[KLIPS_A_SA_POLICY]);
	if (tb[KLIPS_A_SA_STATE])
		json_str(&j, "state", state_name(attr_u8(tb[KLIPS_A_SA_STATE])));
	json_counters(&j, tb);
	json_life(&j, tb);
	json_tail(&j, tb);
	json_end(&j);
	return MNL_CB_OK;
}

int spi_json(struct ctx *ctx)
{
	int err = nl_dump(ctx, KLIPS_CMD_SA_GET, sa_json_cb, NULL);

	if (fflush(stdout) && !err)
		err = fail(ctx, EXIT_REFUSED, "stdout: write error");
	return err;
}

void sa_print_brief(const struct nlattr **tb)
{
	char said[KLIPS_SAID_BUFLEN];

	printf("%s", nl_said_text(tb[KLIPS_A_SA_SAID], said, sizeof(said)));
	if (tb[KLIPS_A_SA_XFORM])
		printf(" %s", attr_str(tb[KLIPS_A_SA_XFORM]));
}
