// SPDX-License-Identifier: GPL-2.0
/*
 * IPIP, the tun SA of a group: the outer IPv4 or IPv6 header of a tunnel
 * (protocol 4 for IPv4 inside, 41 for IPv6), added from the SA's addresses on
 * output and, on input, checked against them and taken off, the inner header
 * validated and held to the SA's inbound policy (eroute --addin). DSCP and ECN
 * follow RFC 6040 both ways (Documentation/klips/design.md, "Transmit
 * routing"). Bare IPIP, which has no SPI, is received here too: from the
 * kernel's tunnel handler chains, which input_reg.c registers for, its tun SA
 * found by the outer addresses; and the ICMP errors about what a tun SA sent.
 */
#include <linux/icmp.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/rhashtable.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "xform.h"

/* Add the outer header of a tunnel SA (IPIP, or IPv6 for 41). */
static int ipip_output(struct sk_buff *skb, struct klips_sa *sa)
{
	struct net *net = dev_net(skb->dev);
	unsigned int inner_len = skb->len;
	u8 dsfield, proto;
	__be16 df = 0;
	int err;

	if (skb->protocol == htons(ETH_P_IP)) {
		dsfield = ipv4_get_dsfield(ip_hdr(skb));
		df = ip_hdr(skb)->frag_off & htons(IP_DF);
		proto = IPPROTO_IPIP;
	} else {
		dsfield = ipv6_get_dsfield(ipv6_hdr(skb));
		proto = IPPROTO_IPV6;
	}
	/*
	 * DSCP copied, ECN as RFC 6040's normal mode
	 * (Documentation/klips/design.md).
	 */
	dsfield = INET_ECN_encapsulate(dsfield, dsfield);

	if (sa->tun_family == AF_INET) {
		struct iphdr *iph;

		err = skb_cow_head(skb, sizeof(*iph) + LL_MAX_HEADER + 32);
		if (err)
			return err;
		skb_push(skb, sizeof(*iph));
		skb_reset_network_header(skb);
		iph = ip_hdr(skb);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = dsfield;
		iph->tot_len = htons(skb->len);
		iph->frag_off = df;
		iph->ttl = klips_ttl;
		iph->protocol = proto;
		iph->saddr = sa->src.ip4;
		iph->daddr = sa->tun_dst.ip4;
		skb->protocol = htons(ETH_P_IP);
		ip_select_ident(net, skb, NULL);
		skb_set_transport_header(skb, sizeof(*iph));
	} else {
		struct ipv6hdr *ip6h;

		err = skb_cow_head(skb, sizeof(*ip6h) + LL_MAX_HEADER + 32);
		if (err)
			return err;
		skb_push(skb, sizeof(*ip6h));
		skb_reset_network_header(skb);
		ip6h = ipv6_hdr(skb);
		ip6_flow_hdr(ip6h, dsfield, 0);
		ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
		ip6h->nexthdr = proto;
		ip6h->hop_limit = klips_ttl;
		ip6h->saddr = sa->src.ip6;
		ip6h->daddr = sa->tun_dst.ip6;
		skb->protocol = htons(ETH_P_IPV6);
		skb_set_transport_header(skb, sizeof(*ip6h));
	}
	klips_sa_count(sa, inner_len);
	return 0;
}

static bool prefix_match(u8 family, const union klips_addr *a,
			 const struct klips_prefix *p)
{
	if (family == AF_INET)
		return !((a->ip4 ^ p->addr.ip4) & inet_make_mask(p->len));
	return ipv6_prefix_equal(&a->ip6, &p->addr.ip6, p->len);
}

/* The inner addresses are within @tun's inbound policy, if it has one. */
static bool policy_allows(struct klips_sa *tun, u8 family,
			  const union klips_addr *saddr,
			  const union klips_addr *daddr)
{
	const struct klips_policy *pol;
	bool ok;

	rcu_read_lock();
	pol = rcu_dereference(tun->policy);
	ok = !pol || (pol->family == family &&
		      prefix_match(family, saddr, &pol->src) &&
		      prefix_match(family, daddr, &pol->dst));
	rcu_read_unlock();
	return ok;
}

