// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the eroute table (src/eroute.c) and its key
 * (src/eroute_key.c): the /proc line of Documentation/klips/proc.md
 * "ipsec_eroute", the matching order, the add/replace/del rules, the listing
 * order, and a table of 100,000 eroutes.
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/percpu.h>
#include <linux/prandom.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "eroute.h"

/* Addresses as they are written, so the tables read like the text. */
#define V4(a, b, c, d)							\
	{ .ip4 = cpu_to_be32((u32)(a) << 24 | (b) << 16 | (c) << 8 | (d)) }
#define V6(a, b, c, d, e, f, g, h)					\
	{ .ip6.s6_addr16 = {						\
		cpu_to_be16(a), cpu_to_be16(b), cpu_to_be16(c),		\
		cpu_to_be16(d), cpu_to_be16(e), cpu_to_be16(f),		\
		cpu_to_be16(g), cpu_to_be16(h) } }
#define ANY4		V4(0, 0, 0, 0)
#define ANY6		V6(0, 0, 0, 0, 0, 0, 0, 0)

/*
 * Keys: source, its length, destination, its length[, proto, ports]. Each
 * expands directly: an address argument passed on to another macro would
 * be split at the commas of its braces.
 */
#define PORTS(fam, p, sp, dp)						\
	.family = fam, .proto = p, .sport = cpu_to_be16(sp),		\
	.dport = cpu_to_be16(dp)
#define KEY(fam, s, sl, d, dl, p, sp, dp)				\
	{ .src = s, .src_len = sl, .dst = d, .dst_len = dl,		\
	  PORTS(fam, p, sp, dp) }
#define KEY4P(s, sl, d, dl, p, sp, dp)					\
	{ .src = s, .src_len = sl, .dst = d, .dst_len = dl,		\
	  PORTS(AF_INET, p, sp, dp) }
#define KEY6P(s, sl, d, dl, p, sp, dp)					\
	{ .src = s, .src_len = sl, .dst = d, .dst_len = dl,		\
	  PORTS(AF_INET6, p, sp, dp) }
#define KEY4(s, sl, d, dl)						\
	{ .src = s, .src_len = sl, .dst = d, .dst_len = dl, .family = AF_INET }
#define KEY6(s, sl, d, dl)						\
	{ .src = s, .src_len = sl, .dst = d, .dst_len = dl, .family = AF_INET6 }

#define SAID4(p, s, a)	{ .proto = p, .spi = s, .family = AF_INET, .dst = a }
#define SAID6(p, s, a)	{ .proto = p, .spi = s, .family = AF_INET6, .dst = a }
#define SHUNT(s)	SAID4(KLIPS_PROTO_INT, s, ANY4)

#define TCP		IPPROTO_TCP
#define UDP		IPPROTO_UDP

/* The table under test and the lock its writers hold, freed by .exit. */
struct ctx {
	struct mutex lock;	/* the namespace's config mutex, in real life */
	struct klips_eroute_table *t;
};

static int eroute_test_init(struct kunit *test)
{
	struct ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	test->priv = ctx;
	return 0;
}

static void eroute_test_exit(struct kunit *test)
{
	struct ctx *ctx = test->priv;

	klips_eroute_table_free(ctx->t);
	mutex_destroy(&ctx->lock);
}

static struct klips_eroute_table *new_table(struct kunit *test,
					    unsigned int max)
{
	struct ctx *ctx = test->priv;

	klips_eroute_table_free(ctx->t);
	ctx->t = klips_eroute_table_new(&ctx->lock, max);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->t);
	return ctx->t;
}

/*
 * Each call takes the lock for itself, so that a failed assertion (which
 * ends the test thread) never leaves it held.
 */
static int add(struct kunit *test, const struct klips_eroute_key *key,
	       const struct klips_said *said, bool replace, const char **msg)
{
	struct ctx *ctx = test->priv;
	struct netlink_ext_ack extack = {};
	int err;

	mutex_lock(&ctx->lock);
	err = klips_eroute_add(ctx->t, key, said, replace, &extack);
	mutex_unlock(&ctx->lock);
	if (msg)
		*msg = extack._msg;
	return err;
}

static int del(struct kunit *test, const struct klips_eroute_key *key,
	       const char **msg)
{
	struct ctx *ctx = test->priv;
	struct netlink_ext_ack extack = {};
	int err;

	mutex_lock(&ctx->lock);
	err = klips_eroute_del(ctx->t, key, &extack);
	mutex_unlock(&ctx->lock);
	if (msg)
		*msg = extack._msg;
	return err;
}

static void flush(struct kunit *test)
{
	struct ctx *ctx = test->priv;

	mutex_lock(&ctx->lock);
	klips_eroute_flush(ctx->t);
	mutex_unlock(&ctx->lock);
}

/* NULL @key: the first. Entries stay valid: only this thread frees. */
static struct klips_eroute *next(struct kunit *test,
				 const struct klips_eroute_key *key)
{
	struct ctx *ctx = test->priv;
	struct klips_eroute *e;

	mutex_lock(&ctx->lock);
	e = key ? klips_eroute_next_after(ctx->t, key) :
		  klips_eroute_first(ctx->t);
	mutex_unlock(&ctx->lock);
	return e;
}

