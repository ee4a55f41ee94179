// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: what routing sends into ipsecN. The eroute table decides (most
 * specific first) between a shunt and an SA group; the group is applied inner
 * to outer (IPIP, ESP, then AH), and the result, like a %pass packet, is routed
 * out of the attached physical device, pinned to it and never back into an
 * ipsecN device (Documentation/klips/design.md, "Transmit routing").
 *
 * ipsecN advertises no offloads but scatter-gather and checksumming: the
 * core segments GSO packets before they get here, and a partial checksum
 * is completed before any transform.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/moduleparam.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
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

/* What the steps of klips_xmit() return once the packet is on its way. */
#define XMIT_GONE	(-1)

static bool is_local(struct net *net, const struct klips_flow *f)
{
	if (f->family == AF_INET)
		return inet_addr_type(net, f->saddr.ip4) == RTN_LOCAL;
	return ipv6_chk_addr(net, &f->saddr.ip6, NULL, 0);
}

/*
 * Without an eroute only the host's own IKE and ESP/AH pass
 * (Documentation/klips/cli.md).
 */
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

/* IPv4: route_out(). */
static struct dst_entry *route4_out(struct net *net, struct sk_buff *skb,
				    const struct net_device *phys)
{
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

	return IS_ERR(rt) ? NULL : &rt->dst;
}

