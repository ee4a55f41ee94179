// SPDX-License-Identifier: GPL-2.0
/*
 * SAID text, Documentation/klips/proc.md "SAID text": "<proto><sep><spi>@<dst>"
 * and the "%shunt" names. The text comes from user space and goes back to
 * scripts reading /proc, so parsing is strict and formatting has one spelling.
 *
 * Parsing decisions the spec leaves open:
 * - protocol prefixes are lower case only, as KLIPS's ttosa had them;
 * - after '.' or ':' the SPI is bare hex digits, so "esp.0x10@..." is an
 *   error ('x' is not a hex digit);
 * - the SPI may have leading zeros, its value must fit in 32 bits;
 * - a dotted-quad part with a leading zero ("01.2.3.4") and an IPv6 group
 *   of more than four digits are refused: in4_pton()/in6_pton() take them,
 *   but inet_aton() reads "010" as 8 and inet_pton() refuses both.
 */
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <net/ipv6.h>
#include <kunit/visibility.h>

#include "said.h"

static const struct {
	const char *name;
	u8 proto;
} protos[] = {
	{ "ah", IPPROTO_AH },
	{ "esp", IPPROTO_ESP },
	{ "comp", IPPROTO_COMP },
	{ "tun", IPPROTO_IPIP },
	{ "int", KLIPS_PROTO_INT },
};

/* Formatting takes the first match: aliases follow their canonical name. */
static const struct {
	const char *name;
	u8 proto;
	u8 family;
	u32 spi;
} shunts[] = {
	{ "%pass", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_PASS },
	{ "%drop", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_DROP },
	{ "%reject", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_REJECT },
	{ "%hold", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_HOLD },
	{ "%trap", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_TRAP },
	{ "%trapsubnet", KLIPS_PROTO_INT, AF_INET, KLIPS_SHUNT_TRAPSUBNET },
	{ "%passthrough4", IPPROTO_IPIP, AF_INET, 0 },
	{ "%passthrough6", IPPROTO_IPIP, AF_INET6, 0 },
	{ "%passthrough", IPPROTO_IPIP, AF_INET, 0 },
};

static bool text_is(const char *text, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(text, word, len);
}

static const char *parse_shunt(const char *text, size_t len,
			       struct klips_said *said)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shunts); i++) {
		if (text_is(text, len, shunts[i].name)) {
			said->proto = shunts[i].proto;
			said->family = shunts[i].family;
			said->spi = shunts[i].spi;
			return NULL;
		}
	}
	return "SAID: unknown shunt name";
}

/* Returns the length of the prefix, or 0 with *msg set. */
static size_t parse_proto(const char *text, size_t len, u8 *proto,
			  const char **msg)
{
	size_t n, i;

	for (n = 0; n < len && isalpha(text[n]); n++)
		;
	if (!n) {
		*msg = "SAID: missing protocol prefix";
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		if (text_is(text, n, protos[i].name)) {
			*proto = protos[i].proto;
			return n;
		}
	}
	*msg = "SAID: unknown protocol prefix";
	return 0;
}

static const char *parse_spi(const char *text, size_t len, unsigned int base,
			     u32 *spi)
{
	u64 val = 0;
	size_t i;

	if (!len)
		return "SAID: SPI is empty";
	for (i = 0; i < len; i++) {
		int digit = hex_to_bin(text[i]);

		if (digit < 0 || digit >= base)
			return base == 16 ? "SAID: SPI is not hexadecimal" :
					    "SAID: SPI is not decimal";
		/* Saturate, so that a syntax error further on still wins. */
		val = min_t(u64, val * base + digit, (u64)U32_MAX + 1);
	}
	if (val > U32_MAX)
		return "SAID: SPI does not fit in 32 bits";
	*spi = val;
	return NULL;
}

/* Refuse what in4_pton()/in6_pton() accept but inet_pton() does not. */
static bool addr_fields_strict(const char *text, size_t len)
{
	size_t start = 0, i, n;
	bool dotted;

	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != ':' && text[i] != '.')
			continue;
		n = i - start;
		dotted = (i < len && text[i] == '.') ||
			 (start && text[start - 1] == '.');
		if (dotted ? n > 1 && text[start] == '0' : n > 4)
			return false;
		start = i + 1;
	}
	return true;
}

