// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the anti-replay window and sequence numbers (src/replay.c):
 * RFC 4303 section 3.4.3 for the window, Appendix A2.2 for the high half of
 * extended sequence numbers, section 3.3.3 for the outbound counter, and
 * Documentation/klips/proc.md for what seq=, bit= and max_seq_diff= read. Each
 * scenario is a list of packets with what the window must say about each, then
 * the state /proc would show.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/slab.h>

#include "replay.h"

enum step_op {
	END,
	PASS,		/* BOTH, accepted; on the wire the low half of seq */
	BOTH,		/* check, and advance what passed (its ICV is good) */
	CHECK,		/* check only: the ICV fails, or another CPU is slower */
	ADVANCE,	/* advance only, with a full number checked earlier */
	RUN,		/* [seq, last] in order, each checked and advanced */
};

struct step {
	u8 op;
	u32 wire;	/* the Sequence Number field */
	u64 seq;	/* the full number: expected from the check, given to the advance */
	u64 last;
	int err;
	u32 stride;	/* RUN: every stride-th number */
};

/* Accepted in order, the full number's low half on the wire. */
#define OK(s)		{ PASS, 0, s, 0, 0 }
/* Refused by the check: too old, replayed, or never valid (full 0). */
#define NO(w, s, e)	{ BOTH, w, s, 0, e }
/* Accepted, the wire value is given because it is not the full one's. */
#define ESN(w, s)	{ BOTH, w, s, 0, 0 }
#define CHK(w, s, e)	{ CHECK, w, s, 0, e }
#define ADV(s, e)	{ ADVANCE, 0, s, 0, e }
#define ALL(a, b)	{ RUN, 0, a, b, 0, 1 }
#define EVERY(k, a, b)	{ RUN, 0, a, b, 0, k }

#define MAX_STEPS	10
#define NO_TOP		0	/* a fresh window: nothing received yet */
#define ALL64		U64_MAX

struct replay_case {
	const char *name;
	u32 window;
	bool esn;
	u64 start;	/* top before the first step, as if all before were lost */
	struct step steps[MAX_STEPS];
	u64 top;	/* /proc seq= */
	u64 bitmap;	/* /proc bit= */
	u32 max_seq_diff;
};

