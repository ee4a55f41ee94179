// SPDX-License-Identifier: GPL-2.0
/*
 * SA lifetimes: soft and hard limits on bytes, packets, seconds since the SA
 * was added and seconds since its first use (Documentation/klips/design.md, "SA
 * lifecycle and groups"). Reaching a soft limit marks the SA dying (it keeps
 * carrying traffic) and sends one expire event; reaching a hard limit stops its
 * traffic at once and then deletes it, with its whole group, as
 * `ipsec spi --del` does: a group without one of its layers must carry nothing
 * (IPIP without its ESP would leave in clear).
 *
 * The packet path (softirq) and this file's own scan only mark an SA and
 * queue it on the namespace's pending list; the events and the deletion
 * happen in one delayed work per namespace, under the config mutex. The
 * same work scans the SAs that have a time limit when the nearest one is
 * due, so idle SAs expire on time too. Limits are whole seconds, so it
 * scans at most once a second, however many SAs there are; an SA not used
 * yet counts its use time as if used at the scan, and is looked at again
 * that much later (XFRM's timer does the same): the packet path never
 * has to wake the work for a first use.
 */
#include <linux/jiffies.h>
#include <linux/timekeeping.h>
#include <kunit/visibility.h>

#include "klips.h"
#include "sa.h"

/* Longest sleep of the work: a far limit is looked at again after it. */
#define LIFE_MAX_SLEEP	(24 * 3600)

static bool life_queue(struct klips_sa *sa)
{
	struct klips_net *kn = sa->kn;
	bool queued = false;

	spin_lock_bh(&kn->life_lock);
	/*
	 * The list takes a reference of its own. The packet path may count
	 * on an SA it found under RCU alone (an inbound tun or comp layer)
	 * after its last reference went: that SA is deleted already, and
	 * there is nothing left for the life work to do.
	 */
	if (list_empty(&sa->life_pending) &&
	    refcount_inc_not_zero(&sa->refcnt)) {
		list_add_tail(&sa->life_pending, &kn->life_pending);
		queued = true;
	}
	spin_unlock_bh(&kn->life_lock);
	return queued;
}

/* Mark @sa soft or hard expired; true the first time. Any context. */
static bool life_mark(struct klips_sa *sa, bool hard)
{
	int bit = hard ? KLIPS_LIFE_HARD : KLIPS_LIFE_SOFT;
	u8 old;

	if (test_bit(bit, &sa->life_flags) ||
	    test_and_set_bit(bit, &sa->life_flags))
		return false;
	/*
	 * Only these transitions happen outside the config mutex, and all
	 * by cmpxchg: a dead SA (deleted, or larval replaced) stays dead.
	 */
	old = READ_ONCE(sa->state);
	if (hard) {
		while (old == KLIPS_STATE_MATURE || old == KLIPS_STATE_DYING) {
			u8 cur = cmpxchg(&sa->state, old, KLIPS_STATE_DEAD);

			if (cur == old)
				break;
			old = cur;
		}
	} else if (old == KLIPS_STATE_MATURE) {
		cmpxchg(&sa->state, KLIPS_STATE_MATURE, KLIPS_STATE_DYING);
	}
	return true;
}

/**
 * klips_sa_expire() - @sa reached a soft or a hard limit
 * @sa: the SA; the caller holds a reference, or is in an RCU read-side
 *	section in which it found @sa
 * @hard: a hard limit (or its outbound sequence numbers ran out)
 *
 * A soft limit makes the SA dying, a hard one dead, at once; the event
 * and the deletion follow from the namespace's life work. Only the first
 * call for each kind does anything. Context: any but hard IRQ.
 */
void klips_sa_expire(struct klips_sa *sa, bool hard)
{
	if (life_mark(sa, hard) && life_queue(sa))
		mod_delayed_work(system_wq, &sa->kn->life_work, 0);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_expire);

