// SPDX-License-Identifier: GPL-2.0
/*
 * Anti-replay, RFC 4303 section 3.4.3: klips_replay_check() before the ICV
 * is verified, klips_replay_advance() once it has been. The caller counts
 * every rejection as ooo_errs and InReplay; the errno says why:
 *   -EINVAL  a number the SA never carries: 0 (the counter starts at 1), a
 *            32-bit number above 2^32 - 1, or with ESN an inferred number
 *            before the SA's first or past 2^64 - 1;
 *   -ERANGE  too old: behind the window;
 *   -EEXIST  replayed: already received.
 *
 * Extended sequence numbers (RFC 4303 Appendix A2.2): only the low 32 bits
 * travel, the receiver infers the high 32 from the window. A packet older
 * than the window is thereby taken for one in the next subspace, ahead of
 * the window, and it is its ICV that fails: with ESN only the ICV catches
 * packets too old. A window of 0 (no replay check) still has to infer; it
 * does so as if the window were half the 32-bit space, which makes the
 * guess the number nearest to the top (RFC 1982's serial number rule): any
 * smaller window would take a packet reordered across a subspace edge, or
 * late by more than the window, for one a subspace ahead.
 *
 * The bits are a ring of KLIPS_REPLAY_MAX whatever the window, number s at
 * bit s % KLIPS_REPLAY_MAX: a packet costs O(1) and a jump ahead clears at
 * most the window's bits. Only [top - window + 1, top] is kept exact.
 *
 * Locking: one spinlock per window, taken with spin_lock_bh() by all: the
 * receive path and asynchronous crypto completions run in softirq, /proc
 * reads in process context. The check takes it too, for a 64-bit top and a
 * consistent window; two CPUs may still both pass the check with one number,
 * so the advance tests again under the lock and records only the first.
 */
#include <linux/bitmap.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "replay.h"

#define RING		KLIPS_REPLAY_MAX
static_assert((RING & (RING - 1)) == 0, "the ring is indexed with a mask");

/* The window a window of 0 infers the high bits with (see above). */
#define NOWIN_INFER	BIT(31)

static unsigned int ring_pos(u64 seq)
{
	return seq & (RING - 1);
}

/* Is @seq new, or inside the window and not received yet? */
static int window_test(const struct klips_replay *r, u64 seq)
{
	u64 diff;

	if (!seq || (!r->esn && seq > U32_MAX))
		return -EINVAL;
	if (seq > r->top || !r->window)
		return 0;
	diff = r->top - seq;
	if (diff >= r->window)
		return -ERANGE;
	return test_bit(ring_pos(seq), r->ring) ? -EEXIST : 0;
}

/*
 * RFC 4303 A2.2, T the top, W the window, B = T - W + 1 its bottom, each
 * split in high (h) and low (l) 32 bits:
 *   Case A, Tl >= W - 1: Seqh = Th if Seql >= Bl, else Th + 1;
 *   Case B, Tl <  W - 1: Seqh = Th - 1 if Seql >= Bl, else Th.
 */
static int infer(const struct klips_replay *r, u32 seql, u64 *seq)
{
	u32 th = upper_32_bits(r->top);
	u32 tl = lower_32_bits(r->top);
	u32 w = r->window ?: NOWIN_INFER;
	u32 bl = tl - w + 1;
	u32 seqh = th;

	if (tl >= w - 1) {
		/* Case A: the window lies within one subspace. */
		if (seql < bl) {
			if (th == U32_MAX)
				return -EINVAL;
			seqh = th + 1;
		}
	} else if (seql >= bl) {
		/* Case B: the window spans two; Seql is in the older one. */
		if (!th)
			return -EINVAL;
		seqh = th - 1;
	}
	*seq = (u64)seqh << 32 | seql;
	return 0;
}

/* Moving the top to @seq: forget top + 1 .. @seq, at most the window. */
static void ring_clear(struct klips_replay *r, u64 seq)
{
	unsigned int n = min_t(u64, seq - r->top, r->window);
	unsigned int start = ring_pos(seq - n + 1);
	unsigned int first = min(n, RING - start);

	bitmap_clear(r->ring, start, first);
	if (n > first)
		bitmap_clear(r->ring, 0, n - first);
}

/**
 * klips_replay_init - start an inbound window with nothing received
 * @r: the window
 * @window: its size in packets, 0 (no replay check) to KLIPS_REPLAY_MAX
 * @esn: 64-bit sequence numbers, of which the wire carries the low 32 bits
 *
 * Return: 0, or -EINVAL for a window larger than KLIPS_REPLAY_MAX.
 */
int klips_replay_init(struct klips_replay *r, u32 window, bool esn)
{
	if (window > KLIPS_REPLAY_MAX)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	spin_lock_init(&r->lock);
	r->window = window;
	r->esn = esn;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_init);

