// SPDX-License-Identifier: GPL-2.0
/*
 * The events of the klips family, on its events multicast group: an SA
 * added or deleted (as sa-get shows it), a lifetime limit reached (life.c),
 * a packet at a trap eroute (hold.c) and a NAT-T peer's new mapping
 * (input.c). Every event of the module goes out from here, with the one
 * rate limit an event has (mapping events: one per SA and second); none is
 * sent when no one listens.
 */
#include <linux/jiffies.h>
#include <linux/timekeeping.h>

#include "netlink.h"

static bool listening(struct klips_net *kn)
{
	return genl_has_listeners(&klips_nl_family, kn->net,
				  KLIPS_NLGRP_EVENTS);
}

/* Sends and frees @skb; 0 if at least one listener got it. */
static int multicast(struct klips_net *kn, struct sk_buff *skb, gfp_t gfp)
{
	return genlmsg_multicast_netns(&klips_nl_family, kn->net, skb, 0,
				       KLIPS_NLGRP_EVENTS, gfp);
}

/* The whole SA, as sa-get shows it. Context: process. */
static void sa_notify(struct klips_net *kn, const struct klips_sa *sa, u8 cmd)
{
	struct sk_buff *skb;

	if (!listening(kn))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (klips_nl_fill_sa(skb, sa, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(skb);
		return;
	}
	multicast(kn, skb, GFP_KERNEL);
}

/* sa-add, or a larval SA filled in. */
void klips_nl_sa_add_notify(struct klips_net *kn, const struct klips_sa *sa)
{
	sa_notify(kn, sa, KLIPS_CMD_SA_ADD_NTF);
}

void klips_nl_sa_del_notify(struct klips_net *kn, const struct klips_sa *sa)
{
	sa_notify(kn, sa, KLIPS_CMD_SA_DEL_NTF);
}

/* sa-flush: a delete event per SA, in add order, as a listener saw them. */
void klips_nl_sa_flush_notify(struct klips_net *kn)
{
	struct klips_sa *sa;

	lockdep_assert_held(&kn->lock);
	if (!listening(kn))
		return;
	for (sa = klips_sadb_from(kn, 0); sa; sa = klips_sadb_next(sa))
		klips_nl_sa_del_notify(kn, sa);
}

/**
 * klips_nl_group_del_notify() - a delete event for every SA of a group
 * @kn: the namespace, config mutex held
 * @sa: an SA of the group, about to be deleted with it (sa-del, or a hard
 *	expiry in life.c)
 *
 * Inner to outer.
 */
void klips_nl_group_del_notify(struct klips_net *kn, struct klips_sa *sa)
{
	struct klips_sa *pos;

	for (pos = klips_group_first(sa); pos; pos = klips_group_next(pos))
		klips_nl_sa_del_notify(kn, pos);
}

/**
 * klips_nl_expire_notify() - tell listeners that @sa reached a limit
 * @kn: the namespace, config mutex held
 * @sa: the SA
 * @hard: a hard limit (the SA is deleted next) or a soft one
 *
 * Shaped like XFRM_MSG_EXPIRE: the whole SA, as sa-get shows it, and which
 * kind of limit (its "hard" byte).
 */
void klips_nl_expire_notify(struct klips_net *kn, const struct klips_sa *sa,
			    bool hard)
{
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&kn->lock);
	if (!listening(kn))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &klips_nl_family, 0, KLIPS_CMD_EXPIRE_NTF);
	if (!hdr || klips_nl_put_sa(skb, sa, ktime_get_seconds()) ||
	    nla_put_u8(skb, KLIPS_A_SA_EXPIRE_KIND,
		       hard ? KLIPS_EXPIRE_KIND_HARD : KLIPS_EXPIRE_KIND_SOFT)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	multicast(kn, skb, GFP_KERNEL);
}

/*
 * At most one mapping event per SA and second (Documentation/klips/design.md:
 * rate-limited): true if this one may go, and then the next waits a second from
 * now.
 */
static bool mapping_due(struct klips_sa *sa)
{
	unsigned long last = READ_ONCE(sa->mapping_sent);

	if (time_before(jiffies, last + HZ) && last)
		return false;
	return cmpxchg(&sa->mapping_sent, last, jiffies ?: 1) == last;
}

/**
 * klips_nl_mapping_notify() - a NAT-T peer shows a new outer address or port
 * @kn: the namespace
 * @sa: the inbound ESP SA whose ICV the packet passed
 * @addr: the packet's outer source address (the SA's family)
 * @sport: its UDP source port
 *
 * At most one event per SA and second (mapping_due()).
 * Context: softirq.
 */
void klips_nl_mapping_notify(struct klips_net *kn, struct klips_sa *sa,
			     const union klips_addr *addr, __be16 sport)
{
	u8 family = sa->src_family ?: sa->said.family;
	struct sk_buff *skb;
	void *hdr;

	if (!mapping_due(sa) || !listening(kn))
		return;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &klips_nl_family, 0, KLIPS_CMD_MAPPING_NTF);
	if (!hdr || klips_nl_put_said(skb, KLIPS_A_SA_SAID, &sa->said) ||
	    (sa->src_family &&
	     klips_nl_put_addr(skb, KLIPS_A_SA_SRC, sa->src_family,
			       &sa->src)) ||
	    nla_put_be16(skb, KLIPS_A_SA_NATT_SPORT, sa->natt_sport) ||
	    klips_nl_put_addr(skb, KLIPS_A_SA_MAPPING_SRC, family, addr) ||
	    nla_put_be16(skb, KLIPS_A_SA_MAPPING_SPORT, sport)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	multicast(kn, skb, GFP_ATOMIC);
}

/**
 * klips_nl_acquire_notify() - tell a keying daemon a packet hit a trap
 * @kn: the namespace
 * @sel: the packet's host pair, protocol and ports (%trap), or the
 *	eroute's selectors (%trapsubnet)
 * @said: %trap or %trapsubnet
 *
 * Context: process context.
 * Return: true if the event went out to at least one listener.
 */
bool klips_nl_acquire_notify(struct klips_net *kn,
			     const struct klips_eroute_key *sel,
			     const struct klips_said *said)
{
	struct sk_buff *skb;
	void *hdr;

	if (!listening(kn))
		return false;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return false;
	hdr = genlmsg_put(skb, 0, 0, &klips_nl_family, 0, KLIPS_CMD_ACQUIRE_NTF);
	if (!hdr || klips_nl_put_eroute_key(skb, sel) ||
	    klips_nl_put_said(skb, KLIPS_A_EROUTE_SAID, said)) {
		nlmsg_free(skb);
		return false;
	}
	genlmsg_end(skb, hdr);
	return !multicast(kn, skb, GFP_KERNEL);
}