/* IPv6: route_out(). */
static struct dst_entry *route6_out(struct net *net, struct sk_buff *skb,
				    const struct net_device *phys)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	/* No source: the lookup then keeps strictly to the oif. */
	struct flowi6 fl6 = {
		.flowi6_oif = phys->ifindex,
		.flowi6_mark = skb->mark,
		.flowi6_proto = ip6h->nexthdr,
		.daddr = ip6h->daddr,
	};
	struct dst_entry *dst = ip6_route_output(net, NULL, &fl6);

	if (dst->error) {
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/*
 * The route of a finished packet out of @phys, or NULL. The FIB lookup is
 * pinned to that device and skips XFRM policy. Context: rcu_read_lock().
 */
static struct dst_entry *route_out(struct net *net, struct sk_buff *skb,
				   const struct net_device *phys)
{
	if (skb->protocol == htons(ETH_P_IP))
		return route4_out(net, skb, phys);
	return route6_out(net, skb, phys);
}

/*
 * Route the finished packet out of the attached device. The FIB lookup is
 * pinned to that device and skips XFRM policy: klips's own packets are never
 * captured by an XFRM policy of the same namespace
 * (Documentation/klips/design.md). @sa is the group's outermost SA, NULL for a
 * shunt's packet.
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

	skb_scrub_packet(skb, false);
	rcu_read_lock();
	phys = rcu_dereference(kd->phys);
	dst = phys ? route_out(net, skb, phys) : NULL;
	if (!dst) {
		rcu_read_unlock();
		DEV_STATS_INC(dev, tx_carrier_errors);
		drop(skb, dev, KLIPS_STAT_MAX);
		return;
	}
	if (sa)
		klips_pmtu_track(sa, dst, phys);
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

/* What follows a transform that finished: NAT-T's UDP after ESP. */
static int applied(struct sk_buff *skb, struct klips_sa *sa)
{
	if (sa->natt_type && sa->said.proto == IPPROTO_ESP)
		return klips_natt_encap(skb, sa);
	return 0;
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
		if (!klips_sa_live(sa))
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

static void reject(struct sk_buff *skb, const struct klips_flow *f)
{
	if (f->family == AF_INET)
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, 0);
	else
		icmpv6_ndo_send(skb, ICMPV6_DEST_UNREACH, ICMPV6_ADM_PROHIBITED,
				0);
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

/*
 * The packet's flow, for the eroute lookup. IPv4 fragments are reassembled
 * first: non-first fragments carry no ports (Documentation/klips/design.md),
 * and ESP in transport mode protects a whole datagram, not a fragment. IPv6
 * fragments (ESP goes before their fragment header) are looked up without ports
 * when any eroute has them, alike, and never leave in clear by a %pass.
 *
 * Return: 0; -EINPROGRESS if the reassembly queue took the packet; or an
 * error, the packet to be dropped.
 */
static int xmit_flow(struct sk_buff *skb, struct net_device *dev,
		     struct klips_net *kn, struct klips_flow *f)
{
	skb_reset_network_header(skb);
	if (klips_flow_parse(skb, f))
		return -EINVAL;
	if (f->frag && f->family == AF_INET) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		if (ip_defrag(dev_net(dev), skb, KLIPS_DEFRAG_USER))
			return -EINPROGRESS;
		skb_reset_network_header(skb);
		if (klips_flow_parse(skb, f))
			return -EINVAL;
	} else if (f->frag && ports_matter(kn, f)) {
		f->portless = true;
		f->sport = 0;
		f->dport = 0;
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		return -EINVAL;
	return 0;
}

/* The packet goes on in clear, as a %pass packet. */
static void send_clear(struct sk_buff *skb, struct net_device *dev)
{
	dev_hold(dev);
	klips_send(skb, dev, NULL);
	dev_put(dev);
}

/* The shunt (@said.spi) of the eroute whose key is @ekey. */
static int xmit_shunt(struct sk_buff *skb, struct net_device *dev,
		      struct klips_net *kn,
		      const struct klips_eroute_key *ekey,
		      const struct klips_said *said, const struct klips_flow *f)
{
	struct klips_eroute_key sel;

	switch (said->spi) {
	case KLIPS_SHUNT_PASS:
		if (f->portless)
			break;
		send_clear(skb, dev);
		return XMIT_GONE;
	case KLIPS_SHUNT_REJECT:
		reject(skb, f);
		break;
	case KLIPS_SHUNT_HOLD:
		klips_hold_packet(kn, ekey, skb, dev);
		return XMIT_GONE;
	case KLIPS_SHUNT_TRAP:
	case KLIPS_SHUNT_TRAPSUBNET:
		klips_flow_selectors(f, &sel);
		klips_trap_packet(kn, ekey, said, &sel, skb, dev);
		return XMIT_GONE;
	}
	return KLIPS_STAT_OUT_SHUNT;
}

/* The SA group @said begins: pinned whole, then applied. */
static int xmit_group(struct sk_buff *skb, struct net_device *dev,
		      struct klips_net *kn, const struct klips_said *said,
		      const struct klips_flow *f)
{
	struct klips_sa *sa;
	int stat;

	rcu_read_lock();
	sa = klips_sadb_lookup_rcu(kn, said);
	if (!sa || !refcount_inc_not_zero(&sa->refcnt)) {
		rcu_read_unlock();
		/* The eroute's group is gone: it drops until replaced. */
		return KLIPS_STAT_OUT_STATE_EXPIRED;
	}
	if (klips_pmtu_too_big(skb, dev, sa, f->family, f->df))
		stat = KLIPS_STAT_OUT_MTU;
	else if (pin_group(skb, sa))
		stat = KLIPS_STAT_OUT_STATE_EXPIRED;
	else
		stat = XMIT_GONE;
	rcu_read_unlock();
	if (stat != XMIT_GONE) {
		klips_sa_put(sa);
		return stat;
	}
	dev_hold(dev);
	output_chain(skb, sa, false);
	return XMIT_GONE;
}

netdev_tx_t klips_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct klips_net *kn = klips_net(dev_net(dev));
	int stat = KLIPS_STAT_MAX;
	struct klips_eroute_key ekey;
	struct klips_eroute *e;
	struct klips_said said;
	struct klips_flow f;
	int err;

	err = xmit_flow(skb, dev, kn, &f);
	if (err == -EINPROGRESS)
		return NETDEV_TX_OK;
	if (err)
		goto drop;
	rcu_read_lock();
	e = klips_eroute_lookup(kn->eroutes, f.family, &f.saddr, &f.daddr,
				f.proto, f.sport, f.dport);
	if (!e) {
		rcu_read_unlock();
		if (f.portless || !own_keying(dev_net(dev), &f)) {
			stat = KLIPS_STAT_OUT_NO_EROUTE;
			goto drop;
		}
		send_clear(skb, dev);
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
		ekey = e->key;
		rcu_read_unlock();
		stat = xmit_shunt(skb, dev, kn, &ekey, &said, &f);
	} else {
		rcu_read_unlock();
		stat = xmit_group(skb, dev, kn, &said, &f);
	}
	if (stat == XMIT_GONE)
		return NETDEV_TX_OK;
drop:
	drop(skb, dev, stat);
	return NETDEV_TX_OK;
}
