// SPDX-License-Identifier: GPL-2.0
/*
 * IPComp (RFC 3173) with DEFLATE (RFC 2394), as KLIPS did it: payloads under 90
 * bytes are not compressed, nor those that would not shrink; after repeated
 * failures the SA stops trying for a while (adaptive skipping, KLIPS's
 * constants). A packet not compressed goes without an IPComp header, which the
 * receiver accepts (Documentation/klips/design.md: only comp may be skipped).
 * Decompression is capped at what one IP packet can hold.
 *
 * DEFLATE keeps a large workspace per transform, so one transform and one
 * output buffer per CPU serve every IPComp SA, as XFRM's ipcomp shares
 * its per-CPU transforms; they exist while any IPComp SA does. These are
 * the synchronous crypto_comp transforms XFRM uses: the acomp front end
 * over scomp takes a scratch lock that process-context users hold with
 * bottom halves on, which the packet path in softirq must not take.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/crypto.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/vmalloc.h>
#include <net/ipcomp.h>
#include <kunit/visibility.h>

#include "xform.h"
#include "debug.h"

/* RFC 2394 section 2.2: smaller payloads rarely shrink. */
#define KLIPS_COMP_MIN		90
/* The largest payload one IP packet can carry, and our buffers. */
#define KLIPS_COMP_SCRATCH	65536

/* Adaptive skipping: KLIPS's ipcomp.h. */
#define KLIPS_COMP_INITIAL_TRIES	8
#define KLIPS_COMP_INITIAL_SKIP		4
#define KLIPS_COMP_SUBSEQ_TRIES		2
#define KLIPS_COMP_SUBSEQ_SKIP		8

struct klips_comp_pcpu {
	struct crypto_comp *tfm;
	u8 *scratch;
};

static DEFINE_MUTEX(comp_mutex);
static unsigned int comp_users;
static struct klips_comp_pcpu __percpu *comp_pcpu;

static void engine_free(void)
{
	int cpu;

	if (!comp_pcpu)
		return;
	for_each_possible_cpu(cpu) {
		struct klips_comp_pcpu *p = per_cpu_ptr(comp_pcpu, cpu);

		if (!IS_ERR_OR_NULL(p->tfm))
			crypto_free_comp(p->tfm);
		vfree(p->scratch);
	}
	free_percpu(comp_pcpu);
	comp_pcpu = NULL;
}

/**
 * klips_comp_get() - take a reference on the shared DEFLATE engine
 * @crypto: the crypto API name ("deflate")
 *
 * Context: process context (an SA being created).
 * Return: 0, or a negative errno if the kernel has no such algorithm.
 */
static int klips_comp_get(const char *crypto)
{
	int cpu, err = 0;

	mutex_lock(&comp_mutex);
	if (comp_users++)
		goto out;
	comp_pcpu = alloc_percpu(struct klips_comp_pcpu);
	if (!comp_pcpu) {
		err = -ENOMEM;
		goto fail;
	}
	for_each_possible_cpu(cpu) {
		struct klips_comp_pcpu *p = per_cpu_ptr(comp_pcpu, cpu);

		p->tfm = crypto_alloc_comp(crypto, 0, 0);
		if (IS_ERR(p->tfm)) {
			err = PTR_ERR(p->tfm);
			goto fail;
		}
		p->scratch = vmalloc(KLIPS_COMP_SCRATCH);
		if (!p->scratch) {
			err = -ENOMEM;
			goto fail;
		}
	}
	goto out;
fail:
	engine_free();
	comp_users = 0;
out:
	mutex_unlock(&comp_mutex);
	return err;
}

/* Context: process context (an SA being freed). */
static void klips_comp_put(void)
{
	mutex_lock(&comp_mutex);
	if (!WARN_ON_ONCE(!comp_users) && !--comp_users)
		engine_free();
	mutex_unlock(&comp_mutex);
}

/* Adaptive skipping, per SA; races between CPUs only blur a heuristic. */
static bool comp_skip(struct klips_sa *sa)
{
	u16 skip = READ_ONCE(sa->comp_skip);

	if (!skip)
		return false;
	WRITE_ONCE(sa->comp_skip, skip - 1);
	return true;
}