static const struct replay_case replay_cases[] = {
	/* Window 32: Documentation/klips/proc.md's example reads 0xffffffff. */
	{ "in order", 32, false, NO_TOP, { ALL(1, 40) }, 40, 0xffffffff, 0 },
	{ "duplicates", 32, false, NO_TOP,
	  { ALL(1, 10), NO(10, 10, -EEXIST), NO(5, 5, -EEXIST), NO(1, 1, -EEXIST) },
	  10, 0x3ff, 0 },
	{ "just inside, just outside", 32, false, NO_TOP,
	  { OK(100), OK(69), NO(68, 68, -ERANGE), NO(69, 69, -EEXIST) },
	  100, 0x80000001, 31 },
	{ "jump of exactly the window", 32, false, NO_TOP,
	  { ALL(1, 10), OK(42), NO(10, 10, -ERANGE), OK(11) },
	  42, 0x80000001, 31 },
	{ "jump of window + 1", 32, false, NO_TOP,
	  { ALL(1, 10), OK(43), NO(11, 11, -ERANGE), OK(12) },
	  43, 0x80000001, 31 },
	{ "jump of window - 1 keeps the edge", 32, false, NO_TOP,
	  { ALL(1, 10), OK(41), NO(10, 10, -EEXIST), NO(9, 9, -ERANGE) },
	  41, 0x80000001, 0 },
	{ "a gap is a 0 bit", 32, false, NO_TOP,
	  { ALL(1, 10), ALL(12, 20) }, 20, 0xffdff, 0 },
	{ "the gap filled late", 32, false, NO_TOP,
	  { ALL(1, 10), ALL(12, 20), OK(11), NO(11, 11, -EEXIST) }, 20, 0xfffff, 9 },
	/* 4106 is 10's bit of the ring, and the new window's bottom. */
	{ "a bit the ring reuses", 32, false, NO_TOP,
	  { OK(10), OK(4137), OK(4106) }, 4137, 0x80000001, 31 },

	/* Window 64: bits 32 and up, which KLIPS's 32-bit shift got wrong. */
	{ "all received", 64, false, NO_TOP, { ALL(1, 100) }, 100, ALL64, 0 },
	{ "just inside, just outside", 64, false, NO_TOP,
	  { OK(1000), OK(937), NO(936, 936, -ERANGE) }, 1000, 0x8000000000000001, 63 },
	{ "bits 32 to 63", 64, false, NO_TOP,
	  { OK(100), OK(60), NO(60, 60, -EEXIST), OK(68), NO(68, 68, -EEXIST),
	    OK(99), NO(36, 36, -ERANGE), OK(37) },
	  100, 0x8000010100000003, 63 },
	{ "jump of exactly the window", 64, false, NO_TOP,
	  { ALL(1, 10), OK(74), NO(10, 10, -ERANGE), OK(11) },
	  74, 0x8000000000000001, 63 },
	{ "jump of window + 1", 64, false, NO_TOP,
	  { ALL(1, 10), OK(75), NO(11, 11, -ERANGE), OK(12) },
	  75, 0x8000000000000001, 63 },

	/* Window 65: one bit more than bit= shows. */
	{ "all received, 64 bits shown", 65, false, NO_TOP,
	  { ALL(1, 100), NO(36, 36, -EEXIST), NO(35, 35, -ERANGE) }, 100, ALL64, 0 },
	{ "the edge is past bit=", 65, false, NO_TOP,
	  { OK(200), OK(136), NO(135, 135, -ERANGE) }, 200, 0x1, 64 },
	{ "jump of exactly the window", 65, false, NO_TOP,
	  { ALL(1, 70), OK(135), NO(70, 70, -ERANGE), OK(71) }, 135, 0x1, 64 },
	{ "jump of window + 1", 65, false, NO_TOP,
	  { ALL(1, 70), OK(136), NO(71, 71, -ERANGE), OK(72) }, 136, 0x1, 64 },

	/* Window 128 */
	{ "all received", 128, false, NO_TOP,
	  { ALL(1, 300), NO(173, 173, -EEXIST), NO(172, 172, -ERANGE) }, 300, ALL64, 0 },
	{ "every other packet", 128, false, NO_TOP,
	  { EVERY(2, 1, 255), OK(130), OK(128), NO(127, 127, -ERANGE),
	    OK(254) },
	  255, 0x5555555555555557, 127 },
	{ "jump of exactly the window", 128, false, NO_TOP,
	  { ALL(1, 10), OK(138), NO(10, 10, -ERANGE), OK(11) }, 138, 0x1, 127 },
	{ "jump of window + 1", 128, false, NO_TOP,
	  { ALL(1, 10), OK(139), NO(11, 11, -ERANGE), OK(12) }, 139, 0x1, 127 },

	/* Window 1024 */
	{ "all received", 1024, false, NO_TOP,
	  { ALL(1, 2000), NO(977, 977, -EEXIST), NO(976, 976, -ERANGE) },
	  2000, ALL64, 0 },
	{ "just inside, just outside", 1024, false, NO_TOP,
	  { OK(5000), OK(3977), NO(3976, 3976, -ERANGE) }, 5000, 0x1, 1023 },
	{ "jump of exactly the window", 1024, false, NO_TOP,
	  { ALL(1, 1500), OK(2524), NO(1500, 1500, -ERANGE), OK(1501) },
	  2524, 0x1, 1023 },
	{ "jump of window + 1", 1024, false, NO_TOP,
	  { ALL(1, 1500), OK(2525), NO(1501, 1501, -ERANGE), OK(1502) },
	  2525, 0x1, 1023 },

	/* Window 4096, the largest: the whole ring. */
	{ "all received", 4096, false, NO_TOP,
	  { ALL(1, 5000), NO(905, 905, -EEXIST), NO(904, 904, -ERANGE) },
	  5000, ALL64, 0 },
	{ "jump of exactly the window", 4096, false, NO_TOP,
	  { ALL(1, 100), OK(4196), NO(100, 100, -ERANGE), OK(101) }, 4196, 0x1, 4095 },
	{ "jump of window + 1", 4096, false, NO_TOP,
	  { ALL(1, 100), OK(4197), NO(101, 101, -ERANGE), OK(102) }, 4197, 0x1, 4095 },
	/* 4097..6096 take the bits of 1..2000: they must read as not received. */
	{ "the ring forgets what it reuses", 4096, false, NO_TOP,
	  { ALL(1, 4096), OK(6096), NO(2001, 2001, -EEXIST), NO(2000, 2000, -ERANGE),
	    OK(4097), NO(4096, 4096, -EEXIST), OK(6095) },
	  6096, 0x3, 1999 },
	{ "a bit the ring reuses", 4096, false, NO_TOP,
	  { OK(10), OK(8201), OK(4106), NO(4105, 4105, -ERANGE) }, 8201, 0x1, 4095 },
	{ "a far jump clears every bit", 4096, false, NO_TOP,
	  { ALL(1, 64), OK(0xfffffff0), OK(0xffffffff), OK(0xfffff000),
	    NO(0xffffefff, 0xffffefff, -ERANGE) },
	  0xffffffff, 0x8001, 4095 },

	/* Window 0: no replay check, but seq= still tracks the highest. */
	{ "no replay check", 0, false, NO_TOP,
	  { OK(5), OK(5), OK(3), OK(1), OK(1), NO(0, 0, -EINVAL) }, 5, 0, 4 },
	{ "the highest still counts", 0, false, NO_TOP,
	  { OK(1000), OK(0xffffffff), OK(1), OK(0xffffffff) }, 0xffffffff, 0, 0xfffffffe },

	/* 32-bit numbers (RFC 4303 section 3.4.3) */
	{ "0 is never a number", 64, false, NO_TOP,
	  { NO(0, 0, -EINVAL), OK(1), NO(0, 0, -EINVAL) }, 1, 0x1, 0 },
	{ "0xffffffff, and no wrap", 64, false, NO_TOP,
	  { ALL(0xfffffffd, 0xffffffff), NO(0, 0, -EINVAL), NO(1, 1, -ERANGE) },
	  0xffffffff, 0x7, 0 },
	{ "any first packet", 64, false, NO_TOP, { OK(1000) }, 1000, 0x1, 0 },
	{ "checks change nothing", 64, false, NO_TOP,
	  { CHK(5, 5, 0), CHK(9, 9, 0), CHK(5, 5, 0) }, 0, 0, 0 },
	{ "two CPUs check one number", 64, false, NO_TOP,
	  { CHK(7, 7, 0), CHK(7, 7, 0), ADV(7, 0), ADV(7, -EEXIST) }, 7, 0x1, 0 },
	{ "the window moved past it", 32, false, NO_TOP,
	  { ALL(1, 3), CHK(4, 4, 0), ADV(100, 0), ADV(4, -ERANGE), ADV(0, -EINVAL),
	    ADV(0x100000000, -EINVAL) },
	  100, 0x1, 0 },

	/*
	 * RFC 4303 A2.2: the window straddles 2^32. From 0x1_00000005 with a
	 * window of 64, Bl = 0xffffffc6 (Case B): a late 0xfffffffa is
	 * Th - 1 = 0, a 0xffffffc5 below Bl is Th = 1, ahead of the window.
	 */
	{ "A2.2 case B: late across 2^32", 64, true, NO_TOP,
	  { OK(1), OK(0x80000000), OK(0xfffffff0), ESN(5, 0x100000005),
	    OK(0xfffffffa), NO(0xfffffffa, 0xfffffffa, -EEXIST), OK(0xffffffc6),
	    CHK(0xffffffc5, 0x1ffffffc5, 0), ESN(3, 0x100000003) },
	  0x100000005, 0x8000000000200805, 63 },
	/* RFC 4303 A2.2 Case A: Bl = 0xc1; below it is Th + 1. */
	{ "A2.2 case A: late, same subspace", 64, true, 0x100000100,
	  { ESN(0xc1, 0x1000000c1), CHK(0xc0, 0x2000000c0, 0), ESN(0x101, 0x100000101) },
	  0x100000101, 0x1, 63 },
	/* RFC 4303 A2.2 Case A, Seql < Bl: Th + 1, the next subspace. */
	{ "A2.2: far ahead, next subspace", 64, true, 0x180000000,
	  { ESN(0x10, 0x200000010), ESN(0xffffffff, 0x1ffffffff) },
	  0x200000010, 0x20001, 17 },
	/*
	 * RFC 4303 A3: after 2^32 losses the sender is at 0x2_00000010, the
	 * guess is 0x1_00000010, the ICV fails and nothing is advanced; so for
	 * a 0x0_ffffff00 delayed past the window, guessed 0x1_ffffff00.
	 */
	{ "A3: the guess is a subspace off", 64, true, 0x100000005,
	  { CHK(0x10, 0x100000010, 0), CHK(0xffffff00, 0x1ffffff00, 0),
	    ESN(6, 0x100000006) },
	  0x100000006, 0x1, 0 },
	/* RFC 4303 2.2.1: with ESN the low half 0 is a number like any other. */
	{ "A2.2: wire 0 after 2^32 - 1", 64, true, 0xfffffffe,
	  { OK(0xffffffff), ESN(0, 0x100000000), ESN(1, 0x100000001) },
	  0x100000001, 0x7, 0 },
	{ "0 is never a number", 64, true, NO_TOP,
	  { NO(0, 0, -EINVAL), OK(1) }, 1, 0x1, 0 },
	/* RFC 4303 A2.2 Case B with Th = 0: Th - 1 is before the first packet. */
	{ "A2.2: nothing before the first", 64, true, NO_TOP,
	  { NO(0xfffffff0, 0, -EINVAL), OK(0x7fffffff), OK(0x7fffffc0),
	    NO(0x7fffffc0, 0x7fffffc0, -EEXIST) },
	  0x7fffffff, 0x8000000000000001, 63 },
	/* RFC 4303 A2.2 Case A with Th = 2^32 - 1: Th + 1 does not exist. */
	{ "A2.2: the last subspace", 64, true, 0xfffffffffffffff0,
	  { NO(5, 0, -EINVAL), OK(0xfffffffffffffff5), OK(0xfffffffffffffff0),
	    OK(0xffffffffffffffff), NO(0, 0, -EINVAL) },
	  U64_MAX, 0x8401, 5 },
	/* Windows across 2^32, every packet received (RFC 4303 A2.1, A2.2). */
	{ "A2.2: all received across 2^32", 32, true, 0xffffffef,
	  { ALL(0xfffffff0, 0x10000000f) }, 0x10000000f, 0xffffffff, 0 },
	{ "A2.2: all received across 2^32", 65, true, 0xffffffc0,
	  { ALL(0xffffffc1, 0x100000040), NO(0, 0x100000000, -EEXIST),
	    CHK(0xffffffff, 0x1ffffffff, 0) },
	  0x100000040, ALL64, 0 },
	{ "A2.2: all received across 2^32", 1024, true, 0xfffffe00,
	  { ALL(0xfffffe01, 0x100000200), NO(0xfffffe01, 0xfffffe01, -EEXIST),
	    CHK(0xfffffe00, 0x1fffffe00, 0) },
	  0x100000200, ALL64, 0 },
	/* RFC 4303 A2.2 Case B, window 4096: Bl = 0xfffff101. */
	{ "A2.2 case B: late across 2^32", 4096, true, 0x100000100,
	  { OK(0xfffff200), OK(0xfffff101), CHK(0xfffff100, 0x1fffff100, 0),
	    ESN(0x100, 0x100000100) },
	  0x100000100, 0x1, 4095 },
	/*
	 * RFC 4303 A2.2 with no window: inferred as with W = 2^31, the number
	 * nearest to the top. From 0x1_80000010 Bl is 0x11 (Case A).
	 */
	{ "A2.2 without a window: nearest", 0, true, 0x100000005,
	  { OK(0xfffffffa), ESN(0x10, 0x100000010), ESN(0x80000010, 0x180000010),
	    ESN(0x20, 0x100000020), ESN(0x10, 0x200000010) },
	  0x200000010, 0, 0x7ffffff0 },
};

