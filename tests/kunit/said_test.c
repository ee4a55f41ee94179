// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for SAID text (src/said.c). Every table checks
 * Documentation/klips/proc.md, section "SAID text"; the IPv6 spelling is RFC
 * 5952.
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "said.h"

/* Addresses as they are written, so the tables read like the text. */
#define V4(a, b, c, d)							\
	{ .ip4 = cpu_to_be32((u32)(a) << 24 | (b) << 16 | (c) << 8 | (d)) }
#define V6(a, b, c, d, e, f, g, h)					\
	{ .ip6.s6_addr16 = {						\
		cpu_to_be16(a), cpu_to_be16(b), cpu_to_be16(c),		\
		cpu_to_be16(d), cpu_to_be16(e), cpu_to_be16(f),		\
		cpu_to_be16(g), cpu_to_be16(h) } }
#define ANY6		V6(0, 0, 0, 0, 0, 0, 0, 0)

#define AH		IPPROTO_AH
#define ESP		IPPROTO_ESP
#define COMP		IPPROTO_COMP
#define TUN		IPPROTO_IPIP
#define INT		KLIPS_PROTO_INT

/* Quote @len bytes of @text for a case name; a NUL shows as \0. */
static void quote(const char *text, size_t len, char *desc)
{
	size_t i, n = 0;

	desc[n++] = '"';
	for (i = 0; i < len && n < KUNIT_PARAM_DESC_SIZE - 4; i++) {
		if (text[i]) {
			desc[n++] = text[i];
		} else {
			desc[n++] = '\\';
			desc[n++] = '0';
		}
	}
	desc[n++] = '"';
	desc[n] = '\0';
}

/* A copy of exactly @len bytes with no NUL after it, so overreads show. */
static const char *dup_text(struct kunit *test, const char *text, size_t len)
{
	char *copy;

	if (!len)
		return "";
	copy = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, copy);
	memcpy(copy, text, len);
	return copy;
}

static int format(const struct klips_said *said, bool addr_only, char *buf,
		  size_t size)
{
	if (addr_only)
		return klips_addr_format(said->family, &said->dst, buf, size);
	return klips_said_format(said, buf, size);
}

/*
 * Format into every buffer size from 0 to enough: the text is truncated,
 * NUL-terminated, the return value is what was written (scnprintf), and
 * the guard byte at buf[size] is never touched.
 */
