// SPDX-License-Identifier: GPL-2.0
/*
 * AH (RFC 4302), both directions, through one keyed ahash per SA (ah_init()).
 *
 * The ICV covers the IP header(s) with their mutable fields zeroed (and a
 * routing header at the values it will have at the final destination),
 * the AH header with its ICV zeroed, the payload and, with extended
 * sequence numbers, the high half of the number after it (RFC 4302
 * sections 3.3.3 and 3.3.3.2.1). The headers are hashed from a copy in the
 * request's own buffer, so the skb is never changed for the hash and has
 * nothing to restore, synchronously or from an asynchronous completion.
 *
 * The AH header is padded to 32 bits after IPv4 (RFC 4302 section 2.6) and
 * to 64 bits after IPv6; inbound IPv4 AH padded to 64 bits, as the kernel's
 * XFRM sends it unless told "align4", is accepted too.
 */
#include <linux/scatterlist.h>
#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <kunit/visibility.h>

#include "xform.h"
#include "debug.h"

#define AH_ICV_MAX	32	/* HMAC-SHA2-512-256 */

/* What one packet's request keeps, at the start of its allocation. */
struct ah_scratch {
	u8 *hdr;		/* the IP header(s) and AH, mutable fields zeroed */
	u8 *digest;		/* the full MAC */
	unsigned int hdr_len;
	unsigned int icv_len;
	__be32 seqhi;		/* ESN: hashed after the payload */
	u8 icv[AH_ICV_MAX];	/* inbound: the ICV the packet came with */
};

static unsigned int icv_len(const struct klips_sa *sa)
{
	return sa->xform.integ->icv_bits / 8;
}

/**
 * klips_ah_len() - the AH header an SA adds, ICV and padding included
 * @sa: an AH SA
 * @family: the family of the IP header AH follows
 *
 * Return: the length in bytes.
 */
unsigned int klips_ah_len(const struct klips_sa *sa, u8 family)
{
	return ALIGN(sizeof(struct ip_auth_hdr) + icv_len(sa),
		     family == AF_INET ? 4 : 8);
}
EXPORT_SYMBOL_IF_KUNIT(klips_ah_len);

/*
 * One allocation per packet: the scratch, the header copy, the digest,
 * the request and the scatterlist. (The ahash core copies a digest that
 * its transform wants aligned differently.)
 */
static struct ah_scratch *ah_alloc_tmp(struct crypto_ahash *ahash,
				       unsigned int hdr_len, int nfrags,
				       struct ahash_request **req,
				       struct scatterlist **sg)
{
	struct ah_scratch *s;
	size_t len;
	u8 *p;

	len = ALIGN(sizeof(*s) + hdr_len, 8) + crypto_ahash_digestsize(ahash);
	len = ALIGN(len, crypto_tfm_ctx_alignment());
	len += sizeof(struct ahash_request) + crypto_ahash_reqsize(ahash);
	len = ALIGN(len, __alignof__(struct scatterlist));
	len += sizeof(struct scatterlist) * (nfrags + 2);
	s = kmalloc(len, GFP_ATOMIC);
	if (!s)
		return NULL;
	s->hdr = (u8 *)(s + 1);
	s->hdr_len = hdr_len;
	p = PTR_ALIGN(s->hdr + hdr_len, 8);
	s->digest = p;
	p = PTR_ALIGN(p + crypto_ahash_digestsize(ahash),
		      crypto_tfm_ctx_alignment());
	*req = (struct ahash_request *)p;
	ahash_request_set_tfm(*req, ahash);
	p = PTR_ALIGN(p + sizeof(struct ahash_request) +
		      crypto_ahash_reqsize(ahash), __alignof__(struct scatterlist));
	*sg = (struct scatterlist *)p;
	return s;
}

/*
 * IPv4 options (RFC 4302 section 3.3.3.1.1.2): the immutable ones are
 * hashed as they are, every other is zeroed; a source route makes the
 * destination the route's last address. The kernel's ah4.c has the same
 * list.
 */
