/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SAID text: "<proto><sep><spi>@<dst>" and the "%shunt" names, as
 * Documentation/klips/proc.md defines them. Pure functions, no allocation, no
 * locking: used by /proc rendering, netlink and KUnit alike.
 */
#ifndef _KLIPS_SAID_H
#define _KLIPS_SAID_H

#include <linux/types.h>
#include <linux/in6.h>
#include <uapi/linux/klips.h>

/* Longest SAID text, terminating NUL included: "comp:ffffffff@" + an IPv6 address. */
#define KLIPS_SAID_BUFLEN 64

union klips_addr {
	__be32 ip4;
	struct in6_addr ip6;
};

struct klips_said {
	union klips_addr dst;	/* unused bytes are zero */
	u32 spi;		/* host order; a CPI for comp, a shunt number for int */
	u8 proto;		/* IPPROTO_AH, _ESP, _COMP, _IPIP or KLIPS_PROTO_INT */
	u8 family;		/* AF_INET or AF_INET6 */
};

int klips_said_parse(const char *text, size_t len, struct klips_said *said,
		     const char **errmsg);
int klips_said_format(const struct klips_said *said, char *buf, size_t size);
int klips_addr_format(u8 family, const union klips_addr *addr, char *buf,
		      size_t size);
bool klips_said_spi_valid(const struct klips_said *said);
const char *klips_said_shunt_name(u32 spi);

#endif /* _KLIPS_SAID_H */
