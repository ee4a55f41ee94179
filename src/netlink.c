// SPDX-License-Identifier: GPL-2.0
/*
 * The klips generic netlink family (Documentation/netlink/specs/klips.yaml):
 * the control plane of SAs, groups, devices and debug areas. Policies are
 * strict; every refusal carries an extack message naming the option or
 * attribute at fault. Key attributes are wiped in the request once used,
 * and nothing ever sends key material back.
 */
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <linux/rtnetlink.h>

#include "klips.h"
#include "debug.h"
#include "sa.h"
#include "eroute.h"
#include "hold.h"
#include "xform.h"

static struct genl_family klips_family;

static const struct nla_policy addr_policy[KLIPS_A_ADDR_MAX + 1] = {
	[KLIPS_A_ADDR_IP4] = { .type = NLA_BE32 },
	[KLIPS_A_ADDR_IP6] = NLA_POLICY_EXACT_LEN(16),
};

static const struct nla_policy said_policy[KLIPS_A_SAID_MAX + 1] = {
	[KLIPS_A_SAID_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_SAID_SPI] = { .type = NLA_U32 },
	[KLIPS_A_SAID_DST] = NLA_POLICY_NESTED(addr_policy),
};

static const struct nla_policy life_policy[KLIPS_A_LIFETIME_MAX + 1] = {
	[KLIPS_A_LIFETIME_ALLOCATIONS] = { .type = NLA_U32 },
	[KLIPS_A_LIFETIME_BYTES] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_ADDTIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_USETIME] = { .type = NLA_U64 },
	[KLIPS_A_LIFETIME_PACKETS] = { .type = NLA_U64 },
};

/* What requests may carry; the reply-only attributes are rejected. */
static const struct nla_policy sa_policy[KLIPS_A_SA_BITMAP + 1] = {
	[KLIPS_A_SA_SAID] = NLA_POLICY_NESTED(said_policy),
	[KLIPS_A_SA_SRC] = NLA_POLICY_NESTED(addr_policy),
	[KLIPS_A_SA_TUN_DST] = NLA_POLICY_NESTED(addr_policy),
	[KLIPS_A_SA_DIR] = NLA_POLICY_MAX(NLA_U8, KLIPS_DIR_OUT),
	[KLIPS_A_SA_ESP] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_AH] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_COMP] = { .type = NLA_NUL_STRING, .len = 63 },
	[KLIPS_A_SA_ENC_KEY] = { .type = NLA_BINARY, .len = KLIPS_KEY_MAX },
	[KLIPS_A_SA_AUTH_KEY] = { .type = NLA_BINARY, .len = KLIPS_KEY_MAX },
	[KLIPS_A_SA_REPLAY_WINDOW] = { .type = NLA_U32 },
	[KLIPS_A_SA_FLAGS] = { .type = NLA_U32 },
	[KLIPS_A_SA_LIFE_SOFT] = NLA_POLICY_NESTED(life_policy),
	[KLIPS_A_SA_LIFE_HARD] = NLA_POLICY_NESTED(life_policy),
	[KLIPS_A_SA_NATT_TYPE] = NLA_POLICY_MAX(NLA_U8, KLIPS_NATT_TYPE_NONESP),
	[KLIPS_A_SA_NATT_SPORT] = { .type = NLA_BE16 },
	[KLIPS_A_SA_NATT_DPORT] = { .type = NLA_BE16 },
	[KLIPS_A_SA_NATT_OA] = NLA_POLICY_NESTED(addr_policy),
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
	[KLIPS_A_GROUP_SAID] = NLA_POLICY_NESTED(said_policy),
};

static const struct nla_policy eroute_policy[KLIPS_A_EROUTE_REPLACE + 1] = {
	[KLIPS_A_EROUTE_SRC] = NLA_POLICY_NESTED(addr_policy),
	[KLIPS_A_EROUTE_SRC_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_DST] = NLA_POLICY_NESTED(addr_policy),
	[KLIPS_A_EROUTE_DST_LEN] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_PROTO] = { .type = NLA_U8 },
	[KLIPS_A_EROUTE_SPORT] = { .type = NLA_BE16 },
	[KLIPS_A_EROUTE_DPORT] = { .type = NLA_BE16 },
	[KLIPS_A_EROUTE_SAID] = NLA_POLICY_NESTED(said_policy),
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

/* nla_get_*_default() arrived after 6.12. */
static u8 get_u8(const struct nlattr *nla, u8 def)
{
	return nla ? nla_get_u8(nla) : def;
}

static u32 get_u32(const struct nlattr *nla, u32 def)
{
	return nla ? nla_get_u32(nla) : def;
}

static u64 get_u64(const struct nlattr *nla, u64 def)
{
	return nla ? nla_get_u64(nla) : def;
}

static __be16 get_be16(const struct nlattr *nla)
{
	return nla ? nla_get_be16(nla) : 0;
}

static int parse_addr(const struct nlattr *nla, union klips_addr *addr,
		      u8 *family, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KLIPS_A_ADDR_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KLIPS_A_ADDR_MAX, nla, addr_policy, extack);
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

static int parse_said(const struct nlattr *nla, struct klips_said *said,
		      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KLIPS_A_SAID_MAX + 1];
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(extack, "SAID: missing");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KLIPS_A_SAID_MAX, nla, said_policy, extack);
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
	return parse_addr(tb[KLIPS_A_SAID_DST], &said->dst, &said->family,
			  extack);
}

