// SPDX-License-Identifier: GPL-2.0
/*
 * The SAID table of a namespace. Lookups are lock-free under RCU (the
 * packet path) or take a reference (process context); every change holds
 * the namespace's config mutex. The hash is rhashtable's jhash with a
 * per-table random seed, reseeded when chains grow: SPIs come from peers.
 */
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/timekeeping.h>
#include <kunit/visibility.h>

#include "klips.h"
#include "sa.h"

static unsigned int max_sas = 1 << 20;
module_param(max_sas, uint, 0644);
MODULE_PARM_DESC(max_sas, "most SAs one network namespace may hold");

/*
 * Every namespace together: a namespace root (any user, with user
 * namespaces) may create many namespaces, and an SA's crypto transforms
 * are not charged to its memory cgroup (the crypto API takes no gfp
 * flags). About 6.5 KiB an AES-GCM SA on 2 CPUs (README): the default
 * bounds them near 1.7 GiB.
 */
static unsigned int max_sas_total = 1 << 18;
module_param(max_sas_total, uint, 0644);
MODULE_PARM_DESC(max_sas_total, "most SAs all network namespaces together may hold");
static atomic_t sas_total = ATOMIC_INIT(0);

static unsigned int larval_lifetime = 30;
module_param(larval_lifetime, uint, 0644);
MODULE_PARM_DESC(larval_lifetime, "seconds a getspi SA waits to be filled in");

static const struct rhashtable_params sa_params = {
	/* The key ends at family: no padding is hashed or compared. */
	.key_len = offsetofend(struct klips_said, family),
	.key_offset = offsetof(struct klips_sa, said),
	.head_offset = offsetof(struct klips_sa, node),
	.automatic_shrinking = true,
};

struct klips_sa *klips_sadb_lookup_rcu(struct klips_net *kn,
				       const struct klips_said *said)
{
	return rhashtable_lookup(&kn->sas, said, sa_params);
}

/* Several SAs may share a key: the old and new SA of a rekey. */
static const struct rhashtable_params tun_params = {
	.key_len = offsetofend(struct klips_tun_key, family),
	.key_offset = offsetof(struct klips_sa, tun_key),
	.head_offset = offsetof(struct klips_sa, tun_node),
	.automatic_shrinking = true,
};

/* The IPIP SAs whose outer addresses are @key's. Context: RCU read side. */
struct rhlist_head *klips_sadb_tun_lookup_rcu(struct klips_net *kn,
					      const struct klips_tun_key *key)
{
	return rhltable_lookup(&kn->tuns, key, tun_params);
}

/* Index an IPIP SA by its outer addresses, if it has both. */
static int tun_index(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_tun_key *key = &sa->tun_key;
	size_t alen;
	int err;

	if (sa->said.proto != IPPROTO_IPIP || !sa->tun_family ||
	    sa->src_family != sa->tun_family)
		return 0;
	alen = sa->tun_family == AF_INET ? sizeof(__be32) :
					   sizeof(struct in6_addr);
	memset(key, 0, sizeof(*key));
	memcpy(&key->src, &sa->src, alen);
	memcpy(&key->dst, &sa->tun_dst, alen);
	key->family = sa->tun_family;
	err = rhltable_insert(&kn->tuns, &sa->tun_node, tun_params);
	if (err)
		key->family = 0;
	return err;
}

static void tun_unindex(struct klips_net *kn, struct klips_sa *sa)
{
	if (!sa->tun_key.family)
		return;
	rhltable_remove(&kn->tuns, &sa->tun_node, tun_params);
	sa->tun_key.family = 0;
}

/**
 * klips_sadb_from() - where a reader of the SA table resumes
 * @kn: the namespace, config mutex held
 * @serial: the serial of the next SA the reader wants to see
 *
 * Serials grow with every add and are never reused, so the SA a reader
 * stopped at may be gone (and its memory reused) without harm: the reader
 * goes on with the first SA at or after where it was, in O(log n).
 *
 * Return: the SA with the smallest serial not below @serial, or NULL.
 */
struct klips_sa *klips_sadb_from(struct klips_net *kn, u64 serial)
{
	struct rb_node *n = kn->sa_serials.rb_node;
	struct klips_sa *found = NULL;

