/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path: transmit through ipsecN (output.c), receive from the
 * kernel's xfrm protocol chains (input.c), and the transforms they apply
 * (esp.c, ah.c, comp.c, ipip.c), each behind its struct klips_xform_type. A
 * transform either finishes at once or, with an asynchronous crypto
 * implementation, returns -EINPROGRESS and resumes the path from its
 * completion: the state it needs travels in skb->cb.
 */
#ifndef _KLIPS_XFORM_H
#define _KLIPS_XFORM_H

#include <linux/skbuff.h>

#include "klips.h"
#include "sa.h"

struct dst_entry;
struct inet6_skb_parm;

struct klips_skb_cb {
	struct klips_sa *sa;	/* the SA being applied; one reference */
	void *tmp;		/* crypto request, IV, AAD or headers, scatterlist */
	union {
		struct {	/* inbound */
			u64 seq;	/* the full sequence number */
			u16 nhoff;	/* IPv6: the next-header byte before ESP/AH */
			u8 outer_tos;	/* outer DSCP/ECN, for RFC 6040 */
			__be16 natt_sport; /* NAT-T: the UDP source port, or 0 */
		};
		struct {	/* outbound */
			/* The SAs outside @sa, pinned as the packet began. */
			struct klips_sa *outer[KLIPS_GROUP_MAX - 1];
			u8 next;	/* the index in outer[] to apply next */
		};
	};
};

static inline struct klips_skb_cb *klips_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct klips_skb_cb) > sizeof(skb->cb));
	return (struct klips_skb_cb *)skb->cb;
}

/*
 * Inbound AH and ESP: the replay window's verdict on a sequence number
 * before the ICV is checked (@seq: the full number, ESN inferred), and its
 * advance after; a refusal is counted in ooo_errs and InReplay.
 */
static inline int klips_in_replay_check(struct klips_sa *sa,
					struct klips_net *kn, u32 seq_lo,
					u64 *seq)
{
	int err;

	*seq = seq_lo;
	if (!sa->replay)
		return 0;
	err = klips_replay_check(sa->replay, seq_lo, seq);
	if (err) {
		atomic64_inc(&sa->ooo_errs);
		klips_stat_inc(kn, KLIPS_STAT_IN_REPLAY);
	}
	return err;
}

static inline int klips_in_replay_advance(struct klips_sa *sa,
					  struct klips_net *kn, u64 seq)
{
	if (!sa->replay || !klips_replay_advance(sa->replay, seq))
		return 0;
	atomic64_inc(&sa->ooo_errs);
	klips_stat_inc(kn, KLIPS_STAT_IN_REPLAY);
	return -EINVAL;
}

/* struct klips_xform_type's flags: what sets a protocol apart. */
enum {
	/*
	 * AH and ESP: sequence numbers (--esn, seq), a replay window on an
	 * inbound SA with integrity, and /proc's replay and error fields.
	 */
	KLIPS_XFORM_IPSEC	= BIT(0),
	/*
	 * IPComp: a 16-bit CPI for a SPI; a layer a sender may skip (what
	 * would not shrink goes uncompressed); ratio= in /proc.
	 */
	KLIPS_XFORM_COMPRESS	= BIT(1),
	/*
	 * IPIP: the outer header of a tunnel, whose addresses are the SA's;
	 * undone by klips_ipip_input().
	 */
	KLIPS_XFORM_TUNNEL	= BIT(2),
};

