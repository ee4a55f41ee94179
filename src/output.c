// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: what routing sends into ipsecN. The eroute table decides (most
 * specific first) between a shunt and an SA group; the group is applied
 * inner to outer (IPIP, ESP, then AH), and the result, like a %pass packet, is
 * routed out of the attached physical device, pinned to it and never back
 * into an ipsecN device (design.md, "Transmit routing").
 *
 * ipsecN advertises no offloads but scatter-gather and checksumming: the
 * core segments GSO packets before they get here, and a partial checksum
 * is completed before any transform.
 */
#include <linux/icmp.h>
#include <linux/moduleparam.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/ip6_checksum.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/addrconf.h>

#include "xform.h"
#include "eroute.h"
#include "hold.h"
#include "debug.h"

unsigned int klips_ttl = 64;

static int ttl_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 255);
}

static const struct kernel_param_ops ttl_ops = {
	.set = ttl_set,
	.get = param_get_uint,
};
module_param_cb(ttl, &ttl_ops, &klips_ttl, 0644);
MODULE_PARM_DESC(ttl, "TTL / hop limit of the outer header of tunnel packets (1-255)");

/* What the eroute lookup needs from a packet. */
struct klips_flow {
	union klips_addr saddr;
	union klips_addr daddr;
	u8 family;
	u8 proto;
	__be16 sport;
	__be16 dport;
	bool df;		/* IPv4 DF, or IPv6: never fragmented en route */
	bool frag;		/* a fragment: ports unknown */
};

static bool proto_has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP;
}

static int parse_flow(struct sk_buff *skb, struct klips_flow *f)
{
	unsigned int thoff;
	__be16 ports[2];
	bool frag;

	memset(f, 0, sizeof(*f));
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph;

		if (!pskb_network_may_pull(skb, sizeof(*iph)))
			return -EINVAL;
		iph = ip_hdr(skb);
		if (iph->version != 4 || iph->ihl < 5 ||
		    !pskb_network_may_pull(skb, iph->ihl * 4))
			return -EINVAL;
		iph = ip_hdr(skb);
		f->family = AF_INET;
		f->saddr.ip4 = iph->saddr;
		f->daddr.ip4 = iph->daddr;
		f->proto = iph->protocol;
		f->df = iph->frag_off & htons(IP_DF);
		frag = ip_is_fragment(iph);
		thoff = skb_network_offset(skb) + iph->ihl * 4;
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h;
		unsigned short fragoff = 0;
		int off;

		if (!pskb_network_may_pull(skb, sizeof(*ip6h)))
			return -EINVAL;
		ip6h = ipv6_hdr(skb);
		if (ip6h->version != 6)
			return -EINVAL;
		f->family = AF_INET6;
		f->saddr.ip6 = ip6h->saddr;
		f->daddr.ip6 = ip6h->daddr;
		f->df = true;
		off = skb_network_offset(skb) + sizeof(*ip6h);
		f->proto = ip6h->nexthdr;
		off = ipv6_skip_exthdr(skb, off, &f->proto, (__be16 *)&fragoff);
		if (off < 0)
			return -EINVAL;
		thoff = 0;	/* ipv6_find_hdr() starts at the network header */
		frag = ipv6_find_hdr(skb, &thoff, NEXTHDR_FRAGMENT, NULL,
				     NULL) >= 0;
		thoff = off;
	} else {
		return -EPROTONOSUPPORT;
	}
	/* A non-first fragment has no ports (design.md: see klips_xmit). */
	f->frag = frag;
	if (!frag && proto_has_ports(f->proto) &&
	    !skb_copy_bits(skb, thoff, ports, sizeof(ports))) {
		f->sport = ports[0];
		f->dport = ports[1];
	}
	return 0;
}

/* A trapped packet's host pair with its protocol and ports: an ACQUIRE's. */
static void flow_selectors(const struct klips_flow *f,
			   struct klips_eroute_key *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->family = f->family;
	sel->src = f->saddr;
	sel->dst = f->daddr;
	sel->src_len = f->family == AF_INET ? 32 : 128;
	sel->dst_len = sel->src_len;
	sel->proto = f->proto;
	sel->sport = f->sport;
	sel->dport = f->dport;
}