struct probe {
	u8 family;
	union klips_addr src;
	union klips_addr dst;
	u8 proto;
	u16 sport;
	u16 dport;
};

static struct klips_eroute *lookup(struct kunit *test, const struct probe *p)
{
	struct ctx *ctx = test->priv;
	struct klips_eroute *e;

	rcu_read_lock();
	e = klips_eroute_lookup(ctx->t, p->family, &p->src, &p->dst, p->proto,
				htons(p->sport), htons(p->dport));
	rcu_read_unlock();
	return e;
}

static unsigned int count(struct kunit *test)
{
	struct ctx *ctx = test->priv;

	return klips_eroute_count(ctx->t);
}

static bool key_eq(const struct klips_eroute_key *a,
		   const struct klips_eroute_key *b)
{
	return !klips_eroute_key_cmp(a, b);
}

/* ---- The /proc line ---- */

struct format_case {
	const char *line;
	struct klips_eroute_key key;
	struct klips_said said;
	u64 packets;
};

#define ESP_SA4		SAID4(IPPROTO_ESP, 0xae595bac, V4(192, 1, 2, 23))
#define ESP_SA6		SAID6(IPPROTO_ESP, 0xae595bac, \
			      V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))

static const struct format_case format_cases[] = {
	/* Documentation/klips/proc.md, ipsec_eroute, every example line. */
	{
	  "0          192.1.3.209/32:1701 -> 192.1.2.23/32:1701 => esp.ae595bac@192.1.2.23:17",
	  KEY4P(V4(192, 1, 3, 209), 32, V4(192, 1, 2, 23), 32, UDP, 1701, 1701),
	  ESP_SA4, 0 },
	{
	  "16         192.1.2.23/32      -> 192.0.1.1/32       => %drop",
	  KEY4(V4(192, 1, 2, 23), 32, V4(192, 0, 1, 1), 32),
	  SHUNT(KLIPS_SHUNT_DROP), 16 },
	{
	  "8          192.0.2.0/24       -> 192.0.1.0/24       => tun.12345678@192.1.2.45",
	  KEY4(V4(192, 0, 2, 0), 24, V4(192, 0, 1, 0), 24),
	  SAID4(IPPROTO_IPIP, 0x12345678, V4(192, 1, 2, 45)), 8 },
	{
	  "0          0.0.0.0/0          -> 0.0.0.0/0          => %trap",
	  KEY4(ANY4, 0, ANY4, 0), SHUNT(KLIPS_SHUNT_TRAP), 0 },
	/* IPv6 selectors: bare without a port, bracketed with one. */
	{
	  "3          2001:db8:1::/48    -> 2001:db8:2::/48    => esp:ae595bac@2001:db8::1",
	  KEY6(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 48,
	       V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0), 48), ESP_SA6, 3 },
	{
	  "42         [2001:db8:1::5/128]:1701 -> [2001:db8:2::/64]:443 => [esp:ae595bac@2001:db8::1]:17",
	  KEY6P(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 5), 128,
		V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0), 64, UDP, 1701, 443),
	  ESP_SA6, 42 },
	{
	  "0          ::/0               -> [2001:db8::/32]:80 => [esp:ae595bac@2001:db8::1]:6",
	  KEY6P(ANY6, 0, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, TCP, 0, 80),
	  ESP_SA6, 0 },
	/* A protocol without ports; IPv4 SAIDs and shunts stay bare. */
	{
	  "0          2001:db8::/32      -> ::/0               => tun.1001@192.1.2.23:58",
	  KEY6P(V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, ANY6, 0, 58, 0, 0),
	  SAID4(IPPROTO_IPIP, 0x1001, V4(192, 1, 2, 23)), 0 },
	{
	  "7          10.0.0.0/8         -> 0.0.0.0/0          => [esp:ae595bac@2001:db8::1]:1",
	  KEY4P(V4(10, 0, 0, 0), 8, ANY4, 0, 1, 0, 0), ESP_SA6, 7 },
	{
	  "0          10.0.0.0/8         -> 0.0.0.0/0:53       => %pass:17",
	  KEY4P(V4(10, 0, 0, 0), 8, ANY4, 0, UDP, 0, 53),
	  SHUNT(KLIPS_SHUNT_PASS), 0 },
	{
	  "0          ::/0               -> ::/0               => %passthrough6:50",
	  KEY6P(ANY6, 0, ANY6, 0, IPPROTO_ESP, 0, 0),
	  SAID6(IPPROTO_IPIP, 0, ANY6), 0 },
	/* 18 columns exactly, 17, and more: always one space after. */
	{
	  "0          192.168.100.200/32 -> 10.100.200.201/32  => %hold",
	  KEY4(V4(192, 168, 100, 200), 32, V4(10, 100, 200, 201), 32),
	  SHUNT(KLIPS_SHUNT_HOLD), 0 },
	{
	  "0          2001:db8:aaaa:bbbb:cccc:dddd:eeee:1/128 -> 2001:db8:aaaa:bbbb::/64 => %reject",
	  KEY6(V6(0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 1), 128,
	       V6(0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0, 0, 0, 0), 64),
	  SHUNT(KLIPS_SHUNT_REJECT), 0 },
	{
	  "18446744073709551615 [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128]:65535 -> [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128]:65535 => [comp:ffffffff@ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:255",
	  KEY6P(V6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff), 128,
		V6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff), 128,
		255, 65535, 65535),
	  SAID6(IPPROTO_COMP, 0xffffffff,
		V6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff)),
	  U64_MAX },
	/* The count: 10 columns exactly, then more. */
	{
	  "1234567890 0.0.0.0/0          -> 0.0.0.0/0          => %trapsubnet",
	  KEY4(ANY4, 0, ANY4, 0), SHUNT(KLIPS_SHUNT_TRAPSUBNET), 1234567890 },
	{
	  "12345678901 0.0.0.0/0          -> 0.0.0.0/0          => %trapsubnet",
	  KEY4(ANY4, 0, ANY4, 0), SHUNT(KLIPS_SHUNT_TRAPSUBNET), 12345678901ULL },
};