static void parse_lifetime(const struct nlattr *nla, struct klips_lifetime *l)
{
	struct nlattr *tb[KLIPS_A_LIFETIME_MAX + 1];

	/* Validated by the request policy already. */
	if (!nla || nla_parse_nested(tb, KLIPS_A_LIFETIME_MAX, nla,
				     life_policy, NULL))
		return;
	l->allocations = get_u32(tb[KLIPS_A_LIFETIME_ALLOCATIONS], 0);
	l->bytes = get_u64(tb[KLIPS_A_LIFETIME_BYTES], 0);
	l->addtime = get_u64(tb[KLIPS_A_LIFETIME_ADDTIME], 0);
	l->usetime = get_u64(tb[KLIPS_A_LIFETIME_USETIME], 0);
	l->packets = get_u64(tb[KLIPS_A_LIFETIME_PACKETS], 0);
}

static int parse_alg(struct genl_info *info, struct klips_sa_config *cfg)
{
	static const int algs[] = { KLIPS_A_SA_ESP, KLIPS_A_SA_AH,
				    KLIPS_A_SA_COMP };
	static const u8 protos[] = { IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(algs); i++) {
		struct nlattr *a = info->attrs[algs[i]];

		if (!a)
			continue;
		if (cfg->alg || cfg->said.proto != protos[i]) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "--esp, --ah and --comp go with an SA of that protocol, one of them");
			return -EINVAL;
		}
		cfg->alg = nla_data(a);
	}
	return 0;
}

/*
 * seq and bitmap: where the counters of an SA that another host used go on.
 * What seq means depends on the direction, so it is never guessed here.
 */
static int parse_seq(struct genl_info *info, struct klips_sa_config *cfg)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *seq = info->attrs[KLIPS_A_SA_SEQ];
	struct nlattr *bitmap = info->attrs[KLIPS_A_SA_BITMAP];

	if (bitmap && !seq) {
		NL_SET_ERR_MSG_ATTR(extack, bitmap,
				    "bitmap: goes with seq, the top of the window");
		return -EINVAL;
	}
	if (!seq)
		return 0;
	if (cfg->said.proto != IPPROTO_AH && cfg->said.proto != IPPROTO_ESP) {
		NL_SET_ERR_MSG_ATTR(extack, seq,
				    "seq: only ah and esp SAs have sequence numbers");
		return -EINVAL;
	}
	if (cfg->dir == KLIPS_DIR_AUTO) {
		NL_SET_ERR_MSG_ATTR(extack, seq,
				    "seq: needs dir (in: the window's top; out: the last number sent)");
		return -EINVAL;
	}
	cfg->seq = nla_get_u64(seq);
	if (cfg->seq > U32_MAX && !(cfg->flags & KLIPS_SA_FLAGS_ESN)) {
		NL_SET_ERR_MSG_ATTR(extack, seq, "seq: beyond 2^32 - 1 without esn");
		return -EINVAL;
	}
	if (bitmap && cfg->dir == KLIPS_DIR_OUT) {
		NL_SET_ERR_MSG_ATTR(extack, bitmap,
				    "bitmap: an outbound SA has no replay window");
		return -EINVAL;
	}
	cfg->bitmap_set = bitmap;
	cfg->bitmap = get_u64(bitmap, 0);
	return 0;
}

static int parse_sa_config(struct genl_info *info, struct klips_sa_config *cfg)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = parse_said(tb[KLIPS_A_SA_SAID], &cfg->said, extack);
	if (!err && tb[KLIPS_A_SA_SRC])
		err = parse_addr(tb[KLIPS_A_SA_SRC], &cfg->src,
				 &cfg->src_family, extack);
	if (!err && tb[KLIPS_A_SA_TUN_DST])
		err = parse_addr(tb[KLIPS_A_SA_TUN_DST], &cfg->tun_dst,
				 &cfg->tun_family, extack);
	if (!err && tb[KLIPS_A_SA_NATT_OA])
		err = parse_addr(tb[KLIPS_A_SA_NATT_OA], &cfg->natt_oa,
				 &cfg->natt_oa_family, extack);
	if (!err)
		err = parse_alg(info, cfg);
	if (err)
		return err;
	if (cfg->tun_family && cfg->src_family != cfg->tun_family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KLIPS_A_SA_TUN_DST],
				    "--src and --dst of a tun SA differ in family");
		return -EINVAL;
	}
	if (tb[KLIPS_A_SA_ENC_KEY]) {
		cfg->enckey = nla_data(tb[KLIPS_A_SA_ENC_KEY]);
		cfg->enckey_len = nla_len(tb[KLIPS_A_SA_ENC_KEY]);
	}
	if (tb[KLIPS_A_SA_AUTH_KEY]) {
		cfg->authkey = nla_data(tb[KLIPS_A_SA_AUTH_KEY]);
		cfg->authkey_len = nla_len(tb[KLIPS_A_SA_AUTH_KEY]);
	}
	cfg->dir = get_u8(tb[KLIPS_A_SA_DIR], KLIPS_DIR_AUTO);
	cfg->replay_window_set = tb[KLIPS_A_SA_REPLAY_WINDOW];
	cfg->replay_window = get_u32(tb[KLIPS_A_SA_REPLAY_WINDOW], 0);
	cfg->flags = get_u32(tb[KLIPS_A_SA_FLAGS], 0);
	if (cfg->flags & ~KLIPS_SA_FLAGS_ESN) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KLIPS_A_SA_FLAGS],
				    "flags: only esn may be set");
		return -EINVAL;
	}
	err = parse_seq(info, cfg);
	if (err)
		return err;
	parse_lifetime(tb[KLIPS_A_SA_LIFE_SOFT], &cfg->soft);
	parse_lifetime(tb[KLIPS_A_SA_LIFE_HARD], &cfg->hard);
	cfg->natt_type = get_u8(tb[KLIPS_A_SA_NATT_TYPE], 0);
	cfg->natt_sport = get_be16(tb[KLIPS_A_SA_NATT_SPORT]);
	cfg->natt_dport = get_be16(tb[KLIPS_A_SA_NATT_DPORT]);
	if (cfg->natt_type && (!cfg->natt_sport || !cfg->natt_dport ||
			       cfg->said.proto != IPPROTO_ESP)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KLIPS_A_SA_NATT_TYPE],
				    "--natt nonesp: an esp SA with --sport and --dport");
		return -EINVAL;
	}
	return 0;
}

