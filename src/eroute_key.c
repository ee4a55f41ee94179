// SPDX-License-Identifier: GPL-2.0
/*
 * The eroute key: what an eroute matches, validated and made canonical,
 * ranked and ordered, and printed for /proc.
 *
 * A key is canonical when its family is AF_INET or AF_INET6, its prefixes fit
 * the address and no host bit is set beyond them, its ports come with a
 * protocol that has ports, and every byte its family does not use is zero:
 * the table (eroute.c) hashes keys as bytes, so two keys for the same traffic
 * must be equal byte for byte.
 *
 * A key's shape (its family, its prefix lengths, which of protocol and ports
 * it fixes) ranks it for matching, as Documentation/klips/proc.md orders
 * ipsec_eroute; klips_eroute_key_cmp() extends the rank to the total order
 * that /proc lists. No allocation, no locking.
 */
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "eroute.h"

/**
 * klips_eroute_key_need() - which fields a key fixes besides its prefixes
 * @k: a canonical key
 *
 * Return: its KLIPS_EROUTE_NEED_* bits.
 */
u8 klips_eroute_key_need(const struct klips_eroute_key *k)
{
	return (k->proto ? KLIPS_EROUTE_NEED_PROTO : 0) |
	       (k->dport ? KLIPS_EROUTE_NEED_DPORT : 0) |
	       (k->sport ? KLIPS_EROUTE_NEED_SPORT : 0);
}

/**
 * klips_eroute_key_rank() - a key's shape as a matching priority
 * @k: a canonical key
 *
 * The longer destination prefix first, then the longer source prefix, then
 * klips_eroute_key_need(): within a family, the keys of one shape, and only
 * they, share it.
 *
 * Return: the rank; the higher matches first.
 */
u32 klips_eroute_key_rank(const struct klips_eroute_key *k)
{
	return k->dst_len << 16 | k->src_len << 8 | klips_eroute_key_need(k);
}

static bool proto_has_ports(u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_DCCP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		return true;
	default:
		return false;
	}
}

/**
 * klips_eroute_make_mask() - the mask of a prefix
 * @mask: set to @len one bits, then zeros
 * @len: the prefix length, 0..128
 */
void klips_eroute_make_mask(union klips_addr *mask, unsigned int len)
{
	memset(mask, 0, sizeof(*mask));
	memset(mask->ip6.s6_addr, 0xff, len / 8);
	if (len % 8)
		mask->ip6.s6_addr[len / 8] = (u8)(0xff00 >> (len % 8));
}

static bool host_bits_set(const union klips_addr *addr, unsigned int len,
			  unsigned int bytes)
{
	const u8 *p = addr->ip6.s6_addr;
	unsigned int i = len / 8;

	if (len % 8 && (p[i++] & (0xff >> (len % 8))))
		return true;
	return i < bytes && memchr_inv(p + i, 0, bytes - i);
}

static int check_prefixes(const struct klips_eroute_key *k, unsigned int bytes,
			  struct netlink_ext_ack *extack)
{
	if (k->src_len > bytes * 8) {
		NL_SET_ERR_MSG(extack, "eroute: source prefix longer than the address");
		return -EINVAL;
	}
	if (k->dst_len > bytes * 8) {
		NL_SET_ERR_MSG(extack, "eroute: destination prefix longer than the address");
		return -EINVAL;
	}
	/* KLIPS masked silently; refusing catches a typo in the prefix. */
	if (host_bits_set(&k->src, k->src_len, bytes)) {
		NL_SET_ERR_MSG(extack,
			       "eroute --src: host bits set beyond the prefix length");
		return -EINVAL;
	}
	if (host_bits_set(&k->dst, k->dst_len, bytes)) {
		NL_SET_ERR_MSG(extack,
			       "eroute --dst: host bits set beyond the prefix length");
		return -EINVAL;
	}
	return 0;
}

/**
 * klips_eroute_key_check() - validate selectors and make them canonical
 * @in: the selectors from a request
 * @out: set to their canonical form, the form the table stores
 * @extack: why they are refused
 *
 * What the table's add and del do first, and what the inbound policy of
 * eroute --addin, which is no table entry but takes the same prefixes, is
 * held to.
 *
 * Return: 0 or -EINVAL.
 */
int klips_eroute_key_check(const struct klips_eroute_key *in,
			   struct klips_eroute_key *out,
			   struct netlink_ext_ack *extack)
{
	unsigned int bytes = klips_eroute_addr_bytes(in->family);
	int err;

