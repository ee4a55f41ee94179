/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klipsdebug: module-wide debug areas, each switched on or off as a whole.
 * Messages go to the kernel log at KERN_DEBUG through klips_dbg() only,
 * gated by nothing but the area mask. No area ever prints key material.
 */
#ifndef _KLIPS_DEBUG_H
#define _KLIPS_DEBUG_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>

/*
 * In the order /proc/net/ipsec_klipsdebug lists them
 * (Documentation/klips/proc.md).
 */
enum klips_debug_area {
	KLIPS_DBG_TUNNEL,
	KLIPS_DBG_XMIT,
	KLIPS_DBG_XFORM,
	KLIPS_DBG_EROUTE,
	KLIPS_DBG_SPI,
	KLIPS_DBG_RADIJ,
	KLIPS_DBG_ESP,
	KLIPS_DBG_AH,
	KLIPS_DBG_RCV,
	KLIPS_DBG_NETLINK,
	KLIPS_DBG_COMP,
	KLIPS_DBG_MAX
};

extern unsigned long klips_debug_mask;

const char *klips_debug_area_name(enum klips_debug_area area);
void klips_debug_set(unsigned long mask);

static inline bool klips_debug_on(enum klips_debug_area area)
{
	return READ_ONCE(klips_debug_mask) & BIT(area);
}

__printf(1, 2) void klips_debug_printk(const char *fmt, ...);

/*
 * Not pr_debug(): dynamic debug would gate it a second time, and the area
 * mask alone decides. Rate-limited per call site: an area switched on under
 * line-rate traffic must not flood the log (KLIPS's did).
 */
#define klips_dbg(area, fmt, ...)					\
	do {								\
		static DEFINE_RATELIMIT_STATE(_rs,			\
					      DEFAULT_RATELIMIT_INTERVAL, \
					      DEFAULT_RATELIMIT_BURST);	\
		if (unlikely(klips_debug_on(area)) && __ratelimit(&_rs)) \
			klips_debug_printk(KERN_DEBUG KLIPS_NAME ": " fmt, \
					   ##__VA_ARGS__);		\
	} while (0)

#endif /* _KLIPS_DEBUG_H */