static const char *parse_addr(const char *text, size_t len, u8 family,
			      union klips_addr *addr)
{
	const char *end;

	if (family == AF_INET) {
		if (len >= INET_ADDRSTRLEN ||
		    !in4_pton(text, len, (u8 *)&addr->ip4, -1, &end) ||
		    end != text + len || !addr_fields_strict(text, len))
			return "SAID: bad IPv4 destination";
	} else {
		if (len >= INET6_ADDRSTRLEN ||
		    !in6_pton(text, len, addr->ip6.s6_addr, -1, &end) ||
		    end != text + len || !addr_fields_strict(text, len))
			return "SAID: bad IPv6 destination";
	}
	return NULL;
}

static const char *parse_dst(const char *text, size_t len, char sep,
			     struct klips_said *said)
{
	bool ip6;

	if (!len)
		return "SAID: destination is empty";
	ip6 = memchr(text, ':', len);
	if (sep == '.' && ip6)
		return "SAID: '.' needs an IPv4 destination";
	if (sep == ':' && !ip6)
		return "SAID: ':' needs an IPv6 destination";
	said->family = ip6 ? AF_INET6 : AF_INET;
	return parse_addr(text, len, said->family, &said->dst);
}

static const char *parse_sa(const char *text, size_t len,
			    struct klips_said *said)
{
	const char *at = memchr(text, '@', len);
	const char *spi, *msg = NULL;
	unsigned int base = 16;
	char sep = 0;
	size_t n;

	if (!at)
		return "SAID: missing '@'";
	n = parse_proto(text, at - text, &said->proto, &msg);
	if (!n)
		return msg;
	spi = text + n;
	if (spi < at && (*spi == '.' || *spi == ':'))
		sep = *spi++;
	else if (at - spi >= 2 && spi[0] == '0' && tolower(spi[1]) == 'x')
		spi += 2;
	else
		base = 10;	/* ttosa's base 0, minus the octal */
	msg = parse_spi(spi, at - spi, base, &said->spi);
	if (msg)
		return msg;
	return parse_dst(at + 1, text + len - (at + 1), sep, said);
}

/**
 * klips_said_parse() - parse SAID text
 * @text: the text, not necessarily NUL-terminated
 * @len: its length; a NUL within it is an error
 * @said: the result, zeroed first, left unchanged on error
 * @errmsg: set to a static message naming the wrong part on error; may be NULL
 *
 * The reserved SPI range is not checked here: see klips_said_spi_valid().
 *
 * Return: 0, or -EINVAL.
 */
int klips_said_parse(const char *text, size_t len, struct klips_said *said,
		     const char **errmsg)
{
	struct klips_said tmp;
	const char *msg;

	memset(&tmp, 0, sizeof(tmp));
	if (!len)
		msg = "SAID: empty";
	else if (memchr(text, '\0', len))
		msg = "SAID: contains a NUL byte";
	else if (text[0] == '%')
		msg = parse_shunt(text, len, &tmp);
	else
		msg = parse_sa(text, len, &tmp);
	if (msg) {
		if (errmsg)
			*errmsg = msg;
		return -EINVAL;
	}
	*said = tmp;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_said_parse);

/* RFC 5952: only ::ffff:0:0/96 keeps the dotted quad (section 5). */
static int format_ip6(const struct in6_addr *addr, char *buf, size_t size)
{
	int best = -1, best_len = 1, run, len = 0, i;
	u16 group[8];

	if (ipv6_addr_v4mapped(addr))
		return scnprintf(buf, size, "::ffff:%pI4", &addr->s6_addr32[3]);
	for (i = 0; i < 8; i++)
		group[i] = ntohs(addr->s6_addr16[i]);
	/* 4.2: compress the longest run of 2+ zero groups, the first on a tie */
	for (i = 0; i < 8; i++) {
		for (run = 0; i + run < 8 && !group[i + run]; run++)
			;
		if (run > best_len) {
			best = i;
			best_len = run;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			len += scnprintf(buf + len, size - len, "::");
			i += best_len - 1;
			continue;
		}
		len += scnprintf(buf + len, size - len, "%s%x",
				 i && i != best + best_len ? ":" : "", group[i]);
	}
	return len;
}