	lockdep_assert_held(&kn->lock);
	while (n) {
		struct klips_sa *sa = rb_entry(n, struct klips_sa, serial_node);

		if (sa->serial >= serial) {
			found = sa;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_from);

/* The SA added after @sa, or NULL. Config mutex held. */
struct klips_sa *klips_sadb_next(struct klips_sa *sa)
{
	struct rb_node *n = rb_next(&sa->serial_node);

	return n ? rb_entry(n, struct klips_sa, serial_node) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_next);

/* The SA at a position in add order (a reader that seeks). */
struct klips_sa *klips_sadb_at(struct klips_net *kn, unsigned long pos)
{
	struct klips_sa *sa;

	for (sa = klips_sadb_from(kn, 0); sa; sa = klips_sadb_next(sa))
		if (!pos--)
			return sa;
	return NULL;
}

static bool serial_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct klips_sa, serial_node)->serial <
	       rb_entry(b, struct klips_sa, serial_node)->serial;
}

static void unlink_group(struct klips_sa *sa)
{
	struct klips_sa *inner, *outer;

	inner = rcu_dereference_protected(sa->inner,
					  lockdep_is_held(&sa->kn->lock));
	outer = rcu_dereference_protected(sa->outer,
					  lockdep_is_held(&sa->kn->lock));

	if (inner)
		RCU_INIT_POINTER(inner->outer, NULL);
	if (outer)
		RCU_INIT_POINTER(outer->inner, NULL);
	RCU_INIT_POINTER(sa->inner, NULL);
	RCU_INIT_POINTER(sa->outer, NULL);
}

/**
 * klips_group_first() - the innermost SA of @sa's group
 * @sa: an SA; its namespace's config mutex held
 *
 * Return: that SA, @sa itself if it is innermost or not grouped.
 */
struct klips_sa *klips_group_first(struct klips_sa *sa)
{
	struct klips_sa *inner;

	while ((inner = rcu_dereference_protected(sa->inner,
						  lockdep_is_held(&sa->kn->lock))))
		sa = inner;
	return sa;
}

/**
 * klips_group_next() - the SA outside @sa in its group
 * @sa: an SA; its namespace's config mutex held
 *
 * Return: that SA, NULL if @sa is the outermost.
 */
struct klips_sa *klips_group_next(struct klips_sa *sa)
{
	return rcu_dereference_protected(sa->outer,
					 lockdep_is_held(&sa->kn->lock));
}

/**
 * klips_sadb_del() - take one SA out of the table and out of its group
 * @kn: the namespace, config mutex held
 * @sa: the SA; the table's reference is dropped
 */
void klips_sadb_del(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_sa *g;

	lockdep_assert_held(&kn->lock);
	/*
	 * Deleting one SA deletes its group: every SA of it dies before any
	 * is unlinked, so the transmit path, finding no outer SA, can tell a
	 * group being deleted from an outermost layer (pin_group(), output.c).
	 */
	for (g = klips_group_first(sa); g; g = klips_group_next(g))
		WRITE_ONCE(g->state, KLIPS_STATE_DEAD);
	/* The states before the links; pairs with pin_group() (output.c). */
	smp_wmb();
	rhashtable_remove_fast(&kn->sas, &sa->node, sa_params);
	tun_unindex(kn, sa);
	rb_erase(&sa->serial_node, &kn->sa_serials);
	RB_CLEAR_NODE(&sa->serial_node);
	list_del_init(&sa->larval_list);
	klips_life_del(kn, sa);
	unlink_group(sa);
	kn->sa_count--;
	atomic_dec(&sas_total);
	kn->sa_gen++;
	klips_sa_put(sa);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_del);

/* KLIPS semantics: deleting an SA deletes every SA grouped with it. */
void klips_sadb_del_group(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_sa *next;

	lockdep_assert_held(&kn->lock);
	for (sa = klips_group_first(sa); sa; sa = next) {
		next = klips_group_next(sa);
		klips_sadb_del(kn, sa);
	}
}

void klips_sadb_flush(struct klips_net *kn)
{
	struct klips_sa *sa;

	lockdep_assert_held(&kn->lock);
	while ((sa = klips_sadb_from(kn, 0)))
		klips_sadb_del(kn, sa);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_flush);

/**
 * klips_sadb_add() - put a new SA into the table
 * @kn: the namespace, config mutex held
 * @sa: the SA; on success the table owns the caller's reference
 * @extack: why it is refused
 *
 * An SA with the SAID of a larval (getspi) SA replaces it: that is how a
 * reserved SPI is filled in.
 *
 * Return: 0, -EEXIST, -ENOSPC or an rhashtable error.
 */
