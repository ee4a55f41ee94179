// SPDX-License-Identifier: GPL-2.0
/*
 * ESP (RFC 4303), both directions, through one AEAD transform per SA: the
 * kernel's AEADs wrapped in their IV generators, or authenc() /
 * authencesn() around a cipher and an HMAC (esp_init() allocates them as
 * XFRM does). The associated data, SPI and sequence number (and the high half of
 * an extended one, RFC 4303 Appendix A), is built in a buffer of its own
 * rather than over the packet, so that nothing in the skb is borrowed.
 *
 * Output works on the packet's current IP header, tunnel or transport
 * alike: in a tunnel group the IPIP SA has already added the outer header.
 */
#include <linux/scatterlist.h>
#include <linux/udp.h>
#include <crypto/aead.h>
#include <crypto/authenc.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <kunit/visibility.h>

#include "xform.h"
#include "debug.h"

/* Largest AAD: SPI, high and low halves of an extended sequence number. */
#define ESP_AAD_MAX	12
#define ESP_IV_MAX	16

/*
 * One allocation per packet: the AAD, the IV (aligned as the transform
 * wants it), the request and the scatterlist.
 */
static void *esp_alloc_tmp(struct crypto_aead *aead, int nfrags,
			   struct aead_request **req, u8 **iv,
			   struct scatterlist **sg)
{
	unsigned int align = crypto_aead_alignmask(aead);
	size_t len;
	u8 *tmp, *p;

	len = ESP_AAD_MAX + align + ESP_IV_MAX;
	len = ALIGN(len, crypto_tfm_ctx_alignment());
	len += sizeof(struct aead_request) + crypto_aead_reqsize(aead);
	len = ALIGN(len, __alignof__(struct scatterlist));
	len += sizeof(struct scatterlist) * (nfrags + 1);
	tmp = kmalloc(len, GFP_ATOMIC);
	if (!tmp)
		return NULL;
	p = PTR_ALIGN(tmp + ESP_AAD_MAX, align + 1);
	*iv = p;
	p = PTR_ALIGN(p + ESP_IV_MAX, crypto_tfm_ctx_alignment());
	*req = (struct aead_request *)p;
	aead_request_set_tfm(*req, aead);
	p = PTR_ALIGN(p + sizeof(struct aead_request) +
		      crypto_aead_reqsize(aead), __alignof__(struct scatterlist));
	*sg = (struct scatterlist *)p;
	return tmp;
}

/* The AAD at the start of tmp; returns its length. */
static unsigned int esp_aad(u8 *aad, const struct klips_sa *sa, u64 seq)
{
	__be32 w[3] = { htonl(sa->said.spi), htonl(seq >> 32), htonl(seq) };

	if (!(sa->flags & KLIPS_SA_FLAGS_ESN)) {
		w[1] = w[2];
		memcpy(aad, w, 8);
		return 8;
	}
	memcpy(aad, w, 12);
	return 12;
}

static unsigned int esp_block(struct crypto_aead *aead)
{
	return ALIGN(crypto_aead_blocksize(aead), 4);
}

/*
 * One packet's request: the AAD (SPI, sequence number) as the first
 * scatterlist entry, then @len bytes of the skb from @off, the IV first;
 * @cryptlen of them for the cipher. The IV buffer comes back in @iv.
 *
 * Return: the allocation to free once the request is done, or an ERR_PTR().
 */
static u8 *esp_req(struct sk_buff *skb, struct klips_sa *sa, u64 seq,
		   int nfrags, unsigned int off, unsigned int len,
		   unsigned int cryptlen, crypto_completion_t done,
		   struct aead_request **req, u8 **iv)
{
	struct scatterlist *sg;
	unsigned int assoclen;
	u8 *tmp;
	int err;

