// SPDX-License-Identifier: GPL-2.0
/*
 * The eroute table: policy lookup by tuple-space search.
 *
 * Eroutes of one "shape" (family, destination and source prefix lengths,
 * which of protocol, source port and destination port they fix) form a
 * tuple. All eroutes live in one rhashtable keyed by their canonical key,
 * shape included, so an eroute of one tuple never equals an eroute of
 * another. A lookup walks the family's tuples from the highest matching
 * priority down, masks the packet to each tuple's shape and probes the hash:
 * the first hit is the answer, since every tuple after it ranks lower.
 * The key itself (its checks, canonical form, rank, order and /proc text)
 * is eroute_key.c's; the lookup, the packet path's side, eroute_lookup.c's.
 *
 * Cost: a lookup is O(T) hash probes, T the number of distinct shapes in
 * the packet's family (a handful in practice, at most the entry cap),
 * independent of the number of eroutes. add/del are O(T + log n).
 * Listing walks an rbtree of all entries in /proc order, so that a reader
 * resuming after the last key it printed costs O(log n).
 *
 * Locking: readers hold rcu_read_lock() only. Writers (and listings) hold
 * the mutex given to klips_eroute_table_new(), which add, del, flush, first
 * and next_after assert with lockdep.
 * Entries are never changed once published: a replace swaps in a new entry
 * (rhashtable_replace_fast(), readers see the old or the new) that adopts
 * the old one's counter. Removed entries and tuples are freed after a grace
 * period.
 *
 * Memory: 128 bytes per entry (struct klips_eroute) plus 8 bytes per
 * possible CPU for its counter, plus the rhashtable's buckets (8 bytes each,
 * 1.3 to 3.3 per entry); a tuple is 80 bytes. Entries, counters and tuples
 * are memcg-accounted; the rhashtable's bucket arrays are not (the
 * rhashtable API allocates them itself), but the entry cap bounds them.
 *
 * The rhashtable hashes with a random seed per bucket array and re-seeds
 * when a chain grows long, so chosen addresses cannot pile into one bucket.
 */
#include <linux/build_bug.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rculist.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <kunit/visibility.h>

#include "eroute_table.h"

/* Hashed and compared as bytes: no padding may hide in the key. */
static_assert(sizeof(struct klips_eroute_key) ==
	      2 * sizeof(union klips_addr) + 4 + 2 * sizeof(__be16));

/**
 * klips_eroute_table_new() - an empty eroute table
 * @lock: the mutex that every caller of add, del, flush, first and
 *	next_after holds (the namespace's config mutex)
 * @max_entries: the cap on eroutes; adding beyond it fails with -ENOSPC
 *
 * Return: the table, or ERR_PTR(-ENOMEM).
 */
struct klips_eroute_table *klips_eroute_table_new(struct mutex *lock,
						  unsigned int max_entries)
{
	struct klips_eroute_table *t;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	err = rhashtable_init(&t->ht, &eroute_params);
	if (err) {
		kfree(t);
		return ERR_PTR(err);
	}
	INIT_LIST_HEAD(&t->tuples[0]);
	INIT_LIST_HEAD(&t->tuples[1]);
	t->tree = RB_ROOT;
	t->lock = lock;
	t->max = max_entries;
	return t;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_table_new);

/* The tuple of @k's shape, or NULL and in *@pos where to insert it. */
static struct klips_eroute_tuple *tuple_find(struct klips_eroute_table *t,
					     const struct klips_eroute_key *k,
					     struct list_head **pos)
{
	struct list_head *head = family_tuples(t, k->family);
	u32 rank = klips_eroute_key_rank(k);
	struct klips_eroute_tuple *tp;

	list_for_each_entry(tp, head, list) {
		if (tp->rank == rank)
			return tp;
		if (tp->rank < rank)
			break;
	}
	*pos = &tp->list;
	return NULL;
}

static struct klips_eroute_tuple *tuple_new(const struct klips_eroute_key *k)
{
	struct klips_eroute_tuple *tp;

	tp = kzalloc(sizeof(*tp), GFP_KERNEL_ACCOUNT);
	if (!tp)
		return NULL;
	klips_eroute_make_mask(&tp->dmask, k->dst_len);
	klips_eroute_make_mask(&tp->smask, k->src_len);
	tp->rank = klips_eroute_key_rank(k);
	tp->dst_len = k->dst_len;
	tp->src_len = k->src_len;
	tp->need = klips_eroute_key_need(k);
	tp->words = klips_eroute_addr_bytes(k->family) / sizeof(u32);
	return tp;
}

static void tuple_put(struct klips_eroute_tuple *tp)
{
	if (--tp->refs)
		return;
	list_del_rcu(&tp->list);
	kfree_rcu(tp, rcu);
}

/* The entry with key @k, or NULL and in *@link, *@parent where it goes. */
static struct klips_eroute *tree_find(struct klips_eroute_table *t,
				      const struct klips_eroute_key *k,
				      struct rb_node ***link,
				      struct rb_node **parent)
{
	struct rb_node **p = &t->tree.rb_node;
	struct klips_eroute *e;
	int d;