static int ah4_mutable(u8 *hdr)
{
	struct iphdr *iph = (struct iphdr *)hdr;
	unsigned int l = iph->ihl * 4 - sizeof(*iph);
	u8 *opt = hdr + sizeof(*iph);

	iph->tos = 0;
	iph->frag_off = 0;
	iph->ttl = 0;
	iph->check = 0;
	while (l > 0) {
		unsigned int optlen;

		if (opt[0] == IPOPT_END)
			break;
		if (opt[0] == IPOPT_NOOP) {
			opt++;
			l--;
			continue;
		}
		if (l < 2)
			return -EINVAL;
		optlen = opt[1];
		if (optlen < 2 || optlen > l)
			return -EINVAL;
		switch (opt[0]) {
		case IPOPT_SEC:
		case 0x85:		/* extended security, RFC 1108 */
		case IPOPT_CIPSO:
		case IPOPT_RA:
		case 0x80 | 21:		/* RFC 1770 */
			break;
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			if (optlen < 7)
				return -EINVAL;
			memcpy(&iph->daddr, opt + optlen - 4, 4);
			fallthrough;
		default:
			memset(opt, 0, optlen);
		}
		opt += optlen;
		l -= optlen;
	}
	return 0;
}

/* Hop-by-Hop and Destination options: zero those that may change en route. */
static int ah6_mutable_opts(u8 *opt, unsigned int len)
{
	unsigned int off = 2;

	while (off < len) {
		unsigned int optlen;

		if (opt[off] == IPV6_TLV_PAD1) {
			off++;
			continue;
		}
		if (off + 2 > len)
			return -EINVAL;
		optlen = opt[off + 1] + 2;
		if (off + optlen > len)
			return -EINVAL;
		if (opt[off] & 0x20)
			memset(opt + off + 2, 0, optlen - 2);
		off += optlen;
	}
	return 0;
}

/*
 * A type 0 or 2 routing header as the final destination will see it: the
 * destination its last address, the addresses visited in its place,
 * nothing left (RFC 4302 section 3.3.3.1.2.2).
 */
static int ah6_rthdr(struct ipv6hdr *ip6h, struct ipv6_rt_hdr *rth,
		     unsigned int len)
{
	unsigned int left = rth->segments_left, n = rth->hdrlen / 2;
	struct in6_addr *addr, last;

	if (!left)
		return 0;
	if ((rth->type != IPV6_SRCRT_TYPE_0 &&
	     rth->type != IPV6_SRCRT_TYPE_2) || left > n ||
	    sizeof(*rth) + 4 + n * sizeof(*addr) > len)
		return -EINVAL;
	addr = (struct in6_addr *)((u8 *)rth + sizeof(*rth) + 4);
	last = addr[n - 1];
	memmove(addr + n - left + 1, addr + n - left,
		(left - 1) * sizeof(*addr));
	addr[n - left] = ip6h->daddr;
	ip6h->daddr = last;
	rth->segments_left = 0;
	return 0;
}

/* The IPv6 header and the extension headers before AH, @len bytes. */
static int ah6_mutable(u8 *hdr, unsigned int len)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)hdr;
	unsigned int off = sizeof(*ip6h);
	u8 nexthdr = ip6h->nexthdr;
	int err;

	/* Version kept; traffic class and flow label zeroed. */
	*(__be32 *)hdr = htonl(0x60000000);
	ip6h->hop_limit = 0;
	while (off < len) {
		unsigned int hlen;

		if (off + 2 > len)
			return -EINVAL;
		hlen = ipv6_optlen((struct ipv6_opt_hdr *)(hdr + off));
		if (off + hlen > len)
			return -EINVAL;
		switch (nexthdr) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			err = ah6_mutable_opts(hdr + off, hlen);
			break;
		case NEXTHDR_ROUTING:
			err = ah6_rthdr(ip6h, (struct ipv6_rt_hdr *)(hdr + off),
					hlen);
			break;
		default:
			err = -EINVAL;
		}
		if (err)
			return err;
		nexthdr = hdr[off];
		off += hlen;
	}
	return nexthdr == IPPROTO_AH ? 0 : -EINVAL;
}