static bool is_local(struct net *net, const struct klips_flow *f)
{
	if (f->family == AF_INET)
		return inet_addr_type(net, f->saddr.ip4) == RTN_LOCAL;
	return ipv6_chk_addr(net, &f->saddr.ip6, NULL, 0);
}

/* Without an eroute only the host's own IKE and ESP/AH pass (cli.md). */
static bool own_keying(struct net *net, const struct klips_flow *f)
{
	bool ike = f->proto == IPPROTO_UDP &&
		   (f->sport == htons(500) || f->sport == htons(4500));

	if (!ike && f->proto != IPPROTO_ESP && f->proto != IPPROTO_AH)
		return false;
	return is_local(net, f);
}

static void drop(struct sk_buff *skb, struct net_device *dev,
		 enum klips_stat stat)
{
	if (stat < KLIPS_STAT_MAX)
		klips_stat_inc(klips_net(dev_net(dev)), stat);
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
}

/*
 * The outer path MTU of @sa, the outermost SA of a group, follows what
 * the route to its peer knows: an exception learned before the SA existed
 * (or by other traffic) applies to it at once, and when the exception
 * expires the group's effective MTU grows back. What ICMP taught the SA
 * (learn_pmtu() in input.c, which updates the route too) is not raised
 * again within a second: should the route looked up here not be the one
 * that learned (policy routing), the SA still keeps what it heard.
 */
static void track_pmtu(struct klips_sa *sa, struct dst_entry *dst,
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
 * Route the finished packet out of the attached device. The FIB lookup is
 * pinned to that device and skips XFRM policy: klips's own packets are
 * never captured by an XFRM policy of the same namespace (design.md).
 * @sa is the group's outermost SA, NULL for a shunt's packet.
 */
static void klips_send(struct sk_buff *skb, struct net_device *dev,
		       struct klips_sa *sa)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net *net = dev_net(dev);
	unsigned int len = skb->len;
	struct net_device *phys;
	struct dst_entry *dst;
	int err;

	rcu_read_lock();
	phys = rcu_dereference(kd->phys);
	if (!phys) {
		rcu_read_unlock();
		DEV_STATS_INC(dev, tx_carrier_errors);
		drop(skb, dev, KLIPS_STAT_MAX);
		return;
	}
	skb_scrub_packet(skb, false);
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);
		struct flowi4 fl4 = {
			.flowi4_oif = phys->ifindex,
			.flowi4_proto = iph->protocol,
			.flowi4_flags = FLOWI_FLAG_ANYSRC,
			.flowi4_mark = skb->mark,
			.daddr = iph->daddr,
			.saddr = iph->saddr,
		};
		struct rtable *rt = __ip_route_output_key(net, &fl4);

		if (IS_ERR(rt)) {
			rcu_read_unlock();
			DEV_STATS_INC(dev, tx_carrier_errors);
			drop(skb, dev, KLIPS_STAT_MAX);
			return;
		}
		dst = &rt->dst;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		/* No source: the lookup then keeps strictly to the oif. */
		struct flowi6 fl6 = {
			.flowi6_oif = phys->ifindex,
			.flowi6_mark = skb->mark,
			.flowi6_proto = ip6h->nexthdr,
			.daddr = ip6h->daddr,
		};

		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error) {
			dst_release(dst);
			rcu_read_unlock();
			DEV_STATS_INC(dev, tx_carrier_errors);
			drop(skb, dev, KLIPS_STAT_MAX);
			return;
		}
	}
	if (sa)
		track_pmtu(sa, dst, phys);
	rcu_read_unlock();
	if (klips_dev_is_klips(dst->dev)) {
		dst_release(dst);
		drop(skb, dev, KLIPS_STAT_OUT_LOOP);
		return;
	}
	skb_dst_set(skb, dst);
	if (skb->protocol == htons(ETH_P_IP)) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		err = ip_local_out(net, NULL, skb);
	} else {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		/* We are the source of an outer IPv6 packet: it may fragment. */
		skb->ignore_df = 1;
		err = ip6_local_out(net, NULL, skb);
	}
	if (likely(!net_xmit_eval(err)))
		dev_sw_netstats_tx_add(dev, 1, len);
	else
		DEV_STATS_INC(dev, tx_errors);
}

/*
 * The group's state was checked as the packet began (pin_group()); what
 * may stop it since is a hard limit of this SA, reached by other packets.
 * A group deleted meanwhile still applies whole: its SAs are pinned.
 */
