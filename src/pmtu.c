// SPDX-License-Identifier: GPL-2.0
/*
 * Path MTU (Documentation/klips/design.md): what a group adds to a packet,
 * the effective MTU of ipsecN's packets through it, and the outer path's
 * MTU as an SA learns it, from ICMP errors about the packets it sent and
 * from the route to its peer. A packet that will not fit and may not be
 * fragmented is refused with the ICMP that tells its sender what fits.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "xform.h"
#include "debug.h"

/*
 * What @sa's group adds to a packet of @len bytes whose IP header is
 * @hlen bytes long (IPComp adds nothing: what would not shrink is sent
 * uncompressed). Context: rcu_read_lock().
 */
static unsigned int group_overhead(struct klips_sa *sa, unsigned int len,
				   unsigned int hlen)
{
	unsigned int total = len;

	/*
	 * A larval SA (getspi) has no transform yet: it adds nothing here,
	 * and carries nothing (pin_group()).
	 */
	for (; sa; sa = klips_group_next_rcu(sa))
		if (sa->type->overhead)
			total += sa->type->overhead(sa, total, &hlen);
	return total - len;
}

/* @mtu, or less if an SA of the group learned a smaller outer path MTU. */
static unsigned int path_mtu(struct klips_sa *sa, unsigned int mtu)
{
	for (; sa; sa = klips_group_next_rcu(sa)) {
		u32 pmtu = READ_ONCE(sa->pmtu);

		if (pmtu && pmtu < mtu)
			mtu = pmtu;
	}
	return mtu;
}

/**
 * klips_group_mtu() - the largest packet @sa's group turns into one that fits
 * @sa: the first (innermost) SA of the group
 * @mtu: the attached device's MTU
 * @hlen: the IP header length of the packets entering the group
 *
 * An MTU learned from ICMP for the outer path lowers @mtu
 * (Documentation/klips/design.md). Context: rcu_read_lock().
 *
 * Return: the effective MTU, 0 if nothing fits.
 */
unsigned int klips_group_mtu(struct klips_sa *sa, unsigned int mtu,
			     unsigned int hlen)
{
	unsigned int len;

	mtu = path_mtu(sa, mtu);
	/* A first guess, then exact: ESP padding varies with the length. */
	len = mtu - min(mtu, group_overhead(sa, mtu, hlen));
	while (len && len + group_overhead(sa, len, hlen) > mtu)
		len--;
	while (len < mtu && len + 1 + group_overhead(sa, len + 1, hlen) <= mtu)
		len++;
	return len;
}

static void send_too_big(struct sk_buff *skb, u8 family, unsigned int mtu)
{
	if (family == AF_INET)
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			      htonl(mtu));
	else
		icmpv6_ndo_send(skb, ICMPV6_PKT_TOOBIG, 0,
				max_t(unsigned int, mtu, IPV6_MIN_MTU));
}

/*
 * The outer path MTU of @sa, the outermost SA of a group, follows what
 * the route to its peer knows: an exception learned before the SA existed
 * (or by other traffic) applies to it at once, and when the exception
 * expires the group's effective MTU grows back. What ICMP taught the SA
 * (learn_pmtu(), which updates the route too) is not raised
 * again within a second: should the route looked up here not be the one
 * that learned (policy routing), the SA still keeps what it heard.
 */
void klips_pmtu_track(struct klips_sa *sa, struct dst_entry *dst,
		      const struct net_device *phys)
{
	unsigned int mtu = dst_mtu(dst);
	u32 pmtu = mtu < READ_ONCE(phys->mtu) ? mtu : 0;
	u32 cur = READ_ONCE(sa->pmtu);

	if (pmtu == cur)
		return;
	if (cur && (!pmtu || pmtu > cur) &&
	    time_before(jiffies, READ_ONCE(sa->pmtu_learned) + HZ))
		return;
	WRITE_ONCE(sa->pmtu, pmtu);
}

