// SPDX-License-Identifier: GPL-2.0
/*
 * %hold and %trap (Documentation/klips/design.md, "Shunts and events"). A %hold
 * eroute keeps the newest packet of its flow until the eroute is replaced or
 * deleted; then the packet is sent again into ipsecN and meets whatever eroute
 * is there now (the new SA, usually). A %trap sends an ACQUIRE event to a
 * keying daemon and installs a %hold for the packet's host pair (%trapsubnet:
 * turns the whole eroute into a %hold) that expires after hold_timeout seconds
 * unless the daemon replaces it first.
 *
 * The packet path runs in softirq and cannot take the namespace's config
 * mutex that eroute changes need: a trap queues a request (bounded) that a
 * work item turns into the hold eroute and the ACQUIRE. Held packets live
 * in a small hash keyed by the hold eroute's key, under a spinlock.
 */
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/dst.h>

#include "klips.h"
#include "eroute.h"
#include "hold.h"

static unsigned int hold_timeout = 30;
module_param(hold_timeout, uint, 0644);
MODULE_PARM_DESC(hold_timeout,
		 "seconds a held packet waits, and a %trap's %hold eroute lives, before they go");

static unsigned int max_holds = 1024;
module_param(max_holds, uint, 0644);
MODULE_PARM_DESC(max_holds,
		 "most held flows per network namespace; packets beyond are counted in HoldDrop");

/* Trap requests not yet handled by the work item, per namespace. */
#define KLIPS_TRAP_PENDING_MAX	64

struct klips_hold {
	struct hlist_node node;
	struct klips_eroute_key key;	/* the %hold eroute's */
	struct sk_buff *skb;		/* the newest packet, or NULL */
	int ifindex;			/* the ipsecN it was sent into */
	unsigned long expires;		/* jiffies */
	bool from_trap;			/* installed by a trap: goes on expiry */
	struct klips_said revert;	/* what the key led to before, or none */
};

struct klips_trap_req {
	struct list_head list;
	struct klips_eroute_key hold;	/* the %hold to install */
	struct klips_eroute_key sel;	/* the ACQUIRE's selectors */
	struct klips_said trap;		/* %trap or %trapsubnet */
	struct sk_buff *skb;
	int ifindex;
};

struct klips_holds {
	struct klips_net *kn;
	spinlock_t lock;		/* table, count, pending, npending */
	DECLARE_HASHTABLE(table, 8);
	unsigned int count;
	struct list_head pending;
	unsigned int npending;
	u32 seed;
	bool dying;
	struct work_struct trap_work;
	struct delayed_work expire_work;
};

static const struct klips_said hold_said = {
	.proto = KLIPS_PROTO_INT,
	.family = AF_INET,
	.spi = KLIPS_SHUNT_HOLD,
};

static u32 key_hash(const struct klips_holds *h,
		    const struct klips_eroute_key *key)
{
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), h->seed);
}