/* The request skb is ours until we return: leave no key bytes in it. */
static void wipe_keys(struct genl_info *info)
{
	static const int keys[] = { KLIPS_A_SA_ENC_KEY, KLIPS_A_SA_AUTH_KEY };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (info->attrs[keys[i]])
			memzero_explicit(nla_data(info->attrs[keys[i]]),
					 nla_len(info->attrs[keys[i]]));
}

static int put_addr(struct sk_buff *skb, int type, u8 family,
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

static int put_said(struct sk_buff *skb, int type,
		    const struct klips_said *said)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest || nla_put_u8(skb, KLIPS_A_SAID_PROTO, said->proto) ||
	    nla_put_u32(skb, KLIPS_A_SAID_SPI, said->spi) ||
	    put_addr(skb, KLIPS_A_SAID_DST, said->family, &said->dst))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * No pad attributes: readers copy u64s out anyway, and the ynl of 6.12
 * cannot decode a pad.
 */
static int put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put(skb, type, sizeof(v), &v);
}

static int put_lifetime(struct sk_buff *skb, int type,
			const struct klips_lifetime *l)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest ||
	    nla_put_u32(skb, KLIPS_A_LIFETIME_ALLOCATIONS, l->allocations) ||
	    put_u64(skb, KLIPS_A_LIFETIME_BYTES, l->bytes) ||
	    put_u64(skb, KLIPS_A_LIFETIME_ADDTIME, l->addtime) ||
	    put_u64(skb, KLIPS_A_LIFETIME_USETIME, l->usetime) ||
	    put_u64(skb, KLIPS_A_LIFETIME_PACKETS, l->packets))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_policy(struct sk_buff *skb, const struct klips_policy *pol)
{
	struct nlattr *nest = nla_nest_start(skb, KLIPS_A_SA_POLICY);

	if (!nest ||
	    put_addr(skb, KLIPS_A_POLICY_SRC, pol->family, &pol->src.addr) ||
	    nla_put_u8(skb, KLIPS_A_POLICY_SRC_LEN, pol->src.len) ||
	    put_addr(skb, KLIPS_A_POLICY_DST, pol->family, &pol->dst.addr) ||
	    nla_put_u8(skb, KLIPS_A_POLICY_DST_LEN, pol->dst.len))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* The /proc fields of an SA, as attributes. Never a key. */
static int put_sa_attrs(struct sk_buff *skb, const struct klips_sa *sa,
			time64_t now)
{
	const struct klips_xform *x = &sa->xform;
	const struct klips_policy *pol;
	struct klips_lifetime cur = {};
	struct klips_replay_view v;
	int err;

	klips_sa_seq_view(sa, &v);
	klips_sa_totals(sa, &cur.bytes, &cur.packets);
	cur.addtime = now - sa->add_time;
	cur.usetime = sa->first_use ? now - sa->first_use : 0;
	if (put_said(skb, KLIPS_A_SA_SAID, &sa->said) ||
	    (sa->src_family &&
	     put_addr(skb, KLIPS_A_SA_SRC, sa->src_family, &sa->src)) ||
	    (sa->tun_family &&
	     put_addr(skb, KLIPS_A_SA_TUN_DST, sa->tun_family, &sa->tun_dst)) ||
	    nla_put_u8(skb, KLIPS_A_SA_DIR, sa->dir) ||
	    nla_put_u8(skb, KLIPS_A_SA_STATE, READ_ONCE(sa->state)) ||
	    nla_put_string(skb, KLIPS_A_SA_XFORM, sa->xform_name) ||
	    nla_put_u32(skb, KLIPS_A_SA_FLAGS, klips_sa_flags(sa)) ||
	    nla_put_u32(skb, KLIPS_A_SA_REPLAY_WINDOW, sa->replay_window) ||
	    nla_put_u32(skb, KLIPS_A_SA_IV_BITS,
			x->cipher ? x->cipher->iv_bits : 0) ||
	    put_u64(skb, KLIPS_A_SA_SEQ, v.seq) ||
	    put_u64(skb, KLIPS_A_SA_BITMAP, v.bitmap) ||
	    nla_put_u32(skb, KLIPS_A_SA_MAX_SEQ_DIFF, v.max_seq_diff) ||
	    put_u64(skb, KLIPS_A_SA_OOO_ERRS, atomic64_read(&sa->ooo_errs)) ||
	    nla_put_u32(skb, KLIPS_A_SA_ALEN,
			x->cipher && x->cipher->aead ? x->cipher->icv_bits :
			x->integ ? x->integ->alen : 0) ||
	    nla_put_u32(skb, KLIPS_A_SA_AKLEN, x->aklen) ||
	    nla_put_u32(skb, KLIPS_A_SA_EKLEN, x->eklen) ||
	    put_u64(skb, KLIPS_A_SA_AUTH_ERRS, atomic64_read(&sa->auth_errs)) ||
	    put_u64(skb, KLIPS_A_SA_ENCR_SIZE_ERRS,
		    atomic64_read(&sa->encr_size_errs)) ||
	    put_u64(skb, KLIPS_A_SA_ENCR_PAD_ERRS,
		    atomic64_read(&sa->encr_pad_errs)) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_SOFT, &sa->soft) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_HARD, &sa->hard) ||
	    put_lifetime(skb, KLIPS_A_SA_LIFE_CURRENT, &cur) ||
	    (sa->last_use && put_u64(skb, KLIPS_A_SA_IDLE, now - sa->last_use)))
		return -EMSGSIZE;
	if (sa->said.proto == IPPROTO_COMP &&
	    (put_u64(skb, KLIPS_A_SA_RATIO_IN, atomic64_read(&sa->ratio_in)) ||
	     put_u64(skb, KLIPS_A_SA_RATIO_OUT,
		     atomic64_read(&sa->ratio_out))))
		return -EMSGSIZE;
	if (sa->natt_type &&
	    (nla_put_u8(skb, KLIPS_A_SA_NATT_TYPE, sa->natt_type) ||
	     nla_put_be16(skb, KLIPS_A_SA_NATT_SPORT, sa->natt_sport) ||
	     nla_put_be16(skb, KLIPS_A_SA_NATT_DPORT, sa->natt_dport) ||
	     (sa->natt_oa_family &&
	      put_addr(skb, KLIPS_A_SA_NATT_OA, sa->natt_oa_family,
		       &sa->natt_oa))))
		return -EMSGSIZE;
	rcu_read_lock();
	pol = rcu_dereference(sa->policy);
	err = pol ? put_policy(skb, pol) : 0;
	rcu_read_unlock();
	return err;
}