static void expect_format(struct kunit *test, const struct klips_said *said,
			  bool addr_only, const char *want)
{
	char buf[KLIPS_SAID_BUFLEN + 2];
	size_t n = strlen(want), size;
	int ret;

	KUNIT_ASSERT_LT(test, n, (size_t)KLIPS_SAID_BUFLEN);
	for (size = 0; size <= n + 1; size++) {
		/* Guard bytes, and a NUL of our own should the code forget. */
		memset(buf, 'X', sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = '\0';
		ret = format(said, addr_only, buf, size);
		KUNIT_EXPECT_EQ(test, buf[size], 'X');
		if (!size) {
			KUNIT_EXPECT_EQ(test, ret, 0);
			continue;
		}
		KUNIT_ASSERT_EQ(test, ret, (int)min(size - 1, n));
		KUNIT_EXPECT_EQ(test, memcmp(buf, want, ret), 0);
		KUNIT_EXPECT_EQ(test, buf[ret], '\0');
	}
	KUNIT_EXPECT_STREQ(test, buf, want);
}

struct parse_case {
	const char *in;
	const char *out;	/* canonical text; NULL if @in is canonical */
	u8 proto;
	u32 spi;
	u8 family;
	union klips_addr dst;	/* unused bytes must be zero */
};

/*
 * Documentation/klips/proc.md "SAID text":
 * text that parses, and how it prints back.
 */
static const struct parse_case parse_cases[] = {
	/* Every SAID in Documentation/klips/proc.md. */
	{ "tun.12a@192.168.43.1", NULL, TUN, 0x12a, AF_INET, V4(192, 168, 43, 1) },
	{ "esp:9a35fc02@3049:1::1", NULL, ESP, 0x9a35fc02, AF_INET6,
	  V6(0x3049, 1, 0, 0, 0, 0, 0, 1) },
	{ "esp.d1234567@192.1.2.45", NULL, ESP, 0xd1234567, AF_INET, V4(192, 1, 2, 45) },
	{ "esp.12345678@192.1.2.45", NULL, ESP, 0x12345678, AF_INET, V4(192, 1, 2, 45) },
	{ "comp.6593@192.1.2.23", NULL, COMP, 0x6593, AF_INET, V4(192, 1, 2, 23) },
	{ "tun.1001@192.1.2.23", NULL, TUN, 0x1001, AF_INET, V4(192, 1, 2, 23) },
	{ "esp.ae595bac@192.1.2.23", NULL, ESP, 0xae595bac, AF_INET, V4(192, 1, 2, 23) },
	{ "esp:ae595bac@2001:db8::1", NULL, ESP, 0xae595bac, AF_INET6,
	  V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1) },
	{ "tun.3d0@192.168.2.110", NULL, TUN, 0x3d0, AF_INET, V4(192, 168, 2, 110) },
	{ "comp.3d0@192.168.2.110", NULL, COMP, 0x3d0, AF_INET, V4(192, 168, 2, 110) },
	{ "esp.187a101b@192.168.2.110", NULL, ESP, 0x187a101b, AF_INET,
	  V4(192, 168, 2, 110) },
	{ "ah.187a101a@192.168.2.110", NULL, AH, 0x187a101a, AF_INET,
	  V4(192, 168, 2, 110) },
	{ "tun.113@192.0.2.2", NULL, TUN, 0x113, AF_INET, V4(192, 0, 2, 2) },
	{ "esp.115@192.0.2.2", NULL, ESP, 0x115, AF_INET, V4(192, 0, 2, 2) },
	{ "ah.116@192.0.2.2", NULL, AH, 0x116, AF_INET, V4(192, 0, 2, 2) },
	/* The shunts: proto int, 0.0.0.0; passthrough is tun.0 to any. */
	{ "%pass", NULL, INT, KLIPS_SHUNT_PASS, AF_INET, V4(0, 0, 0, 0) },
	{ "%drop", NULL, INT, KLIPS_SHUNT_DROP, AF_INET, V4(0, 0, 0, 0) },
	{ "%reject", NULL, INT, KLIPS_SHUNT_REJECT, AF_INET, V4(0, 0, 0, 0) },
	{ "%hold", NULL, INT, KLIPS_SHUNT_HOLD, AF_INET, V4(0, 0, 0, 0) },
	{ "%trap", NULL, INT, KLIPS_SHUNT_TRAP, AF_INET, V4(0, 0, 0, 0) },
	{ "%trapsubnet", NULL, INT, KLIPS_SHUNT_TRAPSUBNET, AF_INET, V4(0, 0, 0, 0) },
	{ "%passthrough4", NULL, TUN, 0, AF_INET, V4(0, 0, 0, 0) },
	{ "%passthrough6", NULL, TUN, 0, AF_INET6, ANY6 },
	{ "%passthrough", "%passthrough4", TUN, 0, AF_INET, V4(0, 0, 0, 0) },
	{ "int.100@0.0.0.0", "%pass", INT, KLIPS_SHUNT_PASS, AF_INET, V4(0, 0, 0, 0) },
	{ "int.105@0.0.0.0", "%trapsubnet", INT, KLIPS_SHUNT_TRAPSUBNET, AF_INET,
	  V4(0, 0, 0, 0) },
	{ "tun.0@0.0.0.0", "%passthrough4", TUN, 0, AF_INET, V4(0, 0, 0, 0) },
	{ "tun:0@::", "%passthrough6", TUN, 0, AF_INET6, ANY6 },
	{ "tun0x0@::", "%passthrough6", TUN, 0, AF_INET6, ANY6 },
	/* An int SPI that is no shunt prints in the general form. */
	{ "int.106@0.0.0.0", NULL, INT, 0x106, AF_INET, V4(0, 0, 0, 0) },
	{ "int262@0.0.0.0", "int.106@0.0.0.0", INT, 0x106, AF_INET, V4(0, 0, 0, 0) },
	/* 0x is hex, no prefix is decimal (a leading 0 too), upper case in. */
	{ "esp0x9A35FC02@3049:1::1", "esp:9a35fc02@3049:1::1", ESP, 0x9a35fc02,
	  AF_INET6, V6(0x3049, 1, 0, 0, 0, 0, 0, 1) },
	{ "esp0X78@1.2.3.4", "esp.78@1.2.3.4", ESP, 0x78, AF_INET, V4(1, 2, 3, 4) },
	{ "esp257@1.2.3.4", "esp.101@1.2.3.4", ESP, 0x101, AF_INET, V4(1, 2, 3, 4) },
	{ "esp78@::1", "esp:4e@::1", ESP, 0x4e, AF_INET6, V6(0, 0, 0, 0, 0, 0, 0, 1) },
	{ "esp0256@1.2.3.4", "esp.100@1.2.3.4", ESP, 0x100, AF_INET, V4(1, 2, 3, 4) },
	{ "esp4294967295@0.0.0.0", "esp.ffffffff@0.0.0.0", ESP, 0xffffffff, AF_INET,
	  V4(0, 0, 0, 0) },
	{ "ah0xffffffff@255.255.255.255", "ah.ffffffff@255.255.255.255", AH,
	  0xffffffff, AF_INET, V4(255, 255, 255, 255) },
	{ "esp.0a@1.2.3.4", "esp.a@1.2.3.4", ESP, 0xa, AF_INET, V4(1, 2, 3, 4) },
	{ "esp.00000101@1.2.3.4", "esp.101@1.2.3.4", ESP, 0x101, AF_INET,
	  V4(1, 2, 3, 4) },
	{ "esp.ABCDEF@1.2.3.4", "esp.abcdef@1.2.3.4", ESP, 0xabcdef, AF_INET,
	  V4(1, 2, 3, 4) },
	{ "esp.0@1.2.3.4", NULL, ESP, 0, AF_INET, V4(1, 2, 3, 4) },
	{ "comp.2@10.0.0.1", NULL, COMP, 2, AF_INET, V4(10, 0, 0, 1) },
	/* IPv6 in any valid spelling prints in RFC 5952 form. */
	{ "esp:100@2001:0db8:0000:0000:0000:0000:0000:0001", "esp:100@2001:db8::1",
	  ESP, 0x100, AF_INET6, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1) },
	{ "esp:ABC@2001:DB8::A", "esp:abc@2001:db8::a", ESP, 0xabc, AF_INET6,
	  V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa) },
	{ "ah:101@::ffff:192.0.2.1", NULL, AH, 0x101, AF_INET6,
	  V6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201) },
	{ "ah:101@::FFFF:C000:201", "ah:101@::ffff:192.0.2.1", AH, 0x101, AF_INET6,
	  V6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201) },
	{ "esp:101@fe80::5efe:192.0.2.1", "esp:101@fe80::5efe:c000:201", ESP, 0x101,
	  AF_INET6, V6(0xfe80, 0, 0, 0, 0, 0x5efe, 0xc000, 0x201) },
	{ "tun:101@1:2:3:4:5:6:7:8", NULL, TUN, 0x101, AF_INET6,
	  V6(1, 2, 3, 4, 5, 6, 7, 8) },
};