static void format_case_desc(const struct format_case *c, char *desc)
{
	strscpy(desc, c->line, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(format, format_cases, format_case_desc);

/*
 * Format into every buffer size from 0 to enough: truncated, NUL-terminated,
 * the return value what was written (scnprintf), buf[size] never touched.
 */
static void eroute_format_test(struct kunit *test)
{
	const struct format_case *c = test->param_value;
	struct klips_eroute e = { .key = c->key, .said = c->said };
	size_t n = strlen(c->line), size;
	char *buf;
	int ret;

	KUNIT_ASSERT_LT(test, n, (size_t)KLIPS_EROUTE_LINE_LEN);
	buf = kunit_kmalloc(test, KLIPS_EROUTE_LINE_LEN + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	e.packets = alloc_percpu(u64);
	KUNIT_ASSERT_TRUE(test, e.packets);
	*per_cpu_ptr(e.packets, raw_smp_processor_id()) = c->packets;
	for (size = 0; size <= n + 1; size++) {
		memset(buf, 'X', KLIPS_EROUTE_LINE_LEN);
		buf[KLIPS_EROUTE_LINE_LEN] = '\0';
		ret = klips_eroute_format(&e, buf, size);
		KUNIT_EXPECT_EQ(test, buf[size], 'X');
		if (!size) {
			KUNIT_EXPECT_EQ(test, ret, 0);
			continue;
		}
		KUNIT_EXPECT_EQ(test, ret, (int)min(size - 1, n));
		KUNIT_EXPECT_EQ(test, memcmp(buf, c->line, min(size - 1, n)), 0);
		KUNIT_EXPECT_EQ(test, buf[min(size - 1, n)], '\0');
	}
	KUNIT_EXPECT_STREQ(test, buf, c->line);
	free_percpu(e.packets);
}

/* ---- Matching order ---- */

#define SPI(i)		(0x1000 + (i))

/* The table every match case probes; the target SPI names the winner. */
static const struct klips_eroute_key match_table[] = {
	/* 0 */ KEY4(ANY4, 0, ANY4, 0),
	/* 1 */ KEY4(V4(10, 0, 0, 0), 8, V4(192, 0, 2, 0), 24),
	/* 2 */ KEY4(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24),
	/* 3 */ KEY4(ANY4, 0, V4(192, 0, 2, 128), 25),
	/* 4 */ KEY4P(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24, TCP, 0, 0),
	/* 5 */ KEY4P(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24, TCP, 0, 80),
	/* 6 */ KEY4P(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24, TCP, 1234, 0),
	/* 7 */ KEY4P(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24, TCP, 1234, 80),
	/* 8 */ KEY4P(V4(10, 1, 0, 0), 16, V4(192, 0, 2, 0), 24, UDP, 0, 53),
	/* 9 */ KEY6(ANY6, 0, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
	/* 10 */ KEY6(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 48,
		      V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0), 48),
	/* 11 */ KEY6P(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 48,
		       V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0), 48, UDP, 0, 4500),
	/* 12 */ KEY4(V4(10, 1, 2, 3), 32, V4(198, 51, 100, 0), 24),
	/* 13 */ KEY4(ANY4, 0, V4(198, 51, 100, 7), 32),
	/* 14 */ KEY4P(ANY4, 0, V4(203, 0, 113, 0), 24, UDP, 500, 0),
	/* 15 */ KEY4P(ANY4, 0, V4(203, 0, 113, 0), 24, UDP, 0, 500),
	/* 16 */ KEY4P(ANY4, 0, V4(203, 0, 113, 0), 24, UDP, 0, 0),
};

struct match_case {
	const char *name;
	struct probe p;
	int winner;		/* index in match_table[], -1 for none */
};

#define P4(s, d, p, sp, dp)	{ AF_INET, s, d, p, sp, dp }
#define P6(s, d, p, sp, dp)	{ AF_INET6, s, d, p, sp, dp }

static const struct match_case match_cases[] = {
	{ "equal dst, longer src wins",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), 1, 0, 0), 2 },
	{ "shorter src when the longer misses",
	  P4(V4(10, 2, 0, 1), V4(192, 0, 2, 5), 1, 0, 0), 1 },
	{ "default when no src matches",
	  P4(V4(11, 0, 0, 1), V4(192, 0, 2, 5), 1, 0, 0), 0 },
	{ "longer dst wins",
	  P4(V4(11, 0, 0, 1), V4(192, 0, 2, 200), 1, 0, 0), 3 },
	{ "longer dst beats longer src",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 200), TCP, 1234, 80), 3 },
	{ "/32 dst beats /32 src",
	  P4(V4(10, 1, 2, 3), V4(198, 51, 100, 7), 1, 0, 0), 13 },
	{ "/32 src when the /32 dst misses",
	  P4(V4(10, 1, 2, 3), V4(198, 51, 100, 8), 1, 0, 0), 12 },
	{ "both ports beat one",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 1234, 80), 7 },
	{ "dport only",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 1235, 80), 5 },
	{ "sport only",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 1234, 81), 6 },
	{ "sport only, packet without dport",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 1234, 0), 6 },
	{ "dport only, packet without sport",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 0, 80), 5 },
	{ "proto beats any",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), TCP, 1, 2), 4 },
	{ "other proto, same ports",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), UDP, 1234, 80), 2 },
	{ "udp dport",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), UDP, 1, 53), 8 },
	{ "udp other dport",
	  P4(V4(10, 1, 2, 3), V4(192, 0, 2, 5), UDP, 1, 54), 2 },
	{ "dport only beats sport only",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), UDP, 500, 500), 15 },
	{ "sport only when dport misses",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), UDP, 500, 501), 14 },
	{ "dport only when sport misses",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), UDP, 501, 500), 15 },
	/*
	 * Probing the dport shape with dport 0 would ask for the key of the
	 * proto-only shape (16) and skip the sport shape ranked between.
	 */
	{ "sport only over proto only, packet with dport 0",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), UDP, 500, 0), 14 },
	{ "proto only, packet with neither port",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), UDP, 0, 0), 16 },
	{ "port eroutes need their proto",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), TCP, 500, 500), 0 },
	{ "icmp type/code as ports match no port eroute",
	  P4(V4(1, 2, 3, 4), V4(203, 0, 113, 9), 1, 500, 500), 0 },
	{ "0.0.0.0/0 default",
	  P4(V4(255, 255, 255, 255), V4(0, 0, 0, 0), 0, 0, 0), 0 },
	{ "IPv4 ignores IPv6 eroutes",
	  P4(V4(10, 1, 2, 3), V4(32, 1, 13, 184), 0, 0, 0), 0 },
	{ "IPv6 udp dport",
	  P6(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1), V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1),
	     UDP, 4500, 4500), 11 },
	{ "IPv6 other dport",
	  P6(V6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1), V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1),
	     UDP, 4500, 4501), 10 },
	{ "IPv6 shorter dst",
	  P6(V6(0x2001, 0xdb8, 3, 0, 0, 0, 0, 1), V6(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1),
	     TCP, 1, 2), 9 },
	{ "IPv6 no match",
	  P6(V6(0, 0, 0, 0, 0, 0, 0, 1), V6(0x2001, 0xdb9, 0, 0, 0, 0, 0, 1),
	     0, 0, 0), -1 },
	{ "IPv6 ignores IPv4 eroutes",
	  P6(V6(0x0a01, 0x0203, 0, 0, 0, 0, 0, 0), V6(0xc000, 0x0205, 0, 0, 0, 0, 0, 0),
	     TCP, 1234, 80), -1 },
};