static int fill_sa(struct sk_buff *skb, const struct klips_sa *sa, u32 portid,
		   u32 seq, int flags, u8 cmd, struct netlink_callback *cb)
{
	void *hdr = genlmsg_put(skb, portid, seq, &klips_family, flags, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (put_sa_attrs(skb, sa, ktime_get_seconds())) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static void notify_sa(struct klips_net *kn, const struct klips_sa *sa, u8 cmd)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&klips_family, kn->net, 0))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (fill_sa(skb, sa, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast_netns(&klips_family, kn->net, skb, 0, 0, GFP_KERNEL);
}

/**
 * klips_netlink_expire() - tell listeners that @sa reached a limit
 * @kn: the namespace, config mutex held
 * @sa: the SA
 * @hard: a hard limit (the SA is deleted next) or a soft one
 *
 * Shaped like XFRM_MSG_EXPIRE: the whole SA, as sa-get shows it, and which
 * kind of limit (its "hard" byte).
 */
void klips_netlink_expire(struct klips_net *kn, const struct klips_sa *sa,
			  bool hard)
{
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&kn->lock);
	if (!genl_has_listeners(&klips_family, kn->net, 0))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &klips_family, 0, KLIPS_CMD_EXPIRE_NTF);
	if (!hdr || put_sa_attrs(skb, sa, ktime_get_seconds()) ||
	    nla_put_u8(skb, KLIPS_A_SA_EXPIRE_KIND,
		       hard ? KLIPS_EXPIRE_KIND_HARD : KLIPS_EXPIRE_KIND_SOFT)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&klips_family, kn->net, skb, 0, 0, GFP_KERNEL);
}

/**
 * klips_notify_mapping() - a NAT-T peer shows a new outer address or port
 * @kn: the namespace
 * @sa: the inbound ESP SA whose ICV the packet passed
 * @addr: the packet's outer source address (the SA's family)
 * @sport: its UDP source port
 *
 * At most one event per SA and second (design.md: rate-limited).
 * Context: softirq.
 */
void klips_notify_mapping(struct klips_net *kn, struct klips_sa *sa,
			  const union klips_addr *addr, __be16 sport)
{
	unsigned long last = READ_ONCE(sa->mapping_sent);
	u8 family = sa->src_family ?: sa->said.family;
	struct sk_buff *skb;
	void *hdr;

	if (time_before(jiffies, last + HZ) && last)
		return;
	if (cmpxchg(&sa->mapping_sent, last, jiffies ?: 1) != last)
		return;
	if (!genl_has_listeners(&klips_family, kn->net, 0))
		return;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &klips_family, 0, KLIPS_CMD_MAPPING_NTF);
	if (!hdr || put_said(skb, KLIPS_A_SA_SAID, &sa->said) ||
	    (sa->src_family &&
	     put_addr(skb, KLIPS_A_SA_SRC, sa->src_family, &sa->src)) ||
	    nla_put_be16(skb, KLIPS_A_SA_NATT_SPORT, sa->natt_sport) ||
	    put_addr(skb, KLIPS_A_SA_MAPPING_SRC, family, addr) ||
	    nla_put_be16(skb, KLIPS_A_SA_MAPPING_SPORT, sport)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&klips_family, kn->net, skb, 0, 0, GFP_ATOMIC);
}

/* Every SA of the group goes: each gets its delete event. */
static void notify_group_del(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_sa *next;

	while ((next = rcu_dereference_protected(sa->inner,
						 lockdep_is_held(&kn->lock))))
		sa = next;
	for (; sa; sa = rcu_dereference_protected(sa->outer,
						  lockdep_is_held(&kn->lock)))
		notify_sa(kn, sa, KLIPS_CMD_SA_DEL_NTF);
}

/* A hard expiry deletes @sa's group (life.c): the same events as a --del. */
void klips_netlink_group_del(struct klips_net *kn, struct klips_sa *sa)
{
	notify_group_del(kn, sa);
}

static int sa_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_sa_config cfg;
	struct klips_sa *sa;
	int err;

	err = parse_sa_config(info, &cfg);
	sa = err ? ERR_PTR(err) : klips_sa_create(kn, &cfg, info->extack);
	wipe_keys(info);
	if (IS_ERR(sa))
		return PTR_ERR(sa);

	mutex_lock(&kn->lock);
	err = klips_sadb_add(kn, sa, info->extack);
	if (!err)
		notify_sa(kn, sa, KLIPS_CMD_SA_ADD_NTF);
	mutex_unlock(&kn->lock);
	if (err)
		klips_sa_put(sa);
	return err;
}

/* Under the config mutex: the SA stays in the table until we drop it. */
static struct klips_sa *find_sa(struct klips_net *kn, const struct nlattr *nla,
				struct netlink_ext_ack *extack)
{
	struct klips_said said;
	struct klips_sa *sa;
	int err;