	*parent = NULL;
	while (*p) {
		e = rb_entry(*p, struct klips_eroute, rb);
		d = klips_eroute_key_cmp(k, &e->key);
		if (!d)
			return e;
		*parent = *p;
		p = d < 0 ? &(*p)->rb_left : &(*p)->rb_right;
	}
	*link = p;
	return NULL;
}

static void entry_free_rcu(struct rcu_head *head)
{
	struct klips_eroute *e = container_of(head, struct klips_eroute, rcu);

	free_percpu(e->packets);
	kfree(e);
}

static int entry_insert(struct klips_eroute_table *t, struct klips_eroute *e,
			struct rb_node **link, struct rb_node *parent)
{
	struct klips_eroute_tuple *tp, *fresh = NULL;
	struct list_head *pos;
	int err = -ENOMEM;

	e->packets = alloc_percpu_gfp(u64, GFP_KERNEL_ACCOUNT);
	if (!e->packets)
		return -ENOMEM;
	tp = tuple_find(t, &e->key, &pos);
	if (!tp) {
		tp = tuple_new(&e->key);
		if (!tp)
			goto err_free_packets;
		fresh = tp;
	}
	err = rhashtable_insert_fast(&t->ht, &e->node, eroute_params);
	if (err)
		goto err_free_tuple;
	/* Readers find a new tuple only once it has its first entry. */
	if (fresh)
		list_add_tail_rcu(&fresh->list, pos);
	tp->refs++;
	e->tuple = tp;
	rb_link_node(&e->rb, parent, link);
	rb_insert_color(&e->rb, &t->tree);
	WRITE_ONCE(t->count, t->count + 1);
	t->gen++;
	return 0;

err_free_tuple:
	kfree(fresh);
err_free_packets:
	free_percpu(e->packets);
	return err;
}

/* Swap @e in for @old: readers see one or the other, never neither. */
static int entry_replace(struct klips_eroute_table *t, struct klips_eroute *old,
			 struct klips_eroute *e)
{
	int err;

	e->packets = old->packets;
	e->tuple = old->tuple;
	err = rhashtable_replace_fast(&t->ht, &old->node, &e->node,
				      eroute_params);
	if (WARN_ON_ONCE(err))
		return err;
	rb_replace_node(&old->rb, &e->rb, &t->tree);
	t->gen++;
	/* Late readers of @old still count into the adopted counter. */
	kfree_rcu(old, rcu);
	return 0;
}

/**
 * klips_eroute_add() - add an eroute, or replace the target of one
 * @t: the table; the caller holds its lock
 * @key: what to match; must be canonical (see struct klips_eroute_key)
 * @said: the target SA group's SAID, or a shunt
 * @replace: if an eroute with @key exists, change its target (keeping its
 *	packet count) instead of failing; if none does, add it
 * @extack: says why on -EINVAL, -EEXIST, -ENOSPC
 *
 * Return: 0, -EINVAL (key not canonical), -EEXIST, -ENOSPC (the cap),
 * or -ENOMEM.
 */
int klips_eroute_add(struct klips_eroute_table *t,
		     const struct klips_eroute_key *key,
		     const struct klips_said *said, bool replace,
		     struct netlink_ext_ack *extack)
{
	struct klips_eroute *old, *e;
	struct rb_node **link, *parent;
	struct klips_eroute_key k;
	int err;

	lockdep_assert_held(t->lock);
	err = klips_eroute_key_check(key, &k, extack);
	if (err)
		return err;
	old = tree_find(t, &k, &link, &parent);
	if (old && !replace) {
		NL_SET_ERR_MSG(extack, "eroute: already exists");
		return -EEXIST;
	}
	if (!old && t->count >= t->max) {
		NL_SET_ERR_MSG(extack,
			       "eroute: the namespace holds max_eroutes eroutes already (module parameter)");
		return -ENOSPC;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	e->key = k;
	e->said = *said;
	err = old ? entry_replace(t, old, e) : entry_insert(t, e, link, parent);
	if (err)
		kfree(e);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_add);

static void entry_remove(struct klips_eroute_table *t, struct klips_eroute *e)
{
	WARN_ON_ONCE(rhashtable_remove_fast(&t->ht, &e->node, eroute_params));
	rb_erase(&e->rb, &t->tree);
	tuple_put(e->tuple);
	WRITE_ONCE(t->count, t->count - 1);
	t->gen++;
	call_rcu(&e->rcu, entry_free_rcu);
}

/**
 * klips_eroute_get() - the eroute with exactly this key
 * @t: the table; the caller holds its lock
 * @key: a canonical key (klips_eroute_key_check())
 *
 * Return: the eroute, valid while the lock is held, or NULL.
 */
struct klips_eroute *klips_eroute_get(struct klips_eroute_table *t,
				      const struct klips_eroute_key *key)
{
	struct rb_node **link, *parent;

	lockdep_assert_held(t->lock);
	return tree_find(t, key, &link, &parent);
}

/**
 * klips_eroute_del() - delete an eroute
 * @t: the table; the caller holds its lock
 * @key: the eroute's key, as it was added
 * @extack: says why on -EINVAL, -ENOENT
 *
 * Return: 0, -EINVAL (key not canonical) or -ENOENT.
 */
int klips_eroute_del(struct klips_eroute_table *t,
		     const struct klips_eroute_key *key,
		     struct netlink_ext_ack *extack)
{
	struct rb_node **link, *parent;
	struct klips_eroute_key k;
	struct klips_eroute *e;
	int err;