/**
 * struct klips_xform_type - a protocol's transform, as SAs and packets use it
 * @proto: the protocol of the SAIDs it serves: IPPROTO_ESP, _AH, _COMP, _IPIP
 * @flags: KLIPS_XFORM_* (above)
 * @hdr_len: receive: the bytes of its header that must be there before
 *	the SPI is read, else the packet is dropped (InHdrError)
 * @spi_off: the offset in its header of the 32-bit word that ends with the
 *	SPI
 * @spi_mask: the SPI's bits in that word (IPComp's CPI has 16)
 * @name: the transform's name in /proc before it is keyed (a larval SA)
 * @resolve: check an add's request for an SA of this protocol (algorithm,
 *	keys, addresses) and resolve its algorithm into sa->xform; the extack
 *	says what is refused
 * @init: allocate and key the SA's transform state, after @resolve and the
 *	replay window's checks, so that nothing fails at packet time; NULL if
 *	it has none
 * @destroy: free that state, of an SA whose @init failed or never ran
 *	(larval) too; NULL if it has none
 * @output: apply the transform to an outbound packet: 0, -EINPROGRESS (its
 *	completion calls klips_output_resume()), or an error (the skb is the
 *	caller's to drop)
 * @input: undo it, skb->data at its header: the next header, the payload
 *	at skb->data; -EINPROGRESS (its completion calls klips_input_resume());
 *	or an error, already counted (-ENODATA: a dummy packet, to be dropped
 *	quietly). NULL for IPIP, which has no header of its own: the group's
 *	innermost layer, undone by klips_ipip_input()
 * @overhead: what it adds to a packet of @len bytes whose IP header is
 *	*@hlen bytes long, for the group's MTU; an outer header it adds sets
 *	*@hlen. NULL: nothing (IPComp sends what would not shrink as it is)
 *
 * One constant instance per protocol, in the file of its transform;
 * klips_xform_type_get() finds it, and an SA keeps it in sa->type from its
 * creation on.
 */
struct klips_xform_type {
	u8 proto;
	u8 flags;
	u8 hdr_len;
	u8 spi_off;
	u32 spi_mask;
	const char *name;
	int (*resolve)(struct klips_sa *sa, const struct klips_sa_config *cfg,
		       struct netlink_ext_ack *extack);
	int (*init)(struct klips_sa *sa, const struct klips_sa_config *cfg,
		    struct netlink_ext_ack *extack);
	void (*destroy)(struct klips_sa *sa);
	int (*output)(struct sk_buff *skb, struct klips_sa *sa);
	int (*input)(struct sk_buff *skb, struct klips_sa *sa);
	unsigned int (*overhead)(const struct klips_sa *sa, unsigned int len,
				 unsigned int *hlen);
};

extern const struct klips_xform_type klips_esp_type;
extern const struct klips_xform_type klips_ah_type;
extern const struct klips_xform_type klips_comp_type;
extern const struct klips_xform_type klips_ipip_type;

const struct klips_xform_type *klips_xform_type_get(u8 proto);

/* The SPI (IPComp: the CPI) of the @type header at @off, or 0 if truncated. */
static inline u32 klips_header_spi(struct sk_buff *skb, unsigned int off,
				   const struct klips_xform_type *type)
{
	__be32 spi;

	if (skb_copy_bits(skb, off + type->spi_off, &spi, sizeof(spi)))
		return 0;
	return ntohl(spi) & type->spi_mask;
}

/* Outer TTL / hop limit of tunnel packets (module parameter). */
extern unsigned int klips_ttl;

/* output.c */
netdev_tx_t klips_xmit(struct sk_buff *skb, struct net_device *dev);
void klips_output_resume(struct sk_buff *skb, int err);

/* input_reg.c */
int klips_input_init(void);
void klips_input_exit(void);

/* input.c */
int klips_ipsec_rcv(struct sk_buff *skb, u8 family, u8 proto, int encap);
void klips_input_resume(struct sk_buff *skb, int nexthdr);
void klips_input_deliver(struct sk_buff *skb, struct klips_net *kn, int stat);

/*
 * esp.c. Output: 0, -EINPROGRESS, or an error (the skb is the caller's to
 * drop). Input, with skb->data at the ESP header: the next header, the
 * payload at skb->data; -EINPROGRESS; or an error, already counted
 * (-ENODATA: a dummy packet, to be dropped quietly).
 */
