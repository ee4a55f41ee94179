// SPDX-License-Identifier: GPL-2.0
/*
 * Receive registration (Documentation/klips/design.md, "Receive registration
 * and coexistence with XFRM"): klips's handlers in the kernel's chains. ESP, AH
 * and IPComp in the xfrm4/xfrm6 protocol chains, above the kernel's own and
 * ip_vti's handlers; IPIP (4 and 41, IPv4 and IPv6 outside) in the tunnel
 * chains, before xfrm4_tunnel and xfrm interfaces. A packet that is not ours
 * goes on to the next handler. Also the ICMP error handlers of each.
 */
#include <linux/module.h>
#include <linux/ip.h>
#include <net/ipv6.h>
#include <net/xfrm.h>

#include "xform.h"

/* Above ip_vti (100) and xfrm_interface (10): these chains run highest first. */
#define KLIPS_XFRM_PRIORITY	200

/*
 * The xfrm4/xfrm6 protocol chains call one handler for ESP, AH and IPComp
 * alike: the header before skb->data names the protocol, as xfrm4_rcv()
 * and xfrm6_rcv() read it.
 */
static int ipsec_handler(struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		return klips_ipsec_rcv(skb, AF_INET, ip_hdr(skb)->protocol, 0);
	return klips_ipsec_rcv(skb, AF_INET6,
			 skb_network_header(skb)[IP6CB(skb)->nhoff], 0);
}

/*
 * ESP from a keying daemon's UDP_ENCAP_ESPINUDP socket: NAT-T (RFC 3948).
 * No encapsulation carries AH or IPComp: those are refused.
 */
static int ipsec_input_handler(struct sk_buff *skb, int nexthdr, __be32 spi,
			       int encap_type)
{
	return klips_ipsec_rcv(skb, skb->protocol == htons(ETH_P_IP) ? AF_INET :
								 AF_INET6,
			 nexthdr, encap_type);
}

/* XFRM's own packets, after XFRM processed them: not ours. */
static int esp_rcv_cb(struct sk_buff *skb, int err)
{
	return 1;
}

static int esp4_err(struct sk_buff *skb, u32 info)
{
	return klips_ipsec4_err(skb, info, IPPROTO_ESP);
}

static int esp6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		    u8 code, int offset, __be32 info)
{
	return klips_ipsec6_err(skb, type, offset, info, IPPROTO_ESP);
}

static int ah4_err(struct sk_buff *skb, u32 info)
{
	return klips_ipsec4_err(skb, info, IPPROTO_AH);
}

static int ah6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		   u8 code, int offset, __be32 info)
{
	return klips_ipsec6_err(skb, type, offset, info, IPPROTO_AH);
}

static int comp4_err(struct sk_buff *skb, u32 info)
{
	return klips_ipsec4_err(skb, info, IPPROTO_COMP);
}

static int comp6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		     u8 code, int offset, __be32 info)
{
	return klips_ipsec6_err(skb, type, offset, info, IPPROTO_COMP);
}

/* XFRM's own IPIP (xfrm4_tunnel, IPComp) after XFRM processed it. */
static int ipip_rcv_cb(struct sk_buff *skb, int err)
{
	return 1;
}

/*
 * Lowest priority first in these chains, and xfrm_interface (2, 3) and
 * xfrm4_tunnel (3, 4) take every IPIP packet they see: klips goes first.
 */
#define KLIPS_TUNNEL_PRIORITY	-1

