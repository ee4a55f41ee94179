// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: AH (RFC 4302) through the module's own transform,
 * klips_ah_output() and klips_ah_input() on SAs that klips_sa_create()
 * builds and keys, for every --ah algorithm of alg.c, with and without
 * ESN, after IPv4 (with options) and IPv6 (with a Hop-by-Hop header).
 *
 * The ICV of every packet sent is computed again here, apart from ah.c:
 * the kernel's shash of the algorithm over the packet as sent with the
 * fields RFC 4302 section 3.3.3.1 calls mutable zeroed by this file's own
 * code (IPv4 TOS, flags and offset, TTL, checksum, a Record Route option;
 * IPv6 traffic class, flow label, hop limit, an option with the
 * may-change bit), the ICV zeroed, and with ESN the high half of the
 * sequence number appended (section 3.3.3.2.1).
 *
 * The packet then goes through the receive transform: as sent; with its
 * mutable fields changed as a router may change them (it still passes);
 * with an immutable field changed (auth_errs, InAuthError); replayed
 * (ooo_errs, InReplay); truncated or with a wrong header length
 * (InHdrError). Crypto here must be synchronous (see esp_test.c).
 */
#include <kunit/test.h>
#include <kunit/resource.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/random.h>
#include <linux/skbuff.h>
#include <crypto/hash.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "klips.h"
#include "sa.h"
#include "xform.h"
#include "xform_test.h"

#define TEST_SRC4	0xc0000201	/* 192.0.2.1 */
#define TEST_DST4	0xc0000202	/* 192.0.2.2 */
#define PAYLOAD_LEN	301
#define MAX_PKT		(sizeof(struct ipv6hdr) + 8 + 12 + 32 + PAYLOAD_LEN)

struct ah_suite {
	const char *alg;	/* --ah */
	const char *shash;	/* the same MAC, computed apart */
	unsigned int key_len;
	unsigned int icv_len;
	bool esn;
};

static const struct ah_suite ah_suites[] = {
	{ "hmac-md5-96", "hmac(md5)", 16, 12 },
	{ "hmac-sha1-96", "hmac(sha1)", 20, 12 },
	{ "hmac-sha2_256-128", "hmac(sha256)", 32, 16 },
	{ "hmac-sha2_384-192", "hmac(sha384)", 48, 24 },
	{ "hmac-sha2_512-256", "hmac(sha512)", 64, 32 },
	{ "aes-xcbc-96", "xcbc(aes)", 16, 12 },
	{ "aes-cmac-96", "cmac(aes)", 16, 12 },
	{ "hmac-sha1-96", "hmac(sha1)", 20, 12, true },
	{ "hmac-sha2_512-256", "hmac(sha512)", 64, 32, true },
	{ "aes-cmac-96", "cmac(aes)", 16, 12, true },
};

static void suite_desc(const struct ah_suite *s, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s%s", s->alg,
		 s->esn ? " esn" : "");
}

KUNIT_ARRAY_PARAM(suite, ah_suites, suite_desc);

/* Three packets before the high half of an ESN pair moves. */
#define ESN_FIRST	0x1fffffffeULL

struct ah_pair {
	struct klips_sa *out;
	struct klips_sa *in;
	u8 key[64];
};

static struct klips_sa *make_sa(struct kunit *test, const struct ah_suite *s,
				const u8 *key, u8 family, u8 dir)
{
	struct klips_sa_config cfg = {};
	struct klips_sa *sa;

	if (family == AF_INET) {
		cfg.said.dst.ip4 = htonl(TEST_DST4);
	} else {
		cfg.said.dst.ip6.s6_addr32[0] = htonl(0x20010db8);
		cfg.said.dst.ip6.s6_addr32[3] = htonl(2);
	}
	cfg.said.spi = 0x4242;
	cfg.said.proto = IPPROTO_AH;
	cfg.said.family = family;
	cfg.dir = dir;
	cfg.alg = s->alg;
	cfg.authkey = key;
	cfg.authkey_len = s->key_len;
	cfg.flags = s->esn ? KLIPS_SA_FLAGS_ESN : 0;
	sa = klips_test_sa(test, &cfg);
	KUNIT_ASSERT_NOT_NULL(test, sa->ahash);
	if (crypto_ahash_tfm(sa->ahash)->__crt_alg->cra_flags & CRYPTO_ALG_ASYNC)
		kunit_skip(test, "%s: asynchronous %s", s->alg,
			   crypto_ahash_driver_name(sa->ahash));
	return sa;
}