static void comp_result(struct klips_sa *sa, bool shrank)
{
	u16 fails;

	if (shrank) {
		WRITE_ONCE(sa->comp_fails, 0);
		WRITE_ONCE(sa->comp_subseq, false);
		return;
	}
	fails = READ_ONCE(sa->comp_fails) + 1;
	if (fails < (READ_ONCE(sa->comp_subseq) ? KLIPS_COMP_SUBSEQ_TRIES :
						  KLIPS_COMP_INITIAL_TRIES)) {
		WRITE_ONCE(sa->comp_fails, fails);
		return;
	}
	WRITE_ONCE(sa->comp_skip, READ_ONCE(sa->comp_subseq) ?
		   KLIPS_COMP_SUBSEQ_SKIP : KLIPS_COMP_INITIAL_SKIP);
	WRITE_ONCE(sa->comp_fails, 0);
	WRITE_ONCE(sa->comp_subseq, true);
}

/*
 * (De)compress @len bytes at @src into this CPU's scratch buffer, at most
 * @max bytes out (DEFLATE fails when it needs more). Context: bottom
 * halves off: this CPU's transform and buffer are ours until enabled.
 * Return: the output length, or a negative errno.
 */
static int run(bool compress, const u8 *src, unsigned int len,
	       unsigned int max, u8 **out)
{
	struct klips_comp_pcpu *p = this_cpu_ptr(comp_pcpu);
	unsigned int dlen = max;
	int err;

	err = compress ? crypto_comp_compress(p->tfm, src, len, p->scratch,
					      &dlen) :
			 crypto_comp_decompress(p->tfm, src, len, p->scratch,
						&dlen);
	if (err)
		return err;
	if (dlen > max)
		return -EOVERFLOW;
	*out = p->scratch;
	return dlen;
}

/**
 * klips_comp_output() - compress the payload after the IP header(s)
 * @skb: the packet, network header set
 * @sa: the IPComp SA
 *
 * Leaves the packet as it is when it is small, would not shrink, or the
 * SA is skipping. Context: bottom halves off (ndo_start_xmit).
 * Return: 0 or a negative errno (the packet is then dropped).
 */
int klips_comp_output(struct sk_buff *skb, struct klips_sa *sa)
{
	unsigned int hdrlen, nh_off, plen, max;
	struct ip_comp_hdr *ipch;
	u8 *nh, *out;
	int err, clen;

	err = klips_ipsec_hdr_offset(skb, &nh_off);
	if (err < 0)
		return err;
	hdrlen = err;
	plen = skb->len - hdrlen;
	klips_sa_count(sa, plen);
	if (plen < KLIPS_COMP_MIN || comp_skip(sa))
		return 0;
	err = skb_linearize_cow(skb);
	if (err)
		return err;
	/* It must shrink by more than the IPComp header it adds. */
	max = min_t(unsigned int, plen - sizeof(*ipch) - 1,
		    KLIPS_COMP_SCRATCH);
	local_bh_disable();
	clen = run(true, skb->data + hdrlen, plen, max, &out);
	if (clen < 0) {
		local_bh_enable();
		comp_result(sa, false);
		return 0;
	}
	memcpy(skb->data + hdrlen + sizeof(*ipch), out, clen);
	local_bh_enable();
	comp_result(sa, true);

	nh = skb_network_header(skb) + nh_off;
	ipch = (struct ip_comp_hdr *)(skb->data + hdrlen);
	ipch->nexthdr = *nh;
	ipch->flags = 0;
	ipch->cpi = htons(sa->said.spi);
	*nh = IPPROTO_COMP;
	skb_trim(skb, hdrlen + sizeof(*ipch) + clen);
	skb_set_transport_header(skb, hdrlen);
	atomic64_add(plen, &sa->ratio_in);
	atomic64_add(clen, &sa->ratio_out);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_comp_output);

/**
 * klips_comp_input() - decompress an IPComp payload
 * @skb: skb->data at the IPComp header, network header set
 * @sa: the IPComp SA
 *
 * Afterwards skb->data is at the decompressed payload, where the IPComp
 * header was. Counts what it drops. Context: softirq.
 * Return: the next header, or a negative errno (drop).
 */
