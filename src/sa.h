/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Security associations: one per SAID, refcounted, found under RCU by the
 * packet path and changed under the namespace's config mutex.
 */
#ifndef _KLIPS_SA_H
#define _KLIPS_SA_H

#include <linux/types.h>
#include <linux/rhashtable-types.h>
#include <linux/refcount.h>
#include <linux/netlink.h>
#include <linux/atomic.h>
#include <linux/time64.h>
#include <linux/workqueue.h>
#include <linux/timekeeping.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>

#include "said.h"
#include "alg.h"
#include "replay.h"

struct klips_net;
struct klips_xform_type;

struct klips_lifetime {
	u64 bytes;
	u64 addtime;		/* seconds */
	u64 usetime;		/* seconds */
	u64 packets;
	u32 allocations;	/* shown, never enforced */
};

struct klips_prefix {
	union klips_addr addr;
	u8 len;
};

/*
 * Inner subnets an inbound IPIP SA accepts (eroute --addin). Never
 * changed once published: policy-set publishes a new one under RCU.
 */
struct klips_policy {
	struct rcu_head rcu;
	struct klips_prefix src;
	struct klips_prefix dst;
	u8 family;		/* of the inner packets */
};

/*
 * An IPIP SA's outer (source, destination): bare IPIP carries no SPI, so
 * receive finds the tun SA by this key (Documentation/klips/design.md). Unused
 * bytes are zero.
 */
struct klips_tun_key {
	union klips_addr src;
	union klips_addr dst;
	u8 family;		/* 0: the SA is not in the table */
};

/* Counters the packet path bumps on every packet: per CPU. */
struct klips_sa_pcpu {
	u64 bytes;
	u64 packets;
};

/* What an add asks for, parsed from netlink before anything is built. */
struct klips_sa_config {
	struct klips_said said;
	union klips_addr src;
	union klips_addr tun_dst;	/* IPIP: the outer destination */
	u8 src_family;			/* 0 if no --src */
	u8 tun_family;			/* IPIP: the outer family */
	u8 dir;				/* enum klips_dir */
	const char *alg;		/* --esp, --ah or --comp name */
	const u8 *enckey;
	unsigned int enckey_len;
	const u8 *authkey;
	unsigned int authkey_len;
	u32 replay_window;
	bool replay_window_set;
	u32 flags;			/* KLIPS_SA_FLAGS_ESN */
	/* seq: outbound, the last number sent; inbound, the window's top */
	u64 seq;
	u64 bitmap;			/* inbound: bit i, seq - i received */
	bool bitmap_set;		/* else: all up to seq received */
	struct klips_lifetime soft;
	struct klips_lifetime hard;
	u8 natt_type;
	__be16 natt_sport;
	__be16 natt_dport;
	union klips_addr natt_oa;
	u8 natt_oa_family;
};

/* sa->life_flags: which limit the SA has reached (life.c). */
enum {
	KLIPS_LIFE_SOFT,
	KLIPS_LIFE_HARD,
	KLIPS_LIFE_SOFT_SENT,	/* its event went out (config mutex) */
};

struct klips_sa {
	struct rhash_head node;		/* in the namespace's SAID table */
	/*
	 * Never reused in the namespace; a larval SA filled in keeps its
	 * own. Dumps and /proc readers resume at a serial, never at a
	 * pointer they do not hold.
	 */
	u64 serial;
	struct rb_node serial_node;	/* in the namespace's sa_serials */
	struct list_head larval_list;	/* getspi SAs waiting to be filled in */
	struct list_head life_list;	/* SAs with a time limit (life.c) */
	struct list_head life_pending;	/* reached a limit: for the life work */
	struct klips_net *kn;		/* the namespace it was made for */
	struct rcu_work free_work;
	refcount_t refcnt;
	struct klips_said said;		/* the table key */
	/* Its protocol's transform (xform.h); NULL: none, refused at add. */
	const struct klips_xform_type *type;

	u8 state;			/* enum klips_state */
	u8 dir;				/* KLIPS_DIR_IN or KLIPS_DIR_OUT */
	u8 src_family;
	u8 tun_family;
	union klips_addr src;
	union klips_addr tun_dst;
	u32 flags;			/* fixed at add; see klips_sa_flags() */
	/* Inbound IPIP: eroute --addin's policy, or NULL. */
	struct klips_policy __rcu *policy;

	struct klips_xform xform;
	char xform_name[32];
	struct crypto_aead *aead;	/* ESP */
	struct crypto_ahash *ahash;	/* AH */
	u32 replay_window;		/* inbound AH/ESP only */

	struct klips_lifetime soft;
	struct klips_lifetime hard;
	unsigned long life_flags;	/* KLIPS_LIFE_* bits */
	bool count_limit;		/* a bytes or packets limit is set */
	/* With count_limit, the counters (instead of the per-CPU ones). */
	atomic64_t life_bytes;
	atomic64_t life_packets;
	time64_t add_time;		/* ktime_get_seconds() */
	time64_t first_use;		/* 0: never used */
	time64_t last_use;
	time64_t larval_expires;
	struct klips_sa_pcpu __percpu *pcpu;

	/* Sequence numbers: the window of an inbound AH/ESP SA, or NULL. */
	struct klips_replay *replay;
	atomic64_t out_seq;		/* outbound: the last number sent */
	atomic64_t ooo_errs;
	atomic64_t auth_errs;
	atomic64_t encr_size_errs;
	atomic64_t encr_pad_errs;
	atomic64_t ratio_in;		/* IPComp: bytes before compression */
	atomic64_t ratio_out;		/* and after, of compressed packets */
	u16 comp_fails;			/* IPComp output: adaptive skipping */
	u16 comp_skip;
	bool comp_subseq;
	bool comp_ref;			/* holds the shared DEFLATE engine */