int klips_sadb_add(struct klips_net *kn, struct klips_sa *sa,
		   struct netlink_ext_ack *extack)
{
	struct klips_sa *old;
	int err;

	lockdep_assert_held(&kn->lock);
	old = rhashtable_lookup_fast(&kn->sas, &sa->said, sa_params);
	if (old && old->state != KLIPS_STATE_LARVAL) {
		NL_SET_ERR_MSG(extack, "SAID: an SA with this SAID exists");
		return -EEXIST;
	}
	if (!old && kn->sa_count >= READ_ONCE(max_sas)) {
		NL_SET_ERR_MSG(extack,
			       "the namespace holds max_sas SAs already (module parameter)");
		return -ENOSPC;
	}
	if (!old && atomic_inc_return(&sas_total) > READ_ONCE(max_sas_total)) {
		atomic_dec(&sas_total);
		NL_SET_ERR_MSG(extack,
			       "the host holds max_sas_total SAs already, all namespaces together (module parameter)");
		return -ENOSPC;
	}
	err = tun_index(kn, sa);
	if (err)
		goto err_total;
	if (old) {
		err = rhashtable_replace_fast(&kn->sas, &old->node, &sa->node,
					      sa_params);
		if (err) {
			tun_unindex(kn, sa);
			return err;
		}
		tun_unindex(kn, old);
		/* Filled in, the SA is the larval one: same place, same serial. */
		sa->serial = old->serial;
		rb_replace_node(&old->serial_node, &sa->serial_node,
				&kn->sa_serials);
		RB_CLEAR_NODE(&old->serial_node);
		list_del_init(&old->larval_list);
		WRITE_ONCE(old->state, KLIPS_STATE_DEAD);
		klips_sa_put(old);
		klips_life_add(kn, sa);
		kn->sa_gen++;
		return 0;
	}
	err = rhashtable_insert_fast(&kn->sas, &sa->node, sa_params);
	if (err) {
		tun_unindex(kn, sa);
		goto err_total;
	}
	sa->serial = ++kn->sa_serial;
	rb_add(&sa->serial_node, &kn->sa_serials, serial_less);
	klips_life_add(kn, sa);
	kn->sa_count++;
	kn->sa_gen++;
	return 0;

err_total:
	if (!old)
		atomic_dec(&sas_total);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_add);

static u32 random_in(u32 lo, u32 hi)
{
	u32 span = hi - lo + 1;

	return span ? lo + get_random_u32() % span : get_random_u32();
}

/**
 * klips_sadb_getspi() - reserve an unused SPI as a larval SA
 * @kn: the namespace, config mutex held
 * @said: proto and destination in; the chosen SPI out
 * @lo: lowest SPI of the range
 * @hi: highest
 * @extack: why it failed
 *
 * Random and collision-free: random probes first, then a scan of the
 * range from a random start, so a nearly full small range still works.
 *
 * Return: 0, -ENOSPC when the range is full or the cap is reached, -ENOMEM.
 */
int klips_sadb_getspi(struct klips_net *kn, struct klips_said *said,
		      u32 lo, u32 hi, struct netlink_ext_ack *extack)
{
	struct klips_said try = *said;
	struct klips_sa *sa, *first;
	time64_t due;
	u32 start, i;
	int err;

	lockdep_assert_held(&kn->lock);
	for (i = 0; i < 16; i++) {
		try.spi = random_in(lo, hi);
		if (!rhashtable_lookup_fast(&kn->sas, &try, sa_params))
			goto found;
	}
	start = random_in(lo, hi);
	try.spi = start;
	do {
		if (!rhashtable_lookup_fast(&kn->sas, &try, sa_params))
			goto found;
		try.spi = try.spi == hi ? lo : try.spi + 1;
	} while (try.spi != start);
	NL_SET_ERR_MSG(extack, "--range: every SPI of the range is in use");
	return -ENOSPC;

found:
	sa = klips_sa_create_larval(kn, &try, READ_ONCE(larval_lifetime));
	if (!sa)
		return -ENOMEM;
	err = klips_sadb_add(kn, sa, extack);
	if (err) {
		klips_sa_put(sa);
		return err;
	}
	list_add_tail(&sa->larval_list, &kn->larval_list);
	/*
	 * The work is due when the oldest larval SA expires (or this one,
	 * should larval_lifetime have been lowered): never later, which is
	 * how a steady stream of getspi kept every larval SA alive, and
	 * never for one that is gone. It re-arms for the next one.
	 */
	first = list_first_entry(&kn->larval_list, struct klips_sa,
				 larval_list);
	due = min(first->larval_expires, sa->larval_expires);
	mod_delayed_work(system_wq, &kn->larval_work,
			 max_t(time64_t, due - ktime_get_seconds(), 0) * HZ);
	*said = try;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_sadb_getspi);