int klips_comp_input(struct sk_buff *skb, struct klips_sa *sa)
{
	struct klips_net *kn = klips_net(dev_net(skb->dev));
	unsigned int hdrlen, slen, max, grow;
	struct ip_comp_hdr ipch;
	u8 *out;
	int dlen;

	if (!klips_sa_live(sa)) {
		klips_stat_inc(kn, KLIPS_STAT_IN_STATE_INVALID);
		return -EINVAL;
	}
	if (skb_copy_bits(skb, 0, &ipch, sizeof(ipch))) {
		klips_stat_inc(kn, KLIPS_STAT_IN_HDR_ERROR);
		return -EINVAL;
	}
	/*
	 * IPComp inside IPComp (RFC 3173 section 3.3), or another CPI than
	 * the SA's: another SA's layer inside ESP or AH (XFRM: no state).
	 */
	if (ipch.nexthdr == IPPROTO_COMP || ntohs(ipch.cpi) != sa->said.spi) {
		klips_stat_inc(kn, KLIPS_STAT_IN_POLICY_ERROR);
		return -EINVAL;
	}
	if (skb_linearize_cow(skb))
		return -ENOMEM;
	hdrlen = skb->data - skb_network_header(skb);
	slen = skb->len - sizeof(ipch);
	/* No bomb: at most what one IP packet can hold. */
	max = min_t(unsigned int, IP_MAX_MTU - hdrlen, KLIPS_COMP_SCRATCH);
	local_bh_disable();
	dlen = run(false, skb->data + sizeof(ipch), slen, max, &out);
	if (dlen <= 0) {
		local_bh_enable();
		/* Corrupt, or more than a packet: not a packet inside. */
		klips_stat_inc(kn, KLIPS_STAT_IN_INNER_HEADER_ERROR);
		return -EINVAL;
	}
	grow = dlen > skb->len ? dlen - skb->len : 0;
	if (grow > skb_tailroom(skb) &&
	    pskb_expand_head(skb, 0, grow - skb_tailroom(skb), GFP_ATOMIC)) {
		local_bh_enable();
		return -ENOMEM;
	}
	memcpy(skb->data, out, dlen);
	local_bh_enable();
	if (grow)
		__skb_put(skb, grow);
	else
		__skb_trim(skb, dlen);
	skb->ip_summed = CHECKSUM_NONE;
	atomic64_add(dlen, &sa->ratio_in);
	atomic64_add(slen, &sa->ratio_out);
	klips_sa_count(sa, dlen);
	return ipch.nexthdr;
}
EXPORT_SYMBOL_IF_KUNIT(klips_comp_input);

static int comp_resolve(struct klips_sa *sa,
			const struct klips_sa_config *cfg,
			struct netlink_ext_ack *extack)
{
	if (!cfg->alg || cfg->enckey_len || cfg->authkey_len) {
		NL_SET_ERR_MSG(extack,
			       "a comp SA needs --comp and takes no keys");
		return -EINVAL;
	}
	return klips_alg_resolve_comp(cfg->alg, &sa->xform, extack);
}

static int comp_init(struct klips_sa *sa, const struct klips_sa_config *cfg,
		     struct netlink_ext_ack *extack)
{
	int err = klips_comp_get(sa->xform.comp->crypto);

	if (err) {
		NL_SET_ERR_MSG(extack,
			       "--comp: the kernel has no such algorithm (crypto module missing?)");
		return err;
	}
	sa->comp_ref = true;	/* dropped when the SA is freed */
	return 0;
}

static void comp_destroy(struct klips_sa *sa)
{
	if (sa->comp_ref)
		klips_comp_put();
}

const struct klips_xform_type klips_comp_type = {
	.proto		= IPPROTO_COMP,
	.flags		= KLIPS_XFORM_COMPRESS,
	.hdr_len	= sizeof(struct ip_comp_hdr),
	.spi_off	= 0,
	.spi_mask	= 0xffff,
	.name		= "COMP",
	.resolve	= comp_resolve,
	.init		= comp_init,
	.destroy	= comp_destroy,
	.output		= klips_comp_output,
	.input		= klips_comp_input,
};