static void make_pair(struct kunit *test, const struct ah_suite *s, u8 family,
		      struct ah_pair *p)
{
	get_random_bytes(p->key, sizeof(p->key));
	p->out = make_sa(test, s, p->key, family, KLIPS_DIR_OUT);
	p->in = make_sa(test, s, p->key, family, KLIPS_DIR_IN);
	KUNIT_ASSERT_NOT_NULL(test, p->in->replay);
	if (s->esn) {
		atomic64_set(&p->out->out_seq, ESN_FIRST - 1);
		KUNIT_ASSERT_EQ(test, klips_replay_advance(p->in->replay,
							   ESN_FIRST - 1), 0);
	}
}

/* IPv4 options: Router Alert (immutable), Record Route (mutable), End. */
static const u8 opts4[12] = {
	IPOPT_RA, 4, 0, 0,
	IPOPT_RR, 7, 4, 0, 0, 0, 0,
	IPOPT_END,
};

#define RR_OFF	(sizeof(struct iphdr) + 4)	/* the Record Route option */

/* IPv6 Hop-by-Hop: one option whose type has the may-change bit (0x20). */
#define HOP_MUTABLE	0x3e

static unsigned int hdr_len(u8 family)
{
	return family == AF_INET ? sizeof(struct iphdr) + sizeof(opts4) :
				   sizeof(struct ipv6hdr) + 8;
}

/* A UDP-ish packet as ipsecN hands it to the group, network header first. */
static struct sk_buff *tx_skb(struct kunit *test, u8 family, const u8 *payload)
{
	unsigned int hlen = hdr_len(family);
	struct sk_buff *skb = klips_test_skb(test, hlen + PAYLOAD_LEN);

	skb_reset_network_header(skb);
	if (family == AF_INET) {
		struct iphdr *iph = skb_put_zero(skb, hlen);

		iph->version = 4;
		iph->ihl = hlen / 4;
		iph->tos = 0xb8;
		iph->tot_len = htons(hlen + PAYLOAD_LEN);
		iph->id = htons(0x1234);
		iph->frag_off = htons(IP_DF);
		iph->ttl = 64;
		iph->protocol = IPPROTO_UDP;
		iph->saddr = htonl(TEST_SRC4);
		iph->daddr = htonl(TEST_DST4);
		memcpy(iph + 1, opts4, sizeof(opts4));
		ip_send_check(iph);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h = skb_put_zero(skb, hlen);
		u8 *hop = (u8 *)(ip6h + 1);

		ip6_flow_hdr(ip6h, 0xb8, htonl(0x12345));
		ip6h->payload_len = htons(8 + PAYLOAD_LEN);
		ip6h->nexthdr = NEXTHDR_HOP;
		ip6h->hop_limit = 64;
		ip6h->saddr.s6_addr32[0] = htonl(0x20010db8);
		ip6h->saddr.s6_addr32[3] = htonl(1);
		ip6h->daddr.s6_addr32[0] = htonl(0x20010db8);
		ip6h->daddr.s6_addr32[3] = htonl(2);
		hop[0] = IPPROTO_UDP;
		hop[2] = HOP_MUTABLE;
		hop[3] = 4;
		memset(hop + 4, 0xa5, 4);
		skb->protocol = htons(ETH_P_IPV6);
	}
	skb_set_transport_header(skb, hlen);
	skb_put_data(skb, payload, PAYLOAD_LEN);
	return skb;
}

/* The AH header after IPv4 is padded to 32 bits, after IPv6 to 64. */
static unsigned int ah_len(const struct ah_suite *s, u8 family)
{
	return ALIGN(12 + s->icv_len, family == AF_INET ? 4 : 8);
}