static void replay_desc(const struct replay_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "window %u%s: %s", c->window,
		 c->esn ? " esn" : "", c->name);
}

KUNIT_ARRAY_PARAM(replay, replay_cases, replay_desc);

/* Every number of a RUN passes and is recorded; stops at the first failure. */
static void run_all(struct kunit *test, struct klips_replay *r,
		    const struct step *s, unsigned int i)
{
	u64 n, seq;
	int err;

	for (n = s->seq; n <= s->last; n += s->stride) {
		err = klips_replay_check(r, lower_32_bits(n), &seq);
		if (err || seq != n) {
			KUNIT_FAIL(test, "step %u: check(%#llx) = %d, seq %#llx",
				   i, n, err, seq);
			return;
		}
		err = klips_replay_advance(r, n);
		if (err) {
			KUNIT_FAIL(test, "step %u: advance(%#llx) = %d", i, n, err);
			return;
		}
	}
}

static void replay_test(struct kunit *test)
{
	const struct replay_case *c = test->param_value;
	struct klips_replay_view view;
	struct klips_replay *r;
	const struct step *s;
	unsigned int i;
	u32 wire;
	u64 seq;
	int err;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, c->window, c->esn), 0);
	r->top = c->start;

	for (i = 0; i < MAX_STEPS && c->steps[i].op != END; i++) {
		s = &c->steps[i];
		switch (s->op) {
		case RUN:
			run_all(test, r, s, i);
			break;
		case ADVANCE:
			err = klips_replay_advance(r, s->seq);
			KUNIT_EXPECT_EQ_MSG(test, err, s->err, "step %u", i);
			break;
		default:
			seq = 0xdead;
			wire = s->op == PASS ? lower_32_bits(s->seq) : s->wire;
			err = klips_replay_check(r, wire, &seq);
			KUNIT_EXPECT_EQ_MSG(test, err, s->err, "step %u", i);
			KUNIT_EXPECT_EQ_MSG(test, seq, s->seq, "step %u", i);
			if (s->op != CHECK && !err)
				KUNIT_EXPECT_EQ_MSG(test, klips_replay_advance(r, seq),
						    0, "step %u", i);
		}
	}

	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, c->top);
	KUNIT_EXPECT_EQ(test, view.bitmap, c->bitmap);
	KUNIT_EXPECT_EQ(test, view.max_seq_diff, c->max_seq_diff);
}