	lockdep_assert_held(&kn->lock);
	err = parse_said(nla, &said, extack);
	if (err)
		return ERR_PTR(err);
	rcu_read_lock();
	sa = klips_sadb_lookup_rcu(kn, &said);
	rcu_read_unlock();
	if (!sa) {
		NL_SET_ERR_MSG_ATTR(extack, nla, "SAID: no such SA");
		return ERR_PTR(-ENOENT);
	}
	return sa;
}

static int sa_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_sa *sa;

	mutex_lock(&kn->lock);
	sa = find_sa(kn, info->attrs[KLIPS_A_SA_SAID], info->extack);
	if (!IS_ERR(sa)) {
		notify_group_del(kn, sa);
		klips_sadb_del_group(kn, sa);
	}
	mutex_unlock(&kn->lock);
	return PTR_ERR_OR_ZERO(sa);
}

static int sa_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_sa *sa;

	mutex_lock(&kn->lock);
	/* A delete event per SA, in add order, as a listener saw them come. */
	if (genl_has_listeners(&klips_family, kn->net, 0))
		for (sa = klips_sadb_from(kn, 0); sa; sa = klips_sadb_next(sa))
			notify_sa(kn, sa, KLIPS_CMD_SA_DEL_NTF);
	klips_sadb_flush(kn);
	mutex_unlock(&kn->lock);
	return 0;
}

static int sa_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct sk_buff *msg;
	struct klips_sa *sa;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&kn->lock);
	sa = find_sa(kn, info->attrs[KLIPS_A_SA_SAID], info->extack);
	err = IS_ERR(sa) ? PTR_ERR(sa) :
	      fill_sa(msg, sa, info->snd_portid, info->snd_seq, 0,
		      KLIPS_CMD_SA_GET, NULL);
	mutex_unlock(&kn->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/*
 * Dumps resume where the last message ended: the callback keeps the serial
 * of the next SA, never the SA, and the walk goes on at the first SA at or
 * after it (klips_sadb_from()). A table that changed in between flags the
 * dump NLM_F_DUMP_INTR (cb->seq).
 */
struct dump_ctx {
	u64 resume;	/* 0: from the first SA; U64_MAX: done */
};

/* Where the walk stopped: @sa, the next to dump, or the end. */
static void dump_stop(struct dump_ctx *c, const struct klips_sa *sa)
{
	c->resume = sa ? sa->serial : U64_MAX;
}

static int sa_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct dump_ctx *c = (void *)cb->ctx;
	struct klips_sa *sa;
	int err = 0;

	BUILD_BUG_ON(sizeof(*c) > sizeof(cb->ctx));
	mutex_lock(&kn->lock);
	cb->seq = kn->sa_gen;
	for (sa = klips_sadb_from(kn, c->resume); sa; sa = klips_sadb_next(sa)) {
		err = fill_sa(skb, sa, NETLINK_CB(cb->skb).portid,
			      cb->nlh->nlmsg_seq, NLM_F_MULTI,
			      KLIPS_CMD_SA_GET, cb);
		if (err)
			break;
	}
	dump_stop(c, sa);
	mutex_unlock(&kn->lock);
	return err && !skb->len ? err : skb->len;
}

static int sa_getspi_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	struct klips_said said;
	struct sk_buff *msg;
	u32 lo, hi, top;
	void *hdr;
	int err;

	err = parse_said(tb[KLIPS_A_SA_SAID], &said, info->extack);
	if (err)
		return err;
	if (said.proto != IPPROTO_AH && said.proto != IPPROTO_ESP &&
	    said.proto != IPPROTO_COMP) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLIPS_A_SA_SAID],
				    "--getspi: for ah, esp and comp SAs");
		return -EINVAL;
	}
	top = said.proto == IPPROTO_COMP ? KLIPS_CPI_MAX : U32_MAX;
	lo = get_u32(tb[KLIPS_A_SA_SPI_MIN], KLIPS_SPI_MIN);
	hi = get_u32(tb[KLIPS_A_SA_SPI_MAX], top);
	if (lo < KLIPS_SPI_MIN || hi > top || lo > hi) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLIPS_A_SA_SPI_MIN],
				    "--range: must be lo-hi within 0x100..0xffffffff (0xffff for comp)");
		return -EINVAL;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&kn->lock);
	err = klips_sadb_getspi(kn, &said, lo, hi, info->extack);
	mutex_unlock(&kn->lock);
	if (err)
		goto err_free;
	hdr = genlmsg_put_reply(msg, info, &klips_family, 0,
				KLIPS_CMD_SA_GETSPI);
	if (!hdr || put_said(msg, KLIPS_A_SA_SAID, &said)) {
		err = -EMSGSIZE;
		goto err_free;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static int grp_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_sa *sas[KLIPS_GROUP_MAX];
	const struct nlattr *nla;
	unsigned int n = 0;
	int rem, err = 0;

	mutex_lock(&kn->lock);
	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != KLIPS_A_GROUP_SAID)
			continue;
		if (n == KLIPS_GROUP_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "spigrp: at most 4 SAs in a group");
			err = -E2BIG;
			goto out;
		}
		sas[n] = find_sa(kn, nla, info->extack);
		if (IS_ERR(sas[n])) {
			err = PTR_ERR(sas[n]);
			goto out;
		}
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG(info->extack, "spigrp: no SA given");
		err = -EINVAL;
		goto out;
	}
	err = klips_sadb_group(kn, sas, n, info->extack);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int fill_group(struct sk_buff *skb, const struct klips_sa *sa,
		      struct netlink_callback *cb, struct klips_net *kn)
{
	void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, &klips_family, NLM_F_MULTI,
				KLIPS_CMD_GRP_GET);

	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	for (; sa; sa = rcu_dereference_protected(sa->outer,
						  lockdep_is_held(&kn->lock))) {
		if (put_said(skb, KLIPS_A_GROUP_SAID, &sa->said)) {
			genlmsg_cancel(skb, hdr);
			return -EMSGSIZE;
		}
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int grp_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct dump_ctx *c = (void *)cb->ctx;
	struct klips_sa *sa;
	int err = 0;

	mutex_lock(&kn->lock);
	cb->seq = kn->sa_gen;
	for (sa = klips_sadb_from(kn, c->resume); sa; sa = klips_sadb_next(sa)) {
		/* A group is listed from its innermost SA. */
		if (!rcu_access_pointer(sa->inner) &&
		    rcu_access_pointer(sa->outer)) {
			err = fill_group(skb, sa, cb, kn);
			if (err)
				break;
		}
	}
	dump_stop(c, sa);
	mutex_unlock(&kn->lock);
	return err && !skb->len ? err : skb->len;
}