/*
 * The ICV of the packet at @pkt (@len bytes, AH at @hlen), computed here:
 * this file's own copy with the mutable fields and the ICV zeroed.
 */
static void expected_icv(struct kunit *test, const struct ah_suite *s,
			 const u8 *key, u8 family, const u8 *pkt,
			 unsigned int len, u64 seq, u8 *out)
{
	unsigned int hlen = hdr_len(family);
	__be32 hi = htonl(upper_32_bits(seq));
	u8 *copy;

	copy = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	memcpy(copy, pkt, len);
	if (family == AF_INET) {
		copy[1] = 0;				/* TOS */
		memset(copy + 6, 0, 2);			/* flags, offset */
		copy[8] = 0;				/* TTL */
		memset(copy + 10, 0, 2);		/* checksum */
		memset(copy + RR_OFF, 0, 7);		/* Record Route */
	} else {
		copy[0] = 0x60;				/* version 6 */
		memset(copy + 1, 0, 3);			/* class, flow */
		copy[7] = 0;				/* hop limit */
		memset(copy + sizeof(struct ipv6hdr) + 4, 0, 4);
	}
	memset(copy + hlen + 12, 0, s->icv_len);	/* the ICV */

	klips_test_mac(test, s->shash, key, s->key_len, copy, len,
		       s->esn ? &hi : NULL, out);
}

static int ah_out(struct kunit *test, struct sk_buff *skb, struct klips_sa *sa)
{
	return klips_test_run(test, klips_ah_output, skb, sa);
}

static int ah_in(struct kunit *test, struct sk_buff *skb, struct klips_sa *sa)
{
	return klips_test_run(test, klips_ah_input, skb, sa);
}

/*
 * Send through p->out, check the layout and the ICV, and return a copy
 * of the packet as received: skb->data at AH, the headers in front.
 */
static struct sk_buff *send_one(struct kunit *test, const struct ah_suite *s,
				struct ah_pair *p, u8 family, u8 *payload)
{
	unsigned int hlen = hdr_len(family), alen = ah_len(s, family);
	u64 seq = atomic64_read(&p->out->out_seq) + 1;
	u8 mac[HASH_MAX_DIGESTSIZE], before[MAX_PKT];
	struct ip_auth_hdr *ah;
	struct sk_buff *skb, *rx;

	get_random_bytes(payload, PAYLOAD_LEN);
	skb = tx_skb(test, family, payload);
	memcpy(before, skb->data, hlen);
	KUNIT_ASSERT_EQ(test, ah_out(test, skb, p->out), 0);
	KUNIT_ASSERT_FALSE(test, skb_is_nonlinear(skb));
	KUNIT_ASSERT_EQ(test, skb->len, hlen + alen + PAYLOAD_LEN);
	KUNIT_EXPECT_EQ(test, skb_transport_offset(skb), (int)hlen);

	/* The headers: only the protocol, lengths and checksum change. */
	if (family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		KUNIT_EXPECT_EQ(test, iph->protocol, IPPROTO_AH);
		KUNIT_EXPECT_EQ(test, ntohs(iph->tot_len), skb->len);
		KUNIT_EXPECT_TRUE(test, !ip_fast_csum(iph, iph->ihl));
		KUNIT_EXPECT_MEMEQ(test, skb->data + 12, before + 12, hlen - 12);
		KUNIT_EXPECT_MEMEQ(test, skb->data + 4, before + 4, 5);
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		KUNIT_EXPECT_EQ(test, ip6h->nexthdr, NEXTHDR_HOP);
		KUNIT_EXPECT_EQ(test, skb->data[sizeof(*ip6h)], IPPROTO_AH);
		KUNIT_EXPECT_EQ(test, ntohs(ip6h->payload_len),
				skb->len - sizeof(*ip6h));
		KUNIT_EXPECT_MEMEQ(test, skb->data + 6, before + 6, 34);
		KUNIT_EXPECT_MEMEQ(test, skb->data + sizeof(*ip6h) + 1,
				   before + sizeof(*ip6h) + 1, 7);
	}
	ah = (struct ip_auth_hdr *)(skb->data + hlen);
	KUNIT_EXPECT_EQ(test, ah->nexthdr, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, (ah->hdrlen + 2) * 4, alen);
	KUNIT_EXPECT_TRUE(test, !ah->reserved);
	KUNIT_EXPECT_EQ(test, ntohl(ah->spi), 0x4242);
	KUNIT_EXPECT_EQ(test, ntohl(ah->seq_no), lower_32_bits(seq));
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->out->out_seq), seq);
	KUNIT_EXPECT_MEMEQ(test, skb->data + hlen + alen, payload, PAYLOAD_LEN);

	expected_icv(test, s, p->key, family, skb->data, skb->len, seq, mac);
	KUNIT_EXPECT_MEMEQ_MSG(test, ah->auth_data, mac, s->icv_len,
			       "%s seq %llx", family == AF_INET ? "IPv4" : "IPv6",
			       seq);

	rx = klips_test_copy(test, skb);
	__skb_pull(rx, hlen);
	skb_reset_transport_header(rx);
	return rx;
}