static void parse_case_desc(const struct parse_case *c, char *desc)
{
	quote(c->in, strlen(c->in), desc);
}

KUNIT_ARRAY_PARAM(parse, parse_cases, parse_case_desc);

static void said_parse_test(struct kunit *test)
{
	const struct parse_case *c = test->param_value;
	size_t len = strlen(c->in);
	const char *text = dup_text(test, c->in, len);
	const char *msg = NULL;
	struct klips_said said;

	/* Garbage first: parse must zero what it does not set. */
	memset(&said, 0xa5, sizeof(said));
	KUNIT_ASSERT_EQ_MSG(test, klips_said_parse(text, len, &said, &msg), 0,
			    "%s", msg);
	KUNIT_EXPECT_EQ(test, said.proto, c->proto);
	KUNIT_EXPECT_EQ(test, said.spi, c->spi);
	KUNIT_EXPECT_EQ(test, said.family, c->family);
	KUNIT_EXPECT_EQ(test, memcmp(&said.dst, &c->dst, sizeof(said.dst)), 0);
	expect_format(test, &said, false, c->out ?: c->in);
}

struct error_case {
	const char *text;
	size_t len;
	const char *msg;
};

/* sizeof, not strlen, so that a NUL inside the literal is part of @len. */
#define BAD(text, msg)	{ text, sizeof(text) - 1, msg }

/*
 * Documentation/klips/proc.md "SAID text": "Anything else is an error with a
 * message that says which part is wrong."
 */