static void match_case_desc(const struct match_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(match, match_cases, match_case_desc);

static void expect_winner(struct kunit *test, const struct match_case *c)
{
	struct klips_eroute *e = lookup(test, &c->p);

	if (c->winner < 0) {
		KUNIT_EXPECT_NULL(test, e);
		return;
	}
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->said.spi, SPI(c->winner));
	KUNIT_EXPECT_TRUE(test, key_eq(&e->key, &match_table[c->winner]));
}

/* Insertion order must not matter: both ways round. */
static void eroute_match_test(struct kunit *test)
{
	const struct match_case *c = test->param_value;
	size_t n = ARRAY_SIZE(match_table), i;

	new_table(test, 100);
	for (i = 0; i < n; i++) {
		struct klips_said said = SAID4(IPPROTO_ESP, SPI(i), V4(192, 1, 2, 23));

		KUNIT_ASSERT_EQ(test, add(test, &match_table[i], &said, false, NULL), 0);
	}
	expect_winner(test, c);
	flush(test);
	for (i = n; i-- > 0;) {
		struct klips_said said = SAID4(IPPROTO_ESP, SPI(i), V4(192, 1, 2, 23));

		KUNIT_ASSERT_EQ(test, add(test, &match_table[i], &said, false, NULL), 0);
	}
	expect_winner(test, c);
}

/* ---- What add and del accept ---- */

struct key_case {
	const char *name;
	struct klips_eroute_key key;
	const char *msg;	/* NULL: accepted */
};

#define HOST_SRC	"eroute --src: host bits set beyond the prefix length"
#define HOST_DST	"eroute --dst: host bits set beyond the prefix length"
#define LONG_SRC	"eroute: source prefix longer than the address"
#define LONG_DST	"eroute: destination prefix longer than the address"
#define NO_PROTO	"eroute: ports need a protocol"
#define NO_PORTS	"eroute: ports need TCP, UDP, UDP-Lite, SCTP or DCCP"
#define FAMILY		"eroute: family must be AF_INET or AF_INET6"