static void expect_payload(struct kunit *test, struct sk_buff *skb,
			   const u8 *payload)
{
	KUNIT_ASSERT_EQ(test, skb->len, PAYLOAD_LEN);
	KUNIT_EXPECT_MEMEQ(test, skb->data, payload, PAYLOAD_LEN);
}

/* Out and back in, IPv4 and IPv6, a few packets; the ICV checked apart. */
static void ah_roundtrip_test(struct kunit *test)
{
	const struct ah_suite *s = test->param_value;
	u8 families[] = { AF_INET, AF_INET6 };
	u8 *payload = kunit_kzalloc(test, PAYLOAD_LEN, GFP_KERNEL);
	unsigned int f, i;

	KUNIT_ASSERT_NOT_NULL(test, payload);
	for (f = 0; f < ARRAY_SIZE(families); f++) {
		struct ah_pair p;

		make_pair(test, s, families[f], &p);
		for (i = 0; i < 4; i++) {
			struct sk_buff *rx = send_one(test, s, &p, families[f],
						      payload);

			KUNIT_ASSERT_EQ(test, ah_in(test, rx, p.in), IPPROTO_UDP);
			expect_payload(test, rx, payload);
			KUNIT_EXPECT_EQ(test, klips_test_window_top(p.in),
					atomic64_read(&p.out->out_seq));
		}
		KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->auth_errs), 0);
		KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->ooo_errs), 0);
	}
}

/*
 * Mutable fields changed in transit (a router's TTL, DSCP/ECN, fragment
 * flags, recorded route; IPv6 flow label, hop limit, a may-change option)
 * leave the ICV good; any immutable byte changed (addresses, the
 * identification, an immutable option, the AH header, the payload) makes
 * it fail: auth_errs and InAuthError, the window unmoved.
 */