int klips_esp_output(struct sk_buff *skb, struct klips_sa *sa);
int klips_esp_input(struct sk_buff *skb, struct klips_sa *sa);

/* xform.c: where ESP, AH or IPComp goes in an outbound packet. */
int klips_ipsec_hdr_offset(struct sk_buff *skb, unsigned int *nh_off);

/*
 * comp.c: synchronous. Output leaves small or incompressible packets as
 * they are; input returns the next header or an error, already counted.
 */
int klips_comp_output(struct sk_buff *skb, struct klips_sa *sa);
int klips_comp_input(struct sk_buff *skb, struct klips_sa *sa);

/* ah.c: as esp.c, skb->data at the AH header on input. */
int klips_ah_output(struct sk_buff *skb, struct klips_sa *sa);
int klips_ah_input(struct sk_buff *skb, struct klips_sa *sa);
unsigned int klips_ah_len(const struct klips_sa *sa, u8 family);

/*
 * ipip.c. Input, skb->data at the inner header (IPv4 for @nexthdr 4, IPv6
 * for 41) of a packet that came with @tun's outer header: KLIPS_STAT_MAX
 * with the inner packet ready for delivery, else the counter of the drop.
 */
int klips_ipip_input(struct sk_buff *skb, struct klips_sa *tun, int nexthdr,
		     struct klips_net *kn);

/* ipip.c: bare IPIP off the wire, and ICMP errors about what we sent. */
int klips_ipip4_rcv(struct sk_buff *skb);
int klips_ipip6_rcv(struct sk_buff *skb);
int klips_ipip4_err(struct sk_buff *skb, u32 info);
int klips_ipip6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
		    u8 type, u8 code, int offset, __be32 info);

/*
 * pmtu.c: the effective MTU of a group and its outer path; a packet that
 * does not fit and may not be fragmented (@df) gets its ICMP and true.
 */
unsigned int klips_group_mtu(struct klips_sa *sa, unsigned int mtu,
			     unsigned int hlen);
bool klips_pmtu_too_big(struct sk_buff *skb, struct net_device *dev,
			struct klips_sa *sa, u8 family, bool df);
void klips_pmtu_track(struct klips_sa *sa, struct dst_entry *dst,
		      const struct net_device *phys);
void klips_pmtu_icmp4(struct sk_buff *skb, struct klips_sa *sa, u32 info);
void klips_pmtu_icmp6(struct sk_buff *skb, struct klips_sa *sa, u8 type,
		      __be32 info);
int klips_ipsec4_err(struct sk_buff *skb, u32 info, u8 proto);
int klips_ipsec6_err(struct sk_buff *skb, u8 type, int offset, __be32 info,
		     u8 proto);

/*
 * natt.c: ESP in UDP (RFC 3948). Encap after ESP on output; strip before
 * the SA lookup on input (@sport: the UDP source port), then the mapping
 * check on a verified packet and transport mode's checksum fix.
 */
int klips_natt_encap(struct sk_buff *skb, struct klips_sa *sa);
int klips_natt_strip(struct sk_buff *skb, u8 family, u16 nhoff, __be16 *sport);
void klips_natt_mapping(struct sk_buff *skb, struct klips_sa *sa,
			struct klips_net *kn);
void klips_natt_transport_csum(struct sk_buff *skb, struct klips_sa *sa,
			       int proto);

/*
 * Asynchronous requests in flight (xform.c): a namespace's exit waits until
 * it has none. The completion puts after it resumed the packet's path.
 */
int klips_async_init(struct klips_net *kn);
void klips_async_kill(struct klips_net *kn);
void klips_async_wait(struct klips_net *kn);

static inline void klips_async_get(struct klips_net *kn)
{
	percpu_ref_get(&kn->async);
}

static inline void klips_async_put(struct klips_net *kn)
{
	percpu_ref_put(&kn->async);
}

#endif /* _KLIPS_XFORM_H */