/*
 * Two threads check and advance the same numbers, each in order, the way two
 * CPUs would with one SA's packets: each number is accepted exactly once,
 * the other thread finding it received, or behind the window if it lags.
 */
#define RACE_N		20000

struct racer {
	struct klips_replay *r;
	struct completion done;
	unsigned int accepted;
	unsigned int bad;	/* not -EEXIST, nor -ERANGE for a laggard */
};

static int race_fn(void *data)
{
	struct racer *t = data;
	u64 n, seq;
	int err;

	for (n = 1; n <= RACE_N; n++) {
		err = klips_replay_check(t->r, n, &seq);
		if (!err)
			err = klips_replay_advance(t->r, seq);
		if (!err)
			t->accepted++;
		else if (err != -EEXIST && err != -ERANGE)
			t->bad++;
		if (!(n % 64))
			cond_resched();
	}
	complete(&t->done);
	return 0;
}

static void race_test(struct kunit *test)
{
	struct klips_replay_view view;
	struct task_struct *task;
	struct klips_replay *r;
	unsigned int i, started = 0;
	struct racer *t;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	t = kunit_kcalloc(test, 2, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, KLIPS_REPLAY_MAX, false), 0);
	for (i = 0; i < 2; i++) {
		t[i].r = r;
		init_completion(&t[i].done);
		task = kthread_run(race_fn, &t[i], "klips_replay_race%u", i);
		if (IS_ERR(task))
			break;
		started++;
	}
	/* Wait before any assertion: the threads use r and t. */
	for (i = 0; i < started; i++)
		wait_for_completion(&t[i].done);
	KUNIT_ASSERT_EQ(test, started, 2);

	KUNIT_EXPECT_EQ(test, t[0].accepted + t[1].accepted, RACE_N);
	KUNIT_EXPECT_EQ(test, t[0].bad + t[1].bad, 0);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, RACE_N);
	KUNIT_EXPECT_EQ(test, view.bitmap, U64_MAX);
	KUNIT_EXPECT_EQ(test, view.max_seq_diff, 0);
}

