// SPDX-License-Identifier: GPL-2.0
/*
 * The eroute lookup: the packet path's side of the table, under
 * rcu_read_lock() only (eroute.c says how the table is built).
 */
#include <linux/rculist.h>
#include <linux/rhashtable.h>
#include <kunit/visibility.h>

#include "eroute_table.h"

static void mask_addr(union klips_addr *out, const union klips_addr *in,
		      const union klips_addr *mask, unsigned int words)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		out->ip6.s6_addr32[i] = in->ip6.s6_addr32[i] &
					mask->ip6.s6_addr32[i];
}

/**
 * klips_eroute_lookup() - the eroute a packet matches
 * @t: the table
 * @family: AF_INET or AF_INET6
 * @saddr: the packet's source; for AF_INET only ->ip4 is read
 * @daddr: its destination, likewise
 * @proto: its transport protocol
 * @sport: its source port, 0 if it has none (or is a non-first fragment)
 * @dport: its destination port, likewise
 *
 * The packet path: the caller holds rcu_read_lock() (rcu_read_lock_bh()
 * alone does not satisfy rhashtable's lockdep check) and may use the entry
 * until it drops it. O(number of distinct eroute shapes of @family).
 *
 * Return: the eroute of highest priority that matches, or NULL.
 */
struct klips_eroute *klips_eroute_lookup(struct klips_eroute_table *t,
					 u8 family,
					 const union klips_addr *saddr,
					 const union klips_addr *daddr,
					 u8 proto, __be16 sport, __be16 dport)
{
	struct klips_eroute_key probe = { .family = family };
	struct klips_eroute_tuple *tp;
	struct klips_eroute *e;
	u8 have;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(),
			 "eroute lookup needs rcu_read_lock()");
	if (!klips_eroute_addr_bytes(family))
		return NULL;
	have = (proto ? KLIPS_EROUTE_NEED_PROTO : 0) |
	       (sport ? KLIPS_EROUTE_NEED_SPORT : 0) |
	       (dport ? KLIPS_EROUTE_NEED_DPORT : 0);
	list_for_each_entry_rcu(tp, family_tuples(t, family), list) {
		/*
		 * A zero the shape needs would turn the probe into a key of
		 * a lower shape, and skip the shapes ranked between.
		 */
		if (tp->need & ~have)
			continue;
		mask_addr(&probe.dst, daddr, &tp->dmask, tp->words);
		mask_addr(&probe.src, saddr, &tp->smask, tp->words);
		probe.dst_len = tp->dst_len;
		probe.src_len = tp->src_len;
		probe.proto = tp->need & KLIPS_EROUTE_NEED_PROTO ? proto : 0;
		probe.sport = tp->need & KLIPS_EROUTE_NEED_SPORT ? sport : 0;
		probe.dport = tp->need & KLIPS_EROUTE_NEED_DPORT ? dport : 0;
		e = rhashtable_lookup(&t->ht, &probe, eroute_params);
		if (e)
			return e;
	}
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_lookup);

/**
 * klips_eroute_has_ports() - does any eroute of @family match on ports?
 * @t: the table
 * @family: AF_INET or AF_INET6
 *
 * A fragment without ports must then be reassembled before the lookup.
 * Context: rcu_read_lock().
 */
bool klips_eroute_has_ports(struct klips_eroute_table *t, u8 family)
{
	struct klips_eroute_tuple *tp;

	if (!klips_eroute_addr_bytes(family))
		return false;
	list_for_each_entry_rcu(tp, family_tuples(t, family), list)
		if (tp->need &
		    (KLIPS_EROUTE_NEED_SPORT | KLIPS_EROUTE_NEED_DPORT))
			return true;
	return false;
}