static const struct error_case error_cases[] = {
	BAD("", "SAID: empty"),
	BAD("esp", "SAID: missing '@'"),
	BAD("esp.101", "SAID: missing '@'"),
	BAD("@1.2.3.4", "SAID: missing protocol prefix"),
	BAD(" esp.101@1.2.3.4", "SAID: missing protocol prefix"),
	BAD("xyz.101@1.2.3.4", "SAID: unknown protocol prefix"),
	BAD("espx.101@1.2.3.4", "SAID: unknown protocol prefix"),
	BAD("ESP.101@1.2.3.4", "SAID: unknown protocol prefix"),
	BAD("Esp.101@1.2.3.4", "SAID: unknown protocol prefix"),
	BAD("unk17.101@1.2.3.4", "SAID: unknown protocol prefix"),
	BAD("esp.@1.2.3.4", "SAID: SPI is empty"),
	BAD("esp@1.2.3.4", "SAID: SPI is empty"),
	BAD("esp:@::1", "SAID: SPI is empty"),
	BAD("esp0x@1.2.3.4", "SAID: SPI is empty"),
	BAD("esp.1g@1.2.3.4", "SAID: SPI is not hexadecimal"),
	BAD("esp.-1@1.2.3.4", "SAID: SPI is not hexadecimal"),
	BAD("esp.+1@1.2.3.4", "SAID: SPI is not hexadecimal"),
	BAD("esp.0x10@1.2.3.4", "SAID: SPI is not hexadecimal"),
	BAD("esp0x1g@1.2.3.4", "SAID: SPI is not hexadecimal"),
	BAD("esp12a@1.2.3.4", "SAID: SPI is not decimal"),
	BAD("esp-1@1.2.3.4", "SAID: SPI is not decimal"),
	BAD("esp7x7@1.2.3.4", "SAID: SPI is not decimal"),
	BAD("esp.100000000@1.2.3.4", "SAID: SPI does not fit in 32 bits"),
	BAD("esp0x100000000@1.2.3.4", "SAID: SPI does not fit in 32 bits"),
	BAD("esp4294967296@1.2.3.4", "SAID: SPI does not fit in 32 bits"),
	BAD("esp.101@", "SAID: destination is empty"),
	BAD("esp:101@", "SAID: destination is empty"),
	BAD("esp.101@::1", "SAID: '.' needs an IPv4 destination"),
	BAD("esp.101@::ffff:1.2.3.4", "SAID: '.' needs an IPv4 destination"),
	BAD("esp:101@1.2.3.4", "SAID: ':' needs an IPv6 destination"),
	BAD("esp:101@host.example", "SAID: ':' needs an IPv6 destination"),
	BAD("esp.101@1.2.3", "SAID: bad IPv4 destination"),
	BAD("esp.101@1.2.3.256", "SAID: bad IPv4 destination"),
	BAD("esp.101@1.2.3.4.5", "SAID: bad IPv4 destination"),
	BAD("esp.101@1..3.4", "SAID: bad IPv4 destination"),
	BAD("esp.101@01.2.3.4", "SAID: bad IPv4 destination"),
	BAD("ah.101@01.2.3.4x", "SAID: bad IPv4 destination"),
	BAD("esp.101@1.2.3.4 ", "SAID: bad IPv4 destination"),
	BAD("esp.101@@1.2.3.4", "SAID: bad IPv4 destination"),
	BAD("esp.101@host.example", "SAID: bad IPv4 destination"),
	BAD("esp.101@%any", "SAID: bad IPv4 destination"),
	BAD("esp:101@1:2:3:4:5:6:7:8:9", "SAID: bad IPv6 destination"),
	BAD("esp:101@1:2:3:4:5:6:7", "SAID: bad IPv6 destination"),
	BAD("esp:101@1:::2", "SAID: bad IPv6 destination"),
	BAD("esp:101@1::2::3", "SAID: bad IPv6 destination"),
	BAD("esp:101@gggg::1", "SAID: bad IPv6 destination"),
	BAD("esp:101@00001::1", "SAID: bad IPv6 destination"),
	BAD("esp:101@::ffff:1.2.3.256", "SAID: bad IPv6 destination"),
	BAD("esp:101@[::1]", "SAID: bad IPv6 destination"),
	BAD("esp0x101@::1 ", "SAID: bad IPv6 destination"),
	BAD("%", "SAID: unknown shunt name"),
	BAD("%bogus", "SAID: unknown shunt name"),
	BAD("%passthrough7", "SAID: unknown shunt name"),
	BAD("%PASS", "SAID: unknown shunt name"),
	BAD("%pass ", "SAID: unknown shunt name"),
	BAD("esp.101@1.2.3.4\0", "SAID: contains a NUL byte"),
	BAD("esp\0.101@1.2.3.4", "SAID: contains a NUL byte"),
};

static void error_case_desc(const struct error_case *c, char *desc)
{
	quote(c->text, c->len, desc);
}

