// SPDX-License-Identifier: GPL-2.0
/*
 * The per-op policies and the op table of the klips family, as the spec
 * (Documentation/netlink/specs/klips.yaml, kernel-policy: per-op) defines
 * them: each command validates only the attributes its request lists, and
 * strict validation refuses every other one. The entries are what the
 * kernel's generator (tools/net/ynl/ynl-gen-c.py --mode kernel) makes of
 * the spec, and scripts/ynl-policy-check.sh (make check) holds them to it.
 *
 * The table is struct genl_ops, one policy for a command's do and dump,
 * since the generator's split ops (struct genl_split_ops) need 6.2: a
 * dump shares its command's policy, and dump-only commands have none, as
 * their spec lists no request. Once 6.1 is dropped, this file gives way to
 * a generated netlink-gen.c, as drivers/net/ovpn has.
 */
#include "netlink.h"

const struct nla_policy klips_addr_nl_policy[KLIPS_A_ADDR_IP6 + 1] = {
	[KLIPS_A_ADDR_IP4] = { .type = NLA_U32 },
	[KLIPS_A_ADDR_IP6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy
klips_lifetime_nl_policy[KLIPS_A_LIFETIME_PACKETS + 1] = {
	[KLIPS_A_LIFETIME_ALLOCATIONS] = { .type = NLA_U32 },
	[KLIPS_A_LIFETIME_BYTES] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_ADDTIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_USETIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_PACKETS] = { .type = NLA_U64 },
};

const struct nla_policy klips_said_nl_policy[KLIPS_A_SAID_DST + 1] = {
	[KLIPS_A_SAID_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_SAID_SPI] = { .type = NLA_U32 },
	[KLIPS_A_SAID_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
};

/*
 * The reply-only attributes below the last one an add takes are refused as
 * any other attribute it does not take, but by name (NLA_REJECT).
 */
static const struct nla_policy klips_sa_add_nl_policy[KLIPS_A_SA_BITMAP + 1] = {
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
	[KLIPS_A_SA_NATT_SPORT] = { .type = NLA_U16 },
	[KLIPS_A_SA_NATT_DPORT] = { .type = NLA_U16 },
	[KLIPS_A_SA_NATT_OA] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_SA_STATE] = { .type = NLA_REJECT,
			       .reject_message = "state: only in replies" },
	[KLIPS_A_SA_XFORM] = { .type = NLA_REJECT,
			       .reject_message = "xform: only in replies" },
	[KLIPS_A_SA_IV_BITS] = { .type = NLA_REJECT,
				 .reject_message = "iv-bits: only in replies" },
	[KLIPS_A_SA_SEQ] = { .type = NLA_U64 },
	[KLIPS_A_SA_BITMAP] = { .type = NLA_U64 },
};

static const struct nla_policy klips_sa_del_nl_policy[KLIPS_A_SA_SAID + 1] = {
	[KLIPS_A_SA_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

static const struct nla_policy klips_sa_get_nl_policy[KLIPS_A_SA_SAID + 1] = {
	[KLIPS_A_SA_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

static const struct nla_policy
klips_sa_getspi_nl_policy[KLIPS_A_SA_SPI_MAX + 1] = {
	[KLIPS_A_SA_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
	[KLIPS_A_SA_SPI_MIN] = { .type = NLA_U32 },
	[KLIPS_A_SA_SPI_MAX] = { .type = NLA_U32 },
};

static const struct nla_policy
klips_grp_add_nl_policy[KLIPS_A_GROUP_SAID + 1] = {
	[KLIPS_A_GROUP_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

static const struct nla_policy
klips_eroute_add_nl_policy[KLIPS_A_EROUTE_REPLACE + 1] = {
	[KLIPS_A_EROUTE_SRC] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_SRC_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_DST_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_SPORT] = { .type = NLA_U16 },
	[KLIPS_A_EROUTE_DPORT] = { .type = NLA_U16 },
	[KLIPS_A_EROUTE_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
	[KLIPS_A_EROUTE_REPLACE] = { .type = NLA_FLAG },
};

static const struct nla_policy
klips_eroute_del_nl_policy[KLIPS_A_EROUTE_SAID + 1] = {
	[KLIPS_A_EROUTE_SRC] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_SRC_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_DST_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_SPORT] = { .type = NLA_U16 },
	[KLIPS_A_EROUTE_DPORT] = { .type = NLA_U16 },
	[KLIPS_A_EROUTE_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

/* An inbound policy has subnets only: its refusals say so (NLA_REJECT). */
#define KLIPS_NL_ADDIN_NO_PORTS \
	"eroute --addin: an inbound policy has no protocol or ports"

static const struct nla_policy
klips_policy_set_nl_policy[KLIPS_A_EROUTE_SAID + 1] = {
	[KLIPS_A_EROUTE_SRC] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_SRC_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_DST] = NLA_POLICY_NESTED(klips_addr_nl_policy),
	[KLIPS_A_EROUTE_DST_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_PROTO] = { .type = NLA_REJECT,
				   .reject_message = KLIPS_NL_ADDIN_NO_PORTS },
	[KLIPS_A_EROUTE_SPORT] = { .type = NLA_REJECT,
				   .reject_message = KLIPS_NL_ADDIN_NO_PORTS },
	[KLIPS_A_EROUTE_DPORT] = { .type = NLA_REJECT,
				   .reject_message = KLIPS_NL_ADDIN_NO_PORTS },
	[KLIPS_A_EROUTE_SAID] = NLA_POLICY_NESTED(klips_said_nl_policy),
};

/* Names of IFNAMSIZ - 1 characters at most. */
static const struct nla_policy klips_dev_add_nl_policy[KLIPS_A_DEV_NAME + 1] = {
	[KLIPS_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy klips_dev_del_nl_policy[KLIPS_A_DEV_NAME + 1] = {
	[KLIPS_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy
klips_dev_attach_nl_policy[KLIPS_A_DEV_PHYSICAL + 1] = {
	[KLIPS_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[KLIPS_A_DEV_PHYSICAL] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy
klips_dev_detach_nl_policy[KLIPS_A_DEV_NAME + 1] = {
	[KLIPS_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy
klips_debug_set_nl_policy[KLIPS_A_DEBUG_CLEAR + 1] = {
	[KLIPS_A_DEBUG_SET] = { .type = NLA_U32 },
	[KLIPS_A_DEBUG_CLEAR] = { .type = NLA_U32 },
};

const struct genl_ops klips_nl_ops[] = {
	{ .cmd = KLIPS_CMD_SA_ADD, .doit = klips_nl_sa_add_doit,
	  .policy = klips_sa_add_nl_policy, .maxattr = KLIPS_A_SA_BITMAP,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_SA_DEL, .doit = klips_nl_sa_del_doit,
	  .policy = klips_sa_del_nl_policy, .maxattr = KLIPS_A_SA_SAID,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_SA_GET, .doit = klips_nl_sa_get_doit,
	  .dumpit = klips_nl_sa_get_dumpit,
	  .policy = klips_sa_get_nl_policy, .maxattr = KLIPS_A_SA_SAID,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_SA_FLUSH, .doit = klips_nl_sa_flush_doit,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_SA_GETSPI, .doit = klips_nl_sa_getspi_doit,
	  .policy = klips_sa_getspi_nl_policy, .maxattr = KLIPS_A_SA_SPI_MAX,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_GRP_ADD, .doit = klips_nl_grp_add_doit,
	  .policy = klips_grp_add_nl_policy, .maxattr = KLIPS_A_GROUP_SAID,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_GRP_GET, .dumpit = klips_nl_grp_get_dumpit,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_EROUTE_ADD, .doit = klips_nl_eroute_add_doit,
	  .policy = klips_eroute_add_nl_policy,
	  .maxattr = KLIPS_A_EROUTE_REPLACE, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_EROUTE_DEL, .doit = klips_nl_eroute_del_doit,
	  .policy = klips_eroute_del_nl_policy,
	  .maxattr = KLIPS_A_EROUTE_SAID, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_EROUTE_GET, .dumpit = klips_nl_eroute_get_dumpit,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_EROUTE_FLUSH, .doit = klips_nl_eroute_flush_doit,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_POLICY_SET, .doit = klips_nl_policy_set_doit,
	  .policy = klips_policy_set_nl_policy,
	  .maxattr = KLIPS_A_EROUTE_SAID, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_DEV_ADD, .doit = klips_nl_dev_add_doit,
	  .policy = klips_dev_add_nl_policy, .maxattr = KLIPS_A_DEV_NAME,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_DEV_DEL, .doit = klips_nl_dev_del_doit,
	  .policy = klips_dev_del_nl_policy, .maxattr = KLIPS_A_DEV_NAME,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_DEV_ATTACH, .doit = klips_nl_dev_attach_doit,
	  .policy = klips_dev_attach_nl_policy,
	  .maxattr = KLIPS_A_DEV_PHYSICAL, .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_DEV_DETACH, .doit = klips_nl_dev_detach_doit,
	  .policy = klips_dev_detach_nl_policy, .maxattr = KLIPS_A_DEV_NAME,
	  .flags = GENL_UNS_ADMIN_PERM },
	{ .cmd = KLIPS_CMD_DEV_GET, .dumpit = klips_nl_dev_get_dumpit,
	  .flags = GENL_UNS_ADMIN_PERM },
	/* Debug areas are module-wide: the host's administrator only. */
	{ .cmd = KLIPS_CMD_DEBUG_SET, .doit = klips_nl_debug_set_doit,
	  .policy = klips_debug_set_nl_policy, .maxattr = KLIPS_A_DEBUG_CLEAR,
	  .flags = GENL_ADMIN_PERM },
};