/*
 * The request over s->hdr (s->hdr_len bytes), the skb's @len bytes from
 * @off and, with ESN, the high half of @seq.
 */
static int ah_req(struct sk_buff *skb, struct klips_sa *sa,
		  struct ah_scratch *s, struct ahash_request *req,
		  struct scatterlist *sg, int nfrags, unsigned int off,
		  unsigned int len, u64 seq, crypto_completion_t done)
{
	unsigned int total = s->hdr_len + len;
	int n = 0;

	sg_init_table(sg, nfrags + 2);
	sg_set_buf(sg, s->hdr, s->hdr_len);
	if (len) {
		n = skb_to_sgvec_nomark(skb, sg + 1, off, len);
		if (unlikely(n < 0))
			return n;
	}
	if (sa->flags & KLIPS_SA_FLAGS_ESN) {
		s->seqhi = htonl(seq >> 32);
		sg_set_buf(&sg[++n], &s->seqhi, sizeof(s->seqhi));
		total += sizeof(s->seqhi);
	}
	sg_mark_end(&sg[n]);
	ahash_request_set_callback(req, 0, done, skb);
	ahash_request_set_crypt(req, sg, s->digest, total);
	klips_cb(skb)->tmp = s;
	return 0;
}

static void ah_output_finish(struct sk_buff *skb, int err)
{
	struct ah_scratch *s = klips_cb(skb)->tmp;
	struct ip_auth_hdr *ah = (struct ip_auth_hdr *)skb_transport_header(skb);

	if (!err)
		memcpy(ah->auth_data, s->digest, s->icv_len);
	kfree_sensitive(s);
}

static void ah_output_done(KLIPS_CRYPTO_CB_ARG areq, int err)
{
	struct sk_buff *skb = klips_crypto_cb_data(areq);
	struct klips_net *kn = klips_cb(skb)->sa->kn;

	ah_output_finish(skb, err);
	klips_output_resume(skb, err);
	klips_async_put(kn);
}

int klips_ah_output(struct sk_buff *skb, struct klips_sa *sa)
{
	bool v6 = skb->protocol == htons(ETH_P_IPV6);
	unsigned int ahlen = klips_ah_len(sa, v6 ? AF_INET6 : AF_INET);
	unsigned int hdrlen, nh_off, plen;
	struct ip_auth_hdr *ah;
	struct ahash_request *req;
	struct scatterlist *sg;
	struct ah_scratch *s;
	struct sk_buff *trailer;
	int nfrags, err;
	u8 *nh;
	u64 seq;

	err = klips_replay_next_out(&sa->out_seq,
				    sa->flags & KLIPS_SA_FLAGS_ESN, &seq);
	if (err)
		return err;
	err = skb_cow_head(skb, ahlen + LL_MAX_HEADER);
	if (err)
		return err;
	err = klips_ipsec_hdr_offset(skb, &nh_off);
	if (err < 0)
		return err;
	hdrlen = err;
	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	plen = skb->len - hdrlen;

	skb_push(skb, ahlen);
	memmove(skb->data, skb->data + ahlen, hdrlen);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, hdrlen);
	nh = skb_network_header(skb) + nh_off;
	ah = (struct ip_auth_hdr *)skb_transport_header(skb);
	ah->nexthdr = *nh;
	*nh = IPPROTO_AH;
	ah->hdrlen = ahlen / 4 - 2;
	ah->reserved = 0;
	ah->spi = htonl(sa->said.spi);
	ah->seq_no = htonl((u32)seq);
	memset(ah->auth_data, 0, ahlen - sizeof(*ah));
	if (v6) {
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
	} else {
		ip_hdr(skb)->tot_len = htons(skb->len);
		ip_send_check(ip_hdr(skb));
	}

	s = ah_alloc_tmp(sa->ahash, hdrlen + ahlen, nfrags, &req, &sg);
	if (!s)
		return -ENOMEM;
	s->icv_len = icv_len(sa);
	memcpy(s->hdr, skb->data, hdrlen + ahlen);
	err = v6 ? ah6_mutable(s->hdr, hdrlen) : ah4_mutable(s->hdr);
	if (!err)
		err = ah_req(skb, sa, s, req, sg, nfrags, hdrlen + ahlen,
			     skb->len - hdrlen - ahlen, seq, ah_output_done);
	if (err) {
		kfree(s);
		return err;
	}
	klips_sa_count(sa, plen);
	klips_async_get(sa->kn);
	err = crypto_ahash_digest(req);
	if (err == -EINPROGRESS)
		return err;
	klips_async_put(sa->kn);
	ah_output_finish(skb, err);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_ah_output);

