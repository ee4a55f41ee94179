// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: IPComp (src/comp.c) through klips_comp_output() and
 * klips_comp_input() on a comp SA that klips_sa_create() builds. What goes
 * out compressed comes back byte for byte, and decompression stops at
 * what one IP packet can hold behind the header the IPComp came in
 * (Documentation/klips/design.md: no decompression bomb): behind a 20-byte IPv4
 * header, 65535 - 20 bytes are the most; one more is refused and counted as
 * InInnerHeaderError, like a corrupt stream.
 */
#include <kunit/test.h>
#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <net/ip.h>

#include "klips.h"
#include "sa.h"
#include "xform.h"
#include "xform_test.h"

#define TEST_SRC4	0xc0000201	/* 192.0.2.1 */
#define TEST_DST4	0xc0000202	/* 192.0.2.2 */
/* The largest payload behind an IPv4 header without options. */
#define COMP_MOST	(IP_MAX_MTU - sizeof(struct iphdr))

/* A comp SA with the well-known DEFLATE CPI; put when the test ends. */
static struct klips_sa *comp_sa(struct kunit *test)
{
	struct klips_sa_config cfg = {};

	cfg.said.proto = IPPROTO_COMP;
	cfg.said.spi = KLIPS_CPI_DEFLATE;
	cfg.said.family = AF_INET;
	cfg.said.dst.ip4 = htonl(TEST_DST4);
	cfg.src.ip4 = htonl(TEST_SRC4);
	cfg.src_family = AF_INET;
	cfg.dir = KLIPS_DIR_IN;
	cfg.alg = "deflate";
	return klips_test_sa(test, &cfg);
}

/*
 * An IPv4 packet with @plen bytes of zeros after its header, compressed by
 * klips_comp_output(), and left with skb->data at its IPComp header as the
 * receive path has it. Its Total Length is not looked at: the compressed
 * payload may be larger than any packet.
 */
static struct sk_buff *compressed(struct kunit *test, struct klips_sa *sa,
				  unsigned int plen)
{
	struct sk_buff *skb = klips_test_skb(test, sizeof(struct iphdr) + plen);
	struct iphdr *iph;

	skb_put_zero(skb, sizeof(*iph) + plen);
	skb_reset_network_header(skb);
	skb->protocol = htons(ETH_P_IP);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = htonl(TEST_SRC4);
	iph->daddr = htonl(TEST_DST4);
	KUNIT_ASSERT_EQ(test, klips_test_run(test, klips_comp_output, skb, sa), 0);
	/* Zeros shrink: compressed, not sent as they were. */
	KUNIT_ASSERT_EQ(test, ip_hdr(skb)->protocol, IPPROTO_COMP);
	KUNIT_ASSERT_LT(test, skb->len, sizeof(*iph) + plen);
	__skb_pull(skb, sizeof(*iph));
	return skb;
}

static void comp_roundtrip_test(struct kunit *test)
{
	struct klips_sa *sa = comp_sa(test);
	struct sk_buff *skb = compressed(test, sa, 1000);

	KUNIT_EXPECT_EQ(test, klips_test_run(test, klips_comp_input, skb, sa),
			IPPROTO_UDP);
	KUNIT_ASSERT_EQ(test, skb->len, 1000);
	KUNIT_EXPECT_NULL(test, memchr_inv(skb->data, 0, skb->len));
}

static void comp_cap_test(struct kunit *test)
{
	unsigned long inner = klips_test_stat(KLIPS_STAT_IN_INNER_HEADER_ERROR);
	struct klips_sa *sa = comp_sa(test);
	struct sk_buff *skb;

	skb = compressed(test, sa, COMP_MOST);
	KUNIT_EXPECT_EQ(test, klips_test_run(test, klips_comp_input, skb, sa),
			IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, skb->len, COMP_MOST);
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_INNER_HEADER_ERROR),
			inner);

	skb = compressed(test, sa, COMP_MOST + 1);
	KUNIT_EXPECT_EQ(test, klips_test_run(test, klips_comp_input, skb, sa),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, klips_test_stat(KLIPS_STAT_IN_INNER_HEADER_ERROR),
			inner + 1);
}

static struct kunit_case klips_comp_cases[] = {
	KUNIT_CASE(comp_roundtrip_test),
	KUNIT_CASE(comp_cap_test),
	{}
};

static struct kunit_suite klips_comp_suite = {
	.name = "klips_comp",
	.test_cases = klips_comp_cases,
};

kunit_test_suite(klips_comp_suite);