static const struct key_case key_cases[] = {
	{ "AF_UNSPEC", KEY(AF_UNSPEC, ANY4, 0, ANY4, 0, 0, 0, 0), FAMILY },
	{ "AF_PACKET", KEY(AF_PACKET, ANY4, 0, ANY4, 0, 0, 0, 0), FAMILY },
	{ "v4 src /33", KEY4(ANY4, 33, ANY4, 0), LONG_SRC },
	{ "v4 dst /33", KEY4(ANY4, 0, ANY4, 33), LONG_DST },
	{ "v6 src /129", KEY6(ANY6, 129, ANY6, 0), LONG_SRC },
	{ "v6 dst /255", KEY6(ANY6, 0, ANY6, 255), LONG_DST },
	{ "v4 src host bits", KEY4(V4(10, 1, 0, 0), 8, ANY4, 0), HOST_SRC },
	{ "v4 dst host bits", KEY4(ANY4, 0, V4(192, 0, 2, 1), 24), HOST_DST },
	{ "v4 /0 with an address", KEY4(ANY4, 0, V4(0, 0, 0, 1), 0), HOST_DST },
	{ "v4 host bit in a byte", KEY4(V4(10, 0, 0, 64), 25, ANY4, 0), HOST_SRC },
	{ "v6 dst host bits",
	  KEY6(ANY6, 0, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 64), HOST_DST },
	{ "v6 src host bit after /32",
	  KEY6(V6(0x2001, 0xdb8, 0x8000, 0, 0, 0, 0, 0), 32, ANY6, 0), HOST_SRC },
	{ "sport without proto", KEY4P(ANY4, 0, ANY4, 0, 0, 1, 0), NO_PROTO },
	{ "dport without proto", KEY6P(ANY6, 0, ANY6, 0, 0, 0, 1), NO_PROTO },
	{ "ports with ICMP", KEY4P(ANY4, 0, ANY4, 0, IPPROTO_ICMP, 0, 8), NO_PORTS },
	{ "ports with ICMPv6", KEY6P(ANY6, 0, ANY6, 0, IPPROTO_ICMPV6, 1, 0), NO_PORTS },
	{ "ports with ESP", KEY4P(ANY4, 0, ANY4, 0, IPPROTO_ESP, 1, 1), NO_PORTS },
	/* Accepted. */
	{ "v4 /32 -> /32", KEY4(V4(10, 1, 2, 3), 32, V4(192, 0, 2, 1), 32), NULL },
	{ "v4 host bit at /26", KEY4(V4(10, 0, 0, 64), 26, ANY4, 0), NULL },
	{ "v6 /128", KEY6(V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 128, ANY6, 0), NULL },
	{ "v6 bit 33 at /33",
	  KEY6(V6(0x2001, 0xdb8, 0x8000, 0, 0, 0, 0, 0), 33, ANY6, 0), NULL },
	{ "ICMP without ports", KEY4P(ANY4, 0, ANY4, 0, IPPROTO_ICMP, 0, 0), NULL },
	{ "TCP ports", KEY4P(ANY4, 0, ANY4, 0, TCP, 1, 65535), NULL },
	{ "UDP sport", KEY6P(ANY6, 0, ANY6, 0, UDP, 500, 0), NULL },
	{ "UDP-Lite dport", KEY4P(ANY4, 0, ANY4, 0, IPPROTO_UDPLITE, 0, 1), NULL },
	{ "SCTP ports", KEY4P(ANY4, 0, ANY4, 0, IPPROTO_SCTP, 2, 3), NULL },
	{ "DCCP ports", KEY6P(ANY6, 0, ANY6, 0, IPPROTO_DCCP, 4, 5), NULL },
};