static int ah_input_finish(struct sk_buff *skb, struct klips_sa *sa, int err)
{
	struct klips_net *kn = klips_net(dev_net(skb->dev));
	struct ah_scratch *s = klips_cb(skb)->tmp;
	unsigned int ahlen;
	bool bad;
	u8 nexthdr;

	bad = !err && crypto_memneq(s->digest, s->icv, s->icv_len);
	kfree_sensitive(s);
	if (err)
		return err;
	if (bad) {
		atomic64_inc(&sa->auth_errs);
		klips_stat_inc(kn, KLIPS_STAT_IN_AUTH_ERROR);
		return -EBADMSG;
	}
	if (klips_in_replay_advance(sa, kn, klips_cb(skb)->seq))
		return -EINVAL;
	nexthdr = ((struct ip_auth_hdr *)skb->data)->nexthdr;
	ahlen = (((struct ip_auth_hdr *)skb->data)->hdrlen + 2) * 4;
	__skb_pull(skb, ahlen);
	skb->ip_summed = CHECKSUM_NONE;
	klips_sa_count(sa, skb->len);
	return nexthdr;
}

static void ah_input_done(KLIPS_CRYPTO_CB_ARG areq, int err)
{
	struct sk_buff *skb = klips_crypto_cb_data(areq);
	struct klips_net *kn = klips_cb(skb)->sa->kn;

	klips_input_resume(skb, ah_input_finish(skb, klips_cb(skb)->sa, err));
	klips_async_put(kn);
}

/* The AH header's length is the SA's (or IPv4's 64-bit padded length). */
static bool ah_len_ok(const struct klips_sa *sa, bool v6, unsigned int ahlen)
{
	if (ahlen == klips_ah_len(sa, v6 ? AF_INET6 : AF_INET))
		return true;
	return !v6 && ahlen == klips_ah_len(sa, AF_INET6);
}