static int debug_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 set = get_u32(info->attrs[KLIPS_A_DEBUG_SET], 0);
	u32 clear = get_u32(info->attrs[KLIPS_A_DEBUG_CLEAR], 0);
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
	hdr = genlmsg_put_reply(msg, info, &klips_family, 0,
				KLIPS_CMD_DEBUG_SET);
	if (!hdr || nla_put_u32(msg, KLIPS_A_DEBUG_MASK, mask)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* The selectors of an eroute; eroute.c refuses non-canonical ones. */
static int parse_eroute_key(struct genl_info *info,
			    struct klips_eroute_key *key)
{
	struct nlattr **tb = info->attrs;
	u8 sfam, dfam;
	int err;

	memset(key, 0, sizeof(*key));
	if (!tb[KLIPS_A_EROUTE_SRC] || !tb[KLIPS_A_EROUTE_DST] ||
	    !tb[KLIPS_A_EROUTE_SRC_LEN] || !tb[KLIPS_A_EROUTE_DST_LEN]) {
		NL_SET_ERR_MSG(info->extack,
			       "eroute: --src and --dst (address/length) are required");
		return -EINVAL;
	}
	err = parse_addr(tb[KLIPS_A_EROUTE_SRC], &key->src, &sfam,
			 info->extack);
	if (!err)
		err = parse_addr(tb[KLIPS_A_EROUTE_DST], &key->dst, &dfam,
				 info->extack);
	if (err)
		return err;
	if (sfam != dfam) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLIPS_A_EROUTE_DST],
				    "eroute: --src and --dst differ in family");
		return -EINVAL;
	}
	key->family = sfam;
	key->src_len = nla_get_u8(tb[KLIPS_A_EROUTE_SRC_LEN]);
	key->dst_len = nla_get_u8(tb[KLIPS_A_EROUTE_DST_LEN]);
	key->proto = get_u8(tb[KLIPS_A_EROUTE_PROTO], 0);
	key->sport = get_be16(tb[KLIPS_A_EROUTE_SPORT]);
	key->dport = get_be16(tb[KLIPS_A_EROUTE_DPORT]);
	return 0;
}

/*
 * An eroute leads to a shunt, %passthrough, or an existing SA (the head of
 * a group); afterwards the SA may go, and the eroute then drops.
 */
static int check_target(struct klips_net *kn, const struct klips_said *said,
			const struct nlattr *nla, struct netlink_ext_ack *extack)
{
	struct klips_sa *sa;

	if (said->proto == KLIPS_PROTO_INT) {
		if (klips_said_shunt_name(said->spi))
			return 0;
		NL_SET_ERR_MSG_ATTR(extack, nla, "eroute --said: no such shunt");
		return -EINVAL;
	}
	if (said->proto == IPPROTO_IPIP && !said->spi)
		return 0;	/* %passthrough */
	rcu_read_lock();
	sa = klips_sadb_lookup_rcu(kn, said);
	rcu_read_unlock();
	if (!sa) {
		NL_SET_ERR_MSG_ATTR(extack, nla, "eroute: no SA with this SAID");
		return -ENOENT;
	}
	return 0;
}

/* A held packet goes when its %hold eroute is replaced or deleted. */
static void hold_changed(struct klips_net *kn,
			 const struct klips_eroute_key *key,
			 const struct klips_said *said)
{
	struct klips_eroute_key canon;

	if (!klips_eroute_key_check(key, &canon, NULL))
		klips_hold_changed(kn, &canon, said);
}

static int eroute_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct nlattr *nla = info->attrs[KLIPS_A_EROUTE_SAID];
	struct klips_eroute_key key;
	struct klips_said said;
	int err;

	err = parse_eroute_key(info, &key);
	if (!err)
		err = parse_said(nla, &said, info->extack);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	err = check_target(kn, &said, nla, info->extack);
	if (!err)
		err = klips_eroute_add(kn->eroutes, &key, &said,
				       nla_get_flag(info->attrs[KLIPS_A_EROUTE_REPLACE]),
				       info->extack);
	if (!err)
		hold_changed(kn, &key, &said);
	mutex_unlock(&kn->lock);
	return err;
}

static int eroute_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_eroute_key key;
	int err;

	err = parse_eroute_key(info, &key);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	err = klips_eroute_del(kn->eroutes, &key, info->extack);
	if (!err)
		hold_changed(kn, &key, NULL);
	mutex_unlock(&kn->lock);
	return err;
}

static int eroute_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));

	mutex_lock(&kn->lock);
	klips_eroute_flush(kn->eroutes);
	klips_hold_flush(kn);
	mutex_unlock(&kn->lock);
	return 0;
}