static int apply(struct sk_buff *skb, struct klips_sa *sa)
{
	if (test_bit(KLIPS_LIFE_HARD, &sa->life_flags))
		return -EKEYEXPIRED;
	return sa->type->output(skb, sa);
}

/*
 * NAT-T (RFC 3948): a UDP header between the IP header and ESP, from the
 * SA's --sport to its --dport. IPv4 leaves the UDP checksum 0 (RFC 3948
 * section 2.1); IPv6 must carry one.
 */
static int natt_encap(struct sk_buff *skb, struct klips_sa *sa)
{
	unsigned int hdrlen, nh_off;
	struct udphdr *uh;
	int err;

	err = klips_ipsec_hdr_offset(skb, &nh_off);
	if (err < 0)
		return err;
	hdrlen = err;
	err = skb_cow_head(skb, sizeof(*uh) + LL_MAX_HEADER);
	if (err)
		return err;
	skb_push(skb, sizeof(*uh));
	memmove(skb->data, skb->data + sizeof(*uh), hdrlen);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, hdrlen);
	skb_network_header(skb)[nh_off] = IPPROTO_UDP;
	uh = udp_hdr(skb);
	uh->source = sa->natt_sport;
	uh->dest = sa->natt_dport;
	uh->len = htons(skb->len - hdrlen);
	uh->check = 0;
	if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		uh->check = csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr,
					    skb->len - hdrlen, IPPROTO_UDP,
					    skb_checksum(skb, hdrlen,
							 skb->len - hdrlen, 0));
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
	}
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/* What follows a transform that finished: NAT-T's UDP after ESP. */
static int applied(struct sk_buff *skb, struct klips_sa *sa)
{
	if (sa->natt_type && sa->said.proto == IPPROTO_ESP)
		return natt_encap(skb, sa);
	return 0;
}

static bool sa_live(const struct klips_sa *sa)
{
	u8 state = READ_ONCE(sa->state);

	return state == KLIPS_STATE_MATURE || state == KLIPS_STATE_DYING;
}

/* The next pinned SA outside the one applied, its reference handed over. */
static struct klips_sa *pinned_next(struct klips_skb_cb *cb)
{
	if (cb->next == ARRAY_SIZE(cb->outer))
		return NULL;
	return cb->outer[cb->next] ? cb->outer[cb->next++] : NULL;
}

static void unpin(struct sk_buff *skb)
{
	struct klips_sa *sa;

	while ((sa = pinned_next(klips_cb(skb))))
		klips_sa_put(sa);
}

/*
 * Take a reference on every SA outside @sa, into skb->cb, and check that
 * the whole group is live. Once pinned, the packet gets every layer of
 * its group even if the group is deleted under it (a tun SA's IPIP never
 * leaves in clear), and the packet that reaches a hard limit still goes.
 * Context: rcu_read_lock().
 *
 * Return: 0, or -EKEYEXPIRED (nothing pinned).
 */
static int pin_group(struct sk_buff *skb, struct klips_sa *sa)
{
	struct klips_skb_cb *cb = klips_cb(skb);
	unsigned int n = 0;

	memset(cb->outer, 0, sizeof(cb->outer));
	cb->next = 0;
	for (;;) {
		struct klips_sa *next = rcu_dereference(sa->outer);

		/*
		 * Pairs with the smp_wmb() in klips_sadb_del(): an SA whose
		 * group is being deleted is seen dead before its links go.
		 */
		smp_rmb();
		if (!sa_live(sa))
			break;
		if (!next)
			return 0;
		if (n == ARRAY_SIZE(cb->outer) ||
		    !refcount_inc_not_zero(&next->refcnt))
			break;
		cb->outer[n++] = next;
		sa = next;
	}
	unpin(skb);
	return -EKEYEXPIRED;
}

/*
 * Apply @sa and the pinned SAs outside it, then send; @sa is applied
 * already when @resumed (its asynchronous transform finished). Consumes
 * the skb, the references on @sa and the pinned SAs, and the one on
 * skb->dev (taken by klips_xmit).
 */
