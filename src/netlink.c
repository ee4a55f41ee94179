// SPDX-License-Identifier: GPL-2.0
/*
 * The klips generic netlink family (Documentation/netlink/specs/klips.yaml):
 * the control plane of SAs, groups, eroutes, devices and debug areas. This
 * file has the family, the attribute parse and put helpers the commands and
 * events share, and debug-set; the commands are in nl_sa.c, nl_eroute.c and
 * nl_dev.c, their policies and the op table in nl_policy.c, the events in
 * notify.c. Policies are strict; every refusal carries an extack message
 * naming the option or attribute at fault. Key attributes are wiped in the
 * request once used, and nothing ever sends key material back.
 */
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "netlink.h"
#include "debug.h"
#include "xform.h"

int klips_nl_parse_addr(const struct nlattr *nla, union klips_addr *addr,
			u8 *family, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KLIPS_A_ADDR_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KLIPS_A_ADDR_MAX, nla, klips_addr_nl_policy,
			       extack);
	if (err)
		return err;
	memset(addr, 0, sizeof(*addr));
	if (!tb[KLIPS_A_ADDR_IP4] == !tb[KLIPS_A_ADDR_IP6]) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "address: exactly one of ip4 and ip6");
		return -EINVAL;
	}
	if (tb[KLIPS_A_ADDR_IP4]) {
		addr->ip4 = nla_get_be32(tb[KLIPS_A_ADDR_IP4]);
		*family = AF_INET;
	} else {
		nla_memcpy(&addr->ip6, tb[KLIPS_A_ADDR_IP6], sizeof(addr->ip6));
		*family = AF_INET6;
	}
	return 0;
}

int klips_nl_parse_said(const struct nlattr *nla, struct klips_said *said,
			struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KLIPS_A_SAID_MAX + 1];
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(extack, "SAID: missing");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KLIPS_A_SAID_MAX, nla, klips_said_nl_policy,
			       extack);
	if (err)
		return err;
	if (!tb[KLIPS_A_SAID_PROTO] || !tb[KLIPS_A_SAID_SPI] ||
	    !tb[KLIPS_A_SAID_DST]) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "SAID: proto, spi and dst are required");
		return -EINVAL;
	}
	/* The padding and unused address bytes are part of the hash key. */
	memset(said, 0, sizeof(*said));
	said->proto = nla_get_u8(tb[KLIPS_A_SAID_PROTO]);
	said->spi = nla_get_u32(tb[KLIPS_A_SAID_SPI]);
	return klips_nl_parse_addr(tb[KLIPS_A_SAID_DST], &said->dst,
				   &said->family, extack);
}

int klips_nl_put_addr(struct sk_buff *skb, int type, u8 family,
		      const union klips_addr *addr)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest)
		return -EMSGSIZE;
	if (family == AF_INET ?
	    nla_put_in_addr(skb, KLIPS_A_ADDR_IP4, addr->ip4) :
	    nla_put_in6_addr(skb, KLIPS_A_ADDR_IP6, &addr->ip6)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

int klips_nl_put_said(struct sk_buff *skb, int type,
		      const struct klips_said *said)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest || nla_put_u8(skb, KLIPS_A_SAID_PROTO, said->proto) ||
	    nla_put_u32(skb, KLIPS_A_SAID_SPI, said->spi) ||
	    klips_nl_put_addr(skb, KLIPS_A_SAID_DST, said->family, &said->dst))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * No pad attributes: readers copy u64s out anyway, and the ynl of 6.12
 * cannot decode a pad.
 */
int klips_nl_put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put(skb, type, sizeof(v), &v);
}

