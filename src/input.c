// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: ESP, AH and IPComp from the kernel's xfrm4/xfrm6 protocol chains
 * (Documentation/klips/design.md, "Receive registration and coexistence with
 * XFRM"). A packet whose SAID is not one of this namespace's SAs is left
 * untouched for the next handler (the kernel's ESP and AH, ip_vti, xfrm
 * interfaces) and counted InNotOurs. Ours is checked against its SA,
 * authenticated and decrypted (ah.c, esp.c), undone layer by layer as its group
 * says (AH, ESP, IPComp, then the IPIP SA's outer header), checked against the
 * inbound policy and delivered as received on the ipsecN attached to the device
 * it arrived on.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/gro_cells.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "xform.h"
#include "debug.h"

static void in_drop(struct sk_buff *skb, struct klips_net *kn,
		    enum klips_stat stat)
{
	klips_stat_inc(kn, stat);
	kfree_skb(skb);
}

/* Transport mode: close the gap ESP left behind the IP header(s). */
static void transport_input(struct sk_buff *skb, int nexthdr)
{
	unsigned int hdr_off = skb_transport_header(skb) -
			       skb_network_header(skb);

	memmove(skb->data - hdr_off, skb_network_header(skb), hdr_off);
	skb_push(skb, hdr_off);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, hdr_off);
	if (skb->protocol == htons(ETH_P_IP)) {
		struct iphdr *iph = ip_hdr(skb);

		iph->protocol = nexthdr;
		iph->tot_len = htons(skb->len);
		ip_send_check(iph);
	} else {
		skb_network_header(skb)[klips_cb(skb)->nhoff] = nexthdr;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
	}
}

/*
 * The ipsecN attached to @phys, or NULL: a walk over the namespace's
 * attached ipsecN devices, not all its devices. Context: rcu_read_lock().
 */
static struct net_device *klips_dev_of(struct klips_net *kn,
				       struct net_device *phys)
{
	struct klips_dev *kd;

	list_for_each_entry_rcu(kd, &kn->attached, attached)
		if (rcu_access_pointer(kd->phys) == phys)
			return kd->dev;
	return NULL;
}

/**
 * klips_input_deliver() - the end of a received packet's way
 * @skb: the inner packet, all its layers undone
 * @kn: the namespace it arrived in
 * @stat: KLIPS_STAT_MAX to deliver it, else the counter of its drop
 *
 * It is delivered as received on the ipsecN attached to the device it
 * arrived on; with none, it is dropped (InNoDevice).
 * Context: rcu_read_lock() (softirq, from the receive handlers).
 */
void klips_input_deliver(struct sk_buff *skb, struct klips_net *kn, int stat)
{
	struct net_device *dev;
	struct klips_dev *kd;

	if (stat == KLIPS_STAT_MAX) {
		dev = klips_dev_of(kn, skb->dev);
		if (!dev)
			stat = KLIPS_STAT_IN_NO_DEVICE;
	}
	if (stat != KLIPS_STAT_MAX) {
		in_drop(skb, kn, stat);
		return;
	}
	kd = netdev_priv(dev);
	skb_scrub_packet(skb, false);
	skb->dev = dev;
	skb_reset_mac_header(skb);
	skb->mac_len = 0;
	dev_sw_netstats_rx_add(dev, skb->len);
	gro_cells_receive(&kd->gro_cells, skb);
}

/*
 * The next layer of the group, inside @sa, that @nexthdr (ESP or AH) at
 * skb->data must be: with a reference, or NULL with the drop's class in
 * @stat. Context: rcu_read_lock().
 */
static struct klips_sa *next_inner(struct sk_buff *skb, struct klips_sa *sa,
				   int nexthdr, int *stat)
{
	struct klips_sa *inner = rcu_dereference(sa->inner);

	if (!inner || inner->said.proto != nexthdr ||
	    klips_header_spi(skb, 0, inner->type) != inner->said.spi) {
		*stat = KLIPS_STAT_IN_POLICY_ERROR;
		return NULL;
	}
	if (!klips_sa_live(inner) || !refcount_inc_not_zero(&inner->refcnt)) {
		*stat = KLIPS_STAT_IN_STATE_INVALID;
		return NULL;
	}
	return inner;
}

/*
 * After AH, ESP or IPComp: @nexthdr is what it carried, or a negative errno
 * when the packet is to be dropped (counted already). An ESP layer of the group
 * inside AH is undone next (Documentation/klips/design.md: outer to inner, none
 * skipped), then IPComp if the sender compressed, then the IPIP SA's or the
 * transport header's. Consumes the skb, the SA reference and the hold on
 * skb->dev.
 */
void klips_input_resume(struct sk_buff *skb, int nexthdr)
{
	struct net_device *phys = skb->dev;
	struct klips_net *kn = klips_net(dev_net(phys));
	struct klips_sa *sa = klips_cb(skb)->sa, *inner;
	int stat = KLIPS_STAT_MAX;

	while (nexthdr == IPPROTO_ESP || nexthdr == IPPROTO_AH) {
		rcu_read_lock();
		inner = rcu_dereference(sa->inner);
		if (!inner) {	/* ESP or AH as transport payload: delivered */
			rcu_read_unlock();
			break;
		}
		inner = next_inner(skb, sa, nexthdr, &stat);
		rcu_read_unlock();
		if (!inner) {
			in_drop(skb, kn, stat);
			goto out;
		}
		klips_sa_put(sa);
		sa = inner;
		klips_cb(skb)->sa = sa;
		nexthdr = sa->type->input(skb, sa);
		/* The completion resumes here with the inner SA. */
		if (nexthdr == -EINPROGRESS)
			return;
	}

	if (nexthdr < 0) {
		if (nexthdr == -ENODATA)
			consume_skb(skb);
		else
			kfree_skb(skb);
		goto out;
	}
	if (klips_cb(skb)->natt_sport)
		klips_natt_mapping(skb, sa, kn);
	rcu_read_lock();
	inner = rcu_dereference(sa->inner);
	if (inner && (inner->type->flags & KLIPS_XFORM_COMPRESS)) {
		/* IPComp: undone if the sender compressed, else skipped. */
		if (nexthdr == inner->said.proto) {
			nexthdr = inner->type->input(skb, inner);
			if (nexthdr < 0) {
				kfree_skb(skb);
				goto out_unlock;
			}
		}
		inner = rcu_dereference(inner->inner);
	}
	if (nexthdr == IPPROTO_IPIP || nexthdr == IPPROTO_IPV6) {
		if (inner && (inner->type->flags & KLIPS_XFORM_TUNNEL))
			stat = klips_ipip_input(skb, inner, nexthdr, kn);
		else
			stat = KLIPS_STAT_IN_POLICY_ERROR;
	} else if (inner) {
		/* The group has a layer inside this one: it was skipped. */
		stat = KLIPS_STAT_IN_POLICY_ERROR;
	} else {
		transport_input(skb, nexthdr);
		if (sa->natt_type)
			klips_natt_transport_csum(skb, sa, nexthdr);
	}
	klips_input_deliver(skb, kn, stat);
out_unlock:
	rcu_read_unlock();
out:
	klips_sa_put(sa);
	dev_put(phys);
}

/*
 * May @sa take this packet off the wire (@encap: it came from a NAT-T
 * socket)? KLIPS_STAT_MAX if so, with NAT-T's UDP header taken out and its
 * source port in *@natt_sport; else the counter of the drop.
 */
static int rcv_check(struct sk_buff *skb, struct klips_sa *sa, u8 family,
		     u16 nhoff, int encap, __be16 *natt_sport)
{
	if (!klips_sa_live(sa))
		return KLIPS_STAT_IN_STATE_INVALID;
	/*
	 * An outbound SA has no replay window and never receives, even when its
	 * destination became local after it was added
	 * (Documentation/klips/design.md).
	 */
	if (sa->dir != KLIPS_DIR_IN)
		return KLIPS_STAT_IN_WRONG_DIR;
	/*
	 * Off the wire comes a group's outermost layer; else one was skipped.
	 * A NAT-T SA takes ESP in UDP only, any other SA plain ESP only.
	 */
	if (rcu_access_pointer(sa->outer) || !encap != !sa->natt_type ||
	    (encap && klips_natt_strip(skb, family, nhoff, natt_sport)))
		return KLIPS_STAT_IN_POLICY_ERROR;
	/*
	 * The outer source must be the SA's peer
	 * (Documentation/klips/design.md); behind a NAT it may change, which a
	 * verified packet then reports (mapping event).
	 */
	if (sa->src_family && !sa->natt_type &&
	    (family != sa->src_family ||
	     (family == AF_INET ? ip_hdr(skb)->saddr != sa->src.ip4 :
	      !ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &sa->src.ip6))))
		return KLIPS_STAT_IN_POLICY_ERROR;
	return KLIPS_STAT_MAX;
}