static void ah_mutable_test(struct kunit *test)
{
	const struct ah_suite *s = test->param_value;
	unsigned long stat = klips_test_stat(KLIPS_STAT_IN_AUTH_ERROR);
	u8 *payload = kunit_kzalloc(test, PAYLOAD_LEN, GFP_KERNEL);
	struct sk_buff *rx;
	struct ah_pair p4, p6;
	unsigned int hlen = hdr_len(AF_INET), i, errs = 0;
	/*
	 * Offsets into the packet of bytes AH protects (that do not change
	 * how the headers parse), and -1: the payload's last byte. IPv4:
	 * length, identification, protocol, addresses, Router Alert, AH's
	 * next header, SPI, sequence number; IPv6: payload length,
	 * addresses, the option's type, AH's fields, the ICV.
	 */
	static const int immutable4[] = {
		2, 3, 4, 5, 9, 12, 19, 22, 32, 36, 40, -1,
	};
	static const int immutable6[] = {
		4, 5, 8, 23, 24, 39, 42, 48, 52, 56, 60, -1,
	};
	u8 *h;
	u64 top;

	KUNIT_ASSERT_NOT_NULL(test, payload);
	make_pair(test, s, AF_INET, &p4);
	rx = send_one(test, s, &p4, AF_INET, payload);
	h = skb_network_header(rx);
	h[1] ^= 0xff;			/* TOS */
	h[6] ^= 0x60;			/* DF, MF */
	h[8] -= 3;			/* TTL */
	h[10] ^= 0x12;			/* checksum */
	h[RR_OFF + 2] += 4;		/* Record Route pointer, */
	h[RR_OFF + 3] = 10;		/* an address recorded */
	KUNIT_EXPECT_EQ(test, ah_in(test, rx, p4.in), IPPROTO_UDP);
	expect_payload(test, rx, payload);

	for (i = 0; i < ARRAY_SIZE(immutable4); i++) {
		top = klips_test_window_top(p4.in);
		rx = send_one(test, s, &p4, AF_INET, payload);
		if (immutable4[i] < 0)
			rx->data[rx->len - 1] ^= 0x01;
		else
			skb_network_header(rx)[immutable4[i]] ^= 0x01;
		KUNIT_EXPECT_EQ_MSG(test, ah_in(test, rx, p4.in), -EBADMSG,
				    "IPv4 byte %d", immutable4[i]);
		KUNIT_EXPECT_EQ(test, klips_test_window_top(p4.in), top);
		errs++;
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&p4.in->auth_errs), (s64)errs);
	KUNIT_EXPECT_EQ(test, hlen, (unsigned int)RR_OFF + 8);

	make_pair(test, s, AF_INET6, &p6);
	rx = send_one(test, s, &p6, AF_INET6, payload);
	h = skb_network_header(rx);
	h[0] ^= 0x0f;			/* traffic class, */
	h[1] ^= 0xff;			/* and flow label */
	h[3] ^= 0x5a;
	h[7] -= 9;			/* hop limit */
	h[sizeof(struct ipv6hdr) + 5] ^= 0xff;	/* the may-change option */
	KUNIT_EXPECT_EQ(test, ah_in(test, rx, p6.in), IPPROTO_UDP);
	expect_payload(test, rx, payload);

	for (i = 0; i < ARRAY_SIZE(immutable6); i++) {
		top = klips_test_window_top(p6.in);
		rx = send_one(test, s, &p6, AF_INET6, payload);
		if (immutable6[i] < 0)
			rx->data[rx->len - 1] ^= 0x01;
		else
			skb_network_header(rx)[immutable6[i]] ^= 0x01;
		KUNIT_EXPECT_EQ_MSG(test, ah_in(test, rx, p6.in), -EBADMSG,
				    "IPv6 byte %d", immutable6[i]);
		KUNIT_EXPECT_EQ(test, klips_test_window_top(p6.in), top);
		errs++;
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&p6.in->auth_errs),
			(s64)ARRAY_SIZE(immutable6));
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_AUTH_ERROR), stat + errs);

	/* A good packet still passes. */
	rx = send_one(test, s, &p6, AF_INET6, payload);
	KUNIT_EXPECT_EQ(test, ah_in(test, rx, p6.in), IPPROTO_UDP);
}

/*
 * Replayed: refused before the ICV is checked, ooo_errs and InReplay.
 * Truncated before or inside the AH header, or with a header length
 * that is not the SA's: InHdrError, nothing else moved. The IPv4 header
 * padded to 64 bits (XFRM's default) is taken when its ICV is good.
 */
