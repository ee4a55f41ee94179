// SPDX-License-Identifier: GPL-2.0
/*
 * SA and group commands of the klips family: sa-add (the request parsed
 * into a klips_sa_config for sa.c), sa-del, sa-get, sa-flush, sa-getspi,
 * grp-add and grp-get. Every change happens under the namespace's config
 * mutex and has its events (notify.c).
 */
#include <linux/string.h>

#include "netlink.h"

static void parse_lifetime(const struct nlattr *nla, struct klips_lifetime *l)
{
	struct nlattr *tb[KLIPS_A_LIFETIME_MAX + 1];

	/* Validated by the request policy already. */
	if (!nla || nla_parse_nested(tb, KLIPS_A_LIFETIME_MAX, nla,
				     klips_lifetime_nl_policy, NULL))
		return;
	l->allocations = klips_nl_get_u32(tb[KLIPS_A_LIFETIME_ALLOCATIONS], 0);
	l->bytes = klips_nl_get_u64(tb[KLIPS_A_LIFETIME_BYTES], 0);
	l->addtime = klips_nl_get_u64(tb[KLIPS_A_LIFETIME_ADDTIME], 0);
	l->usetime = klips_nl_get_u64(tb[KLIPS_A_LIFETIME_USETIME], 0);
	l->packets = klips_nl_get_u64(tb[KLIPS_A_LIFETIME_PACKETS], 0);
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
	cfg->bitmap = klips_nl_get_u64(bitmap, 0);
	return 0;
}

static int parse_sa_config(struct genl_info *info, struct klips_sa_config *cfg)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = klips_nl_parse_said(tb[KLIPS_A_SA_SAID], &cfg->said, extack);
	if (!err && tb[KLIPS_A_SA_SRC])
		err = klips_nl_parse_addr(tb[KLIPS_A_SA_SRC], &cfg->src,
					  &cfg->src_family, extack);
	if (!err && tb[KLIPS_A_SA_TUN_DST])
		err = klips_nl_parse_addr(tb[KLIPS_A_SA_TUN_DST],
					  &cfg->tun_dst, &cfg->tun_family,
					  extack);
	if (!err && tb[KLIPS_A_SA_NATT_OA])
		err = klips_nl_parse_addr(tb[KLIPS_A_SA_NATT_OA],
					  &cfg->natt_oa, &cfg->natt_oa_family,
					  extack);
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
	cfg->dir = klips_nl_get_u8(tb[KLIPS_A_SA_DIR], KLIPS_DIR_AUTO);
	cfg->replay_window_set = tb[KLIPS_A_SA_REPLAY_WINDOW];
	cfg->replay_window = klips_nl_get_u32(tb[KLIPS_A_SA_REPLAY_WINDOW], 0);
	cfg->flags = klips_nl_get_u32(tb[KLIPS_A_SA_FLAGS], 0);
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
	cfg->natt_type = klips_nl_get_u8(tb[KLIPS_A_SA_NATT_TYPE], 0);
	cfg->natt_sport = klips_nl_get_be16(tb[KLIPS_A_SA_NATT_SPORT]);
	cfg->natt_dport = klips_nl_get_be16(tb[KLIPS_A_SA_NATT_DPORT]);
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

int klips_nl_sa_add_doit(struct sk_buff *skb, struct genl_info *info)
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
		klips_nl_sa_add_notify(kn, sa);
	mutex_unlock(&kn->lock);
	if (err)
		klips_sa_put(sa);
	return err;
}

/* Under the config mutex: the SA stays in the table until we drop it. */
struct klips_sa *klips_nl_find_sa(struct klips_net *kn,
				  const struct nlattr *nla,
				  struct netlink_ext_ack *extack)
{
	struct klips_said said;
	struct klips_sa *sa;
	int err;

	lockdep_assert_held(&kn->lock);
	err = klips_nl_parse_said(nla, &said, extack);
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

int klips_nl_sa_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct klips_sa *sa;