	tmp = esp_alloc_tmp(sa->aead, nfrags, req, iv, &sg);
	if (!tmp)
		return ERR_PTR(-ENOMEM);
	assoclen = esp_aad(tmp, sa, seq);
	sg_init_table(sg, nfrags + 1);
	sg_set_buf(sg, tmp, assoclen);
	err = skb_to_sgvec(skb, sg + 1, off, len);
	if (unlikely(err < 0)) {
		kfree(tmp);
		return ERR_PTR(err);
	}
	aead_request_set_callback(*req, 0, done, skb);
	aead_request_set_crypt(*req, sg, sg, cryptlen, *iv);
	aead_request_set_ad(*req, assoclen);
	klips_cb(skb)->tmp = tmp;
	return tmp;
}

static void esp_output_done(KLIPS_CRYPTO_CB_ARG areq, int err)
{
	struct sk_buff *skb = klips_crypto_cb_data(areq);
	struct klips_net *kn = klips_cb(skb)->sa->kn;

	kfree(klips_cb(skb)->tmp);
	klips_output_resume(skb, err);
	klips_async_put(kn);
}

int klips_esp_output(struct sk_buff *skb, struct klips_sa *sa)
{
	struct crypto_aead *aead = sa->aead;
	unsigned int ivlen = crypto_aead_ivsize(aead);
	unsigned int icv = crypto_aead_authsize(aead);
	unsigned int hdrlen, nh_off, plen, clen, padlen, tailen;
	struct ip_esp_hdr *esph;
	struct aead_request *req;
	struct sk_buff *trailer;
	u8 *tail, *iv, *tmp, *nh;
	int nfrags, err, i;
	u64 seq;

	err = klips_replay_next_out(&sa->out_seq,
				    sa->flags & KLIPS_SA_FLAGS_ESN, &seq);
	if (err)
		return err;
	err = skb_cow_head(skb, sizeof(*esph) + ivlen + LL_MAX_HEADER);
	if (err)
		return err;
	err = klips_ipsec_hdr_offset(skb, &nh_off);
	if (err < 0)
		return err;
	hdrlen = err;
	plen = skb->len - hdrlen;
	clen = ALIGN(plen + 2, esp_block(aead));
	padlen = clen - plen - 2;
	tailen = clen - plen + icv;

	nfrags = skb_cow_data(skb, tailen, &trailer);
	if (nfrags < 0)
		return nfrags;
	tail = pskb_put(skb, trailer, tailen);
	for (i = 0; i < padlen; i++)
		tail[i] = i + 1;
	nh = skb_network_header(skb) + nh_off;
	tail[padlen] = padlen;
	tail[padlen + 1] = *nh;
	*nh = IPPROTO_ESP;

	/* The ESP header and IV go between the IP header(s) and the payload. */
	skb_push(skb, sizeof(*esph) + ivlen);
	memmove(skb->data, skb->data + sizeof(*esph) + ivlen, hdrlen);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, hdrlen);
	esph = (struct ip_esp_hdr *)skb_transport_header(skb);
	esph->spi = htonl(sa->said.spi);
	esph->seq_no = htonl((u32)seq);

	tmp = esp_req(skb, sa, seq, nfrags, hdrlen + sizeof(*esph),
		      ivlen + clen + icv, ivlen + clen, esp_output_done, &req, &iv);
	if (IS_ERR(tmp))
		return PTR_ERR(tmp);
	/* The IV generators derive the IV from the sequence number. */
	memset(iv, 0, ivlen);
	if (ivlen >= 8) {
		__be64 nseq = cpu_to_be64(seq);

		memcpy(iv + ivlen - 8, &nseq, 8);
	}
	klips_sa_count(sa, plen);
	klips_async_get(sa->kn);
	err = crypto_aead_encrypt(req);
	if (err == -EINPROGRESS)
		return err;
	klips_async_put(sa->kn);
	kfree(tmp);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_esp_output);

/* Pad bytes must be 1, 2, 3, ... (RFC 4303 section 2.4). */
static bool esp_pad_ok(struct sk_buff *skb, unsigned int off, u8 padlen)
{
	u8 buf[32];
	unsigned int i, n;

	for (i = 0; i < padlen; i += n) {
		unsigned int j;

		n = min_t(unsigned int, padlen - i, sizeof(buf));
		if (skb_copy_bits(skb, off + i, buf, n))
			return false;
		for (j = 0; j < n; j++)
			if (buf[j] != (u8)(i + j + 1))
				return false;
	}
	return true;
}