static int put_lifetime(struct sk_buff *skb, int type,
			const struct klips_lifetime *l)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest ||
	    nla_put_u32(skb, KLIPS_A_LIFETIME_ALLOCATIONS, l->allocations) ||
	    klips_nl_put_u64(skb, KLIPS_A_LIFETIME_BYTES, l->bytes) ||
	    klips_nl_put_u64(skb, KLIPS_A_LIFETIME_ADDTIME, l->addtime) ||
	    klips_nl_put_u64(skb, KLIPS_A_LIFETIME_USETIME, l->usetime) ||
	    klips_nl_put_u64(skb, KLIPS_A_LIFETIME_PACKETS, l->packets))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_policy(struct sk_buff *skb, const struct klips_policy *pol)
{
	struct nlattr *nest = nla_nest_start(skb, KLIPS_A_SA_POLICY);

	if (!nest ||
	    klips_nl_put_addr(skb, KLIPS_A_POLICY_SRC, pol->family,
			      &pol->src.addr) ||
	    nla_put_u8(skb, KLIPS_A_POLICY_SRC_LEN, pol->src.len) ||
	    klips_nl_put_addr(skb, KLIPS_A_POLICY_DST, pol->family,
			      &pol->dst.addr) ||
	    nla_put_u8(skb, KLIPS_A_POLICY_DST_LEN, pol->dst.len))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* What the SA is: SAID, addresses, direction, state, transform. */
static int put_sa_setup(struct sk_buff *skb, const struct klips_sa *sa)
{
	const struct klips_xform *x = &sa->xform;

	if (klips_nl_put_said(skb, KLIPS_A_SA_SAID, &sa->said) ||
	    (sa->src_family &&
	     klips_nl_put_addr(skb, KLIPS_A_SA_SRC, sa->src_family,
			       &sa->src)) ||
	    (sa->tun_family &&
	     klips_nl_put_addr(skb, KLIPS_A_SA_TUN_DST, sa->tun_family,
			       &sa->tun_dst)) ||
	    nla_put_u8(skb, KLIPS_A_SA_DIR, sa->dir) ||
	    nla_put_u8(skb, KLIPS_A_SA_STATE, READ_ONCE(sa->state)) ||
	    nla_put_string(skb, KLIPS_A_SA_XFORM, sa->xform_name) ||
	    nla_put_u32(skb, KLIPS_A_SA_FLAGS, klips_sa_flags(sa)) ||
	    nla_put_u32(skb, KLIPS_A_SA_REPLAY_WINDOW, sa->replay_window) ||
	    nla_put_u32(skb, KLIPS_A_SA_IV_BITS,
			x->cipher ? x->cipher->iv_bits : 0))
		return -EMSGSIZE;
	return 0;
}

static int put_counter(struct sk_buff *skb, int type, const atomic64_t *c)
{
	return klips_nl_put_u64(skb, type, atomic64_read(c));
}

/* Sequence numbers, key lengths, errors, limits and use, compression. */
static int put_sa_counters(struct sk_buff *skb, const struct klips_sa *sa,
			   time64_t now)
{
	const struct klips_xform *x = &sa->xform;
	struct klips_lifetime cur = {};
	struct klips_replay_view v;

	klips_sa_seq_view(sa, &v);
	klips_sa_totals(sa, &cur.bytes, &cur.packets);
	cur.addtime = now - sa->add_time;
	cur.usetime = sa->first_use ? now - sa->first_use : 0;
	if (klips_nl_put_u64(skb, KLIPS_A_SA_SEQ, v.seq) ||
	    klips_nl_put_u64(skb, KLIPS_A_SA_BITMAP, v.bitmap) ||
	    nla_put_u32(skb, KLIPS_A_SA_MAX_SEQ_DIFF, v.max_seq_diff) ||
	    put_counter(skb, KLIPS_A_SA_OOO_ERRS, &sa->ooo_errs) ||
	    nla_put_u32(skb, KLIPS_A_SA_ALEN,
			x->cipher && x->cipher->aead ? x->cipher->icv_bits :
			x->integ ? x->integ->alen : 0) ||
	    nla_put_u32(skb, KLIPS_A_SA_AKLEN, x->aklen) ||
	    nla_put_u32(skb, KLIPS_A_SA_EKLEN, x->eklen) ||
	    put_counter(skb, KLIPS_A_SA_AUTH_ERRS, &sa->auth_errs) ||
	    put_counter(skb, KLIPS_A_SA_ENCR_SIZE_ERRS, &sa->encr_size_errs) ||
	    put_counter(skb, KLIPS_A_SA_ENCR_PAD_ERRS, &sa->encr_pad_errs) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_SOFT, &sa->soft) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_HARD, &sa->hard) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_CURRENT, &cur) ||
	    (sa->last_use &&
	     klips_nl_put_u64(skb, KLIPS_A_SA_IDLE, now - sa->last_use)))
		return -EMSGSIZE;
	if (sa->said.proto == IPPROTO_COMP &&
	    (put_counter(skb, KLIPS_A_SA_RATIO_IN, &sa->ratio_in) ||
	     put_counter(skb, KLIPS_A_SA_RATIO_OUT, &sa->ratio_out)))
		return -EMSGSIZE;
	return 0;
}

