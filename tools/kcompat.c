// SPDX-License-Identifier: GPL-2.0
/*
 * This tool's own user-space versions of the kernel library functions
 * that ../src/said.c calls (kcompat.h says how said.c is built against
 * them). hex_to_bin(), in4_pton() and in6_pton() keep the kernel's
 * contracts, down to where a parse stops: said.c relies on @srclen, on
 * @end and on a delimiter of -1, and refuses itself some of what the two
 * parsers accept (leading zeros, IPv6 groups of five digits or more).
 * libc's inet_pton() does not fit: it needs a NUL where the address ends,
 * does not say where it stopped, and refuses "01.2.3.4", which in4_pton()
 * takes. selftest.c holds them to the kernel's behaviour, case by case.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kcompat.h"

/* All bits set when @lo <= @v <= @hi, none otherwise, without a branch. */
static unsigned int in_range(int v, int lo, int hi)
{
	return ((unsigned int)((v - lo) | (hi - v)) >> 31) - 1;
}

/*
 * Key material goes through here (keys.c), so the value is selected with
 * masks rather than found by tests on @ch. Setting bit 5 lower-cases
 * 'A'-'F' and maps no other byte into 'a'-'f'.
 */
int hex_to_bin(unsigned char ch)
{
	int lower = ch | 0x20;
	unsigned int digit = in_range(ch, '0', '9');
	unsigned int letter = in_range(lower, 'a', 'f');

	return (int)(((ch - '0') & digit) | ((lower - 'a' + 10) & letter) |
		     ~(digit | letter));
}

void *memchr_inv(const void *start, int c, size_t bytes)
{
	const unsigned char *p = start;
	size_t i;

	for (i = 0; i < bytes; i++)
		if (p[i] != (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	const char *ip4 = strstr(fmt, "%pI4");
	va_list ap;
	int n;

	if (!size)
		return 0;
	va_start(ap, fmt);
	if (ip4) {
		const unsigned char *a = va_arg(ap, const void *);

		n = snprintf(buf, size, "%.*s%u.%u.%u.%u%s", (int)(ip4 - fmt),
			     fmt, a[0], a[1], a[2], a[3], ip4 + 4);
	} else {
		n = vsnprintf(buf, size, fmt, ap);
	}
	va_end(ap);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n >= size ? (int)size - 1 : n;
}

/*
 * The address parsers below share one contract (the kernel's): they read
 * at most @srclen bytes of @src, up to its NUL if @srclen is negative.
 * The address ends at the end of those, at a NUL or at the byte @delim
 * (0 to 255), and when @delim is -1 at any character that cannot be part
 * of an address either.
 * They return 1 with the address in @dst, or 0 with @dst untouched, and
 * in both cases point *@end (when @end is not NULL) at the character they
 * stopped on: the one that ended the address, or the first one that made
 * it wrong. A ':' also ends an IPv4 address, so that one can be the tail
 * of an IPv6 one or be followed by a port.
 */

/* Classes of characters; a hex digit is its value, 0 to 15. */
enum {
	ADDR_END = -1,
	ADDR_DOT = -2,
	ADDR_COLON = -3,
	ADDR_JUNK = -4,
};

/* The class of *@p, @p being in the @len bytes from @text. */
static int addr_char(const char *text, int len, const char *p, int delim)
{
	unsigned char ch;
	int val;

	if (p - text >= len)
		return ADDR_END;
	ch = *p;
	if (ch == delim || !ch)
		return ADDR_END;
	if (ch == ':')
		return ADDR_COLON;
	if (ch == '.')
		return ADDR_DOT;
	val = hex_to_bin(ch);
	if (val >= 0)
		return val;
	return delim == -1 ? ADDR_END : ADDR_JUNK;
}

/*
 * Four decimal numbers up to 255 joined by dots. Leading zeros are
 * allowed ("010" is ten). A number above 255 is wrong at the digit that
 * takes it there; a missing one, at whatever stands in its place. A hex
 * letter is wrong, not an end, even when @delim is -1.
 */
int in4_pton(const char *src, int srclen, u8 *dst, int delim,
	     const char **end)
{
	const char *p = src;
	unsigned int val;
	u8 addr[4];
	int n = 0, c, ok = 0;

	if (srclen < 0)
		srclen = strlen(src);
	for (;;) {
		const char *num = p;

		val = 0;
		for (;;) {
			c = addr_char(src, srclen, p, delim);
			if (c < 0 || c > 9)
				break;
			val = val * 10 + c;
			if (val > 255)
				goto out;
			p++;
		}
		if (p == num)
			goto out;
		addr[n++] = val;
		if (c != ADDR_DOT || n == 4)
			break;
		p++;
	}
	if (n == 4 && (c == ADDR_END || c == ADDR_COLON)) {
		memcpy(dst, addr, sizeof(addr));
		ok = 1;
	}
out:
	if (end)
		*end = p;
	return ok;
}

/*
 * Eight groups of one to four hex digits joined by colons; or fewer, with
 * one "::" standing for at least one zero group; the last two groups may
 * be written as an IPv4 address ("::ffff:192.0.2.1"). Zeros in front of a
 * group's digits do not count, any number of them is allowed. A group is
 * wrong at its fifth digit; text that leaves no room for another group is
 * wrong at the ':' that would start one, or the "::" that would stand for
 * one.
 */
int in6_pton(const char *src, int srclen, u8 *dst, int delim,
	     const char **end)
{
	const char *p = src;
	int room = 8;		/* groups still free; a "::" takes one */
	int gap = -1;		/* how many groups came before "::", if any */
	int n = 0;		/* groups read */
	int c, i, ok = 0;
	u16 group[8];
	u8 quad[4];

	if (srclen < 0)
		srclen = strlen(src);
	/* A leading ':' must be the first half of "::": stop on the second. */
	if (addr_char(src, srclen, p, delim) == ADDR_COLON) {
		p++;
		if (addr_char(src, srclen, p, delim) != ADDR_COLON)
			goto out;
	}
	for (;;) {
		const char *field;
		unsigned int val = 0;

		if (addr_char(src, srclen, p, delim) == ADDR_COLON) {
			/* The second ':' of "::" */
			if (gap >= 0)
				goto out;
			gap = n;
			room--;
			p++;
			if (addr_char(src, srclen, p, delim) == ADDR_END)
				break;
			if (!room)
				goto out;
		}
		field = p;
		while ((c = addr_char(src, srclen, p, delim)) >= 0) {
			if (val > 0xfff)
				goto out;
			val = val << 4 | c;
			p++;
		}
		if (p == field)
			goto out;
		if (c == ADDR_DOT) {
			/* The last two groups; exactly those if no "::". */
			if (room < 2 || (gap < 0 && room > 2))
				goto out;
			if (!in4_pton(field, srclen - (int)(field - src), quad,
				      delim, &p))
				goto out;
			group[n++] = quad[0] << 8 | quad[1];
			group[n++] = quad[2] << 8 | quad[3];
			break;
		}
		group[n++] = val;
		room--;
		if (c == ADDR_END) {
			if (gap < 0 && room)
				goto out;
			break;
		}
		if (c != ADDR_COLON || !room)
			goto out;
		p++;
	}
	/* The groups after "::" go to the end; zeros fill the gap. */
	if (gap < 0)
		gap = n;
	memset(dst, 0, 16);
	for (i = 0; i < n; i++) {
		int at = i < gap ? i : i + 8 - n;

		dst[2 * at] = group[i] >> 8;
		dst[2 * at + 1] = group[i] & 0xff;
	}
	ok = 1;
out:
	if (end)
		*end = p;
	return ok;
}