static void key_case_desc(const struct key_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(key, key_cases, key_case_desc);

/* add and del check a key alike: refused with the same message. */
static void eroute_key_test(struct kunit *test)
{
	const struct key_case *c = test->param_value;
	struct klips_said said = SHUNT(KLIPS_SHUNT_PASS);
	const char *msg;

	new_table(test, 10);
	if (!c->msg) {
		KUNIT_EXPECT_EQ(test, add(test, &c->key, &said, false, &msg), 0);
		KUNIT_EXPECT_EQ(test, count(test), 1U);
		KUNIT_EXPECT_EQ(test, del(test, &c->key, &msg), 0);
		KUNIT_EXPECT_EQ(test, count(test), 0U);
		return;
	}
	KUNIT_EXPECT_EQ(test, add(test, &c->key, &said, false, &msg), -EINVAL);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", c->msg);
	KUNIT_EXPECT_EQ(test, add(test, &c->key, &said, true, &msg), -EINVAL);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", c->msg);
	KUNIT_EXPECT_EQ(test, count(test), 0U);
	KUNIT_EXPECT_NULL(test, next(test, NULL));
	KUNIT_EXPECT_EQ(test, del(test, &c->key, &msg), -EINVAL);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", c->msg);
}

/* ---- add, replace, del, flush ---- */

static const struct klips_eroute_key key_a =
	KEY4(V4(10, 0, 0, 0), 8, V4(192, 0, 2, 0), 24);
static const struct klips_eroute_key key_b =
	KEY4P(V4(10, 0, 0, 0), 8, V4(192, 0, 2, 0), 24, TCP, 0, 22);
static const struct probe probe_a = P4(V4(10, 9, 9, 9), V4(192, 0, 2, 9), UDP, 1, 2);
static const struct probe probe_b = P4(V4(10, 9, 9, 9), V4(192, 0, 2, 9), TCP, 1, 22);

static void eroute_add_del_test(struct kunit *test)
{
	struct klips_said s1 = SAID4(IPPROTO_ESP, 0x101, V4(192, 1, 2, 23));
	struct klips_said s2 = SAID4(IPPROTO_ESP, 0x102, V4(192, 1, 2, 23));
	struct klips_eroute *e;
	const char *msg;
	int i;

	new_table(test, 10);
	KUNIT_EXPECT_NULL(test, lookup(test, &probe_a));
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &s1, false, &msg), 0);
	KUNIT_EXPECT_EQ(test, count(test), 1U);
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &s2, false, &msg), -EEXIST);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", "eroute: already exists");

	e = lookup(test, &probe_a);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->said.spi, 0x101U);
	for (i = 0; i < 3; i++)
		klips_eroute_count_packet(e);
	KUNIT_EXPECT_EQ(test, klips_eroute_packets(e), 3ULL);

	/* Replace: new target, same counter, same count. */
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &s2, true, &msg), 0);
	KUNIT_EXPECT_EQ(test, count(test), 1U);
	e = lookup(test, &probe_a);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->said.spi, 0x102U);
	KUNIT_EXPECT_EQ(test, klips_eroute_packets(e), 3ULL);
	KUNIT_EXPECT_PTR_EQ(test, next(test, NULL), e);
	klips_eroute_count_packet(e);
	KUNIT_EXPECT_EQ(test, klips_eroute_packets(e), 4ULL);

	/* Replacing what is not there adds it. */
	KUNIT_EXPECT_EQ(test, add(test, &key_b, &s1, true, &msg), 0);
	KUNIT_EXPECT_EQ(test, count(test), 2U);
	e = lookup(test, &probe_b);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->said.spi, 0x101U);
	KUNIT_EXPECT_EQ(test, klips_eroute_packets(e), 0ULL);

	KUNIT_EXPECT_EQ(test, del(test, &key_b, &msg), 0);
	KUNIT_EXPECT_EQ(test, count(test), 1U);
	e = lookup(test, &probe_b);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->said.spi, 0x102U);
	KUNIT_EXPECT_EQ(test, del(test, &key_b, &msg), -ENOENT);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", "eroute: no such eroute");

	KUNIT_EXPECT_EQ(test, add(test, &key_b, &s1, false, &msg), 0);
	flush(test);
	KUNIT_EXPECT_EQ(test, count(test), 0U);
	KUNIT_EXPECT_NULL(test, lookup(test, &probe_a));
	KUNIT_EXPECT_NULL(test, lookup(test, &probe_b));
	KUNIT_EXPECT_NULL(test, next(test, NULL));
	KUNIT_EXPECT_EQ(test, del(test, &key_a, &msg), -ENOENT);

	/* The table works again after a flush. */
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &s1, false, &msg), 0);
	e = lookup(test, &probe_b);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, klips_eroute_packets(e), 0ULL);
}

/* For AF_INET only ip4 is read: the rest of the union may hold anything. */
static void eroute_ipv4_tail_test(struct kunit *test)
{
	struct klips_said said = SHUNT(KLIPS_SHUNT_DROP);
	struct klips_eroute_key dirty = key_a;
	struct klips_eroute *e;

	new_table(test, 10);
	memset(&dirty.src.ip6.s6_addr[4], 0xa5, 12);
	memset(&dirty.dst.ip6.s6_addr[4], 0x5a, 12);
	KUNIT_EXPECT_EQ(test, add(test, &dirty, &said, false, NULL), 0);
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &said, false, NULL), -EEXIST);
	e = next(test, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_FALSE(test, memchr_inv(&e->key.src.ip6.s6_addr[4], 0, 12));
	KUNIT_EXPECT_FALSE(test, memchr_inv(&e->key.dst.ip6.s6_addr[4], 0, 12));
	KUNIT_EXPECT_PTR_EQ(test, lookup(test, &probe_a), e);
	KUNIT_EXPECT_EQ(test, del(test, &key_a, NULL), 0);
}

