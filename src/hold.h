/* SPDX-License-Identifier: GPL-2.0 */
/*
 * %hold and %trap shunts: held packets and ACQUIRE events (hold.c).
 */
#ifndef _KLIPS_HOLD_H
#define _KLIPS_HOLD_H

#include "eroute.h"

struct klips_net;
struct sk_buff;
struct net_device;

int klips_hold_init(struct klips_net *kn);
void klips_hold_exit(struct klips_net *kn);
void klips_hold_packet(struct klips_net *kn, const struct klips_eroute_key *key,
		       struct sk_buff *skb, struct net_device *dev);
void klips_trap_packet(struct klips_net *kn,
		       const struct klips_eroute_key *trap,
		       const struct klips_said *said,
		       const struct klips_eroute_key *sel,
		       struct sk_buff *skb, struct net_device *dev);
void klips_hold_changed(struct klips_net *kn, const struct klips_eroute_key *key,
			const struct klips_said *said);
void klips_hold_flush(struct klips_net *kn);

#endif /* _KLIPS_HOLD_H */