/**
 * klips_addr_format() - print an address the way SAID text and /proc show it
 * @family: AF_INET or AF_INET6; anything else prints as "?"
 * @addr: the address
 * @buf: where to print
 * @size: size of @buf; KLIPS_SAID_BUFLEN always suffices
 *
 * Like scnprintf(): the text is truncated to fit and NUL-terminated when
 * @size > 0.
 *
 * Return: the number of characters written, NUL excluded.
 */
int klips_addr_format(u8 family, const union klips_addr *addr, char *buf,
		      size_t size)
{
	switch (family) {
	case AF_INET:
		return scnprintf(buf, size, "%pI4", &addr->ip4);
	case AF_INET6:
		return format_ip6(&addr->ip6, buf, size);
	default:
		return scnprintf(buf, size, "?");
	}
}
EXPORT_SYMBOL_IF_KUNIT(klips_addr_format);

static const char *shunt_of(const struct klips_said *said)
{
	size_t n = said->family == AF_INET6 ? sizeof(said->dst.ip6) :
					      sizeof(said->dst.ip4);
	size_t i;

	if (memchr_inv(&said->dst, 0, n))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(shunts); i++) {
		if (shunts[i].proto == said->proto &&
		    shunts[i].family == said->family &&
		    shunts[i].spi == said->spi)
			return shunts[i].name;
	}
	return NULL;
}

/**
 * klips_said_format() - print a SAID
 * @said: the SAID
 * @buf: where to print
 * @size: size of @buf; KLIPS_SAID_BUFLEN always suffices
 *
 * Shunts print as their "%name"; a protocol without a prefix as "unk<N>",
 * which does not parse back. Truncates and NUL-terminates like scnprintf().
 *
 * Return: the number of characters written, NUL excluded.
 */
int klips_said_format(const struct klips_said *said, char *buf, size_t size)
{
	const char *shunt = shunt_of(said);
	size_t i;
	int len;

	if (shunt)
		return scnprintf(buf, size, "%s", shunt);
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == said->proto)
			break;
	if (i < ARRAY_SIZE(protos))
		len = scnprintf(buf, size, "%s", protos[i].name);
	else
		len = scnprintf(buf, size, "unk%u", said->proto);
	len += scnprintf(buf + len, size - len, "%c%x@",
			 said->family == AF_INET6 ? ':' : '.', said->spi);
	return len + klips_addr_format(said->family, &said->dst, buf + len,
				       size - len);
}
EXPORT_SYMBOL_IF_KUNIT(klips_said_format);

/**
 * klips_said_spi_valid() - may an SA use this SPI?
 * @said: the SAID
 *
 * SPIs 0..0xff are reserved (RFC 4303 2.1); an IPComp CPI is 16 bits, and
 * the well-known DEFLATE CPI is allowed (RFC 2394). Shunts are not SAs.
 *
 * Return: true if an SA may be created with this SAID.
 */
bool klips_said_spi_valid(const struct klips_said *said)
{
	switch (said->proto) {
	case IPPROTO_AH:
	case IPPROTO_ESP:
	case IPPROTO_IPIP:
		return said->spi >= KLIPS_SPI_MIN;
	case IPPROTO_COMP:
		return said->spi == KLIPS_CPI_DEFLATE ||
		       (said->spi >= KLIPS_SPI_MIN && said->spi <= KLIPS_CPI_MAX);
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(klips_said_spi_valid);

/**
 * klips_said_shunt_name() - the name of a shunt SPI
 * @spi: a KLIPS_SHUNT_* value
 *
 * Return: "%pass" etc., or NULL if @spi is not a shunt.
 */
const char *klips_said_shunt_name(u32 spi)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shunts); i++)
		if (shunts[i].proto == KLIPS_PROTO_INT && shunts[i].spi == spi)
			return shunts[i].name;
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(klips_said_shunt_name);
