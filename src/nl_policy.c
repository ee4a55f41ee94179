// SPDX-License-Identifier: GPL-2.0
/*
 * The policies and the op table of the klips family
 * (Documentation/netlink/specs/klips.yaml).
 */
#include "netlink.h"

const struct nla_policy klips_addr_nl_policy[KLIPS_A_ADDR_IP6 + 1] = {
	[KLIPS_A_ADDR_IP4] = { .type = NLA_BE32 },
	[KLIPS_A_ADDR_IP6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy klips_said_nl_policy[KLIPS_A_SAID_DST + 1] = {
	[KLIPS_A_SAID_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_SAID_SPI] = { .type = NLA_U32 },
	[KLIPS_A_SAID_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
};

const struct nla_policy
klips_lifetime_nl_policy[KLIPS_A_LIFETIME_PACKETS + 1] = {
	[KLIPS_A_LIFETIME_ALLOCATIONS] = { .type = NLA_U32 },
	[KLIPS_A_LIFETIME_BYTES] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_ADDTIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_USETIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_PACKETS] = { .type = NLA_U64 },
};

/* What requests may carry; the reply-only attributes are rejected. */
static const struct nla_policy sa_policy[KLIPS_A_SA_BITMAP + 1] = {
	[KLIPS_A_SA_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
	[KLIPS_A_SA_SRC] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_SA_TUN_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_SA_DIR] = NLA_POLICY_MAX(NLA_U8, KLIPS_DIR_OUT),
	[KLIPS_A_SA_ESP] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_AH] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_COMP] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_ENC_KEY] = { .type = NLA_BINARY, .len = KLIPS_KEY_MAX },
	[KLIPS_A_SA_AUTH_KEY] = { .type = NLA_BINARY, .len = KLIPS_KEY_MAX },
	[KLIPS_A_SA_REPLAY_WINDOW] = { .type = NLA_U32 },
	[KLIPS_A_SA_FLAGS] = { .type = NLA_U32 },
	[KLIPS_A_SA_LIFE_SOFT] = NLA_POLICY_NESTED(klips_lifetime_nl_policy),
	[KLIPS_A_SA_LIFE_HARD] = NLA_POLICY_NESTED(klips_lifetime_nl_policy),
	[KLIPS_A_SA_NATT_TYPE] = NLA_POLICY_MAX(NLA_U8, KLIPS_NATT_TYPE_NONESP),
	[KLIPS_A_SA_NATT_SPORT] = { .type = NLA_BE16 },
	[KLIPS_A_SA_NATT_DPORT] = { .type = NLA_BE16 },
	[KLIPS_A_SA_NATT_OA] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_SA_SPI_MIN] = { .type = NLA_U32 },
	[KLIPS_A_SA_SPI_MAX] = { .type = NLA_U32 },
	[KLIPS_A_SA_STATE] = { .type = NLA_REJECT,
			       .reject_message = "state: only in replies" },
	[KLIPS_A_SA_XFORM] = { .type = NLA_REJECT,
			       .reject_message = "xform: only in replies" },
	[KLIPS_A_SA_IV_BITS] = { .type = NLA_REJECT,
				 .reject_message = "iv-bits: only in replies" },
	[KLIPS_A_SA_SEQ] = { .type = NLA_U64 },
	[KLIPS_A_SA_BITMAP] = { .type = NLA_U64 },
};

static const struct nla_policy group_policy[KLIPS_A_GROUP_MAX + 1] = {
	[KLIPS_A_GROUP_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

static const struct nla_policy eroute_policy[KLIPS_A_EROUTE_REPLACE + 1] = {
	[KLIPS_A_EROUTE_SRC] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_SRC_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_DST_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_SPORT] = { .type = NLA_BE16 },
	[KLIPS_A_EROUTE_DPORT] = { .type = NLA_BE16 },
	[KLIPS_A_EROUTE_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
	[KLIPS_A_EROUTE_REPLACE] = { .type = NLA_FLAG },
};

static const struct nla_policy dev_policy[KLIPS_A_DEV_PHYSICAL + 1] = {
	[KLIPS_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[KLIPS_A_DEV_PHYSICAL] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy debug_policy[KLIPS_A_DEBUG_CLEAR + 1] = {
	[KLIPS_A_DEBUG_SET] = { .type = NLA_U32 },
	[KLIPS_A_DEBUG_CLEAR] = { .type = NLA_U32 },
};

#define OP(c, fn, pol, max, fl) {					\
	.cmd = c, .doit = fn, .policy = pol, .maxattr = max, .flags = fl }
#define DUMP(c, fn, pol, max) {						\
	.cmd = c, .dumpit = fn, .policy = pol, .maxattr = max,		\
	.flags = GENL_UNS_ADMIN_PERM }

const struct genl_ops klips_nl_ops[] = {
	OP(KLIPS_CMD_SA_ADD, klips_nl_sa_add_doit, sa_policy, KLIPS_A_SA_BITMAP,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_SA_DEL, klips_nl_sa_del_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	{
		.cmd = KLIPS_CMD_SA_GET,
		.doit = klips_nl_sa_get_doit,
		.dumpit = klips_nl_sa_get_dumpit,
		.policy = sa_policy,
		.maxattr = KLIPS_A_SA_SPI_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	OP(KLIPS_CMD_SA_FLUSH, klips_nl_sa_flush_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_SA_GETSPI, klips_nl_sa_getspi_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_GRP_ADD, klips_nl_grp_add_doit, group_policy, KLIPS_A_GROUP_MAX,
	   GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_GRP_GET, klips_nl_grp_get_dumpit, group_policy,
	     KLIPS_A_GROUP_MAX),
	OP(KLIPS_CMD_EROUTE_ADD, klips_nl_eroute_add_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_EROUTE_DEL, klips_nl_eroute_del_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_EROUTE_GET, klips_nl_eroute_get_dumpit, eroute_policy,
	     KLIPS_A_EROUTE_REPLACE),
	OP(KLIPS_CMD_EROUTE_FLUSH, klips_nl_eroute_flush_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_POLICY_SET, klips_nl_policy_set_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_ADD, klips_nl_dev_add_doit, dev_policy, KLIPS_A_DEV_PHYSICAL,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_DEL, klips_nl_dev_del_doit, dev_policy, KLIPS_A_DEV_PHYSICAL,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_ATTACH, klips_nl_dev_attach_doit, dev_policy,
	   KLIPS_A_DEV_PHYSICAL, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_DETACH, klips_nl_dev_detach_doit, dev_policy,
	   KLIPS_A_DEV_PHYSICAL, GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_DEV_GET, klips_nl_dev_get_dumpit, dev_policy,
	     KLIPS_A_DEV_PHYSICAL),
	/* Debug areas are module-wide: the host's administrator only. */
	OP(KLIPS_CMD_DEBUG_SET, klips_nl_debug_set_doit, debug_policy,
	   KLIPS_A_DEBUG_CLEAR, GENL_ADMIN_PERM),
};