static int esp_input_finish(struct sk_buff *skb, struct klips_sa *sa, int err)
{
	struct klips_net *kn = klips_net(dev_net(skb->dev));
	struct crypto_aead *aead = sa->aead;
	unsigned int ivlen = crypto_aead_ivsize(aead);
	unsigned int icv = crypto_aead_authsize(aead);
	unsigned int elen;
	u8 nh[2];

	kfree(klips_cb(skb)->tmp);
	if (err) {
		if (err == -EBADMSG) {
			atomic64_inc(&sa->auth_errs);
			klips_stat_inc(kn, KLIPS_STAT_IN_AUTH_ERROR);
		}
		return err;
	}
	if (klips_in_replay_advance(sa, kn, klips_cb(skb)->seq))
		return -EINVAL;
	elen = skb->len - sizeof(struct ip_esp_hdr) - ivlen - icv;
	if (skb_copy_bits(skb, skb->len - icv - 2, nh, 2))
		return -EINVAL;
	if (nh[0] + 2 > elen ||
	    !esp_pad_ok(skb, skb->len - icv - 2 - nh[0], nh[0])) {
		atomic64_inc(&sa->encr_pad_errs);
		klips_stat_inc(kn, KLIPS_STAT_IN_PAD_ERROR);
		return -EINVAL;
	}
	if (nh[1] == IPPROTO_NONE) {
		klips_stat_inc(kn, KLIPS_STAT_IN_DUMMY);
		return -ENODATA;
	}
	err = pskb_trim(skb, skb->len - icv - nh[0] - 2);
	if (err)
		return err;
	__skb_pull(skb, sizeof(struct ip_esp_hdr) + ivlen);
	skb->ip_summed = CHECKSUM_NONE;
	klips_sa_count(sa, elen - nh[0] - 2);
	return nh[1];
}

static void esp_input_done(KLIPS_CRYPTO_CB_ARG areq, int err)
{
	struct sk_buff *skb = klips_crypto_cb_data(areq);
	struct klips_net *kn = klips_cb(skb)->sa->kn;

	klips_input_resume(skb, esp_input_finish(skb, klips_cb(skb)->sa, err));
	klips_async_put(kn);
}

int klips_esp_input(struct sk_buff *skb, struct klips_sa *sa)
{
	struct klips_net *kn = klips_net(dev_net(skb->dev));
	struct crypto_aead *aead = sa->aead;
	unsigned int ivlen = crypto_aead_ivsize(aead);
	unsigned int icv = crypto_aead_authsize(aead);
	struct ip_esp_hdr *esph;
	struct aead_request *req;
	struct sk_buff *trailer;
	int elen, nfrags, err;
	u8 *tmp, *iv;
	u64 seq;

	elen = skb->len - sizeof(*esph) - ivlen - icv;
	if (elen < 2 || elen & (esp_block(aead) - 1) ||
	    !pskb_may_pull(skb, sizeof(*esph) + ivlen)) {
		atomic64_inc(&sa->encr_size_errs);
		klips_stat_inc(kn, KLIPS_STAT_IN_SIZE_ERROR);
		return -EINVAL;
	}
	esph = (struct ip_esp_hdr *)skb->data;
	err = klips_in_replay_check(sa, kn, ntohl(esph->seq_no), &seq);
	if (err)
		return err;
	klips_cb(skb)->seq = seq;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	tmp = esp_req(skb, sa, seq, nfrags, sizeof(*esph), ivlen + elen + icv,
		      ivlen + elen + icv, esp_input_done, &req, &iv);
	if (IS_ERR(tmp))
		return PTR_ERR(tmp);
	klips_async_get(sa->kn);
	err = crypto_aead_decrypt(req);
	if (err == -EINPROGRESS)
		return err;
	klips_async_put(sa->kn);
	return esp_input_finish(skb, sa, err);
}
EXPORT_SYMBOL_IF_KUNIT(klips_esp_input);