int klips_ah_input(struct sk_buff *skb, struct klips_sa *sa)
{
	struct klips_net *kn = klips_net(dev_net(skb->dev));
	bool v6 = skb->protocol == htons(ETH_P_IPV6);
	unsigned int ahlen, hoff, icv = icv_len(sa);
	struct ahash_request *req;
	struct ip_auth_hdr *ah;
	struct scatterlist *sg;
	struct sk_buff *trailer;
	struct ah_scratch *s;
	int nfrags, err;
	u64 seq;

	if (!pskb_may_pull(skb, sizeof(*ah)))
		goto hdr_error;
	ah = (struct ip_auth_hdr *)skb->data;
	ahlen = (ah->hdrlen + 2) * 4;
	if (!ah_len_ok(sa, v6, ahlen) || !pskb_may_pull(skb, ahlen))
		goto hdr_error;
	ah = (struct ip_auth_hdr *)skb->data;
	err = klips_in_replay_check(sa, kn, ntohl(ah->seq_no), &seq);
	if (err)
		return err;
	klips_cb(skb)->seq = seq;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	/* The IP header(s) before AH are in the linear part: the stack read them. */
	hoff = skb->data - skb_network_header(skb);
	s = ah_alloc_tmp(sa->ahash, hoff + ahlen, nfrags, &req, &sg);
	if (!s)
		return -ENOMEM;
	s->icv_len = icv;
	memcpy(s->hdr, skb_network_header(skb), hoff + ahlen);
	memcpy(s->icv, s->hdr + hoff + sizeof(*ah), icv);
	memset(s->hdr + hoff + sizeof(*ah), 0, icv);
	err = v6 ? ah6_mutable(s->hdr, hoff) : ah4_mutable(s->hdr);
	if (err) {
		kfree_sensitive(s);
		goto hdr_error;
	}
	err = ah_req(skb, sa, s, req, sg, nfrags, ahlen, skb->len - ahlen, seq,
		     ah_input_done);
	if (err) {
		kfree_sensitive(s);
		return err;
	}
	klips_async_get(sa->kn);
	err = crypto_ahash_digest(req);
	if (err == -EINPROGRESS)
		return err;
	klips_async_put(sa->kn);
	return ah_input_finish(skb, sa, err);

hdr_error:
	klips_stat_inc(kn, KLIPS_STAT_IN_HDR_ERROR);
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(klips_ah_input);

static int ah_resolve(struct klips_sa *sa, const struct klips_sa_config *cfg,
		      struct netlink_ext_ack *extack)
{
	if (!cfg->alg || cfg->enckey_len) {
		NL_SET_ERR_MSG(extack,
			       "an ah SA needs --ah and --authkey, and no --enckey");
		return -EINVAL;
	}
	return klips_alg_resolve_ah(cfg->alg, cfg->authkey_len, &sa->xform,
				    extack);
}

static int ah_init(struct klips_sa *sa, const struct klips_sa_config *cfg,
		   struct netlink_ext_ack *extack)
{
	const struct klips_integ *a = sa->xform.integ;
	int err;

	sa->ahash = crypto_alloc_ahash(a->crypto, 0, 0);
	if (IS_ERR(sa->ahash)) {
		err = PTR_ERR(sa->ahash);
		sa->ahash = NULL;
		NL_SET_ERR_MSG(extack,
			       "--ah: the kernel has no such algorithm (crypto module missing?)");
		return err;
	}
	if (crypto_ahash_digestsize(sa->ahash) * 8 < a->icv_bits)
		return -EINVAL;
	err = crypto_ahash_setkey(sa->ahash, cfg->authkey, cfg->authkey_len);
	if (err)
		NL_SET_ERR_MSG(extack, "--authkey: the kernel refused the key");
	return err;
}

static void ah_destroy(struct klips_sa *sa)
{
	if (sa->ahash)
		crypto_free_ahash(sa->ahash);
}

/*
 * Padded as the header before it: the SA's family. A larval SA (getspi)
 * has no transform yet: it adds nothing.
 */
static unsigned int ah_overhead(const struct klips_sa *sa, unsigned int len,
				unsigned int *hlen)
{
	return sa->xform.integ ? klips_ah_len(sa, sa->said.family) : 0;
}

const struct klips_xform_type klips_ah_type = {
	.proto		= IPPROTO_AH,
	.flags		= KLIPS_XFORM_IPSEC,
	.hdr_len	= offsetof(struct ip_auth_hdr, seq_no), /* to the SPI's end */
	.spi_off	= offsetof(struct ip_auth_hdr, spi),
	.spi_mask	= U32_MAX,
	.name		= "AH",
	.resolve	= ah_resolve,
	.init		= ah_init,
	.destroy	= ah_destroy,
	.output		= klips_ah_output,
	.input		= klips_ah_input,
	.overhead	= ah_overhead,
};