static int put_eroute_key(struct sk_buff *skb,
			  const struct klips_eroute_key *k)
{
	if (put_addr(skb, KLIPS_A_EROUTE_SRC, k->family, &k->src) ||
	    nla_put_u8(skb, KLIPS_A_EROUTE_SRC_LEN, k->src_len) ||
	    put_addr(skb, KLIPS_A_EROUTE_DST, k->family, &k->dst) ||
	    nla_put_u8(skb, KLIPS_A_EROUTE_DST_LEN, k->dst_len) ||
	    (k->proto && nla_put_u8(skb, KLIPS_A_EROUTE_PROTO, k->proto)) ||
	    (k->sport && nla_put_be16(skb, KLIPS_A_EROUTE_SPORT, k->sport)) ||
	    (k->dport && nla_put_be16(skb, KLIPS_A_EROUTE_DPORT, k->dport)))
		return -EMSGSIZE;
	return 0;
}

static int fill_eroute(struct sk_buff *skb, const struct klips_eroute *e,
		       struct netlink_callback *cb)
{
	const struct klips_eroute_key *k = &e->key;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &klips_family, NLM_F_MULTI, KLIPS_CMD_EROUTE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (put_eroute_key(skb, k) ||
	    put_said(skb, KLIPS_A_EROUTE_SAID, &e->said) ||
	    put_u64(skb, KLIPS_A_EROUTE_PACKETS, klips_eroute_packets(e))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/**
 * klips_notify_acquire() - tell a keying daemon a packet hit a trap
 * @kn: the namespace
 * @sel: the packet's host pair, protocol and ports (%trap), or the
 *	eroute's selectors (%trapsubnet)
 * @said: %trap or %trapsubnet
 *
 * Context: process context.
 * Return: true if the event went out to at least one listener.
 */
bool klips_notify_acquire(struct klips_net *kn,
			  const struct klips_eroute_key *sel,
			  const struct klips_said *said)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&klips_family, kn->net, 0))
		return false;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return false;
	hdr = genlmsg_put(skb, 0, 0, &klips_family, 0, KLIPS_CMD_ACQUIRE_NTF);
	if (!hdr || put_eroute_key(skb, sel) ||
	    put_said(skb, KLIPS_A_EROUTE_SAID, said)) {
		nlmsg_free(skb);
		return false;
	}
	genlmsg_end(skb, hdr);
	return !genlmsg_multicast_netns(&klips_family, kn->net, skb, 0, 0,
					GFP_KERNEL);
}

/* Resumes after the key of the last eroute sent, kept in the callback. */
struct eroute_dump_ctx {
	struct klips_eroute_key last;
	bool started;
};

static int eroute_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct eroute_dump_ctx *c = (void *)cb->ctx;
	struct klips_eroute *e;
	int err = 0;

	BUILD_BUG_ON(sizeof(*c) > sizeof(cb->ctx));
	mutex_lock(&kn->lock);
	e = c->started ? klips_eroute_next_after(kn->eroutes, &c->last) :
			 klips_eroute_first(kn->eroutes);
	for (; e; e = klips_eroute_next_after(kn->eroutes, &e->key)) {
		err = fill_eroute(skb, e, cb);
		if (err)
			break;
		c->last = e->key;
		c->started = true;
	}
	mutex_unlock(&kn->lock);
	return err && !skb->len ? err : skb->len;
}

/* eroute --addin: the inbound policy of the group's tun SA, no eroute. */
static int policy_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_policy *pol;
	struct klips_eroute_key req, key;
	struct klips_sa *sa, *inner;
	int err;

	err = parse_eroute_key(info, &req);
	if (err)
		return err;
	if (req.proto || req.sport || req.dport) {
		NL_SET_ERR_MSG(info->extack,
			       "eroute --addin: an inbound policy has no protocol or ports");
		return -EINVAL;
	}
	err = klips_eroute_key_check(&req, &key, info->extack);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	sa = find_sa(kn, info->attrs[KLIPS_A_EROUTE_SAID], info->extack);
	err = PTR_ERR_OR_ZERO(sa);
	if (err)
		goto out;
	while ((inner = rcu_dereference_protected(sa->inner,
						  lockdep_is_held(&kn->lock))))
		sa = inner;
	if (sa->said.proto != IPPROTO_IPIP || sa->dir != KLIPS_DIR_IN) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KLIPS_A_EROUTE_SAID],
				    "eroute --addin: the group has no inbound tun SA");
		err = -EINVAL;
		goto out;
	}
	pol = kzalloc(sizeof(*pol), GFP_KERNEL_ACCOUNT);
	if (!pol) {
		err = -ENOMEM;
		goto out;
	}
	pol->src.addr = key.src;
	pol->src.len = key.src_len;
	pol->dst.addr = key.dst;
	pol->dst.len = key.dst_len;
	pol->family = key.family;
	klips_sa_publish_policy(sa, pol);
	kn->sa_gen++;
out:
	mutex_unlock(&kn->lock);
	return err;
}

/* An ipsecN device of this namespace by name. Context: RTNL held. */
static struct net_device *find_dev(struct net *net, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_NAME];
	struct net_device *dev;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg: --virtual is required");
		return ERR_PTR(-EINVAL);
	}
	dev = __dev_get_by_name(net, nla_data(nla));
	if (!dev || !klips_is_klips_dev(dev)) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "tncfg: no such ipsecN device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

static int dev_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_NAME];
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg --create: a name is required");
		return -EINVAL;
	}
	rtnl_lock();
	err = klips_dev_create(genl_info_net(info), nla_data(nla),
			       info->extack);
	rtnl_unlock();
	return err;
}

static int dev_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev;

	rtnl_lock();
	dev = find_dev(genl_info_net(info), info);
	if (!IS_ERR(dev))
		unregister_netdevice(dev);
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(dev);
}