static int put_sa_natt(struct sk_buff *skb, const struct klips_sa *sa)
{
	if (!sa->natt_type)
		return 0;
	if (nla_put_u8(skb, KLIPS_A_SA_NATT_TYPE, sa->natt_type) ||
	    nla_put_be16(skb, KLIPS_A_SA_NATT_SPORT, sa->natt_sport) ||
	    nla_put_be16(skb, KLIPS_A_SA_NATT_DPORT, sa->natt_dport) ||
	    (sa->natt_oa_family &&
	     klips_nl_put_addr(skb, KLIPS_A_SA_NATT_OA, sa->natt_oa_family,
			       &sa->natt_oa)))
		return -EMSGSIZE;
	return 0;
}

/* The /proc fields of an SA, as attributes. Never a key. */
int klips_nl_put_sa(struct sk_buff *skb, const struct klips_sa *sa,
		    time64_t now)
{
	const struct klips_policy *pol;
	int err;

	if (put_sa_setup(skb, sa) || put_sa_counters(skb, sa, now) ||
	    put_sa_natt(skb, sa))
		return -EMSGSIZE;
	rcu_read_lock();
	pol = rcu_dereference(sa->policy);
	err = pol ? put_policy(skb, pol) : 0;
	rcu_read_unlock();
	return err;
}

int klips_nl_fill_sa(struct sk_buff *skb, const struct klips_sa *sa,
		     u32 portid, u32 seq, int flags, u8 cmd,
		     struct netlink_callback *cb)
{
	void *hdr = genlmsg_put(skb, portid, seq, &klips_nl_family, flags, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (klips_nl_put_sa(skb, sa, ktime_get_seconds())) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int klips_nl_debug_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 set = klips_nl_get_u32(info->attrs[KLIPS_A_DEBUG_SET], 0);
	u32 clear = klips_nl_get_u32(info->attrs[KLIPS_A_DEBUG_CLEAR], 0);
	struct sk_buff *msg;
	unsigned long mask;
	void *hdr;

	if ((set | clear) & ~GENMASK(KLIPS_DBG_MAX - 1, 0)) {
		NL_SET_ERR_MSG(info->extack, "klipsdebug: no such area");
		return -EINVAL;
	}
	mask = (READ_ONCE(klips_debug_mask) & ~(unsigned long)clear) | set;
	klips_debug_set(mask);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &klips_nl_family, 0,
				KLIPS_CMD_DEBUG_SET);
	if (!hdr || nla_put_u32(msg, KLIPS_A_DEBUG_MASK, mask)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_multicast_group klips_mcgrps[] = {
	/* Events reveal flows: CAP_NET_ADMIN in the namespace to listen. */
	[KLIPS_NLGRP_EVENTS] = {
		.name = KLIPS_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

struct genl_family klips_nl_family __ro_after_init = {
	.name = KLIPS_GENL_NAME,
	.version = KLIPS_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = klips_nl_ops,
	.n_ops = ARRAY_SIZE(klips_nl_ops),
	.resv_start_op = KLIPS_CMD_SA_ADD,
	.mcgrps = klips_mcgrps,
	.n_mcgrps = ARRAY_SIZE(klips_mcgrps),
};

int klips_netlink_init(void)
{
	return genl_register_family(&klips_nl_family);
}

void klips_netlink_exit(void)
{
	genl_unregister_family(&klips_nl_family);
}
