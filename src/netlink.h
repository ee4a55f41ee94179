/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the generic netlink family share: netlink.c (the family,
 * the attribute parse and put helpers, the dump context, debug-set),
 * nl_policy.c (the per-op policies and the op table), nl_sa.c (SA and group
 * commands), nl_eroute.c (eroute commands), nl_dev.c (ipsecN device
 * commands) and notify.c (the events group). The rest of the module raises
 * events through notify.c only (klips.h).
 */
#ifndef _KLIPS_NETLINK_H
#define _KLIPS_NETLINK_H

#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "klips.h"
#include "sa.h"
#include "eroute.h"

/* The multicast groups, in the order of the family's mcgrps. */
enum {
	KLIPS_NLGRP_EVENTS,
};

extern struct genl_family klips_nl_family;

/* nl_policy.c: the nests, for parsing them again; one op per command. */
extern const struct nla_policy klips_addr_nl_policy[KLIPS_A_ADDR_IP6 + 1];
extern const struct nla_policy
klips_lifetime_nl_policy[KLIPS_A_LIFETIME_PACKETS + 1];
extern const struct nla_policy klips_said_nl_policy[KLIPS_A_SAID_DST + 1];
extern const struct genl_ops klips_nl_ops[18];

/* nla_get_*_default() arrived after 6.12. */
static inline u8 klips_nl_get_u8(const struct nlattr *nla, u8 def)
{
	return nla ? nla_get_u8(nla) : def;
}

static inline u32 klips_nl_get_u32(const struct nlattr *nla, u32 def)
{
	return nla ? nla_get_u32(nla) : def;
}

static inline u64 klips_nl_get_u64(const struct nlattr *nla, u64 def)
{
	return nla ? nla_get_u64(nla) : def;
}

static inline __be16 klips_nl_get_be16(const struct nlattr *nla)
{
	return nla ? nla_get_be16(nla) : 0;
}

/* netlink.c: attributes in and out */
int klips_nl_parse_addr(const struct nlattr *nla, union klips_addr *addr,
			u8 *family, struct netlink_ext_ack *extack);
int klips_nl_parse_said(const struct nlattr *nla, struct klips_said *said,
			struct netlink_ext_ack *extack);
int klips_nl_put_addr(struct sk_buff *skb, int type, u8 family,
		      const union klips_addr *addr);
int klips_nl_put_said(struct sk_buff *skb, int type,
		      const struct klips_said *said);
int klips_nl_put_u64(struct sk_buff *skb, int type, u64 v);
int klips_nl_put_sa(struct sk_buff *skb, const struct klips_sa *sa,
		    time64_t now);
int klips_nl_fill_sa(struct sk_buff *skb, const struct klips_sa *sa,
		     u32 portid, u32 seq, int flags, u8 cmd,
		     struct netlink_callback *cb);

/*
 * Dumps of SAs and groups resume where the last message ended: the callback
 * keeps the serial of the next SA, never the SA, and the walk goes on at the
 * first SA at or after it (klips_sadb_from()). A table that changed in
 * between flags the dump NLM_F_DUMP_INTR (cb->seq).
 */
struct klips_nl_dump_ctx {
	u64 resume;	/* 0: from the first SA; U64_MAX: done */
};

static inline struct klips_nl_dump_ctx *
klips_nl_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct klips_nl_dump_ctx) > sizeof(cb->ctx));
	return (void *)cb->ctx;
}

/* Where the walk stopped: @sa, the next to dump, or the end. */
static inline void klips_nl_dump_stop(struct klips_nl_dump_ctx *c,
				      const struct klips_sa *sa)
{
	c->resume = sa ? sa->serial : U64_MAX;
}

/* nl_sa.c */
struct klips_sa *klips_nl_find_sa(struct klips_net *kn,
				  const struct nlattr *nla,
				  struct netlink_ext_ack *extack);
int klips_nl_sa_add_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_sa_del_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_sa_get_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_sa_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int klips_nl_sa_flush_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_sa_getspi_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_grp_add_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_grp_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

/* nl_eroute.c */
int klips_nl_put_eroute_key(struct sk_buff *skb,
			    const struct klips_eroute_key *k);
int klips_nl_eroute_add_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_eroute_del_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_eroute_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int klips_nl_eroute_flush_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_policy_set_doit(struct sk_buff *skb, struct genl_info *info);

/* nl_dev.c */
int klips_nl_dev_add_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_dev_attach_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_dev_detach_doit(struct sk_buff *skb, struct genl_info *info);
int klips_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

/* netlink.c */
int klips_nl_debug_set_doit(struct sk_buff *skb, struct genl_info *info);

/* notify.c: the events of the commands (the others are in klips.h) */
void klips_nl_sa_add_notify(struct klips_net *kn, const struct klips_sa *sa);
void klips_nl_sa_del_notify(struct klips_net *kn, const struct klips_sa *sa);
void klips_nl_sa_flush_notify(struct klips_net *kn);

#endif /* _KLIPS_NETLINK_H */