	u8 natt_type;
	u8 natt_oa_family;
	__be16 natt_sport;
	__be16 natt_dport;
	union klips_addr natt_oa;
	unsigned long mapping_sent;	/* jiffies of the last mapping event */

	/* Outermost SA: the outer path MTU (ICMP, route), or 0; when ICMP said. */
	u32 pmtu;
	unsigned long pmtu_learned;

	/* IPIP SAs with both outer addresses, in the namespace's tun table. */
	struct klips_tun_key tun_key;
	struct rhlist_head tun_node;

	/* The SA's group, inner to outer; NULL at either end. */
	struct klips_sa __rcu *inner;
	struct klips_sa __rcu *outer;
};

/* An SA that carries packets: mature, or dying (a soft limit reached). */
static inline bool klips_sa_live(const struct klips_sa *sa)
{
	u8 state = READ_ONCE(sa->state);

	return state == KLIPS_STATE_MATURE || state == KLIPS_STATE_DYING;
}

/*
 * A group's walk goes from its innermost SA outwards, as packets are
 * built: for (pos = klips_group_first(sa); pos; pos = klips_group_next(pos))
 * in the tables, under the config mutex of the SAs' namespace (read the
 * next one first to unlink or delete @pos); on the packet path, from the
 * SA at hand with klips_group_next_rcu(), under rcu_read_lock().
 */
struct klips_sa *klips_group_first(struct klips_sa *sa);
struct klips_sa *klips_group_next(struct klips_sa *sa);

static inline struct klips_sa *klips_group_next_rcu(const struct klips_sa *sa)
{
	return rcu_dereference(sa->outer);
}

struct klips_sa *klips_sa_create(struct klips_net *kn,
				 const struct klips_sa_config *cfg,
				 struct netlink_ext_ack *extack);
struct klips_sa *klips_sa_create_larval(struct klips_net *kn,
					const struct klips_said *said,
					time64_t lifetime);
void klips_sa_put(struct klips_sa *sa);
void klips_sa_publish_policy(struct klips_sa *sa, struct klips_policy *pol);

/* The SA's flags as shown: KLIPS_SA_FLAGS_INBOUND_POLICY with a policy. */
static inline u32 klips_sa_flags(const struct klips_sa *sa)
{
	return sa->flags |
	       (rcu_access_pointer(sa->policy) ? KLIPS_SA_FLAGS_INBOUND_POLICY :
						 0);
}

static inline bool klips_sa_is_grouped(const struct klips_sa *sa)
{
	return rcu_access_pointer(sa->inner) || rcu_access_pointer(sa->outer);
}

void klips_sa_totals(const struct klips_sa *sa, u64 *bytes, u64 *packets);
void klips_sa_seq_view(const struct klips_sa *sa, struct klips_replay_view *v);

/* Lifetimes (life.c). */
void klips_sa_expire(struct klips_sa *sa, bool hard);
void klips_sa_count_limited(struct klips_sa *sa, unsigned int bytes);
void klips_life_init(struct klips_net *kn);
void klips_life_exit(struct klips_net *kn);
void klips_life_add(struct klips_net *kn, struct klips_sa *sa);
void klips_life_del(struct klips_net *kn, struct klips_sa *sa);

/* Packet path: one more packet of @bytes through @sa's transform. */
static inline void klips_sa_count(struct klips_sa *sa, unsigned int bytes)
{
	time64_t now = ktime_get_seconds();

	if (unlikely(sa->count_limit)) {
		klips_sa_count_limited(sa, bytes);
	} else {
		struct klips_sa_pcpu *p = this_cpu_ptr(sa->pcpu);

		p->bytes += bytes;
		p->packets++;
	}
	if (READ_ONCE(sa->last_use) != now)
		WRITE_ONCE(sa->last_use, now);
	if (!READ_ONCE(sa->first_use))
		WRITE_ONCE(sa->first_use, now);
}

int klips_sa_format(const struct klips_sa *sa, time64_t now, char *buf,
		    size_t size);

/* The SAID table of a namespace (sadb.c). */
int klips_sadb_init(struct klips_net *kn);
void klips_sadb_exit(struct klips_net *kn);
struct klips_sa *klips_sadb_lookup_rcu(struct klips_net *kn,
				       const struct klips_said *said);
struct rhlist_head *klips_sadb_tun_lookup_rcu(struct klips_net *kn,
					      const struct klips_tun_key *key);
struct klips_sa *klips_sadb_at(struct klips_net *kn, unsigned long pos);
struct klips_sa *klips_sadb_from(struct klips_net *kn, u64 serial);
struct klips_sa *klips_sadb_next(struct klips_sa *sa);
int klips_sadb_add(struct klips_net *kn, struct klips_sa *sa,
		   struct netlink_ext_ack *extack);
void klips_sadb_del(struct klips_net *kn, struct klips_sa *sa);
void klips_sadb_del_group(struct klips_net *kn, struct klips_sa *sa);
void klips_sadb_flush(struct klips_net *kn);
int klips_sadb_getspi(struct klips_net *kn, struct klips_said *said,
		      u32 lo, u32 hi, struct netlink_ext_ack *extack);
int klips_sadb_group(struct klips_net *kn, struct klips_sa **sas,
		     unsigned int n, struct netlink_ext_ack *extack);

#endif /* _KLIPS_SA_H */