/* The outer header the packet came with matches the tun SA's addresses. */
static bool outer_matches(struct sk_buff *skb, const struct klips_sa *tun)
{
	if (skb->protocol == htons(ETH_P_IP))
		return tun->tun_family == AF_INET &&
		       ip_hdr(skb)->saddr == tun->src.ip4 &&
		       ip_hdr(skb)->daddr == tun->tun_dst.ip4;
	return tun->tun_family == AF_INET6 &&
	       ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &tun->src.ip6) &&
	       ipv6_addr_equal(&ipv6_hdr(skb)->daddr, &tun->tun_dst.ip6);
}

/*
 * Undo the tun SA: skb->data is at the inner header. Validate it before
 * anything walks it, check the inbound policy, apply RFC 6040 to ECN.
 */
int klips_ipip_input(struct sk_buff *skb, struct klips_sa *tun, int nexthdr,
		     struct klips_net *kn)
{
	u8 outer_tos = klips_cb(skb)->outer_tos;
	union klips_addr saddr = {}, daddr = {};
	unsigned int len;
	u8 family;

	if (!klips_sa_live(tun))
		return KLIPS_STAT_IN_STATE_INVALID;
	if (!outer_matches(skb, tun))
		return KLIPS_STAT_IN_POLICY_ERROR;
	if (nexthdr == IPPROTO_IPIP) {
		const struct iphdr *iph;

		if (!pskb_may_pull(skb, sizeof(*iph)))
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
		iph = (const struct iphdr *)skb->data;
		if (iph->version != 4 || iph->ihl < 5 ||
		    !pskb_may_pull(skb, iph->ihl * 4))
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
		iph = (const struct iphdr *)skb->data;
		len = ntohs(iph->tot_len);
		if (ip_fast_csum(iph, iph->ihl) || len < iph->ihl * 4 ||
		    len > skb->len)
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
		family = AF_INET;
		saddr.ip4 = iph->saddr;
		daddr.ip4 = iph->daddr;
		skb->protocol = htons(ETH_P_IP);
	} else {
		const struct ipv6hdr *ip6h;

		if (!pskb_may_pull(skb, sizeof(*ip6h)))
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
		ip6h = (const struct ipv6hdr *)skb->data;
		len = sizeof(*ip6h) + ntohs(ip6h->payload_len);
		if (ip6h->version != 6 || !ip6h->payload_len || len > skb->len)
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
		family = AF_INET6;
		saddr.ip6 = ip6h->saddr;
		daddr.ip6 = ip6h->daddr;
		skb->protocol = htons(ETH_P_IPV6);
	}
	if (pskb_trim(skb, len))
		return KLIPS_STAT_IN_INNER_HEADER_ERROR;
	if (!policy_allows(tun, family, &saddr, &daddr))
		return KLIPS_STAT_IN_POLICY_ERROR;
	skb_reset_network_header(skb);
	if (INET_ECN_is_ce(outer_tos)) {
		/* A bare IPIP packet may share its data with a capture. */
		if (skb_ensure_writable(skb, family == AF_INET ?
					sizeof(struct iphdr) :
					sizeof(struct ipv6hdr)))
			return KLIPS_STAT_IN_HDR_ERROR;
		/* RFC 6040: CE onto Not-ECT is dropped, onto ECT copied. */
		if (family == AF_INET ? !IP_ECN_set_ce(ip_hdr(skb)) :
					!IP6_ECN_set_ce(skb, ipv6_hdr(skb)))
			return KLIPS_STAT_IN_INNER_HEADER_ERROR;
	}
	klips_sa_count(tun, skb->len);
	return KLIPS_STAT_MAX;
}

static int ipip_resolve(struct klips_sa *sa,
			const struct klips_sa_config *cfg,
			struct netlink_ext_ack *extack)
{
	if (cfg->alg || cfg->enckey_len || cfg->authkey_len ||
	    !cfg->tun_family || !cfg->src_family) {
		NL_SET_ERR_MSG(extack,
			       "a tun SA takes --ip4|--ip6 --src --dst and no algorithm");
		return -EINVAL;
	}
	return 0;
}

/* The outer header, whose length the next layer's padding goes by. */
static unsigned int ipip_overhead(const struct klips_sa *sa, unsigned int len,
				  unsigned int *hlen)
{
	*hlen = sa->tun_family == AF_INET ?
		sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	return *hlen;
}

const struct klips_xform_type klips_ipip_type = {
	.proto		= IPPROTO_IPIP,
	.flags		= KLIPS_XFORM_TUNNEL,
	.name		= "IPIP",
	.resolve	= ipip_resolve,
	.output		= ipip_output,
	.overhead	= ipip_overhead,
};