/**
 * klips_sa_count_limited() - count a packet of an SA with a bytes or
 * packets limit, and check the limits
 * @sa: the SA
 * @bytes: what its transform took or returned
 *
 * Such an SA counts in two atomics rather than per CPU: summing the per-CPU
 * counters on every packet costs a read per possible CPU, and checking them
 * only now and then lets a limit slip by more than
 * Documentation/klips/design.md's one packet per CPU. One atomic add per packet
 * is what an admin pays for asking for a limit (XFRM takes the state's spinlock
 * on every packet of every SA); SAs without one keep the per-CPU counters. A
 * packet is counted as its transform starts, so the packets in flight on other
 * CPUs when a limit is reached are the only overshoot.
 */
void klips_sa_count_limited(struct klips_sa *sa, unsigned int bytes)
{
	u64 b = atomic64_add_return(bytes, &sa->life_bytes);
	u64 p = atomic64_inc_return(&sa->life_packets);

	if ((sa->hard.bytes && b >= sa->hard.bytes) ||
	    (sa->hard.packets && p >= sa->hard.packets))
		klips_sa_expire(sa, true);
	else if ((sa->soft.bytes && b >= sa->soft.bytes) ||
		 (sa->soft.packets && p >= sa->soft.packets))
		klips_sa_expire(sa, false);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_count_limited);

static time64_t after(time64_t t, u64 secs)
{
	return secs < (u64)(TIME64_MAX - t) ? t + (time64_t)secs : TIME64_MAX;
}

/*
 * When a set of limits is reached by time, TIME64_MAX if never. Unused, the
 * SA's use time counts from @now: a later look finds the first use.
 */
static time64_t life_deadline(const struct klips_sa *sa,
			      const struct klips_lifetime *l, time64_t now)
{
	time64_t first = READ_ONCE(sa->first_use), at = TIME64_MAX;

	if (l->addtime)
		at = after(sa->add_time, l->addtime);
	if (l->usetime)
		at = min(at, after(first ?: now, l->usetime));
	return at;
}

/* Is @sa still the one in the table? Config mutex held. */
static bool life_in_table(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_sa *cur;

	rcu_read_lock();
	cur = klips_sadb_lookup_rcu(kn, &sa->said);
	rcu_read_unlock();
	return cur == sa;
}

static void life_handle(struct klips_net *kn, struct klips_sa *sa)
{
	if (!life_in_table(kn, sa))
		return;		/* deleted in the meantime: nothing to say */
	/* A soft limit reached on its own has its event, even if late. */
	if (test_bit(KLIPS_LIFE_SOFT, &sa->life_flags) &&
	    !test_and_set_bit(KLIPS_LIFE_SOFT_SENT, &sa->life_flags))
		klips_nl_expire_notify(kn, sa, false);
	if (test_bit(KLIPS_LIFE_HARD, &sa->life_flags)) {
		klips_nl_expire_notify(kn, sa, true);
		klips_nl_group_del_notify(kn, sa);
		klips_sadb_del_group(kn, sa);
	}
}

static struct klips_sa *life_pop(struct klips_net *kn)
{
	struct klips_sa *sa;

	spin_lock_bh(&kn->life_lock);
	sa = list_first_entry_or_null(&kn->life_pending, struct klips_sa,
				      life_pending);
	if (sa)
		list_del_init(&sa->life_pending);
	spin_unlock_bh(&kn->life_lock);
	return sa;
}

static bool life_pending(struct klips_net *kn)
{
	bool ret;

	spin_lock_bh(&kn->life_lock);
	ret = !list_empty(&kn->life_pending);
	spin_unlock_bh(&kn->life_lock);
	return ret;
}

/*
 * Wake at @at (ktime_get_seconds() time) for the scan. A mark queued
 * meanwhile asked for the work at once: moving the work later must not
 * delay it, so look again afterwards (the packet path queues, then kicks).
 */
