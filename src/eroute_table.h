/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The eroute table's insides, shared by its maintenance (eroute.c) and its
 * lookup (eroute_lookup.c) only: everything else goes through eroute.h.
 */
#ifndef _KLIPS_EROUTE_TABLE_H
#define _KLIPS_EROUTE_TABLE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rhashtable.h>

#include "eroute.h"

struct klips_eroute_tuple {
	struct list_head list;		/* in table->tuples[], RCU, by rank */
	union klips_addr dmask;
	union klips_addr smask;
	u32 rank;			/* higher is probed first */
	u8 dst_len;
	u8 src_len;
	u8 need;			/* KLIPS_EROUTE_NEED_* */
	u8 words;			/* 32-bit words of an address */
	unsigned int refs;		/* entries of this shape */
	struct rcu_head rcu;
};

struct klips_eroute_table {
	struct rhashtable ht;		/* every entry, by canonical key */
	struct list_head tuples[2];	/* IPv4, IPv6 */
	struct rb_root tree;		/* every entry, by klips_eroute_key_cmp */
	struct mutex *lock;		/* held by writers and listings */
	unsigned int count;
	unsigned int max;
	unsigned int gen;		/* bumped on every change, for dumps */
};

static const struct rhashtable_params eroute_params = {
	.head_offset = offsetof(struct klips_eroute, node),
	.key_offset = offsetof(struct klips_eroute, key),
	.key_len = sizeof(struct klips_eroute_key),
	.automatic_shrinking = true,
};

/* The tuples of @family, highest rank first. */
static inline struct list_head *family_tuples(struct klips_eroute_table *t,
					      u8 family)
{
	return &t->tuples[family == AF_INET6];
}

#endif /* _KLIPS_EROUTE_TABLE_H */