/*
 * ESP, AH or IPComp straight off the wire, or ESP from a NAT-T socket
 * (@encap: the socket's encapsulation type, else 0), from the handlers
 * input_reg.c registers. Not ours (another namespace's, or no SA of this
 * one): -EINVAL, left for the next handler; else consumed, 0.
 */
int klips_ipsec_rcv(struct sk_buff *skb, u8 family, u8 proto, int encap)
{
	const struct klips_xform_type *type = klips_xform_type_get(proto);
	struct net *net = dev_net(skb->dev);
	struct klips_net *kn = klips_net(net);
	__be16 natt_sport = 0;
	struct klips_said said;
	struct klips_sa *sa;
	u16 nhoff = 0;
	int ret, stat;
	u8 tos;

	/* A namespace on its way out: its tables go after an RCU grace period. */
	if (!check_net(net))
		return -EINVAL;
	if (!pskb_may_pull(skb, type->hdr_len)) {
		stat = KLIPS_STAT_IN_HDR_ERROR;
		goto drop;
	}
	memset(&said, 0, sizeof(said));
	said.proto = proto;
	said.family = family;
	said.spi = klips_header_spi(skb, 0, type);
	if (family == AF_INET) {
		said.dst.ip4 = ip_hdr(skb)->daddr;
		tos = ipv4_get_dsfield(ip_hdr(skb));
	} else {
		said.dst.ip6 = ipv6_hdr(skb)->daddr;
		tos = ipv6_get_dsfield(ipv6_hdr(skb));
		nhoff = IP6CB(skb)->nhoff;
	}
	sa = klips_sadb_lookup_rcu(kn, &said);
	if (!sa || !refcount_inc_not_zero(&sa->refcnt)) {
		klips_stat_inc(kn, KLIPS_STAT_IN_NOT_OURS);
		return -EINVAL;
	}
	stat = rcv_check(skb, sa, family, nhoff, encap, &natt_sport);
	if (stat != KLIPS_STAT_MAX)
		goto drop_put;
	klips_cb(skb)->sa = sa;
	klips_cb(skb)->nhoff = nhoff;
	klips_cb(skb)->outer_tos = tos;
	klips_cb(skb)->natt_sport = natt_sport;
	dev_hold(skb->dev);
	ret = sa->type->input(skb, sa);
	if (ret != -EINPROGRESS)
		klips_input_resume(skb, ret);
	return 0;

drop_put:
	klips_sa_put(sa);
drop:
	in_drop(skb, kn, stat);
	return 0;
}