/* Context: h->lock held. */
static struct klips_hold *find(struct klips_holds *h,
			       const struct klips_eroute_key *key)
{
	struct klips_hold *e;

	hash_for_each_possible(h->table, e, node, key_hash(h, key))
		if (!memcmp(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

/* Ready to wait: the route (which pins devices) goes, the device index stays. */
static void stash(struct sk_buff *skb)
{
	skb_dst_drop(skb);
	skb->dev = NULL;
}

/* Send a held packet into its ipsecN again; it meets today's eroutes. */
static void resend(struct klips_net *kn, struct sk_buff *skb, int ifindex)
{
	struct net_device *dev = dev_get_by_index(kn->net, ifindex);

	if (!dev || !klips_dev_is_klips(dev)) {
		if (dev)
			dev_put(dev);
		klips_stat_inc(kn, KLIPS_STAT_HOLD_DROP);
		kfree_skb(skb);
		return;
	}
	skb->dev = dev;
	dev_queue_xmit(skb);
	dev_put(dev);
}

static void discard(struct klips_net *kn, struct sk_buff *skb)
{
	if (skb) {
		klips_stat_inc(kn, KLIPS_STAT_HOLD_DROP);
		kfree_skb(skb);
	}
}

/* While anything is held, look for what expired once a second. */
static void arm_expiry(struct klips_holds *h)
{
	if (!h->dying)
		queue_delayed_work(system_wq, &h->expire_work, HZ);
}

/*
 * Keep @skb as @key's newest packet, making the hold if there is none.
 * Context: h->lock held. Return: the packet it replaces (or @skb itself
 * when no hold can be made), for the caller to discard after unlocking.
 */
static struct sk_buff *store(struct klips_holds *h,
			     const struct klips_eroute_key *key,
			     struct sk_buff *skb, int ifindex, gfp_t gfp,
			     struct klips_hold **made)
{
	struct klips_hold *e = find(h, key);
	struct sk_buff *old;

	if (!e) {
		if (h->dying || h->count >= READ_ONCE(max_holds))
			return skb;
		e = kzalloc(sizeof(*e), gfp | __GFP_ACCOUNT);
		if (!e)
			return skb;
		e->key = *key;
		e->expires = jiffies + READ_ONCE(hold_timeout) * HZ;
		hash_add(h->table, &e->node, key_hash(h, key));
		h->count++;
		if (made)
			*made = e;
		arm_expiry(h);
	}
	old = e->skb;
	e->skb = skb;
	e->ifindex = ifindex;
	return old;
}

/**
 * klips_hold_packet() - a packet matched a %hold eroute
 * @kn: the namespace
 * @key: the eroute's key
 * @skb: the packet, consumed
 * @dev: the ipsecN it was sent into
 *
 * Context: softirq (ndo_start_xmit).
 */
void klips_hold_packet(struct klips_net *kn, const struct klips_eroute_key *key,
		       struct sk_buff *skb, struct net_device *dev)
{
	struct klips_holds *h = kn->holds;
	struct sk_buff *old;

	stash(skb);
	spin_lock_bh(&h->lock);
	old = store(h, key, skb, dev->ifindex, GFP_ATOMIC, NULL);
	spin_unlock_bh(&h->lock);
	discard(kn, old);
}

/**
 * klips_trap_packet() - a packet matched a %trap or %trapsubnet eroute
 * @kn: the namespace
 * @trap: the trap eroute's key
 * @said: %trap or %trapsubnet
 * @sel: the packet's selectors (host pair, its protocol and ports)
 * @skb: the packet, consumed (held until the daemon answers)
 * @dev: the ipsecN it was sent into
 *
 * Context: softirq (ndo_start_xmit).
 */
void klips_trap_packet(struct klips_net *kn,
		       const struct klips_eroute_key *trap,
		       const struct klips_said *said,
		       const struct klips_eroute_key *sel,
		       struct sk_buff *skb, struct net_device *dev)
{
	struct klips_holds *h = kn->holds;
	struct klips_trap_req *r;
	struct sk_buff *old = NULL;
	struct klips_eroute_key hold;

	klips_stat_inc(kn, KLIPS_STAT_TRAP_COUNT);
	if (said->spi == KLIPS_SHUNT_TRAPSUBNET) {
		hold = *trap;
	} else {
		/* The host pair, as narrow in protocol and ports as the trap. */
		hold = *sel;
		hold.proto = trap->proto;
		hold.sport = trap->sport;
		hold.dport = trap->dport;
	}
	stash(skb);
	spin_lock_bh(&h->lock);
	list_for_each_entry(r, &h->pending, list) {
		if (!memcmp(&r->hold, &hold, sizeof(hold))) {
			old = r->skb;
			r->skb = skb;
			r->ifindex = dev->ifindex;
			goto out;
		}
	}
	if (h->dying || h->npending >= KLIPS_TRAP_PENDING_MAX) {
		old = skb;
		goto out;
	}
	r = kzalloc(sizeof(*r), GFP_ATOMIC | __GFP_ACCOUNT);
	if (!r) {
		old = skb;
		goto out;
	}
	r->hold = hold;
	r->sel = said->spi == KLIPS_SHUNT_TRAPSUBNET ? *trap : *sel;
	r->trap = *said;
	r->skb = skb;
	r->ifindex = dev->ifindex;
	list_add_tail(&r->list, &h->pending);
	h->npending++;
	queue_work(system_wq, &h->trap_work);
out:
	spin_unlock_bh(&h->lock);
	discard(kn, old);
}

static bool is_trap(const struct klips_said *said)
{
	return said->proto == KLIPS_PROTO_INT &&
	       (said->spi == KLIPS_SHUNT_TRAP ||
		said->spi == KLIPS_SHUNT_TRAPSUBNET);
}

static bool is_hold(const struct klips_said *said)
{
	return said->proto == KLIPS_PROTO_INT && said->spi == KLIPS_SHUNT_HOLD;
}

/* One trap request. Context: kn->lock held. */
static void trap_one(struct klips_net *kn, struct klips_trap_req *r,
		     struct sk_buff_head *again)
{
	struct klips_holds *h = kn->holds;
	struct klips_hold *made = NULL;
	struct klips_eroute *cur;
	struct klips_said revert = {};
	struct sk_buff *old;
	int err;

	cur = klips_eroute_get(kn->eroutes, &r->hold);
	if (cur && !is_trap(&cur->said)) {
		/* Someone was quicker: a hold is there, or the daemon's SA. */
		if (is_hold(&cur->said)) {
			spin_lock_bh(&h->lock);
			old = store(h, &r->hold, r->skb, r->ifindex, GFP_ATOMIC,
				    NULL);
			spin_unlock_bh(&h->lock);
			discard(kn, old);
		} else {
			/* The index rides in the cb until resend. */
			*(int *)r->skb->cb = r->ifindex;
			__skb_queue_tail(again, r->skb);
		}
		return;
	}
	spin_lock_bh(&h->lock);
	err = h->count >= READ_ONCE(max_holds) ? -ENOSPC : 0;
	spin_unlock_bh(&h->lock);
	if (!err) {
		if (cur)
			revert = cur->said;
		err = klips_eroute_add(kn->eroutes, &r->hold, &hold_said,
				       !!cur, NULL);
	}
	if (err) {
		discard(kn, r->skb);
		return;
	}
	spin_lock_bh(&h->lock);
	old = store(h, &r->hold, r->skb, r->ifindex, GFP_ATOMIC, &made);
	if (made) {
		made->from_trap = true;
		made->revert = revert;
	}
	spin_unlock_bh(&h->lock);
	discard(kn, old);
	if (!made && old == r->skb) {
		/* No room for the hold after all: no eroute without one. */
		if (revert.proto)
			klips_eroute_add(kn->eroutes, &r->hold, &revert, true,
					 NULL);
		else
			klips_eroute_del(kn->eroutes, &r->hold, NULL);
		return;
	}
	if (klips_nl_acquire_notify(kn, &r->sel, &r->trap))
		klips_stat_inc(kn, KLIPS_STAT_TRAP_SEND_COUNT);
}

static void trap_work(struct work_struct *work)
{
	struct klips_holds *h = container_of(work, struct klips_holds,
					     trap_work);
	struct klips_net *kn = h->kn;
	struct klips_trap_req *r, *tmp;
	struct sk_buff_head again;
	struct sk_buff *skb;
	LIST_HEAD(todo);

	__skb_queue_head_init(&again);
	spin_lock_bh(&h->lock);
	list_splice_init(&h->pending, &todo);
	h->npending = 0;
	spin_unlock_bh(&h->lock);

	mutex_lock(&kn->lock);
	list_for_each_entry_safe(r, tmp, &todo, list) {
		trap_one(kn, r, &again);
		kfree(r);
	}
	mutex_unlock(&kn->lock);
	while ((skb = __skb_dequeue(&again)))
		resend(kn, skb, *(int *)skb->cb);
}

/*
 * Held packets that waited hold_timeout go; a trap's %hold eroute goes
 * with them (or becomes the %trapsubnet it was), so that the next packet
 * traps again.
 */
static void expire_work(struct work_struct *work)
{
	struct klips_holds *h = container_of(to_delayed_work(work),
					     struct klips_holds, expire_work);
	struct klips_net *kn = h->kn;
	struct klips_hold *e;
	struct hlist_node *tmp;
	unsigned long now = jiffies;
	HLIST_HEAD(gone);
	bool more = false;
	int bkt;

	mutex_lock(&kn->lock);
	spin_lock_bh(&h->lock);
	hash_for_each_safe(h->table, bkt, tmp, e, node) {
		if (time_before(now, e->expires)) {
			more = true;
			continue;
		}
		hash_del(&e->node);
		h->count--;
		hlist_add_head(&e->node, &gone);
	}
	spin_unlock_bh(&h->lock);
	hlist_for_each_entry_safe(e, tmp, &gone, node) {
		struct klips_eroute *cur;

		cur = klips_eroute_get(kn->eroutes, &e->key);
		if (e->from_trap && cur && is_hold(&cur->said)) {
			if (e->revert.proto)
				klips_eroute_add(kn->eroutes, &e->key,
						 &e->revert, true, NULL);
			else
				klips_eroute_del(kn->eroutes, &e->key, NULL);
		}
		discard(kn, e->skb);
		kfree(e);
	}
	mutex_unlock(&kn->lock);
	if (more) {
		spin_lock_bh(&h->lock);
		arm_expiry(h);
		spin_unlock_bh(&h->lock);
	}
}

/**
 * klips_hold_changed() - an eroute was added, replaced or deleted
 * @kn: the namespace
 * @key: its key, canonical
 * @said: what it leads to now, or NULL if it is gone
 *
 * A hold whose eroute no longer holds lets its packet go: into ipsecN
 * again, through the new SA.
 * Context: kn->lock held (process context).
 */
void klips_hold_changed(struct klips_net *kn, const struct klips_eroute_key *key,
			const struct klips_said *said)
{
	struct klips_holds *h = kn->holds;
	struct sk_buff *skb = NULL;
	struct klips_hold *e;
	int ifindex = 0;

	if (said && is_hold(said))
		return;
	spin_lock_bh(&h->lock);
	e = find(h, key);
	if (e) {
		hash_del(&e->node);
		h->count--;
		skb = e->skb;
		ifindex = e->ifindex;
	}
	spin_unlock_bh(&h->lock);
	kfree(e);
	if (skb)
		resend(kn, skb, ifindex);
}

/**
 * klips_hold_flush() - every eroute is gone: let every held packet go
 * @kn: the namespace
 *
 * Context: kn->lock held (process context).
 */
void klips_hold_flush(struct klips_net *kn)
{
	struct klips_holds *h = kn->holds;
	struct sk_buff_head again;
	struct klips_hold *e;
	struct hlist_node *tmp;
	struct sk_buff *skb;
	int bkt;

	__skb_queue_head_init(&again);
	spin_lock_bh(&h->lock);
	hash_for_each_safe(h->table, bkt, tmp, e, node) {
		hash_del(&e->node);
		if (e->skb) {
			*(int *)e->skb->cb = e->ifindex;
			__skb_queue_tail(&again, e->skb);
		}
		kfree(e);
	}
	h->count = 0;
	spin_unlock_bh(&h->lock);
	while ((skb = __skb_dequeue(&again)))
		resend(kn, skb, *(int *)skb->cb);
}

int klips_hold_init(struct klips_net *kn)
{
	struct klips_holds *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);

	if (!h)
		return -ENOMEM;
	h->kn = kn;
	spin_lock_init(&h->lock);
	hash_init(h->table);
	INIT_LIST_HEAD(&h->pending);
	h->seed = get_random_u32();
	INIT_WORK(&h->trap_work, trap_work);
	INIT_DELAYED_WORK(&h->expire_work, expire_work);
	kn->holds = h;
	return 0;
}

/* The namespace goes: nothing is sent any more, everything is freed. */
void klips_hold_exit(struct klips_net *kn)
{
	struct klips_holds *h = kn->holds;
	struct klips_trap_req *r, *rtmp;
	struct hlist_node *tmp;
	struct klips_hold *e;
	int bkt;

	spin_lock_bh(&h->lock);
	h->dying = true;
	spin_unlock_bh(&h->lock);
	cancel_work_sync(&h->trap_work);
	cancel_delayed_work_sync(&h->expire_work);
	list_for_each_entry_safe(r, rtmp, &h->pending, list) {
		kfree_skb(r->skb);
		kfree(r);
	}
	hash_for_each_safe(h->table, bkt, tmp, e, node) {
		kfree_skb(e->skb);
		kfree(e);
	}
	kfree(h);
}