struct out_case {
	const char *name;
	bool esn;
	s64 start;		/* the counter: the last number sent */
	struct {
		u64 seq;
		int err;
	} next[4];		/* successive calls, up to an empty one */
	u64 end;		/* the counter after them */
};

/* RFC 4303 section 3.3.3: from 1, never cycling. */
static const struct out_case out_cases[] = {
	{ "the first is 1", false, 0, { { 1 }, { 2 } }, 2 },
	{ "the first is 1", true, 0, { { 1 } }, 1 },
	{ "across 2^31", false, 0x7fffffff, { { 0x80000000 } }, 0x80000000 },
	{ "0xffffffff is the last", false, 0xfffffffe,
	  { { 0xffffffff }, { 0, -EOVERFLOW }, { 0, -EOVERFLOW } }, 0xffffffff },
	/* RFC 4303 2.2.1 and A1: the 64-bit counter carries on past 2^32. */
	{ "across 2^32", true, 0xfffffffe,
	  { { 0xffffffff }, { 0x100000000 }, { 0x100000001 } }, 0x100000001 },
	{ "across 2^63", true, S64_MAX, { { 0x8000000000000000 } }, 0x8000000000000000 },
	{ "2^64 - 1 is the last", true, -2,
	  { { U64_MAX }, { 0, -EOVERFLOW }, { 0, -EOVERFLOW } }, U64_MAX },
};