static void larval_expire(struct work_struct *work)
{
	struct klips_net *kn = container_of(to_delayed_work(work),
					    struct klips_net, larval_work);
	time64_t now = ktime_get_seconds();
	struct klips_sa *sa, *tmp;

	mutex_lock(&kn->lock);
	list_for_each_entry_safe(sa, tmp, &kn->larval_list, larval_list) {
		if (sa->larval_expires > now) {
			mod_delayed_work(system_wq, &kn->larval_work,
					 (sa->larval_expires - now) * HZ);
			break;
		}
		klips_sadb_del(kn, sa);
	}
	mutex_unlock(&kn->lock);
}

static int group_rank(u8 proto)
{
	switch (proto) {
	case IPPROTO_IPIP:
		return 0;
	case IPPROTO_COMP:
		return 1;
	case IPPROTO_ESP:
		return 2;
	default:
		return 3;
	}
}

/**
 * klips_sadb_group() - group SAs inner to outer, or ungroup one
 * @kn: the namespace, config mutex held
 * @sas: the SAs, inner to outer
 * @n: how many, 1 (ungroup its group) to 4
 * @extack: why it is refused
 *
 * The grammar is [tun] [comp] [esp] [ah] (Documentation/klips/design.md); an SA
 * already in a group cannot join another (EEXIST).
 *
 * Return: 0 or a negative errno; nothing changes on error.
 */
int klips_sadb_group(struct klips_net *kn, struct klips_sa **sas,
		     unsigned int n, struct netlink_ext_ack *extack)
{
	unsigned int i;

	lockdep_assert_held(&kn->lock);
	if (n == 1) {
		struct klips_sa *sa = sas[0], *next;

		for (sa = klips_group_first(sa); sa; sa = next) {
			next = klips_group_next(sa);
			unlink_group(sa);
		}
		kn->sa_gen++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (klips_sa_is_grouped(sas[i])) {
			NL_SET_ERR_MSG(extack, "spigrp: an SA is in a group already");
			return -EEXIST;
		}
		if (sas[i]->state == KLIPS_STATE_LARVAL) {
			NL_SET_ERR_MSG(extack, "spigrp: a larval SA cannot be grouped");
			return -EINVAL;
		}
		if (i && group_rank(sas[i]->said.proto) <=
			 group_rank(sas[i - 1]->said.proto)) {
			NL_SET_ERR_MSG(extack,
				       "spigrp: a group is [tun] [comp] [esp] [ah], inner to outer, each once");
			return -EINVAL;
		}
		if (i && sas[i]->dir != sas[0]->dir) {
			NL_SET_ERR_MSG(extack,
				       "spigrp: inbound and outbound SAs cannot be grouped");
			return -EINVAL;
		}
	}
	for (i = 0; i + 1 < n; i++) {
		rcu_assign_pointer(sas[i]->outer, sas[i + 1]);
		rcu_assign_pointer(sas[i + 1]->inner, sas[i]);
	}
	kn->sa_gen++;
	return 0;
}

int klips_sadb_init(struct klips_net *kn)
{
	int err;

	mutex_init(&kn->lock);
	kn->sa_serials = RB_ROOT;
	INIT_LIST_HEAD(&kn->larval_list);
	INIT_DELAYED_WORK(&kn->larval_work, larval_expire);
	klips_life_init(kn);
	err = rhashtable_init(&kn->sas, &sa_params);
	if (err)
		return err;
	err = rhltable_init(&kn->tuns, &tun_params);
	if (err)
		rhashtable_destroy(&kn->sas);
	return err;
}

void klips_sadb_exit(struct klips_net *kn)
{
	cancel_delayed_work_sync(&kn->larval_work);
	klips_life_exit(kn);
	mutex_lock(&kn->lock);
	klips_sadb_flush(kn);
	mutex_unlock(&kn->lock);
	rhltable_destroy(&kn->tuns);
	rhashtable_destroy(&kn->sas);
}