/*
 * Bare IPIP (Documentation/klips/design.md): no SPI, so the tun SA is found by
 * the outer (source, destination). Only a group's skippable layers (IPComp: a
 * packet that did not compress goes as plain IPIP) may be missing in front of
 * it; IPIP from the peer of an ESP or AH group is a skipped layer. Nonzero
 * passes a packet that is not ours to the next handler (the kernel's ipip, sit,
 * ip6_tunnel, xfrm4_tunnel, xfrm interfaces).
 */
static bool tun_key_of(struct klips_tun_key *key, const struct sk_buff *skb,
		       const void *hdr)
{
	memset(key, 0, sizeof(*key));
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = hdr;

		key->family = AF_INET;
		key->src.ip4 = iph->saddr;
		key->dst.ip4 = iph->daddr;
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h = hdr;

		key->family = AF_INET6;
		key->src.ip6 = ip6h->saddr;
		key->dst.ip6 = ip6h->daddr;
	} else {
		return false;
	}
	return true;
}

/* Every layer outside @sa may be skipped (IPComp) or there is none. */
static bool outer_skippable(struct klips_sa *sa)
{
	while ((sa = rcu_dereference(sa->outer)))
		if (!(sa->type->flags & KLIPS_XFORM_COMPRESS))
			return false;
	return true;
}

static int ipip_rcv(struct sk_buff *skb, u8 nexthdr)
{
	struct net *net = dev_net(skb->dev);
	struct klips_net *kn = klips_net(net);
	struct klips_sa *sa, *tun = NULL;
	struct klips_tun_key key;
	struct rhlist_head *list, *pos;
	int stat;

	if (!check_net(net) ||
	    !tun_key_of(&key, skb, skb_network_header(skb)))
		return -EINVAL;
	list = klips_sadb_tun_lookup_rcu(kn, &key);
	if (!list) {
		klips_stat_inc(kn, KLIPS_STAT_IN_NOT_OURS);
		return -EINVAL;
	}
	stat = KLIPS_STAT_IN_POLICY_ERROR;
	rhl_for_each_entry_rcu(sa, pos, list, tun_node) {
		if (sa->dir != KLIPS_DIR_IN || !outer_skippable(sa))
			continue;
		tun = sa;
		if (READ_ONCE(sa->state) == KLIPS_STATE_MATURE)
			break;
	}
	if (tun) {
		klips_cb(skb)->outer_tos = key.family == AF_INET ?
			ipv4_get_dsfield(ip_hdr(skb)) :
			ipv6_get_dsfield(ipv6_hdr(skb));
		stat = klips_ipip_input(skb, tun, nexthdr, kn);
	}
	klips_input_deliver(skb, kn, stat);
	return 0;
}

int klips_ipip4_rcv(struct sk_buff *skb)
{
	return ipip_rcv(skb, IPPROTO_IPIP);
}

int klips_ipip6_rcv(struct sk_buff *skb)
{
	return ipip_rcv(skb, IPPROTO_IPV6);
}

/* An ICMP error about a bare IPIP packet we sent: @hdr is its outer header. */
static struct klips_sa *ipip_err_sa(struct sk_buff *skb, const void *hdr)
{
	struct klips_tun_key key;
	struct rhlist_head *list, *pos;
	struct klips_sa *sa;

	if (!tun_key_of(&key, skb, hdr))
		return NULL;
	list = klips_sadb_tun_lookup_rcu(klips_net(dev_net(skb->dev)), &key);
	rhl_for_each_entry_rcu(sa, pos, list, tun_node)
		if (sa->dir == KLIPS_DIR_OUT && outer_skippable(sa))
			return sa;
	return NULL;
}

/* The error handlers of the IPIP registrations (input_reg.c). */
int klips_ipip4_err(struct sk_buff *skb, u32 info)
{
	struct klips_sa *sa = ipip_err_sa(skb, skb->data);

	if (!sa)
		return -ENOENT;
	klips_pmtu_icmp4(skb, sa, info);
	return 0;
}

int klips_ipip6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
		    u8 type, u8 code, int offset, __be32 info)
{
	struct klips_sa *sa = ipip_err_sa(skb, skb->data);

	if (!sa)
		return -ENOENT;
	klips_pmtu_icmp6(skb, sa, type, info);
	return 0;
}