static void ah_replay_truncated_test(struct kunit *test)
{
	const struct ah_suite *s = test->param_value;
	unsigned long replay = klips_test_stat(KLIPS_STAT_IN_REPLAY);
	unsigned long hdr = klips_test_stat(KLIPS_STAT_IN_HDR_ERROR);
	u8 *payload = kunit_kzalloc(test, PAYLOAD_LEN, GFP_KERNEL);
	unsigned int alen = ah_len(s, AF_INET), cut;
	struct sk_buff *rx, *copy;
	struct ah_pair p;
	u64 top;

	KUNIT_ASSERT_NOT_NULL(test, payload);
	make_pair(test, s, AF_INET, &p);
	rx = send_one(test, s, &p, AF_INET, payload);
	copy = klips_test_copy(test, rx);
	KUNIT_ASSERT_EQ(test, ah_in(test, rx, p.in), IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ah_in(test, copy, p.in), -EEXIST);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->ooo_errs), 1);
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_REPLAY), replay + 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->auth_errs), 0);

	top = klips_test_window_top(p.in);
	for (cut = 0; cut < alen; cut += 5) {
		rx = send_one(test, s, &p, AF_INET, payload);
		skb_trim(rx, cut);
		KUNIT_EXPECT_EQ_MSG(test, ah_in(test, rx, p.in), -EINVAL,
				    "cut at %u", cut);
	}
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_HDR_ERROR),
			hdr + DIV_ROUND_UP(alen, 5));
	rx = send_one(test, s, &p, AF_INET, payload);
	/* 12 bytes longer: neither the 32- nor the 64-bit padded length. */
	((struct ip_auth_hdr *)rx->data)->hdrlen += 3;
	KUNIT_EXPECT_EQ(test, ah_in(test, rx, p.in), -EINVAL);
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_HDR_ERROR),
			hdr + DIV_ROUND_UP(alen, 5) + 1);
	KUNIT_EXPECT_EQ(test, klips_test_window_top(p.in), top);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->auth_errs), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p.in->ooo_errs), 1);
}

/*
 * The end of the sequence numbers. Without ESN the last packet is numbered
 * 2^32 - 1; the next is refused with -EOVERFLOW, the packet untouched and
 * the counter where it was (the transmit path takes that for a hard
 * expiry). With ESN the count goes on to 2^32, and the receiver follows.
 */
static void ah_seq_end_test(struct kunit *test)
{
	const struct ah_suite *s = test->param_value;
	u8 *payload = kunit_kzalloc(test, PAYLOAD_LEN, GFP_KERNEL);
	u8 families[] = { AF_INET, AF_INET6 };
	u8 before[MAX_PKT];
	struct sk_buff *rx, *skb;
	/* ESN pairs start past 2^32 already: the low half's end ahead. */
	u64 last = s->esn ? (3ULL << 32) - 1 : U32_MAX;
	struct ah_pair p;
	unsigned int f;

	KUNIT_ASSERT_NOT_NULL(test, payload);
	for (f = 0; f < ARRAY_SIZE(families); f++) {
		make_pair(test, s, families[f], &p);
		atomic64_set(&p.out->out_seq, last - 1);
		KUNIT_ASSERT_EQ(test, klips_replay_advance(p.in->replay,
							   last - 2), 0);
		rx = send_one(test, s, &p, families[f], payload);
		KUNIT_EXPECT_EQ(test, ah_in(test, rx, p.in), IPPROTO_UDP);
		KUNIT_EXPECT_EQ(test, klips_test_window_top(p.in), last);
		if (s->esn) {
			rx = send_one(test, s, &p, families[f], payload);
			KUNIT_EXPECT_EQ(test, ah_in(test, rx, p.in), IPPROTO_UDP);
			expect_payload(test, rx, payload);
			KUNIT_EXPECT_EQ(test, klips_test_window_top(p.in), last + 1);
			continue;
		}
		skb = tx_skb(test, families[f], payload);
		KUNIT_ASSERT_LE(test, skb->len, sizeof(before));
		memcpy(before, skb->data, skb->len);
		KUNIT_EXPECT_EQ(test, ah_out(test, skb, p.out), -EOVERFLOW);
		KUNIT_ASSERT_EQ(test, skb->len,
				hdr_len(families[f]) + PAYLOAD_LEN);
		KUNIT_EXPECT_MEMEQ(test, skb->data, before, skb->len);
		KUNIT_EXPECT_EQ(test, atomic64_read(&p.out->out_seq), U32_MAX);
	}
}

static struct kunit_case klips_ah_cases[] = {
	KUNIT_CASE_PARAM(ah_roundtrip_test, suite_gen_params),
	KUNIT_CASE_PARAM(ah_mutable_test, suite_gen_params),
	KUNIT_CASE_PARAM(ah_replay_truncated_test, suite_gen_params),
	KUNIT_CASE_PARAM(ah_seq_end_test, suite_gen_params),
	{}
};

static struct kunit_suite klips_ah_suite = {
	.name = "klips_ah",
	.test_cases = klips_ah_cases,
};

kunit_test_suite(klips_ah_suite);