static void eroute_cap_test(struct kunit *test)
{
	struct klips_said said = SHUNT(KLIPS_SHUNT_DROP);
	struct klips_eroute_key k = key_a;
	const char *msg;
	int i;

	new_table(test, 3);
	for (i = 0; i < 3; i++) {
		k.src.ip4 = htonl(0x0a000000 + (i << 24));
		KUNIT_EXPECT_EQ(test, add(test, &k, &said, false, NULL), 0);
	}
	k.src.ip4 = htonl(0x0d000000);
	KUNIT_EXPECT_EQ(test, add(test, &k, &said, false, &msg), -ENOSPC);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)",
			   "eroute: the namespace holds max_eroutes eroutes already (module parameter)");
	KUNIT_EXPECT_EQ(test, add(test, &k, &said, true, &msg), -ENOSPC);
	KUNIT_EXPECT_EQ(test, count(test), 3U);
	/* Replacing an existing one needs no room. */
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &said, true, NULL), 0);
	KUNIT_EXPECT_EQ(test, del(test, &key_a, NULL), 0);
	KUNIT_EXPECT_EQ(test, add(test, &k, &said, false, NULL), 0);
	KUNIT_EXPECT_EQ(test, count(test), 3U);

	new_table(test, 0);
	KUNIT_EXPECT_EQ(test, add(test, &key_a, &said, false, NULL), -ENOSPC);
	KUNIT_EXPECT_EQ(test, count(test), 0U);
}

/* ---- Listing order ---- */

/* Sorted by hand: Documentation/klips/proc.md's order, then IPv6 after IPv4. */
static const struct klips_eroute_key sorted_keys[] = {
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 1, 2),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 255, 256),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 256, 256),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, UDP, 1, 1),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 0, 2),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 1, 0),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, TCP, 0, 0),
	KEY4P(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32, UDP, 0, 0),
	KEY4(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 1), 32),
	KEY4(V4(10, 0, 0, 2), 32, V4(192, 0, 2, 1), 32),
	KEY4(V4(10, 0, 0, 0), 24, V4(192, 0, 2, 1), 32),
	KEY4(ANY4, 0, V4(192, 0, 2, 1), 32),
	KEY4(ANY4, 0, V4(192, 0, 2, 255), 32),
	KEY4(ANY4, 0, V4(192, 0, 3, 0), 32),
	KEY4(V4(10, 0, 0, 1), 32, V4(192, 0, 2, 0), 24),
	KEY4(V4(10, 0, 0, 2), 32, V4(192, 0, 2, 0), 24),
	KEY4(V4(10, 0, 1, 0), 32, V4(192, 0, 2, 0), 24),
	KEY4(V4(9, 0, 0, 0), 32, V4(192, 0, 3, 0), 24),
	KEY4P(ANY4, 0, ANY4, 0, TCP, 0, 255),
	KEY4P(ANY4, 0, ANY4, 0, TCP, 0, 256),
	KEY4(ANY4, 0, ANY4, 0),
	KEY6(ANY6, 0, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 128),
	KEY6(V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, ANY6, 0),
	KEY6(ANY6, 0, ANY6, 0),
};

/* The comparison itself: a strict total order that agrees with the list. */
static void eroute_key_cmp_test(struct kunit *test)
{
	size_t n = ARRAY_SIZE(sorted_keys), i, j;
	int d;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			d = klips_eroute_key_cmp(&sorted_keys[i], &sorted_keys[j]);
			KUNIT_EXPECT_EQ_MSG(test, d < 0 ? -1 : d > 0, i < j ? -1 : i > j,
					    "keys %zu and %zu", i, j);
		}
	}
}

static void shuffle(struct rnd_state *rnd, unsigned int *v, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n; i > 1; i--) {
		j = prandom_u32_state(rnd) % i;
		swap(v[i - 1], v[j]);
	}
}

/* Insert in random orders; first/next_after must walk the sorted list. */
static void eroute_list_order_test(struct kunit *test)
{
	unsigned int n = ARRAY_SIZE(sorted_keys), order[ARRAY_SIZE(sorted_keys)];
	struct klips_said said = SHUNT(KLIPS_SHUNT_PASS);
	struct klips_eroute *e;
	struct rnd_state rnd;
	unsigned int round, i;

	new_table(test, 100);
	prandom_seed_state(&rnd, 42);
	for (round = 0; round < 20; round++) {
		flush(test);
		shuffle(&rnd, order, n);
		for (i = 0; i < n; i++)
			KUNIT_ASSERT_EQ(test, add(test, &sorted_keys[order[i]],
						  &said, false, NULL), 0);
		for (i = 0, e = next(test, NULL); e; i++, e = next(test, &e->key)) {
			KUNIT_ASSERT_LT(test, i, n);
			KUNIT_EXPECT_TRUE_MSG(test, key_eq(&e->key, &sorted_keys[i]),
					      "round %u position %u", round, i);
		}
		KUNIT_EXPECT_EQ(test, i, n);
	}
	/* Resuming after a key that is gone continues with its successor. */
	KUNIT_ASSERT_EQ(test, del(test, &sorted_keys[5], NULL), 0);
	e = next(test, &sorted_keys[5]);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, key_eq(&e->key, &sorted_keys[6]));
}

/* ---- Scale ---- */

#define SCALE_N		100000U
#define SCALE_OTHER_LENS 20	/* destination /12../31 */
#define SCALE_OTHER_PER	16

/* Eroute @i of the 100k: 172.16.0.0+i/32 -> 10.0.0.0+i/32. */
static void scale_key(unsigned int i, struct klips_eroute_key *k)
{
	*k = (struct klips_eroute_key)KEY4(ANY4, 32, ANY4, 32);
	k->src.ip4 = htonl(0xac100000 + i);
	k->dst.ip4 = htonl(0x0a000000 + i);
}

