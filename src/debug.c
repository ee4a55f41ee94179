// SPDX-License-Identifier: GPL-2.0
/*
 * klipsdebug areas. The mask is module-wide, as KLIPS's was: debugging is
 * a host administrator's tool, not per namespace.
 */
#include "klips.h"
#include "debug.h"

unsigned long klips_debug_mask;

static const char *const area_names[KLIPS_DBG_MAX] = {
	[KLIPS_DBG_TUNNEL]	= "tunnel",
	[KLIPS_DBG_XMIT]	= "xmit",
	[KLIPS_DBG_XFORM]	= "xform",
	[KLIPS_DBG_EROUTE]	= "eroute",
	[KLIPS_DBG_SPI]		= "spi",
	[KLIPS_DBG_RADIJ]	= "radij",
	[KLIPS_DBG_ESP]		= "esp",
	[KLIPS_DBG_AH]		= "ah",
	[KLIPS_DBG_RCV]		= "rcv",
	[KLIPS_DBG_NETLINK]	= "netlink",
	[KLIPS_DBG_COMP]	= "comp",
};

const char *klips_debug_area_name(enum klips_debug_area area)
{
	return area < KLIPS_DBG_MAX ? area_names[area] : NULL;
}

void klips_debug_set(unsigned long mask)
{
	WRITE_ONCE(klips_debug_mask, mask & GENMASK(KLIPS_DBG_MAX - 1, 0));
}

/* @fmt starts with its KERN_ level, which vprintk() honours. */
void klips_debug_printk(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vprintk(fmt, args);
	va_end(args);
}