	lockdep_assert_held(t->lock);
	err = klips_eroute_key_check(key, &k, extack);
	if (err)
		return err;
	e = tree_find(t, &k, &link, &parent);
	if (!e) {
		NL_SET_ERR_MSG(extack, "eroute: no such eroute");
		return -ENOENT;
	}
	entry_remove(t, e);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_del);

static void flush(struct klips_eroute_table *t)
{
	struct klips_eroute_tuple *tp, *tnext;
	struct klips_eroute *e, *next;
	unsigned int i;

	/* Unlink the tuples first: readers stop probing at once. */
	for (i = 0; i < ARRAY_SIZE(t->tuples); i++) {
		list_for_each_entry_safe(tp, tnext, &t->tuples[i], list) {
			list_del_rcu(&tp->list);
			kfree_rcu(tp, rcu);
		}
	}
	rbtree_postorder_for_each_entry_safe(e, next, &t->tree, rb) {
		WARN_ON_ONCE(rhashtable_remove_fast(&t->ht, &e->node,
						    eroute_params));
		call_rcu(&e->rcu, entry_free_rcu);
		cond_resched();
	}
	t->tree = RB_ROOT;
	WRITE_ONCE(t->count, 0);
	t->gen++;
}

/**
 * klips_eroute_flush() - delete every eroute
 * @t: the table; the caller holds its lock
 */
void klips_eroute_flush(struct klips_eroute_table *t)
{
	lockdep_assert_held(t->lock);
	flush(t);
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_flush);

/**
 * klips_eroute_table_free() - flush and free a table
 * @t: the table, or NULL
 *
 * For the namespace's exit: no writer may remain (the lock is not taken);
 * readers that still hold the table are waited for. Sleeps for a grace
 * period, then in rcu_barrier() so that no RCU callback of this file runs
 * once the table is gone (and the module may be unloaded).
 */
void klips_eroute_table_free(struct klips_eroute_table *t)
{
	if (!t)
		return;
	flush(t);
	synchronize_rcu();
	rhashtable_destroy(&t->ht);
	kfree(t);
	rcu_barrier();
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_table_free);

/**
 * klips_eroute_count() - how many eroutes there are
 * @t: the table; no lock needed (the answer may be stale)
 *
 * Return: the number of eroutes.
 */
unsigned int klips_eroute_count(const struct klips_eroute_table *t)
{
	return READ_ONCE(t->count);
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_count);

/**
 * klips_eroute_gen() - the table's change count
 * @t: the table; the caller holds its lock
 *
 * A dump that resumes sees whether the table changed between its parts.
 *
 * Return: a number that every add, replace, delete and flush changes.
 */
unsigned int klips_eroute_gen(const struct klips_eroute_table *t)
{
	lockdep_assert_held(t->lock);
	return t->gen;
}

/**
 * klips_eroute_first() - the first eroute in /proc order
 * @t: the table; the caller holds its lock
 *
 * Return: the eroute, or NULL if there is none.
 */
struct klips_eroute *klips_eroute_first(struct klips_eroute_table *t)
{
	lockdep_assert_held(t->lock);
	return rb_entry_safe(rb_first(&t->tree), struct klips_eroute, rb);
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_first);

/**
 * klips_eroute_next_after() - the eroute that follows a key in /proc order
 * @t: the table; the caller holds its lock
 * @key: any key, in the table or not (it may have been deleted since a
 *	reader dropped the lock)
 *
 * O(log n), so that a dump resuming after its last key stays linear.
 *
 * Return: the first eroute whose key sorts after @key, or NULL.
 */
struct klips_eroute *klips_eroute_next_after(struct klips_eroute_table *t,
					     const struct klips_eroute_key *key)
{
	struct rb_node *n = t->tree.rb_node;
	struct klips_eroute *e, *next = NULL;

	lockdep_assert_held(t->lock);
	while (n) {
		e = rb_entry(n, struct klips_eroute, rb);
		if (klips_eroute_key_cmp(&e->key, key) > 0) {
			next = e;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return next;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_next_after);

/**
 * klips_eroute_packets() - how many packets matched an eroute
 * @e: the eroute
 *
 * Return: the sum over all CPUs.
 */
u64 klips_eroute_packets(const struct klips_eroute *e)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(e->packets, cpu));
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(klips_eroute_packets);
