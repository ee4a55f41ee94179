/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsec spi, split in three: spi.c (the command line), sa.c (building the
 * SA_ADD request, lifetimes, warnings), sa_show.c (SAs as JSON and in
 * monitor lines).
 */
#ifndef _KLIPS_TOOL_SPI_H
#define _KLIPS_TOOL_SPI_H

#include <linux/klips.h>

#include "ipsec.h"

/*
 * An algorithm name (--esp, --ah, --comp) is 63 characters at most: the
 * kernel's attribute policy (NLA_NUL_STRING, .len = 63) refuses longer.
 */
#define SA_ALG_NAME_MAX	63

/* A lifetime limit set (soft or hard), by KLIPS_A_LIFETIME_* */
struct life {
	uint64_t val[KLIPS_A_LIFETIME_MAX + 1];
	unsigned int set;	/* bit per KLIPS_A_LIFETIME_* */
};

enum { LIFE_SOFT, LIFE_HARD };

/* An SA to add, parsed from the command line. */
struct sa_add {
	struct klips_said said;
	union klips_addr src, dst, natoa;	/* dst: a tun SA's outer dst */
	const char *esp, *ah, *comp;		/* algorithm names, as given */
	bool tun, esn, has_replay, has_enckey, has_authkey;
	uint8_t dir;				/* KLIPS_DIR_* */
	uint32_t replay;
	struct life life[2];			/* LIFE_SOFT, LIFE_HARD */
	uint8_t natt;				/* KLIPS_NATT_TYPE_* */
	uint16_t sport, dport;			/* host order */
	bool has_natoa;
	struct key enckey, authkey;
};

struct nl_req;

int parse_life(const struct ctx *ctx, char *text, struct life life[2]);
void sa_add_msg(struct nl_req *req, const struct sa_add *a);
void sa_add_warn(struct ctx *ctx, const struct sa_add *a);

int spi_json(struct ctx *ctx);

struct nlattr;
/* Monitor: "<said> <xform>" of an SA message's attributes. */
void sa_print_brief(const struct nlattr **tb);

#endif /* _KLIPS_TOOL_SPI_H */
