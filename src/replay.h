/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The anti-replay window of an inbound AH/ESP SA and the sequence number
 * counter of an outbound one (RFC 4303 sections 3.3.3 and 3.4.3, Appendix A
 * for extended sequence numbers). One lock per window, errno returns, no
 * allocation.
 */
#ifndef _KLIPS_REPLAY_H
#define _KLIPS_REPLAY_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "klips.h"

/*
 * Inbound state. The bits are a ring of KLIPS_REPLAY_MAX bits whatever the
 * window, sequence number s at bit s % KLIPS_REPLAY_MAX; only the bits of
 * [top - window + 1, top] mean anything.
 */
struct klips_replay {
	spinlock_t lock;	/* all of the below; bh: taken in softirq */
	u64 top;		/* highest number accepted, all 64 bits with ESN */
	u32 window;		/* 0..KLIPS_REPLAY_MAX packets; 0: no replay check */
	bool esn;
	u32 max_seq_diff;	/* farthest an accepted packet was behind top */
	unsigned long ring[BITS_TO_LONGS(KLIPS_REPLAY_MAX)];
};

/* What /proc/net/ipsec_spi shows: seq=, bit=, max_seq_diff=. */
struct klips_replay_view {
	u64 seq;
	u64 bitmap;		/* bit i: seq - i was received */
	u32 max_seq_diff;
};

int klips_replay_init(struct klips_replay *r, u32 window, bool esn);
int klips_replay_start(struct klips_replay *r, u64 top, const u64 *bitmap);
int klips_replay_check(struct klips_replay *r, u32 seq_lo, u64 *seq);
int klips_replay_advance(struct klips_replay *r, u64 seq);
void klips_replay_read(struct klips_replay *r, struct klips_replay_view *view);
int klips_replay_next_out(atomic64_t *out_seq, bool esn, u64 *seq);

#endif /* _KLIPS_REPLAY_H */