static void out_desc(const struct out_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s: %s", c->esn ? "esn" : "32-bit",
		 c->name);
}

KUNIT_ARRAY_PARAM(out, out_cases, out_desc);

static void next_out_test(struct kunit *test)
{
	const struct out_case *c = test->param_value;
	atomic64_t counter;
	unsigned int i;
	u64 seq;
	int err;

	atomic64_set(&counter, c->start);
	for (i = 0; i < ARRAY_SIZE(c->next); i++) {
		if (!c->next[i].seq && !c->next[i].err)
			break;
		seq = 0xdead;
		err = klips_replay_next_out(&counter, c->esn, &seq);
		KUNIT_EXPECT_EQ_MSG(test, err, c->next[i].err, "call %u", i);
		KUNIT_EXPECT_EQ_MSG(test, seq, err ? 0xdead : c->next[i].seq,
				    "call %u", i);
	}
	KUNIT_EXPECT_EQ(test, (u64)atomic64_read(&counter), c->end);
}

struct init_case {
	u32 window;
	int err;
};

static const struct init_case init_cases[] = {
	{ 0, 0 }, { 1, 0 }, { KLIPS_REPLAY_DEFAULT, 0 }, { KLIPS_REPLAY_MAX, 0 },
	{ KLIPS_REPLAY_MAX + 1, -EINVAL }, { U32_MAX, -EINVAL },
};

static void init_desc(const struct init_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "window %u", c->window);
}

KUNIT_ARRAY_PARAM(init, init_cases, init_desc);

static void init_test(struct kunit *test)
{
	const struct init_case *c = test->param_value;
	struct klips_replay_view view;
	struct klips_replay *r;
	u64 seq;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, c->window, false), c->err);
	if (c->err)
		return;
	/* A fresh window takes 1 and shows it alone. */
	KUNIT_EXPECT_EQ(test, klips_replay_check(r, 1, &seq), 0);
	KUNIT_EXPECT_EQ(test, klips_replay_advance(r, seq), 0);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, 1ULL);
	KUNIT_EXPECT_EQ(test, view.bitmap, c->window ? 1ULL : 0ULL);
	KUNIT_EXPECT_EQ(test, view.max_seq_diff, 0U);
}

/* check() then advance(); what the check said, the full number in @seq. */
static int take(struct klips_replay *r, u32 wire, u64 *seq)
{
	int err = klips_replay_check(r, wire, seq);

	return err ?: klips_replay_advance(r, *seq);
}

/*
 * A window resumed where another host left it (what a keying daemon hands
 * over with seq= and bitmap=), across the end of the low 32 bits with ESN.
 */