static void life_arm(struct klips_net *kn, time64_t at)
{
	time64_t now = ktime_get_seconds();
	unsigned long delay;

	if (at - now > LIFE_MAX_SLEEP) {
		delay = LIFE_MAX_SLEEP * HZ;
	} else {
		s64 ns = at * NSEC_PER_SEC - ktime_get_ns();

		delay = ns > 0 ? nsecs_to_jiffies(ns) + 1 : 0;
	}
	mod_delayed_work(system_wq, &kn->life_work, delay);
	if (life_pending(kn))
		mod_delayed_work(system_wq, &kn->life_work, 0);
}

/* The time limits: queue what is due. Return: when the next one is. */
static time64_t life_scan(struct klips_net *kn, time64_t now)
{
	time64_t next = TIME64_MAX;
	struct klips_sa *sa;

	list_for_each_entry(sa, &kn->life_list, life_list) {
		time64_t hard = life_deadline(sa, &sa->hard, now);
		time64_t soft = life_deadline(sa, &sa->soft, now);

		if (test_bit(KLIPS_LIFE_HARD, &sa->life_flags))
			continue;
		if (hard <= now) {
			if (life_mark(sa, true))
				life_queue(sa);
			continue;
		}
		next = min(next, hard);
		if (test_bit(KLIPS_LIFE_SOFT, &sa->life_flags))
			continue;
		if (soft <= now) {
			if (life_mark(sa, false))
				life_queue(sa);
		} else {
			next = min(next, soft);
		}
	}
	return next;
}

static void life_work(struct work_struct *work)
{
	struct klips_net *kn = container_of(to_delayed_work(work),
					    struct klips_net, life_work);
	struct klips_sa *sa;
	time64_t now;

	mutex_lock(&kn->lock);
	now = ktime_get_seconds();
	/* Woken for a mark only, the scan waits for its time. */
	if (now >= kn->life_next)
		kn->life_next = life_scan(kn, now);
	while ((sa = life_pop(kn))) {
		life_handle(kn, sa);
		klips_sa_put(sa);
	}
	if (kn->life_next != TIME64_MAX)
		life_arm(kn, kn->life_next);
	else if (life_pending(kn))
		mod_delayed_work(system_wq, &kn->life_work, 0);
	mutex_unlock(&kn->lock);
}

/**
 * klips_life_add() - an SA entered the table
 * @kn: the namespace, config mutex held
 * @sa: the SA
 *
 * An SA with a time limit is watched by the life work from now on.
 */
void klips_life_add(struct klips_net *kn, struct klips_sa *sa)
{
	time64_t now = ktime_get_seconds(), at;

	lockdep_assert_held(&kn->lock);
	if (!sa->soft.addtime && !sa->hard.addtime && !sa->soft.usetime &&
	    !sa->hard.usetime)
		return;
	list_add_tail(&sa->life_list, &kn->life_list);
	at = min(life_deadline(sa, &sa->soft, now),
		 life_deadline(sa, &sa->hard, now));
	if (at < kn->life_next) {
		kn->life_next = at;
		life_arm(kn, at);
	}
}

/* The SA leaves the table. Config mutex held. */
void klips_life_del(struct klips_net *kn, struct klips_sa *sa)
{
	lockdep_assert_held(&kn->lock);
	list_del_init(&sa->life_list);
}

void klips_life_init(struct klips_net *kn)
{
	INIT_LIST_HEAD(&kn->life_list);
	kn->life_next = TIME64_MAX;
	INIT_LIST_HEAD(&kn->life_pending);
	spin_lock_init(&kn->life_lock);
	INIT_DELAYED_WORK(&kn->life_work, life_work);
}

/*
 * The namespace goes: its devices and packet path are gone already, so
 * nothing queues any more. Before the table is flushed.
 */
void klips_life_exit(struct klips_net *kn)
{
	struct klips_sa *sa;

	cancel_delayed_work_sync(&kn->life_work);
	while ((sa = life_pop(kn)))
		klips_sa_put(sa);
}
