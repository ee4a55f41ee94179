// SPDX-License-Identifier: GPL-2.0
/*
 * NAT traversal (RFC 3948): ESP in UDP. Out, the UDP header goes between
 * the IP header and ESP; in, the keying daemon's UDP_ENCAP_ESPINUDP socket
 * hands ESP over with it still there, which is taken out, its source port
 * kept. A verified packet from another address or port than the SA's is a
 * mapping event; transport mode fixes the checksum the NAT broke.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#include "xform.h"

/*
 * NAT-T (RFC 3948): a UDP header between the IP header and ESP, from the
 * SA's --sport to its --dport. IPv4 leaves the UDP checksum 0 (RFC 3948
 * section 2.1); IPv6 must carry one.
 */
int klips_natt_encap(struct sk_buff *skb, struct klips_sa *sa)
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

/*
 * ESP from a UDP_ENCAP_ESPINUDP socket (RFC 3948) arrives with its UDP
 * header still between the IP header and ESP (skb->data and the transport
 * header at ESP). Take it out, so that the packet is plain ESP from here
 * on, and keep the source port for the mapping check.
 */
int klips_natt_strip(struct sk_buff *skb, u8 family, u16 nhoff, __be16 *sport)
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

/* A verified NAT-T packet from another address or port than the SA's. */
void klips_natt_mapping(struct sk_buff *skb, struct klips_sa *sa,
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

/*
 * Transport mode behind a NAT (RFC 3948 section 3.1.2): the sender summed
 * TCP/UDP over its own address, which the NAT rewrote. With --natoa (the
 * peer's original address) the checksum is updated for the address the
 * packet now carries; without it, or for IPv6, the payload's integrity
 * rests on ESP's ICV, as XFRM has it.
 */
void klips_natt_transport_csum(struct sk_buff *skb, struct klips_sa *sa,
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
