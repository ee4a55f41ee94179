/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * klips: KLIPS-style IPsec, the userspace ABI.
 *
 * The generic netlink family is defined in Documentation/netlink/klips.yaml;
 * the constants below are what the module and the ipsec tool share.
 */
#ifndef _UAPI_LINUX_KLIPS_H
#define _UAPI_LINUX_KLIPS_H

#define KLIPS_GENL_NAME		"klips"
#define KLIPS_GENL_VERSION	1

/* The "internal" protocol of shunt SAIDs (KLIPS's IPPROTO_INT, 61). */
#define KLIPS_PROTO_INT		61

/* Shunt SPIs, proto KLIPS_PROTO_INT, destination 0.0.0.0. */
enum klips_shunt {
	KLIPS_SHUNT_PASS = 256,
	KLIPS_SHUNT_DROP = 257,
	KLIPS_SHUNT_REJECT = 258,
	KLIPS_SHUNT_HOLD = 259,
	KLIPS_SHUNT_TRAP = 260,
	KLIPS_SHUNT_TRAPSUBNET = 261,
};

/* Lowest SPI an SA may use; 0..0xff are reserved (RFC 4303 2.1). */
#define KLIPS_SPI_MIN		0x100
/* The well-known IPComp DEFLATE CPI (RFC 2394) and the CPI ceiling. */
#define KLIPS_CPI_DEFLATE	2
#define KLIPS_CPI_MAX		0xffff

#endif /* _UAPI_LINUX_KLIPS_H */