/* IPv4 outer, IPv4 (ipip4in4) or IPv6 (ipip6in4) inside, ... */
static struct xfrm_tunnel ipip4in4 = {
	.handler	= klips_ipip4_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= klips_ipip4_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

static struct xfrm_tunnel ipip6in4 = {
	.handler	= klips_ipip6_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= klips_ipip4_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

/* ... and IPv6 outer. */
static struct xfrm6_tunnel ipip6in6 = {
	.handler	= klips_ipip6_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= klips_ipip6_err,
	.priority	= KLIPS_TUNNEL_PRIORITY,
};

static struct xfrm6_tunnel ipip4in6 = {
	.handler	= klips_ipip4_rcv,
	.cb_handler	= ipip_rcv_cb,
	.err_handler	= klips_ipip6_err,
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

/*
 * One registration with the kernel's chains: a protocol handler for ESP,
 * AH or IPComp, or a tunnel handler for IPIP, of IPv4 or IPv6.
 */
struct klips_rcv_reg {
	enum { REG_PROTO4, REG_PROTO6, REG_TUNNEL4, REG_TUNNEL6 } kind;
	u8 key;			/* the protocol, or the inner family (tunnels) */
	const char *what;	/* for the log, should it fail */
	union {
		struct xfrm4_protocol *proto4;
		struct xfrm6_protocol *proto6;
		struct xfrm_tunnel *tunnel4;
		struct xfrm6_tunnel *tunnel6;
	};
};

/* In order; unregistered in reverse. */
static const struct klips_rcv_reg rcv_regs[] = {
	{ REG_PROTO4, IPPROTO_ESP, "ESP", .proto4 = &esp4_protocol },
	{ REG_PROTO6, IPPROTO_ESP, "ESP", .proto6 = &esp6_protocol },
	{ REG_PROTO4, IPPROTO_AH, "AH", .proto4 = &ah4_protocol },
	{ REG_PROTO6, IPPROTO_AH, "AH", .proto6 = &ah6_protocol },
	{ REG_PROTO4, IPPROTO_COMP, "IPComp", .proto4 = &comp4_protocol },
	{ REG_PROTO6, IPPROTO_COMP, "IPComp", .proto6 = &comp6_protocol },
	{ REG_TUNNEL4, AF_INET, "IPIP", .tunnel4 = &ipip4in4 },
	{ REG_TUNNEL4, AF_INET6, "IPIP", .tunnel4 = &ipip6in4 },
	{ REG_TUNNEL6, AF_INET6, "IPIP", .tunnel6 = &ipip6in6 },
	{ REG_TUNNEL6, AF_INET, "IPIP", .tunnel6 = &ipip4in6 },
};

static int rcv_register(const struct klips_rcv_reg *r)
{
	switch (r->kind) {
	case REG_PROTO4:
		return xfrm4_protocol_register(r->proto4, r->key);
	case REG_PROTO6:
		return xfrm6_protocol_register(r->proto6, r->key);
	case REG_TUNNEL4:
		return xfrm4_tunnel_register(r->tunnel4, r->key);
	case REG_TUNNEL6:
		return xfrm6_tunnel_register(r->tunnel6, r->key);
	}
	return -EINVAL;
}

static void rcv_unregister(const struct klips_rcv_reg *r)
{
	switch (r->kind) {
	case REG_PROTO4:
		xfrm4_protocol_deregister(r->proto4, r->key);
		break;
	case REG_PROTO6:
		xfrm6_protocol_deregister(r->proto6, r->key);
		break;
	case REG_TUNNEL4:
		xfrm4_tunnel_deregister(r->tunnel4, r->key);
		break;
	case REG_TUNNEL6:
		xfrm6_tunnel_deregister(r->tunnel6, r->key);
		break;
	}
}

static int rcv_priority(const struct klips_rcv_reg *r)
{
	return r->kind == REG_TUNNEL4 || r->kind == REG_TUNNEL6 ?
	       KLIPS_TUNNEL_PRIORITY : KLIPS_XFRM_PRIORITY;
}

int klips_input_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(rcv_regs); i++) {
		err = rcv_register(&rcv_regs[i]);
		if (err)
			goto unwind;
	}
	return 0;

unwind:
	pr_err(KLIPS_NAME ": cannot register for %s at priority %d: %d%s\n",
	       rcv_regs[i].what, rcv_priority(&rcv_regs[i]), err,
	       err == -EEXIST ? " (another handler has that priority)" : "");
	while (i--)
		rcv_unregister(&rcv_regs[i]);
	return err;
}

void klips_input_exit(void)
{
	unsigned int i = ARRAY_SIZE(rcv_regs);

	while (i--)
		rcv_unregister(&rcv_regs[i]);
}