static void output_chain(struct sk_buff *skb, struct klips_sa *sa,
			 bool resumed)
{
	struct klips_skb_cb *cb = klips_cb(skb);
	struct net_device *dev = skb->dev;
	struct klips_sa *next;
	int err;

	for (;;) {
		if (!resumed) {
			cb->sa = sa;
			err = apply(skb, sa);
			if (err == -EINPROGRESS)
				return;
		} else {
			err = 0;
			resumed = false;
		}
		if (!err)
			err = applied(skb, sa);
		if (err) {
			klips_dbg(KLIPS_DBG_XMIT, "%s: transform failed: %d\n",
				  dev->name, err);
			/* Sequence numbers used up (2^32 - 1 without ESN): hard. */
			if (err == -EOVERFLOW)
				klips_sa_expire(sa, true);
			klips_sa_put(sa);
			unpin(skb);
			drop(skb, dev, err == -EKEYEXPIRED || err == -EOVERFLOW ?
				       KLIPS_STAT_OUT_STATE_EXPIRED :
				       KLIPS_STAT_MAX);
			dev_put(dev);
			return;
		}
		next = pinned_next(cb);
		if (!next)
			break;
		klips_sa_put(sa);
		sa = next;
	}
	klips_send(skb, dev, sa);
	klips_sa_put(sa);
	dev_put(dev);
}

/* An asynchronous transform finished: go on with the next SA. */
void klips_output_resume(struct sk_buff *skb, int err)
{
	struct klips_sa *sa = klips_cb(skb)->sa;
	struct net_device *dev = skb->dev;

	if (err) {
		klips_sa_put(sa);
		unpin(skb);
		drop(skb, dev, KLIPS_STAT_MAX);
		dev_put(dev);
		return;
	}
	output_chain(skb, sa, true);
}

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
	for (; sa; sa = rcu_dereference(sa->outer))
		if (sa->type->overhead)
			total += sa->type->overhead(sa, total, &hlen);
	return total - len;
}

/* @mtu, or less if an SA of the group learned a smaller outer path MTU. */
static unsigned int path_mtu(struct klips_sa *sa, unsigned int mtu)
{
	for (; sa; sa = rcu_dereference(sa->outer)) {
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
 * An MTU learned from ICMP for the outer path lowers @mtu (design.md).
 * Context: rcu_read_lock().
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

static void send_too_big(struct sk_buff *skb, const struct klips_flow *f,
			 unsigned int mtu)
{
	if (f->family == AF_INET)
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			      htonl(mtu));
	else
		icmpv6_ndo_send(skb, ICMPV6_PKT_TOOBIG, 0,
				max_t(unsigned int, mtu, IPV6_MIN_MTU));
}

static void reject(struct sk_buff *skb, const struct klips_flow *f)
{
	if (f->family == AF_INET)
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, 0);
	else
		icmpv6_ndo_send(skb, ICMPV6_DEST_UNREACH, ICMPV6_ADM_PROHIBITED,
				0);
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
	track_pmtu(sa, dst, phys);
	dst_release(dst);
}

/*
 * The packet does not fit the attached device (or the outer path) once
 * transformed and may not be fragmented: tell the sender what would fit.
 */
static bool too_big(struct sk_buff *skb, struct net_device *dev,
		    struct klips_sa *sa, const struct klips_flow *f)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int hlen, mtu;

	if (!phys || !f->df)
		return false;
	hlen = f->family == AF_INET ? ip_hdrlen(skb) : sizeof(struct ipv6hdr);
	mtu = READ_ONCE(phys->mtu);
	/* This packet's own overhead first: the search is for the ICMP only. */
	if (skb->len + group_overhead(sa, skb->len, hlen) <= path_mtu(sa, mtu))
		return false;
	refresh_pmtu(sa, phys, skb->mark, f->family);
	if (skb->len + group_overhead(sa, skb->len, hlen) <= path_mtu(sa, mtu))
		return false;
	send_too_big(skb, f, klips_group_mtu(sa, mtu, hlen));
	return true;
}

/* Any eroute with ports makes fragments (which have none) special. */
static bool ports_matter(struct klips_net *kn, const struct klips_flow *f)
{
	bool ret;

	rcu_read_lock();
	ret = klips_eroute_has_ports(kn->eroutes, f->family);
	rcu_read_unlock();
	return ret;
}

/* Our own reassembly queue, apart from the stack's local delivery. */
#define KLIPS_DEFRAG_USER	(IP_DEFRAG_MACVLAN + 0x4b4c)

