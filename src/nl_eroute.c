// SPDX-License-Identifier: GPL-2.0
/*
 * Eroute commands of the klips family: eroute-add, eroute-del, eroute-get,
 * eroute-flush, and policy-set (eroute --addin, the inbound policy of a
 * group's tun SA). The table is eroute.c's; a %hold eroute that changes
 * lets its held packet go (hold.c).
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "netlink.h"
#include "hold.h"

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
	err = klips_nl_parse_addr(tb[KLIPS_A_EROUTE_SRC], &key->src, &sfam,
				  info->extack);
	if (!err)
		err = klips_nl_parse_addr(tb[KLIPS_A_EROUTE_DST], &key->dst,
					  &dfam, info->extack);
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
	key->proto = klips_nl_get_u8(tb[KLIPS_A_EROUTE_PROTO], 0);
	key->sport = klips_nl_get_be16(tb[KLIPS_A_EROUTE_SPORT]);
	key->dport = klips_nl_get_be16(tb[KLIPS_A_EROUTE_DPORT]);
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

int klips_nl_eroute_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct nlattr *nla = info->attrs[KLIPS_A_EROUTE_SAID];
	struct klips_eroute_key key;
	struct klips_said said;
	int err;

	err = parse_eroute_key(info, &key);
	if (!err)
		err = klips_nl_parse_said(nla, &said, info->extack);
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

int klips_nl_eroute_del_doit(struct sk_buff *skb, struct genl_info *info)
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

int klips_nl_eroute_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));

	mutex_lock(&kn->lock);
	klips_eroute_flush(kn->eroutes);
	klips_hold_flush(kn);
	mutex_unlock(&kn->lock);
	return 0;
}

int klips_nl_put_eroute_key(struct sk_buff *skb,
			    const struct klips_eroute_key *k)
{
	if (klips_nl_put_addr(skb, KLIPS_A_EROUTE_SRC, k->family, &k->src) ||
	    nla_put_u8(skb, KLIPS_A_EROUTE_SRC_LEN, k->src_len) ||
	    klips_nl_put_addr(skb, KLIPS_A_EROUTE_DST, k->family, &k->dst) ||
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
			  &klips_nl_family, NLM_F_MULTI, KLIPS_CMD_EROUTE_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (klips_nl_put_eroute_key(skb, k) ||
	    klips_nl_put_said(skb, KLIPS_A_EROUTE_SAID, &e->said) ||
	    klips_nl_put_u64(skb, KLIPS_A_EROUTE_PACKETS, klips_eroute_packets(e))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Resumes after the key of the last eroute sent, kept in the callback. */
struct eroute_dump_ctx {
	struct klips_eroute_key last;
	bool started;
};

int klips_nl_eroute_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct eroute_dump_ctx *c = (void *)cb->ctx;
	struct klips_eroute *e;
	int err = 0;

	BUILD_BUG_ON(sizeof(*c) > sizeof(cb->ctx));
	mutex_lock(&kn->lock);
	/* Changes between two parts set NLM_F_DUMP_INTR on the later one. */
	cb->seq = klips_eroute_gen(kn->eroutes);
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

/*
 * eroute --addin: the inbound policy of the group's tun SA, no eroute. Its
 * policy refuses a protocol and ports (nl_policy.c).
 */
int klips_nl_policy_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_policy *pol;
	struct klips_eroute_key req, key;
	struct klips_sa *sa;
	int err;

	err = parse_eroute_key(info, &req);
	if (err)
		return err;
	err = klips_eroute_key_check(&req, &key, info->extack);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	sa = klips_nl_find_sa(kn, info->attrs[KLIPS_A_EROUTE_SAID], info->extack);
	err = PTR_ERR_OR_ZERO(sa);
	if (err)
		goto out;
	sa = klips_group_first(sa);
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

