// SPDX-License-Identifier: GPL-2.0
/*
 * What the transforms share: the table of their types, where an IPsec
 * header goes in a packet, and the count of asynchronous crypto requests
 * in flight that a namespace's exit waits for.
 */
#include <linux/percpu-refcount.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <kunit/visibility.h>

#include "xform.h"

static const struct klips_xform_type *const xform_types[] = {
	&klips_esp_type, &klips_ah_type, &klips_comp_type, &klips_ipip_type,
};

/**
 * klips_xform_type_get() - the transform of a protocol
 * @proto: a SAID's protocol
 *
 * Return: its type, or NULL if no SA has this protocol (shunts included).
 */
const struct klips_xform_type *klips_xform_type_get(u8 proto)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xform_types); i++)
		if (xform_types[i]->proto == proto)
			return xform_types[i];
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(klips_xform_type_get);

/**
 * klips_ipsec_hdr_offset() - where an IPsec header goes in a packet
 * @skb: the packet, network header set
 * @nh_off: set to the offset of the next-header byte that will name it
 *
 * After the IPv4 header, or the IPv6 headers that precede a fragment
 * header (hop-by-hop, routing, destination options).
 * Return: the offset from the network header, or a negative errno.
 */
int klips_ipsec_hdr_offset(struct sk_buff *skb, unsigned int *nh_off)
{
	u8 *nexthdr;
	int off;

	if (skb->protocol == htons(ETH_P_IP)) {
		*nh_off = offsetof(struct iphdr, protocol);
		return ip_hdrlen(skb);
	}
	off = ip6_find_1stfragopt(skb, &nexthdr);
	if (off < 0)
		return off;
	*nh_off = nexthdr - skb_network_header(skb);
	return off;
}

static void async_release(struct percpu_ref *ref)
{
	struct klips_net *kn = container_of(ref, struct klips_net, async);

	complete(&kn->async_done);
}

/*
 * Asynchronous requests in flight hold a reference on their namespace's
 * counter: per CPU, so that traffic in one namespace neither writes a
 * cache line shared with others nor keeps another namespace's teardown
 * waiting.
 */
int klips_async_init(struct klips_net *kn)
{
	init_completion(&kn->async_done);
	return percpu_ref_init(&kn->async, async_release, 0,
			       GFP_KERNEL_ACCOUNT);
}

/*
 * Namespace exit, after its devices are gone and an RCU grace period: no
 * new request starts. Kill every namespace of a batch first, so that
 * their switches to atomic mode share grace periods; then wait for each.
 */
void klips_async_kill(struct klips_net *kn)
{
	percpu_ref_kill(&kn->async);
}

void klips_async_wait(struct klips_net *kn)
{
	wait_for_completion(&kn->async_done);
	percpu_ref_exit(&kn->async);
}