static int dev_attach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_PHYSICAL];
	struct net *net = genl_info_net(info);
	struct net_device *dev, *phys;
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg --attach: --physical is required");
		return -EINVAL;
	}
	rtnl_lock();
	dev = find_dev(net, info);
	err = PTR_ERR_OR_ZERO(dev);
	if (err)
		goto out;
	phys = __dev_get_by_name(net, nla_data(nla));
	if (!phys) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "tncfg --physical: no such device in this namespace");
		err = -ENODEV;
		goto out;
	}
	err = klips_dev_attach(dev, phys, info->extack);
out:
	rtnl_unlock();
	return err;
}

/* Without a name: detach every ipsecN of the namespace (tncfg --clear). */
static int dev_detach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct net_device *dev;
	int err = 0;

	rtnl_lock();
	if (info->attrs[KLIPS_A_DEV_NAME]) {
		dev = find_dev(net, info);
		err = PTR_ERR_OR_ZERO(dev);
		if (!err)
			klips_dev_detach(dev);
	} else {
		for_each_netdev(net, dev)
			if (klips_is_klips_dev(dev))
				klips_dev_detach(dev);
	}
	rtnl_unlock();
	return err;
}

static int fill_dev(struct sk_buff *skb, struct net_device *dev,
		    struct netlink_callback *cb)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int eff;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &klips_family, NLM_F_MULTI, KLIPS_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;
	eff = klips_dev_effective_mtu(dev);
	if (nla_put_string(skb, KLIPS_A_DEV_NAME, dev->name) ||
	    (phys && nla_put_string(skb, KLIPS_A_DEV_PHYSICAL, phys->name)) ||
	    nla_put_u32(skb, KLIPS_A_DEV_MTU, dev->mtu) ||
	    nla_put_u32(skb, KLIPS_A_DEV_EFFECTIVE_MTU, eff) ||
	    nla_put_u32(skb, KLIPS_A_DEV_PHYSICAL_MTU, phys ? phys->mtu : 0)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct net_device *dev;
	long i = 0;

	/*
	 * The effective MTU walks the namespace's eroutes: under its config
	 * mutex and RCU, as /proc's tncfg, never under the global RTNL.
	 */
	mutex_lock(&klips_net(net)->lock);
	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (!klips_is_klips_dev(dev))
			continue;
		if (i++ < cb->args[0])
			continue;
		if (fill_dev(skb, dev, cb)) {
			i--;
			break;
		}
	}
	rcu_read_unlock();
	mutex_unlock(&klips_net(net)->lock);
	cb->args[0] = i;
	return skb->len;
}

#define OP(c, fn, pol, max, fl) {					\
	.cmd = c, .doit = fn, .policy = pol, .maxattr = max, .flags = fl }
#define DUMP(c, fn, pol, max) {						\
	.cmd = c, .dumpit = fn, .policy = pol, .maxattr = max,		\
	.flags = GENL_UNS_ADMIN_PERM }

static const struct genl_ops klips_ops[] = {
	OP(KLIPS_CMD_SA_ADD, sa_add_doit, sa_policy, KLIPS_A_SA_BITMAP,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_SA_DEL, sa_del_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	{
		.cmd = KLIPS_CMD_SA_GET,
		.doit = sa_get_doit,
		.dumpit = sa_get_dumpit,
		.policy = sa_policy,
		.maxattr = KLIPS_A_SA_SPI_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	OP(KLIPS_CMD_SA_FLUSH, sa_flush_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_SA_GETSPI, sa_getspi_doit, sa_policy, KLIPS_A_SA_SPI_MAX,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_GRP_ADD, grp_add_doit, group_policy, KLIPS_A_GROUP_MAX,
	   GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_GRP_GET, grp_get_dumpit, group_policy,
	     KLIPS_A_GROUP_MAX),
	OP(KLIPS_CMD_EROUTE_ADD, eroute_add_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_EROUTE_DEL, eroute_del_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_EROUTE_GET, eroute_get_dumpit, eroute_policy,
	     KLIPS_A_EROUTE_REPLACE),
	OP(KLIPS_CMD_EROUTE_FLUSH, eroute_flush_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_POLICY_SET, policy_set_doit, eroute_policy,
	   KLIPS_A_EROUTE_REPLACE, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_ADD, dev_add_doit, dev_policy, KLIPS_A_DEV_PHYSICAL,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_DEL, dev_del_doit, dev_policy, KLIPS_A_DEV_PHYSICAL,
	   GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_ATTACH, dev_attach_doit, dev_policy,
	   KLIPS_A_DEV_PHYSICAL, GENL_UNS_ADMIN_PERM),
	OP(KLIPS_CMD_DEV_DETACH, dev_detach_doit, dev_policy,
	   KLIPS_A_DEV_PHYSICAL, GENL_UNS_ADMIN_PERM),
	DUMP(KLIPS_CMD_DEV_GET, dev_get_dumpit, dev_policy,
	     KLIPS_A_DEV_PHYSICAL),
	/* Debug areas are module-wide: the host's administrator only. */
	OP(KLIPS_CMD_DEBUG_SET, debug_set_doit, debug_policy,
	   KLIPS_A_DEBUG_CLEAR, GENL_ADMIN_PERM),
};

static const struct genl_multicast_group klips_mcgrps[] = {
	/* Events reveal flows: CAP_NET_ADMIN in the namespace to listen. */
	{ .name = KLIPS_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family klips_family __ro_after_init = {
	.name = KLIPS_GENL_NAME,
	.version = KLIPS_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = klips_ops,
	.n_ops = ARRAY_SIZE(klips_ops),
	.resv_start_op = KLIPS_CMD_SA_ADD,
	.mcgrps = klips_mcgrps,
	.n_mcgrps = ARRAY_SIZE(klips_mcgrps),
};

int klips_netlink_init(void)
{
	return genl_register_family(&klips_family);
}

void klips_netlink_exit(void)
{
	genl_unregister_family(&klips_family);
}