static int esp_resolve(struct klips_sa *sa, const struct klips_sa_config *cfg,
		       struct netlink_ext_ack *extack)
{
	if (!cfg->alg) {
		NL_SET_ERR_MSG(extack, "an esp SA needs --esp");
		return -EINVAL;
	}
	return klips_alg_resolve_esp(cfg->alg, cfg->enckey_len,
				     cfg->authkey_len, &sa->xform, extack);
}

/* An authenc() key: the rtattr parameter block, the MAC key, the cipher key. */
static int setkey_authenc(struct crypto_aead *aead,
			  const struct klips_sa_config *cfg)
{
	struct crypto_authenc_key_param *param;
	unsigned int len;
	struct rtattr *rta;
	u8 *key, *p;
	int err;

	len = RTA_SPACE(sizeof(*param)) + cfg->authkey_len + cfg->enckey_len;
	key = kmalloc(len, GFP_KERNEL);
	if (!key)
		return -ENOMEM;
	rta = (struct rtattr *)key;
	rta->rta_type = CRYPTO_AUTHENC_KEYA_PARAM;
	rta->rta_len = RTA_LENGTH(sizeof(*param));
	param = RTA_DATA(rta);
	param->enckeylen = cpu_to_be32(cfg->enckey_len);
	p = key + RTA_SPACE(sizeof(*param));
	memcpy(p, cfg->authkey, cfg->authkey_len);
	memcpy(p + cfg->authkey_len, cfg->enckey, cfg->enckey_len);
	err = crypto_aead_setkey(aead, key, len);
	kfree_sensitive(key);
	return err;
}

static int esp_init(struct klips_sa *sa, const struct klips_sa_config *cfg,
		    struct netlink_ext_ack *extack)
{
	const struct klips_xform *x = &sa->xform;
	char name[CRYPTO_MAX_ALG_NAME];
	unsigned int icv;
	int err;

	err = klips_alg_crypto_name(x, sa->flags & KLIPS_SA_FLAGS_ESN, name,
				    sizeof(name));
	if (err)
		return err;
	sa->aead = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(sa->aead)) {
		err = PTR_ERR(sa->aead);
		sa->aead = NULL;
		NL_SET_ERR_MSG(extack,
			       "--esp: the kernel has no such algorithm (crypto module missing?)");
		return err;
	}
	icv = x->cipher->aead ? x->cipher->icv_bits / 8 :
	      x->integ ? x->integ->icv_bits / 8 : 0;
	err = crypto_aead_setauthsize(sa->aead, icv);
	if (!err)
		err = x->cipher->aead ?
		      crypto_aead_setkey(sa->aead, cfg->enckey, cfg->enckey_len) :
		      setkey_authenc(sa->aead, cfg);
	if (err)
		NL_SET_ERR_MSG(extack, "--enckey: the kernel refused the key");
	return err;
}

static void esp_destroy(struct klips_sa *sa)
{
	if (sa->aead)
		crypto_free_aead(sa->aead);
}

/* A larval SA (getspi) has no transform yet: it adds nothing. */
static unsigned int esp_overhead(const struct klips_sa *sa, unsigned int len,
				 unsigned int *hlen)
{
	struct crypto_aead *aead = sa->aead;
	unsigned int plen = len - *hlen, total;

	if (!aead)
		return 0;
	total = *hlen + sizeof(struct ip_esp_hdr) +
		crypto_aead_ivsize(aead) +
		ALIGN(plen + 2, ALIGN(crypto_aead_blocksize(aead), 4)) +
		crypto_aead_authsize(aead);
	if (sa->natt_type)
		total += sizeof(struct udphdr);
	return total - len;
}

const struct klips_xform_type klips_esp_type = {
	.proto		= IPPROTO_ESP,
	.flags		= KLIPS_XFORM_IPSEC,
	.hdr_len	= sizeof(struct ip_esp_hdr),
	.spi_off	= offsetof(struct ip_esp_hdr, spi),
	.spi_mask	= U32_MAX,
	.name		= "ESP",
	.resolve	= esp_resolve,
	.init		= esp_init,
	.destroy	= esp_destroy,
	.output		= klips_esp_output,
	.input		= klips_esp_input,
	.overhead	= esp_overhead,
};
