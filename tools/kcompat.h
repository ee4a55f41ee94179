/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API for ../src/said.c to compile in user
 * space, so that the tool and the module share one SAID grammar. said.c is
 * compiled with "-include kcompat.h -Ikshim": the headers under kshim/ are
 * empty stand-ins for the kernel-only ones it includes; the uapi ones it
 * also includes (linux/errno.h, linux/in.h, ...) are the system's, made
 * compatible with glibc's by including <netinet/in.h> first, here.
 */
#ifndef _KLIPS_TOOL_KCOMPAT_H
#define _KLIPS_TOOL_KCOMPAT_H

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define min_t(type, a, b) \
	((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define EXPORT_SYMBOL_IF_KUNIT(sym)

int hex_to_bin(unsigned char ch);
int in4_pton(const char *src, int srclen, u8 *dst, int delim,
	     const char **end);
int in6_pton(const char *src, int srclen, u8 *dst, int delim,
	     const char **end);
void *memchr_inv(const void *start, int c, size_t bytes);

/*
 * The kernel's scnprintf(): returns what was written, NUL excluded. Knows
 * "%pI4" (a pointer to a __be32) as long as it is the only conversion,
 * which is how said.c uses it.
 */
int scnprintf(char *buf, size_t size, const char *fmt, ...);

static inline bool ipv6_addr_v4mapped(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

#endif /* _KLIPS_TOOL_KCOMPAT_H */