/**
 * klips_replay_start - resume a window where another host left it
 * @r: the window, fresh from klips_replay_init()
 * @top: the highest number received, all 64 bits with ESN
 * @bitmap: bit i: top - i was received, as klips_replay_read() gives it;
 *	NULL: every number up to @top was
 *
 * What a keying daemon hands over when it moves an SA between hosts.
 * Numbers of the window older than the 64 the bitmap covers count as
 * received: nobody said they were not, and a replay must not pass.
 *
 * Return: 0, or -ERANGE for a top beyond 2^32 - 1 without ESN or a bit
 * beyond the window or before number 1; the window is unchanged then.
 */
int klips_replay_start(struct klips_replay *r, u64 top, const u64 *bitmap)
{
	u64 n = min_t(u64, r->window, top);
	u64 i;

	if ((!r->esn && top > U32_MAX) ||
	    (bitmap && fls64(*bitmap) > min_t(u64, n, 64)))
		return -ERANGE;
	spin_lock_bh(&r->lock);
	r->top = top;
	bitmap_zero(r->ring, RING);
	for (i = 0; i < n; i++)
		if (!bitmap || i >= 64 || (*bitmap & BIT_ULL(i)))
			__set_bit(ring_pos(top - i), r->ring);
	spin_unlock_bh(&r->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_start);

/**
 * klips_replay_check - may a packet pass, before its ICV is verified?
 * @r: the window
 * @seq_lo: the Sequence Number field, host order
 * @seq: set to the full number, the one the ICV covers with ESN; set also
 *	when the packet is refused as too old or replayed, 0 with -EINVAL
 *
 * Changes nothing: only klips_replay_advance() does, once the ICV is good.
 *
 * Return: 0, or -EINVAL, -ERANGE, -EEXIST as the top of this file says.
 */
int klips_replay_check(struct klips_replay *r, u32 seq_lo, u64 *seq)
{
	int err = 0;

	*seq = seq_lo;
	spin_lock_bh(&r->lock);
	if (r->esn)
		err = infer(r, seq_lo, seq);
	if (!err)
		err = window_test(r, *seq);
	spin_unlock_bh(&r->lock);
	if (err == -EINVAL)
		*seq = 0;
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_check);

/**
 * klips_replay_advance - record a packet whose ICV verified
 * @r: the window
 * @seq: the full number klips_replay_check() gave
 *
 * Tests the window again: another CPU may have recorded @seq, or moved the
 * window past it, since the check.
 *
 * Return: 0, or -EINVAL, -ERANGE, -EEXIST as the top of this file says;
 * the window is unchanged then.
 */
int klips_replay_advance(struct klips_replay *r, u64 seq)
{
	int err;

	spin_lock_bh(&r->lock);
	err = window_test(r, seq);
	if (err)
		goto out_unlock;
	if (seq > r->top) {
		if (r->window)
			ring_clear(r, seq);
		r->top = seq;
	} else {
		r->max_seq_diff = max_t(u64, r->max_seq_diff,
					min_t(u64, r->top - seq, U32_MAX));
	}
	if (r->window)
		__set_bit(ring_pos(seq), r->ring);
out_unlock:
	spin_unlock_bh(&r->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_advance);

/**
 * klips_replay_read - a consistent snapshot for /proc/net/ipsec_spi
 * @r: the window
 * @view: set to the top, the newest 64 bits of the window (bit i: top - i
 *	received; none beyond the window, so a window of 32 with every packet
 *	received reads 0xffffffff) and the largest distance behind the top
 */
void klips_replay_read(struct klips_replay *r, struct klips_replay_view *view)
{
	unsigned int i, n;
	u64 bits = 0;

	spin_lock_bh(&r->lock);
	n = min_t(u64, min(r->window, 64U), r->top);
	for (i = 0; i < n; i++) {
		if (test_bit(ring_pos(r->top - i), r->ring))
			bits |= BIT_ULL(i);
	}
	view->seq = r->top;
	view->bitmap = bits;
	view->max_seq_diff = r->max_seq_diff;
	spin_unlock_bh(&r->lock);
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_read);

/**
 * klips_replay_next_out - the sequence number of the next outbound packet
 * @out_seq: the SA's counter, the last number used (0 before the first)
 * @esn: 64-bit sequence numbers
 * @seq: set to the number to send, from 1 on (RFC 4303 section 3.3.3)
 *
 * The counter never cycles (section 3.3.3): the last number is 2^32 - 1,
 * or 2^64 - 1 with ESN, and the counter stays there.
 *
 * Return: 0, or -EOVERFLOW when the numbers are used up: the SA has reached
 * a hard expiry.
 */
int klips_replay_next_out(atomic64_t *out_seq, bool esn, u64 *seq)
{
	u64 last = esn ? U64_MAX : U32_MAX;
	s64 old = atomic64_read(out_seq);

	do {
		if ((u64)old >= last)
			return -EOVERFLOW;
	} while (!atomic64_try_cmpxchg(out_seq, &old, (s64)((u64)old + 1)));
	*seq = (u64)old + 1;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_replay_next_out);
