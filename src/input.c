// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: ESP, AH and IPComp from the kernel's xfrm4/xfrm6 protocol
 * chains (design.md, "Receive registration and coexistence with XFRM"). A
 * packet whose SAID is not one of this namespace's SAs is left untouched
 * for the next handler (the kernel's ESP and AH, ip_vti, xfrm interfaces)
 * and counted InNotOurs. Ours is checked against its SA, authenticated and
 * decrypted (ah.c, esp.c), undone layer by layer as its group says (AH,
 * ESP, IPComp, then the IPIP SA's outer header), checked against the
 * inbound policy and delivered as received on the ipsecN attached to the
 * device it arrived on.
 */
#include <linux/module.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <linux/rhashtable.h>
#include <net/gro_cells.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "xform.h"
#include "debug.h"

/* Above ip_vti (100) and xfrm_interface (10): these chains run highest first. */
#define KLIPS_XFRM_PRIORITY	200

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
 * Transport mode behind a NAT (RFC 3948 section 3.1.2): the sender summed
 * TCP/UDP over its own address, which the NAT rewrote. With --natoa (the
 * peer's original address) the checksum is updated for the address the
 * packet now carries; without it, or for IPv6, the payload's integrity
 * rests on ESP's ICV, as XFRM has it.
 */
static void natt_transport_csum(struct sk_buff *skb, struct klips_sa *sa,
				int proto)
{
	unsigned int off;
	__sum16 *check;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	if (sa->natt_oa_family != AF_INET || skb->protocol != htons(ETH_P_IP)) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		return;
	}
	off = skb_transport_offset(skb) +
	      (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) :
				      offsetof(struct udphdr, check));
	if (skb_ensure_writable(skb, off + sizeof(*check)))
		return;
	check = (__sum16 *)(skb->data + off);
	if (proto == IPPROTO_UDP && !*check)
		return;		/* no UDP checksum */
	inet_proto_csum_replace4(check, skb, sa->natt_oa.ip4,
				 ip_hdr(skb)->saddr, true);
	if (proto == IPPROTO_UDP && !*check)
		*check = CSUM_MANGLED_0;
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

static void deliver(struct sk_buff *skb, struct klips_net *kn)
{
	struct net_device *dev = klips_dev_of(kn, skb->dev);
	struct klips_dev *kd;

	if (!dev) {
		in_drop(skb, kn, KLIPS_STAT_IN_NO_DEVICE);
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

/* A verified NAT-T packet from another address or port than the SA's. */
static void natt_mapping(struct sk_buff *skb, struct klips_sa *sa,
			 struct klips_net *kn)
{
	__be16 sport = klips_cb(skb)->natt_sport;
	union klips_addr from = {};

	if (skb->protocol == htons(ETH_P_IP))
		from.ip4 = ip_hdr(skb)->saddr;
	else
		from.ip6 = ipv6_hdr(skb)->saddr;
	if (sport == sa->natt_sport &&
	    (!sa->src_family ||
	     !memcmp(&from, &sa->src, sa->src_family == AF_INET ?
		     sizeof(from.ip4) : sizeof(from.ip6))))
		return;
	klips_nl_mapping_notify(kn, sa, &from, sport);
}

/* The SPI (IPComp: the CPI) of the @type header at @off, or 0 if truncated. */
static u32 header_spi(struct sk_buff *skb, unsigned int off,
		      const struct klips_xform_type *type)
{
	__be32 spi;

	if (skb_copy_bits(skb, off + type->spi_off, &spi, sizeof(spi)))
		return 0;
	return ntohl(spi) & type->spi_mask;
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
	u8 state;

	if (!inner || inner->said.proto != nexthdr ||
	    header_spi(skb, 0, inner->type) != inner->said.spi) {
		*stat = KLIPS_STAT_IN_POLICY_ERROR;
		return NULL;
	}
	state = READ_ONCE(inner->state);
	if ((state != KLIPS_STATE_MATURE && state != KLIPS_STATE_DYING) ||
	    !refcount_inc_not_zero(&inner->refcnt)) {
		*stat = KLIPS_STAT_IN_STATE_INVALID;
		return NULL;
	}
	return inner;
}

/*
 * After AH, ESP or IPComp: @nexthdr is what it carried, or a negative
 * errno when the packet is to be dropped (counted already). An ESP layer
 * of the group inside AH is undone next (design.md: outer to inner, none
 * skipped), then IPComp if the sender compressed, then the IPIP SA's or
 * the transport header's. Consumes the skb, the SA reference and the hold
 * on skb->dev.
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
		natt_mapping(skb, sa, kn);
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
			natt_transport_csum(skb, sa, nexthdr);
	}
	if (stat == KLIPS_STAT_MAX)
		deliver(skb, kn);
	else
		in_drop(skb, kn, stat);
out_unlock:
	rcu_read_unlock();
out:
	klips_sa_put(sa);
	dev_put(phys);
}

/*
 * ESP from a UDP_ENCAP_ESPINUDP socket (RFC 3948) arrives with its UDP
 * header still between the IP header and ESP (skb->data and the transport
 * header at ESP). Take it out, so that the packet is plain ESP from here
 * on, and keep the source port for the mapping check.
 */
static int natt_strip(struct sk_buff *skb, u8 family, u16 nhoff,
		      __be16 *sport)
{
	unsigned int hlen = skb_transport_header(skb) - skb_network_header(skb);
	unsigned int iplen = family == AF_INET ? sizeof(struct iphdr) :
						 sizeof(struct ipv6hdr);
	struct udphdr *uh;

	if (hlen < iplen + sizeof(*uh) || skb_unclone(skb, GFP_ATOMIC))
		return -EINVAL;
	uh = (struct udphdr *)(skb_transport_header(skb) - sizeof(*uh));
	*sport = uh->source;
	memmove(skb_network_header(skb) + sizeof(*uh), skb_network_header(skb),
		hlen - sizeof(*uh));
	skb_set_network_header(skb, skb_network_offset(skb) + sizeof(*uh));
	if (family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		iph->protocol = IPPROTO_ESP;
		iph->tot_len = htons(skb->len + skb_network_header_len(skb));
		ip_send_check(iph);
	} else {
		skb_network_header(skb)[nhoff] = IPPROTO_ESP;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len + skb_network_header_len(skb) -
			      sizeof(struct ipv6hdr));
	}
	return 0;
}

/*
 * ESP, AH or IPComp straight off the wire, or ESP from a NAT-T socket
 * (@encap: the socket's encapsulation type, else 0).
 */
static int ipsec_rcv(struct sk_buff *skb, u8 family, u8 proto, int encap)
{
	const struct klips_xform_type *type = klips_xform_type_get(proto);
	__be16 natt_sport = 0;
	struct net *net = dev_net(skb->dev);
	struct klips_net *kn = klips_net(net);
	struct klips_said said;
	struct klips_sa *sa;
	u16 nhoff = 0;
	u8 state, tos;
	int ret;

	/* A namespace on its way out: its tables go after an RCU grace period. */
	if (!check_net(net))
		return -EINVAL;
	if (!pskb_may_pull(skb, type->hdr_len)) {
		in_drop(skb, kn, KLIPS_STAT_IN_HDR_ERROR);
		return 0;
	}
	memset(&said, 0, sizeof(said));
	said.proto = proto;
	said.family = family;
	said.spi = header_spi(skb, 0, type);
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
	state = READ_ONCE(sa->state);
	if (state != KLIPS_STATE_MATURE && state != KLIPS_STATE_DYING) {
		klips_sa_put(sa);
		in_drop(skb, kn, KLIPS_STAT_IN_STATE_INVALID);
		return 0;
	}
	/*
	 * An outbound SA has no replay window and never receives, even when
	 * its destination became local after it was added (design.md).
	 */
	if (sa->dir != KLIPS_DIR_IN) {
		klips_sa_put(sa);
		in_drop(skb, kn, KLIPS_STAT_IN_WRONG_DIR);
		return 0;
	}
	/*
	 * Off the wire comes a group's outermost layer; else one was skipped.
	 * A NAT-T SA takes ESP in UDP only, any other SA plain ESP only.
	 */
	if (rcu_access_pointer(sa->outer) || !encap != !sa->natt_type ||
	    (encap && natt_strip(skb, family, nhoff, &natt_sport))) {
		klips_sa_put(sa);
		in_drop(skb, kn, KLIPS_STAT_IN_POLICY_ERROR);
		return 0;
	}
	/*
	 * The outer source must be the SA's peer (design.md); behind a NAT it
	 * may change, which a verified packet then reports (mapping event).
	 */
	if (sa->src_family && !sa->natt_type &&
	    (family != sa->src_family ||
	     (family == AF_INET ? ip_hdr(skb)->saddr != sa->src.ip4 :
	      !ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &sa->src.ip6)))) {
		klips_sa_put(sa);
		in_drop(skb, kn, KLIPS_STAT_IN_POLICY_ERROR);
		return 0;
	}
	klips_cb(skb)->sa = sa;
	klips_cb(skb)->nhoff = nhoff;
	klips_cb(skb)->outer_tos = tos;
	klips_cb(skb)->natt_sport = natt_sport;
	dev_hold(skb->dev);
	ret = sa->type->input(skb, sa);
	if (ret != -EINPROGRESS)
		klips_input_resume(skb, ret);
	return 0;
}

/*
 * The xfrm4/xfrm6 protocol chains call one handler for ESP, AH and IPComp
 * alike: the header before skb->data names the protocol, as xfrm4_rcv()
 * and xfrm6_rcv() read it.
 */
static int ipsec_handler(struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		return ipsec_rcv(skb, AF_INET, ip_hdr(skb)->protocol, 0);
	return ipsec_rcv(skb, AF_INET6,
			 skb_network_header(skb)[IP6CB(skb)->nhoff], 0);
}

/*
 * ESP from a keying daemon's UDP_ENCAP_ESPINUDP socket: NAT-T (RFC 3948).
 * No encapsulation carries AH or IPComp: those are refused.
 */
static int ipsec_input_handler(struct sk_buff *skb, int nexthdr, __be32 spi,
			       int encap_type)
{
	return ipsec_rcv(skb, skb->protocol == htons(ETH_P_IP) ? AF_INET :
								 AF_INET6,
			 nexthdr, encap_type);
}

/* XFRM's own packets, after XFRM processed them: not ours. */
static int esp_rcv_cb(struct sk_buff *skb, int err)
{
	return 1;
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
	said.spi = header_spi(skb, off, klips_xform_type_get(proto));
	if (!said.spi)		/* truncated */
		return NULL;
	said.dst = *daddr;
	return klips_sadb_lookup_rcu(klips_net(dev_net(skb->dev)), &said);
}

/*
 * An ICMP too-big for the outer path lowers the group's effective MTU: on
 * its outermost SA, where the transmit path also keeps the route's MTU
 * (track_pmtu() in output.c). The caller updated the route first.
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

static int ipsec4_err(struct sk_buff *skb, u32 info, u8 proto)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	struct net *net = dev_net(skb->dev);
	union klips_addr daddr = { .ip4 = iph->daddr };
	struct klips_sa *sa = err_sa(skb, AF_INET, proto, &daddr,
				     iph->ihl * 4);

	if (!sa)
		return -ENOENT;
	if (icmp_hdr(skb)->type == ICMP_DEST_UNREACH &&
	    icmp_hdr(skb)->code == ICMP_FRAG_NEEDED) {
		ipv4_update_pmtu(skb, net, info, 0, proto);
		learn_pmtu(sa, ipv4_pmtu(net, info), 68);
	}
	return 0;
}

static int ipsec6_err(struct sk_buff *skb, u8 type, int offset, __be32 info,
		      u8 proto)
{
	const struct ipv6hdr *ip6h = (const struct ipv6hdr *)skb->data;
	struct net *net = dev_net(skb->dev);
	union klips_addr daddr = { .ip6 = ip6h->daddr };
	struct klips_sa *sa = err_sa(skb, AF_INET6, proto, &daddr, offset);

	if (!sa)
		return -ENOENT;
	if (type == ICMPV6_PKT_TOOBIG) {
		ip6_update_pmtu(skb, net, info, 0, 0, sock_net_uid(net, NULL));
		learn_pmtu(sa, ntohl(info), IPV6_MIN_MTU);
	}
	return 0;
}

static int esp4_err(struct sk_buff *skb, u32 info)
{
	return ipsec4_err(skb, info, IPPROTO_ESP);
}

static int esp6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		    u8 code, int offset, __be32 info)
{
	return ipsec6_err(skb, type, offset, info, IPPROTO_ESP);
}

static int ah4_err(struct sk_buff *skb, u32 info)
{
	return ipsec4_err(skb, info, IPPROTO_AH);
}

static int ah6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		   u8 code, int offset, __be32 info)
{
	return ipsec6_err(skb, type, offset, info, IPPROTO_AH);
}

static int comp4_err(struct sk_buff *skb, u32 info)
{
	return ipsec4_err(skb, info, IPPROTO_COMP);
}

static int comp6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		     u8 code, int offset, __be32 info)
{
	return ipsec6_err(skb, type, offset, info, IPPROTO_COMP);
}

/*
 * Bare IPIP (design.md): no SPI, so the tun SA is found by the outer
 * (source, destination). Only a group's skippable layers (IPComp: a packet
 * that did not compress goes as plain IPIP) may be missing in front of it;
 * IPIP from the peer of an ESP or AH group is a skipped layer. Nonzero
 * passes a packet that is not ours to the next handler (the kernel's ipip,
 * sit, ip6_tunnel, xfrm4_tunnel, xfrm interfaces).
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
	if (stat == KLIPS_STAT_MAX)
		deliver(skb, kn);
	else
		in_drop(skb, kn, stat);
	return 0;
}

static int ipip4_rcv(struct sk_buff *skb)
{
	return ipip_rcv(skb, IPPROTO_IPIP);
}

static int ipip6_rcv(struct sk_buff *skb)
{
	return ipip_rcv(skb, IPPROTO_IPV6);
}

/* XFRM's own IPIP (xfrm4_tunnel, IPComp) after XFRM processed it. */
static int ipip_rcv_cb(struct sk_buff *skb, int err)
{
	return 1;
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

static int ipip4_err(struct sk_buff *skb, u32 info)
{
	struct klips_sa *sa = ipip_err_sa(skb, skb->data);

	if (!sa)
		return -ENOENT;
	if (icmp_hdr(skb)->type == ICMP_DEST_UNREACH &&
	    icmp_hdr(skb)->code == ICMP_FRAG_NEEDED) {
		ipv4_update_pmtu(skb, dev_net(skb->dev), info, 0,
				 ((const struct iphdr *)skb->data)->protocol);
		learn_pmtu(sa, ipv4_pmtu(dev_net(skb->dev), info), 68);
	}
	return 0;
}

static int ipip6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
		     u8 type, u8 code, int offset, __be32 info)
{
	struct net *net = dev_net(skb->dev);
	struct klips_sa *sa = ipip_err_sa(skb, skb->data);

	if (!sa)
		return -ENOENT;
	if (type == ICMPV6_PKT_TOOBIG) {
		ip6_update_pmtu(skb, net, info, 0, 0, sock_net_uid(net, NULL));
		learn_pmtu(sa, ntohl(info), IPV6_MIN_MTU);
	}
	return 0;
}

/*
 * Lowest priority first in these chains, and xfrm_interface (2, 3) and
 * xfrm4_tunnel (3, 4) take every IPIP packet they see: klips goes first.
 */
#define KLIPS_TUNNEL_PRIORITY	-1

/* IPv4 outer, IPv4 (ipip4in4) or IPv6 (ipip6in4) inside, ... */
static struct xfrm_tunnel ipip4in4 = {
	.handler	= ipip4_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= ipip4_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

static struct xfrm_tunnel ipip6in4 = {
	.handler	= ipip6_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= ipip4_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

/* ... and IPv6 outer. */
static struct xfrm6_tunnel ipip6in6 = {
	.handler	= ipip6_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= ipip6_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

static struct xfrm6_tunnel ipip4in6 = {
	.handler	= ipip4_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= ipip6_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

static struct xfrm4_protocol esp4_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= esp4_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static struct xfrm6_protocol esp6_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= esp6_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static struct xfrm4_protocol ah4_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= ah4_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static struct xfrm6_protocol ah6_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= ah6_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static struct xfrm4_protocol comp4_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= comp4_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static struct xfrm6_protocol comp6_protocol = {
	.handler	= ipsec_handler,
	.input_handler	= ipsec_input_handler,
	.cb_handler	= esp_rcv_cb,
	.err_handler	= comp6_err,
	.priority	= KLIPS_XFRM_PRIORITY,
};

static void busy(const char *what, int priority, int err)
{
	pr_err(KLIPS_NAME ": cannot register for %s at priority %d: %d%s\n",
	       what, priority, err,
	       err == -EEXIST ? " (another handler has that priority)" : "");
}

int klips_input_init(void)
{
	int err;

	err = xfrm4_protocol_register(&esp4_protocol, IPPROTO_ESP);
	if (err)
		goto err_esp;
	err = xfrm6_protocol_register(&esp6_protocol, IPPROTO_ESP);
	if (err)
		goto err_esp6;
	err = xfrm4_protocol_register(&ah4_protocol, IPPROTO_AH);
	if (err)
		goto err_ah;
	err = xfrm6_protocol_register(&ah6_protocol, IPPROTO_AH);
	if (err)
		goto err_ah6;
	err = xfrm4_protocol_register(&comp4_protocol, IPPROTO_COMP);
	if (err)
		goto err_comp;
	err = xfrm6_protocol_register(&comp6_protocol, IPPROTO_COMP);
	if (err)
		goto err_comp6;
	err = xfrm4_tunnel_register(&ipip4in4, AF_INET);
	if (err)
		goto err_ipip;
	err = xfrm4_tunnel_register(&ipip6in4, AF_INET6);
	if (err)
		goto err_ipip6in4;
	err = xfrm6_tunnel_register(&ipip6in6, AF_INET6);
	if (err)
		goto err_ipip6in6;
	err = xfrm6_tunnel_register(&ipip4in6, AF_INET);
	if (err)
		goto err_ipip4in6;
	return 0;

err_ipip4in6:
	xfrm6_tunnel_deregister(&ipip6in6, AF_INET6);
err_ipip6in6:
	xfrm4_tunnel_deregister(&ipip6in4, AF_INET6);
err_ipip6in4:
	xfrm4_tunnel_deregister(&ipip4in4, AF_INET);
err_ipip:
	busy("IPIP", KLIPS_TUNNEL_PRIORITY, err);
	xfrm6_protocol_deregister(&comp6_protocol, IPPROTO_COMP);
	xfrm4_protocol_deregister(&comp4_protocol, IPPROTO_COMP);
	goto err_ah_all;
err_comp6:
	xfrm4_protocol_deregister(&comp4_protocol, IPPROTO_COMP);
err_comp:
	busy("IPComp", KLIPS_XFRM_PRIORITY, err);
err_ah_all:
	xfrm6_protocol_deregister(&ah6_protocol, IPPROTO_AH);
	xfrm4_protocol_deregister(&ah4_protocol, IPPROTO_AH);
	goto err_esp_all;
err_ah6:
	xfrm4_protocol_deregister(&ah4_protocol, IPPROTO_AH);
err_ah:
	busy("AH", KLIPS_XFRM_PRIORITY, err);
err_esp_all:
	xfrm6_protocol_deregister(&esp6_protocol, IPPROTO_ESP);
	xfrm4_protocol_deregister(&esp4_protocol, IPPROTO_ESP);
	return err;
err_esp6:
	xfrm4_protocol_deregister(&esp4_protocol, IPPROTO_ESP);
err_esp:
	busy("ESP", KLIPS_XFRM_PRIORITY, err);
	return err;
}

void klips_input_exit(void)
{
	xfrm6_tunnel_deregister(&ipip4in6, AF_INET);
	xfrm6_tunnel_deregister(&ipip6in6, AF_INET6);
	xfrm4_tunnel_deregister(&ipip6in4, AF_INET6);
	xfrm4_tunnel_deregister(&ipip4in4, AF_INET);
	xfrm6_protocol_deregister(&comp6_protocol, IPPROTO_COMP);
	xfrm4_protocol_deregister(&comp4_protocol, IPPROTO_COMP);
	xfrm6_protocol_deregister(&ah6_protocol, IPPROTO_AH);
	xfrm4_protocol_deregister(&ah4_protocol, IPPROTO_AH);
	xfrm6_protocol_deregister(&esp6_protocol, IPPROTO_ESP);
	xfrm4_protocol_deregister(&esp4_protocol, IPPROTO_ESP);
}