/*
 * A packet that does not fit what the group's outermost SA learned never
 * reaches klips_send(), which keeps that value in step with the route: look
 * the outer route up here too, so that an MTU the route no longer knows (a
 * forged or stale ICMP) is not kept for as long as every packet is too big.
 * Context: rcu_read_lock().
 */
static void refresh_pmtu(struct klips_sa *sa, struct net_device *phys,
			 u32 mark, u8 inner_family)
{
	struct net *net = dev_net(phys);
	struct klips_sa *outer, *src_sa = sa;
	struct dst_entry *dst;
	u8 family, proto;
	union klips_addr daddr;

	/* The key klips_send() builds from the finished packet: its outer
	 * source is the tun SA's, if the group has one.
	 */
	while ((outer = rcu_dereference(sa->outer))) {
		if (sa->type->flags & KLIPS_XFORM_TUNNEL)
			src_sa = sa;
		sa = outer;
	}
	if (sa->type->flags & KLIPS_XFORM_TUNNEL)
		src_sa = sa;
	if (!READ_ONCE(sa->pmtu))
		return;
	proto = sa->said.proto;
	family = sa->said.family;
	daddr = sa->said.dst;
	if (sa->type->flags & KLIPS_XFORM_TUNNEL) {
		family = sa->tun_family;
		daddr = sa->tun_dst;
		proto = inner_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	} else if (sa->natt_type) {
		proto = IPPROTO_UDP;
	}
	if (family == AF_INET) {
		struct flowi4 fl4 = {
			.flowi4_oif = phys->ifindex,
			.flowi4_proto = proto,
			.flowi4_flags = FLOWI_FLAG_ANYSRC,
			.flowi4_mark = mark,
			.daddr = daddr.ip4,
			.saddr = src_sa->src_family == AF_INET ? src_sa->src.ip4 :
								 0,
		};
		struct rtable *rt = __ip_route_output_key(net, &fl4);

		if (IS_ERR(rt))
			return;
		dst = &rt->dst;
	} else if (family == AF_INET6) {
		struct flowi6 fl6 = {
			.flowi6_oif = phys->ifindex,
			.flowi6_mark = mark,
			.flowi6_proto = proto,
			.daddr = daddr.ip6,
		};

		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error) {
			dst_release(dst);
			return;
		}
	} else {
		return;
	}
	klips_pmtu_track(sa, dst, phys);
	dst_release(dst);
}

/*
 * The packet does not fit the attached device (or the outer path) once
 * transformed and may not be fragmented: tell the sender what would fit.
 */
bool klips_pmtu_too_big(struct sk_buff *skb, struct net_device *dev,
			struct klips_sa *sa, u8 family, bool df)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int hlen, mtu;

	if (!phys || !df)
		return false;
	hlen = family == AF_INET ? ip_hdrlen(skb) : sizeof(struct ipv6hdr);
	mtu = READ_ONCE(phys->mtu);
	/* This packet's own overhead first: the search is for the ICMP only. */
	if (skb->len + group_overhead(sa, skb->len, hlen) <= path_mtu(sa, mtu))
		return false;
	refresh_pmtu(sa, phys, skb->mark, family);
	if (skb->len + group_overhead(sa, skb->len, hlen) <= path_mtu(sa, mtu))
		return false;
	send_too_big(skb, family, klips_group_mtu(sa, mtu, hlen));
	return true;
}

/* An ICMP error about an ESP, AH or IPComp packet we sent: ours if the SA is. */
static struct klips_sa *err_sa(struct sk_buff *skb, u8 family, u8 proto,
			       const union klips_addr *daddr,
			       unsigned int off)
{
	struct klips_said said;

	memset(&said, 0, sizeof(said));
	said.proto = proto;
	said.family = family;
	said.spi = klips_header_spi(skb, off, klips_xform_type_get(proto));
	if (!said.spi)		/* truncated */
		return NULL;
	said.dst = *daddr;
	return klips_sadb_lookup_rcu(klips_net(dev_net(skb->dev)), &said);
}