/* Eroute @i of the others: disjoint destinations, three source lengths. */
static void other_key(unsigned int i, struct klips_eroute_key *k)
{
	unsigned int len = 12 + i / SCALE_OTHER_PER, j = i % SCALE_OTHER_PER;

	*k = (struct klips_eroute_key)KEY4(ANY4, (j % 3) * 8, ANY4, len);
	k->dst.ip4 = htonl((100 + len) << 24 | j << (32 - len));
	k->src.ip4 = htonl((u32)(0xac100000 & ~(0xffffffffULL >> k->src_len)));
}

static unsigned int walk(struct kunit *test, unsigned int *misordered)
{
	struct klips_eroute *e, *prev = NULL;
	unsigned int n = 0;

	*misordered = 0;
	for (e = next(test, NULL); e; prev = e, e = next(test, &e->key), n++) {
		if (prev && klips_eroute_key_cmp(&prev->key, &e->key) >= 0)
			(*misordered)++;
		cond_resched();
	}
	return n;
}

static void scale_lookups(struct kunit *test, unsigned int *found,
			  unsigned int *wrong)
{
	struct klips_eroute_key k;
	struct klips_eroute *e;
	unsigned int i;
	struct probe p = { .family = AF_INET };

	*found = 0;
	*wrong = 0;
	for (i = 0; i < SCALE_N; i++) {
		scale_key(i, &k);
		p.src = k.src;
		p.dst = k.dst;
		e = lookup(test, &p);
		if (e && (e->said.spi != SPI(i) || !key_eq(&e->key, &k)))
			(*wrong)++;
		else if (e)
			(*found)++;
		cond_resched();
	}
}

static void eroute_scale_test(struct kunit *test)
{
	unsigned int others = SCALE_OTHER_LENS * SCALE_OTHER_PER;
	struct klips_said said = SAID4(IPPROTO_ESP, 0, V4(192, 1, 2, 23));
	unsigned int i, n, bad = 0, found, wrong;
	struct klips_eroute_key k;
	struct klips_eroute *e;
	ktime_t start = ktime_get();

	new_table(test, SCALE_N + others);
	/* A stride coprime to SCALE_N: every index once, out of order. */
	for (i = 0; i < SCALE_N; i++) {
		n = (u64)i * 7919 % SCALE_N;
		scale_key(n, &k);
		said.spi = SPI(n);
		bad += add(test, &k, &said, false, NULL) != 0;
		cond_resched();
	}
	for (i = 0; i < others; i++) {
		other_key(i, &k);
		said.spi = SPI(SCALE_N + i);
		bad += add(test, &k, &said, false, NULL) != 0;
	}
	KUNIT_ASSERT_EQ(test, bad, 0U);
	KUNIT_EXPECT_EQ(test, count(test), SCALE_N + others);

	scale_lookups(test, &found, &wrong);
	KUNIT_EXPECT_EQ(test, found, SCALE_N);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	for (i = 0; i < others; i++) {
		struct probe p = { .family = AF_INET, .src = V4(172, 16, 0, 5) };

		other_key(i, &k);
		p.dst.ip4 = k.dst.ip4 | htonl(1);
		e = lookup(test, &p);
		bad += !e || e->said.spi != SPI(SCALE_N + i);
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);

	n = walk(test, &bad);
	KUNIT_EXPECT_EQ(test, n, SCALE_N + others);
	KUNIT_EXPECT_EQ(test, bad, 0U);

	for (i = 0; i < SCALE_N; i += 2) {
		scale_key(i, &k);
		bad += del(test, &k, NULL) != 0;
		cond_resched();
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
	KUNIT_EXPECT_EQ(test, count(test), SCALE_N / 2 + others);
	scale_lookups(test, &found, &wrong);
	KUNIT_EXPECT_EQ(test, found, SCALE_N / 2);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	n = walk(test, &bad);
	KUNIT_EXPECT_EQ(test, n, SCALE_N / 2 + others);
	KUNIT_EXPECT_EQ(test, bad, 0U);

	flush(test);
	KUNIT_EXPECT_EQ(test, count(test), 0U);
	scale_lookups(test, &found, &wrong);
	KUNIT_EXPECT_EQ(test, found + wrong, 0U);
	kunit_info(test, "%u eroutes: %lld ms\n", SCALE_N + others,
		   ktime_ms_delta(ktime_get(), start));
}

static struct kunit_case klips_eroute_cases[] = {
	KUNIT_CASE_PARAM(eroute_format_test, format_gen_params),
	KUNIT_CASE_PARAM(eroute_match_test, match_gen_params),
	KUNIT_CASE_PARAM(eroute_key_test, key_gen_params),
	KUNIT_CASE(eroute_add_del_test),
	KUNIT_CASE(eroute_ipv4_tail_test),
	KUNIT_CASE(eroute_cap_test),
	KUNIT_CASE(eroute_key_cmp_test),
	KUNIT_CASE(eroute_list_order_test),
	KUNIT_CASE_SLOW(eroute_scale_test),
	{}
};

static struct kunit_suite klips_eroute_suite = {
	.name = "klips_eroute",
	.init = eroute_test_init,
	.exit = eroute_test_exit,
	.test_cases = klips_eroute_cases,
};

kunit_test_suite(klips_eroute_suite);