static void start_test(struct kunit *test)
{
	struct klips_replay_view view;
	struct klips_replay *r;
	u64 bits, seq;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);

	bits = 0x1;
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 64, true), 0);
	KUNIT_ASSERT_EQ(test, klips_replay_start(r, 0xfffffffeULL, &bits), 0);
	KUNIT_EXPECT_EQ(test, take(r, 0xfffffffe, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, seq, 0xfffffffeULL);
	KUNIT_EXPECT_EQ(test, take(r, 0xfffffffd, &seq), 0);
	KUNIT_EXPECT_EQ(test, take(r, 0xffffffff, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 0xffffffffULL);
	KUNIT_EXPECT_EQ(test, take(r, 0, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 0x100000000ULL);
	KUNIT_EXPECT_EQ(test, take(r, 1, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 0x100000001ULL);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, 0x100000001ULL);
	KUNIT_EXPECT_EQ(test, view.bitmap, 0x1fULL);
	/* What /proc read back starts an equal window. */
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 64, true), 0);
	KUNIT_ASSERT_EQ(test, klips_replay_start(r, view.seq, &view.bitmap), 0);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, 0x100000001ULL);
	KUNIT_EXPECT_EQ(test, view.bitmap, 0x1fULL);
	KUNIT_EXPECT_EQ(test, take(r, 0xfffffffd, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 0xfffffffc, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 0xfffffffcULL);

	/* The last number with ESN: what follows it is never valid. */
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 64, true), 0);
	KUNIT_ASSERT_EQ(test, klips_replay_start(r, U64_MAX, NULL), 0);
	KUNIT_EXPECT_EQ(test, take(r, U32_MAX, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 0, &seq), -EINVAL);

	/* Without ESN the top is a 32-bit number; the bitmap may leave it open. */
	bits = 0;
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 32, false), 0);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 0x100000000ULL, &bits), -ERANGE);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, U32_MAX, &bits), 0);
	KUNIT_EXPECT_EQ(test, take(r, U32_MAX, &seq), 0);
	KUNIT_EXPECT_EQ(test, take(r, U32_MAX, &seq), -EEXIST);

	/* No bit beyond the window, none for number 0; a refusal changes nothing. */
	bits = BIT_ULL(32);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 100, &bits), -ERANGE);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.seq, (u64)U32_MAX);
	KUNIT_EXPECT_EQ(test, view.bitmap, 0x1ULL);
	bits = BIT_ULL(31);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 100, &bits), 0);
	KUNIT_EXPECT_EQ(test, take(r, 69, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 68, &seq), -ERANGE);
	KUNIT_EXPECT_EQ(test, take(r, 70, &seq), 0);
	bits = 0xf;
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 3, &bits), -ERANGE);
	bits = 0x7;
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 3, &bits), 0);
	KUNIT_EXPECT_EQ(test, take(r, 1, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 4, &seq), 0);

	/* seq alone: every number up to it was received. */
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 10, NULL), 0);
	KUNIT_EXPECT_EQ(test, take(r, 10, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 1, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 11, &seq), 0);
	klips_replay_read(r, &view);
	KUNIT_EXPECT_EQ(test, view.bitmap, 0x7ffULL);

	/* A window of 128: the 64 numbers older than the bitmap count as received. */
	bits = 0;
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 128, false), 0);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 1000, &bits), 0);
	KUNIT_EXPECT_EQ(test, take(r, 937, &seq), 0);
	KUNIT_EXPECT_EQ(test, take(r, 936, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 873, &seq), -EEXIST);
	KUNIT_EXPECT_EQ(test, take(r, 872, &seq), -ERANGE);

	/* No window: no bitmap, but the top still infers ESN's high half. */
	bits = 0x1;
	KUNIT_ASSERT_EQ(test, klips_replay_init(r, 0, true), 0);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 5, &bits), -ERANGE);
	KUNIT_EXPECT_EQ(test, klips_replay_start(r, 0x300000005ULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, take(r, 5, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 0x300000005ULL);
}

static struct kunit_case klips_replay_cases[] = {
	KUNIT_CASE_PARAM(init_test, init_gen_params),
	KUNIT_CASE_PARAM(replay_test, replay_gen_params),
	KUNIT_CASE_PARAM(next_out_test, out_gen_params),
	KUNIT_CASE(start_test),
	KUNIT_CASE(race_test),
	{}
};

static struct kunit_suite klips_replay_suite = {
	.name = "klips_replay",
	.test_cases = klips_replay_cases,
};

kunit_test_suite(klips_replay_suite);