	mutex_lock(&kn->lock);
	sa = klips_nl_find_sa(kn, info->attrs[KLIPS_A_SA_SAID], info->extack);
	if (!IS_ERR(sa)) {
		klips_nl_group_del_notify(kn, sa);
		klips_sadb_del_group(kn, sa);
	}
	mutex_unlock(&kn->lock);
	return PTR_ERR_OR_ZERO(sa);
}

int klips_nl_sa_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));

	mutex_lock(&kn->lock);
	klips_nl_sa_flush_notify(kn);
	klips_sadb_flush(kn);
	mutex_unlock(&kn->lock);
	return 0;
}

int klips_nl_sa_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct sk_buff *msg;
	struct klips_sa *sa;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&kn->lock);
	sa = klips_nl_find_sa(kn, info->attrs[KLIPS_A_SA_SAID], info->extack);
	err = IS_ERR(sa) ? PTR_ERR(sa) :
	      klips_nl_fill_sa(msg, sa, info->snd_portid, info->snd_seq, 0,
			       KLIPS_CMD_SA_GET, NULL);
	mutex_unlock(&kn->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

int klips_nl_sa_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct klips_nl_dump_ctx *c = klips_nl_dump_ctx(cb);
	struct klips_sa *sa;
	int err = 0;

	mutex_lock(&kn->lock);
	cb->seq = kn->sa_gen;
	for (sa = klips_sadb_from(kn, c->resume); sa; sa = klips_sadb_next(sa)) {
		err = klips_nl_fill_sa(skb, sa, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI,
				       KLIPS_CMD_SA_GET, cb);
		if (err)
			break;
	}
	klips_nl_dump_stop(c, sa);
	mutex_unlock(&kn->lock);
	return err && !skb->len ? err : skb->len;
}

int klips_nl_sa_getspi_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct klips_net *kn = klips_net(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	struct klips_said said;
	struct sk_buff *msg;
	u32 lo, hi, top;
	void *hdr;
	int err;

	err = klips_nl_parse_said(tb[KLIPS_A_SA_SAID], &said, info->extack);
	if (err)
		return err;
	if (said.proto != IPPROTO_AH && said.proto != IPPROTO_ESP &&
	    said.proto != IPPROTO_COMP) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KLIPS_A_SA_SAID],
				    "--getspi: for ah, esp and comp SAs");
		return -EINVAL;
	}
	top = said.proto == IPPROTO_COMP ? KLIPS_CPI_MAX : U32_MAX;
	lo = klips_nl_get_u32(tb[KLIPS_A_SA_SPI_MIN], KLIPS_SPI_MIN);
	hi = klips_nl_get_u32(tb[KLIPS_A_SA_SPI_MAX], top);
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
	hdr = genlmsg_put_reply(msg, info, &klips_nl_family, 0,
				KLIPS_CMD_SA_GETSPI);
	if (!hdr || klips_nl_put_said(msg, KLIPS_A_SA_SAID, &said)) {
		err = -EMSGSIZE;
		goto err_free;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

int klips_nl_grp_add_doit(struct sk_buff *skb, struct genl_info *info)
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
		sas[n] = klips_nl_find_sa(kn, nla, info->extack);
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
				cb->nlh->nlmsg_seq, &klips_nl_family, NLM_F_MULTI,
				KLIPS_CMD_GRP_GET);

	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	for (; sa; sa = rcu_dereference_protected(sa->outer,
						  lockdep_is_held(&kn->lock))) {
		if (klips_nl_put_said(skb, KLIPS_A_GROUP_SAID, &sa->said)) {
			genlmsg_cancel(skb, hdr);
			return -EMSGSIZE;
		}
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int klips_nl_grp_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct klips_net *kn = klips_net(sock_net(skb->sk));
	struct klips_nl_dump_ctx *c = klips_nl_dump_ctx(cb);
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
	klips_nl_dump_stop(c, sa);
	mutex_unlock(&kn->lock);
	return err && !skb->len ? err : skb->len;
}