netdev_tx_t klips_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct klips_net *kn = klips_net(dev_net(dev));
	bool portless = false;
	struct klips_eroute *e;
	struct klips_said said;
	struct klips_flow f;
	struct klips_sa *sa;

	skb_reset_network_header(skb);
	if (parse_flow(skb, &f)) {
		drop(skb, dev, KLIPS_STAT_MAX);
		return NETDEV_TX_OK;
	}
	/*
	 * IPv4 fragments are reassembled first: non-first fragments carry no
	 * ports (design.md), and ESP in transport mode protects a whole
	 * datagram, not a fragment. IPv6 fragments (ESP goes before their
	 * fragment header) are looked up without ports when any eroute has
	 * them, alike, and never leave in clear by a %pass.
	 */
	if (f.frag && f.family == AF_INET) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		if (ip_defrag(dev_net(dev), skb, KLIPS_DEFRAG_USER))
			return NETDEV_TX_OK;
		skb_reset_network_header(skb);
		if (parse_flow(skb, &f)) {
			drop(skb, dev, KLIPS_STAT_MAX);
			return NETDEV_TX_OK;
		}
	} else if (f.frag && ports_matter(kn, &f)) {
		portless = true;
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		drop(skb, dev, KLIPS_STAT_MAX);
		return NETDEV_TX_OK;
	}

	rcu_read_lock();
	if (portless) {
		f.sport = 0;
		f.dport = 0;
	}
	e = klips_eroute_lookup(kn->eroutes, f.family, &f.saddr, &f.daddr,
				f.proto, f.sport, f.dport);
	if (!e) {
		rcu_read_unlock();
		if (!portless && own_keying(dev_net(dev), &f)) {
			dev_hold(dev);
			klips_send(skb, dev, NULL);
			dev_put(dev);
			return NETDEV_TX_OK;
		}
		drop(skb, dev, KLIPS_STAT_OUT_NO_EROUTE);
		return NETDEV_TX_OK;
	}
	klips_eroute_count_packet(e);
	said = e->said;
	/* %passthrough, tun.0@...: KLIPS sent it in clear, as %pass. */
	if (said.proto == IPPROTO_IPIP && !said.spi) {
		said.proto = KLIPS_PROTO_INT;
		said.spi = KLIPS_SHUNT_PASS;
	}
	if (said.proto == KLIPS_PROTO_INT) {
		struct klips_eroute_key ekey = e->key, sel;

		rcu_read_unlock();
		switch (said.spi) {
		case KLIPS_SHUNT_PASS:
			if (portless)
				break;
			dev_hold(dev);
			klips_send(skb, dev, NULL);
			dev_put(dev);
			return NETDEV_TX_OK;
		case KLIPS_SHUNT_REJECT:
			reject(skb, &f);
			break;
		case KLIPS_SHUNT_HOLD:
			klips_hold_packet(kn, &ekey, skb, dev);
			return NETDEV_TX_OK;
		case KLIPS_SHUNT_TRAP:
		case KLIPS_SHUNT_TRAPSUBNET:
			flow_selectors(&f, &sel);
			klips_trap_packet(kn, &ekey, &said, &sel, skb, dev);
			return NETDEV_TX_OK;
		}
		drop(skb, dev, KLIPS_STAT_OUT_SHUNT);
		return NETDEV_TX_OK;
	}
	sa = klips_sadb_lookup_rcu(kn, &said);
	if (!sa || !refcount_inc_not_zero(&sa->refcnt)) {
		rcu_read_unlock();
		/* The eroute's group is gone: it drops until replaced. */
		drop(skb, dev, KLIPS_STAT_OUT_STATE_EXPIRED);
		return NETDEV_TX_OK;
	}
	if (too_big(skb, dev, sa, &f)) {
		rcu_read_unlock();
		klips_sa_put(sa);
		drop(skb, dev, KLIPS_STAT_OUT_MTU);
		return NETDEV_TX_OK;
	}
	if (pin_group(skb, sa)) {
		rcu_read_unlock();
		klips_sa_put(sa);
		drop(skb, dev, KLIPS_STAT_OUT_STATE_EXPIRED);
		return NETDEV_TX_OK;
	}
	rcu_read_unlock();
	dev_hold(dev);
	output_chain(skb, sa, false);
	return NETDEV_TX_OK;
}