/*
 * An ICMP too-big for the outer path lowers the group's effective MTU: on
 * its outermost SA, where the transmit path also keeps the route's MTU
 * (klips_pmtu_track()). The caller updated the route first.
 * Context: rcu_read_lock().
 */
static void learn_pmtu(struct klips_sa *sa, u32 mtu, u32 min)
{
	struct klips_sa *outer;
	u32 cur;

	if (mtu < min)
		return;
	while ((outer = rcu_dereference(sa->outer)))
		sa = outer;
	cur = READ_ONCE(sa->pmtu);
	if (!cur || mtu < cur)
		WRITE_ONCE(sa->pmtu, mtu);
	WRITE_ONCE(sa->pmtu_learned, jiffies);
	klips_dbg(KLIPS_DBG_RCV, "%u.%x: outer path MTU %u\n", sa->said.proto,
		  sa->said.spi, mtu);
}

/*
 * What an ICMP "fragmentation needed" may teach about an IPv4 path: as the
 * core does (__ip_rt_update_pmtu()), nothing below min_pmtu, so that a
 * forged ICMP cannot pin a group at 68 bytes.
 */
static u32 ipv4_pmtu(struct net *net, u32 info)
{
	return max(info, READ_ONCE(net->ipv4.ip_rt_min_pmtu));
}

/**
 * klips_pmtu_icmp4() - what an ICMP error teaches about @sa's outer path
 * @skb: the ICMP error, skb->data at the header of the packet we sent
 * @sa: the SA that packet left by
 * @info: the ICMP's information (the next-hop MTU)
 *
 * A "fragmentation needed" updates the route and @sa's group; any other
 * error teaches nothing. Context: rcu_read_lock().
 */
void klips_pmtu_icmp4(struct sk_buff *skb, struct klips_sa *sa, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	struct net *net = dev_net(skb->dev);

	if (icmp_hdr(skb)->type != ICMP_DEST_UNREACH ||
	    icmp_hdr(skb)->code != ICMP_FRAG_NEEDED)
		return;
	ipv4_update_pmtu(skb, net, info, 0, iph->protocol);
	learn_pmtu(sa, ipv4_pmtu(net, info), 68);
}

/* As klips_pmtu_icmp4(), of an ICMPv6 error of @type: a "packet too big". */
void klips_pmtu_icmp6(struct sk_buff *skb, struct klips_sa *sa, u8 type,
		      __be32 info)
{
	struct net *net = dev_net(skb->dev);

	if (type != ICMPV6_PKT_TOOBIG)
		return;
	ip6_update_pmtu(skb, net, info, 0, 0, sock_net_uid(net, NULL));
	learn_pmtu(sa, ntohl(info), IPV6_MIN_MTU);
}

/*
 * The error handlers of the ESP, AH and IPComp registrations (input_reg.c):
 * about a packet of @proto we sent, skb->data at its IP header, its IPsec
 * header @offset bytes on (IPv6).
 */
int klips_ipsec4_err(struct sk_buff *skb, u32 info, u8 proto)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	union klips_addr daddr = { .ip4 = iph->daddr };
	struct klips_sa *sa = err_sa(skb, AF_INET, proto, &daddr,
				     iph->ihl * 4);

	if (!sa)
		return -ENOENT;
	klips_pmtu_icmp4(skb, sa, info);
	return 0;
}

int klips_ipsec6_err(struct sk_buff *skb, u8 type, int offset, __be32 info,
		     u8 proto)
{
	const struct ipv6hdr *ip6h = (const struct ipv6hdr *)skb->data;
	union klips_addr daddr = { .ip6 = ip6h->daddr };
	struct klips_sa *sa = err_sa(skb, AF_INET6, proto, &daddr, offset);

	if (!sa)
		return -ENOENT;
	klips_pmtu_icmp6(skb, sa, type, info);
	return 0;
}