	if (!bytes) {
		NL_SET_ERR_MSG(extack, "eroute: family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	err = check_prefixes(in, bytes, extack);
	if (err)
		return err;
	if ((in->sport || in->dport) && !in->proto) {
		NL_SET_ERR_MSG(extack, "eroute: ports need a protocol");
		return -EINVAL;
	}
	if ((in->sport || in->dport) && !proto_has_ports(in->proto)) {
		NL_SET_ERR_MSG(extack,
			       "eroute: ports need TCP, UDP, UDP-Lite, SCTP or DCCP");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->src, &in->src, bytes);
	memcpy(&out->dst, &in->dst, bytes);
	out->family = in->family;
	out->src_len = in->src_len;
	out->dst_len = in->dst_len;
	out->proto = in->proto;
	out->sport = in->sport;
	out->dport = in->dport;
	return 0;
}

static int cmp_uint(unsigned int a, unsigned int b)
{
	return a < b ? -1 : a > b;
}

/**
 * klips_eroute_key_cmp() - the order of /proc/net/ipsec_eroute
 * @a: a key
 * @b: another key
 *
 * IPv4 before IPv6, then matching priority (higher first), then
 * destination, source, protocol, destination port and source port, each
 * numerically. Zero exactly when two canonical keys are equal.
 *
 * Return: negative, zero or positive as @a sorts before, with or after @b.
 */
int klips_eroute_key_cmp(const struct klips_eroute_key *a,
			 const struct klips_eroute_key *b)
{
	unsigned int bytes = klips_eroute_addr_bytes(a->family);
	int d;

	d = cmp_uint(a->family, b->family) ?:
	    cmp_uint(klips_eroute_key_rank(b), klips_eroute_key_rank(a));
	if (d)
		return d;
	/* Network byte order: memcmp() compares numerically. */
	d = memcmp(&a->dst, &b->dst, bytes) ?: memcmp(&a->src, &b->src, bytes);
	if (d)
		return d;
	return cmp_uint(a->proto, b->proto) ?:
	       cmp_uint(ntohs(a->dport), ntohs(b->dport)) ?:
	       cmp_uint(ntohs(a->sport), ntohs(b->sport));
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_key_cmp);

/* "<net>/<len>", ":<port>" when there is one; IPv6 then in brackets. */
static int format_selector(u8 family, const union klips_addr *net, u8 len,
			   __be16 port, char *buf, size_t size)
{
	bool bracket = port && family == AF_INET6;
	int n;

	n = scnprintf(buf, size, "%s", bracket ? "[" : "");
	n += klips_addr_format(family, net, buf + n, size - n);
	n += scnprintf(buf + n, size - n, "/%u%s", len, bracket ? "]" : "");
	if (port)
		n += scnprintf(buf + n, size - n, ":%u", ntohs(port));
	return n;
}

/**
 * klips_eroute_format() - an eroute's line of /proc/net/ipsec_eroute
 * @e: the eroute
 * @buf: where to print
 * @size: size of @buf; KLIPS_EROUTE_LINE_LEN always suffices
 *
 * Documentation/klips/proc.md: "<count> <src> -> <dst> => <SAID>[:<proto>]",
 * count in 10 columns, each selector in 18, all left-aligned; no newline.
 * Before ":<proto>" a SAID with a colon (an IPv6 SA) is bracketed so that the
 * protocol reads unambiguously; shunt names, colon-free, are not. Truncates and
 * NUL-terminates like scnprintf().
 *
 * Return: the number of characters written, NUL excluded.
 */
int klips_eroute_format(const struct klips_eroute *e, char *buf, size_t size)
{
	const struct klips_eroute_key *k = &e->key;
	char src[KLIPS_SAID_BUFLEN], dst[KLIPS_SAID_BUFLEN];
	char said[KLIPS_SAID_BUFLEN];
	bool bracket;
	int n;

	format_selector(k->family, &k->src, k->src_len, k->sport, src,
			sizeof(src));
	format_selector(k->family, &k->dst, k->dst_len, k->dport, dst,
			sizeof(dst));
	klips_said_format(&e->said, said, sizeof(said));
	n = scnprintf(buf, size, "%-10llu %-18s -> %-18s => ",
		      klips_eroute_packets(e), src, dst);
	if (!k->proto)
		return n + scnprintf(buf + n, size - n, "%s", said);
	bracket = strchr(said, ':');
	return n + scnprintf(buf + n, size - n, "%s%s%s:%u",
			     bracket ? "[" : "", said, bracket ? "]" : "",
			     k->proto);
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_format);
