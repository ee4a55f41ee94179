// SPDX-License-Identifier: GPL-2.0
/*
 * A packet's flow: what the eroute lookup takes from a packet routed into
 * ipsecN (addresses, protocol, ports), and what the transmit path needs
 * besides (DF, whether it is a fragment).
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "eroute.h"

static bool proto_has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_DCCP;
}

/**
 * klips_flow_parse() - the flow of an IPv4 or IPv6 packet
 * @skb: the packet, network header set
 * @f: filled in; a fragment's ports are 0
 *
 * Return: 0, or a negative errno for a packet that is neither or whose
 * headers are broken.
 */
int klips_flow_parse(struct sk_buff *skb, struct klips_flow *f)
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
	/*
	 * A non-first fragment has no ports (Documentation/klips/design.md: see
	 * xmit_flow()).
	 */
	f->frag = frag;
	if (!frag && proto_has_ports(f->proto) &&
	    !skb_copy_bits(skb, thoff, ports, sizeof(ports))) {
		f->sport = ports[0];
		f->dport = ports[1];
	}
	return 0;
}

/* A trapped packet's host pair with its protocol and ports: an ACQUIRE's. */
void klips_flow_selectors(const struct klips_flow *f,
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