KUNIT_ARRAY_PARAM(error, error_cases, error_case_desc);

static void said_parse_error_test(struct kunit *test)
{
	const struct error_case *c = test->param_value;
	const char *text = dup_text(test, c->text, c->len);
	struct klips_said said, orig;
	const char *msg = NULL;

	memset(&said, 0xa5, sizeof(said));
	memset(&orig, 0xa5, sizeof(orig));
	KUNIT_EXPECT_EQ(test, klips_said_parse(text, c->len, &said, &msg),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, msg ?: "(none)", c->msg);
	KUNIT_EXPECT_EQ(test, memcmp(&said, &orig, sizeof(said)), 0);
	KUNIT_EXPECT_EQ(test, klips_said_parse(text, c->len, &said, NULL),
			-EINVAL);
}

struct format_case {
	struct klips_said said;
	const char *text;
};

#define SAID4(p, s, a, b, c, d)						\
	{ .proto = p, .spi = s, .family = AF_INET, .dst = V4(a, b, c, d) }
#define SAID6(p, s, addr)						\
	{ .proto = p, .spi = s, .family = AF_INET6, .dst = addr }

/*
 * Documentation/klips/proc.md "SAID text":
 * structs no text parses to, and the longest.
 */
static const struct format_case format_cases[] = {
	{ SAID4(INT, 0x106, 0, 0, 0, 0), "int.106@0.0.0.0" },
	{ SAID4(INT, KLIPS_SHUNT_PASS, 1, 2, 3, 4), "int.100@1.2.3.4" },
	{ SAID6(INT, KLIPS_SHUNT_PASS, ANY6), "int:100@::" },
	{ SAID4(TUN, 0, 1, 2, 3, 4), "tun.0@1.2.3.4" },
	{ SAID6(TUN, 0, V6(0, 0, 0, 0, 0, 0, 0, 1)), "tun:0@::1" },
	{ SAID6(ESP, 0, ANY6), "esp:0@::" },
	{ SAID4(ESP, 0, 0, 0, 0, 0), "esp.0@0.0.0.0" },
	{ SAID4(17, 0x101, 1, 2, 3, 4), "unk17.101@1.2.3.4" },
	{ SAID6(COMP, 0xffffffff, V6(0xffff, 0xffff, 0xffff, 0xffff,
				     0xffff, 0xffff, 0xffff, 0xffff)),
	  "comp:ffffffff@ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static void format_case_desc(const struct format_case *c, char *desc)
{
	strscpy(desc, c->text, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(format, format_cases, format_case_desc);

static void said_format_test(struct kunit *test)
{
	const struct format_case *c = test->param_value;

	expect_format(test, &c->said, false, c->text);
}

/* RFC 5952 section 4 and 5, as Documentation/klips/proc.md "SAID text" asks. */
static const struct format_case addr_cases[] = {
	{ SAID6(0, 0, ANY6), "::" },
	{ SAID6(0, 0, V6(0, 0, 0, 0, 0, 0, 0, 1)), "::1" },
	{ SAID6(0, 0, V6(1, 0, 0, 0, 0, 0, 0, 0)), "1::" },
	{ SAID6(0, 0, V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), "2001:db8::1" },
	{ SAID6(0, 0, V6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), "2001:db8:0:1:1:1:1:1" },
	{ SAID6(0, 0, V6(0x2001, 0, 0, 1, 0, 0, 0, 1)), "2001:0:0:1::1" },
	{ SAID6(0, 0, V6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), "2001:db8::1:0:0:1" },
	{ SAID6(0, 0, V6(0x2001, 0xdb8, 1, 2, 3, 4, 0, 0)), "2001:db8:1:2:3:4::" },
	{ SAID6(0, 0, V6(0x2001, 0xdb8, 1, 2, 3, 4, 5, 0)), "2001:db8:1:2:3:4:5:0" },
	{ SAID6(0, 0, V6(0, 2, 3, 4, 5, 6, 7, 8)), "0:2:3:4:5:6:7:8" },
	{ SAID6(0, 0, V6(0, 0, 3, 4, 5, 6, 7, 8)), "::3:4:5:6:7:8" },
	{ SAID6(0, 0, V6(1, 2, 3, 4, 5, 6, 7, 8)), "1:2:3:4:5:6:7:8" },
	{ SAID6(0, 0, V6(0xff02, 0, 0, 0, 0, 0, 0, 2)), "ff02::2" },
	{ SAID6(0, 0, V6(0xABCD, 0xEF01, 0, 0, 0, 0, 0, 0x10)), "abcd:ef01::10" },
	{ SAID6(0, 0, V6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201)), "::ffff:192.0.2.1" },
	{ SAID6(0, 0, V6(0, 0, 0, 0, 0, 0xffff, 0, 0)), "::ffff:0.0.0.0" },
	/* No mixed notation but ::ffff:0:0/96: ISATAP, compatible, NAT64. */
	{ SAID6(0, 0, V6(0xfe80, 0, 0, 0, 0, 0x5efe, 0xc000, 0x201)),
	  "fe80::5efe:c000:201" },
	{ SAID6(0, 0, V6(0, 0, 0, 0, 0, 0, 0xc000, 0x201)), "::c000:201" },
	{ SAID6(0, 0, V6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201)),
	  "64:ff9b::c000:201" },
	{ SAID6(0, 0, V6(0, 0, 0, 0, 0xffff, 0, 0xc000, 0x201)), "::ffff:0:c000:201" },
	{ SAID4(0, 0, 0, 0, 0, 0), "0.0.0.0" },
	{ SAID4(0, 0, 192, 0, 2, 1), "192.0.2.1" },
	{ SAID4(0, 0, 255, 255, 255, 255), "255.255.255.255" },
	{ { .family = AF_UNSPEC }, "?" },
};

KUNIT_ARRAY_PARAM(addr, addr_cases, format_case_desc);

static void addr_format_test(struct kunit *test)
{
	const struct format_case *c = test->param_value;

	expect_format(test, &c->said, true, c->text);
}

struct spi_case {
	u8 proto;
	u32 spi;
	bool valid;
};

/*
 * Documentation/klips/proc.md "SAID text":
 * 0..0xff reserved; a CPI is 2 or 0x100..0xffff.
 */
static const struct spi_case spi_cases[] = {
	{ AH, 0xff, false },
	{ AH, 0x100, true },
	{ AH, 0xffffffff, true },
	{ ESP, 0, false },
	{ ESP, 0xff, false },
	{ ESP, 0x100, true },
	{ ESP, 0xffffffff, true },
	{ COMP, 0, false },
	{ COMP, 1, false },
	{ COMP, 2, true },
	{ COMP, 3, false },
	{ COMP, 0xff, false },
	{ COMP, 0x100, true },
	{ COMP, 0xffff, true },
	{ COMP, 0x10000, false },
	{ TUN, 0, false },
	{ TUN, 0xff, false },
	{ TUN, 0x100, true },
	{ INT, 0, false },
	{ INT, KLIPS_SHUNT_PASS, false },
	{ INT, 0x1000, false },
	{ 17, 0x1000, false },
};

static void spi_case_desc(const struct spi_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "proto %u spi 0x%x", c->proto,
		 c->spi);
}

KUNIT_ARRAY_PARAM(spi, spi_cases, spi_case_desc);

static void said_spi_valid_test(struct kunit *test)
{
	const struct spi_case *c = test->param_value;
	struct klips_said said = SAID4(c->proto, c->spi, 192, 0, 2, 1);

	KUNIT_EXPECT_EQ(test, klips_said_spi_valid(&said), c->valid);
}

static void said_shunt_name_test(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, klips_said_shunt_name(0));
	KUNIT_EXPECT_NULL(test, klips_said_shunt_name(KLIPS_SHUNT_PASS - 1));
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_PASS), "%pass");
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_DROP), "%drop");
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_REJECT),
			   "%reject");
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_HOLD), "%hold");
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_TRAP), "%trap");
	KUNIT_EXPECT_STREQ(test, klips_said_shunt_name(KLIPS_SHUNT_TRAPSUBNET),
			   "%trapsubnet");
	KUNIT_EXPECT_NULL(test, klips_said_shunt_name(KLIPS_SHUNT_TRAPSUBNET + 1));
}

static struct kunit_case klips_said_cases[] = {
	KUNIT_CASE_PARAM(said_parse_test, parse_gen_params),
	KUNIT_CASE_PARAM(said_parse_error_test, error_gen_params),
	KUNIT_CASE_PARAM(said_format_test, format_gen_params),
	KUNIT_CASE_PARAM(addr_format_test, addr_gen_params),
	KUNIT_CASE_PARAM(said_spi_valid_test, spi_gen_params),
	KUNIT_CASE(said_shunt_name_test),
	{}
};

static struct kunit_suite klips_said_suite = {
	.name = "klips_said",
	.test_cases = klips_said_cases,
};

kunit_test_suite(klips_said_suite);
