/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Eroutes: which traffic routed into ipsecN goes into which SA group (or
 * shunt). A longest-prefix policy table per network namespace; lookups are
 * lock-free under RCU on the packet path, changes are serialised by the
 * caller (the namespace's config mutex, handed to klips_eroute_table_new()
 * so that every mutation and listing can assert it is held).
 *
 * Matching order (Documentation/klips/proc.md, ipsec_eroute): the longer
 * destination prefix wins, then the longer source prefix, then an eroute
 * limited to a transport protocol, then one with ports (both ports, then
 * destination port only, then source port only). /proc lists eroutes in that
 * order, IPv4 before IPv6, ties by destination, source, protocol, destination
 * port, source port, numerically.
 */
#ifndef _KLIPS_EROUTE_H
#define _KLIPS_EROUTE_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/in6.h>
#include <linux/socket.h>
#include <linux/rbtree_types.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable-types.h>
#include <linux/percpu.h>
#include <linux/netlink.h>

#include "said.h"

/* Longest /proc line, NUL included: two "[<IPv6>/128]:65535" selectors etc. */
#define KLIPS_EROUTE_LINE_LEN 256

/*
 * What an eroute matches. The table stores it canonical: addresses masked
 * to their prefix (for AF_INET only ip4 is read, the rest is kept zero),
 * ports only with a protocol that has them.
 */
struct klips_eroute_key {
	union klips_addr src;
	union klips_addr dst;
	u8 family;		/* AF_INET or AF_INET6 */
	u8 src_len;		/* 0..32 or 0..128 */
	u8 dst_len;
	u8 proto;		/* transport protocol, 0 = any */
	__be16 sport;		/* 0 = any; only with proto TCP/UDP/SCTP... */
	__be16 dport;
};

/*
 * Which fields a key's shape fixes besides the prefixes. As a number it
 * orders the shapes of equal prefixes as matching does: protocol with both
 * ports, destination port, source port, protocol alone, nothing.
 */
#define KLIPS_EROUTE_NEED_SPORT	BIT(0)
#define KLIPS_EROUTE_NEED_DPORT	BIT(1)
#define KLIPS_EROUTE_NEED_PROTO	BIT(2)

/* Address width in bytes, 0 for a family eroutes do not route. */
static inline unsigned int klips_eroute_addr_bytes(u8 family)
{
	switch (family) {
	case AF_INET:
		return sizeof(__be32);
	case AF_INET6:
		return sizeof(struct in6_addr);
	default:
		return 0;
	}
}

struct klips_eroute_tuple;

/* Immutable once published: a replace publishes a new entry. */
struct klips_eroute {
	struct klips_eroute_key key;
	/* The target: the SAID of the group's outermost-first SA, or a shunt. */
	struct klips_said said;
	u64 __percpu *packets;	/* matches, for the count column */
	/* private to eroute.c */
	struct rhash_head node;
	struct rb_node rb;
	struct klips_eroute_tuple *tuple;
	struct rcu_head rcu;
};

/* eroute_key.c: the key, checked and canonical, ranked, ordered, printed */
int klips_eroute_key_check(const struct klips_eroute_key *in,
			   struct klips_eroute_key *out,
			   struct netlink_ext_ack *extack);
u8 klips_eroute_key_need(const struct klips_eroute_key *k);
u32 klips_eroute_key_rank(const struct klips_eroute_key *k);
void klips_eroute_make_mask(union klips_addr *mask, unsigned int len);
int klips_eroute_key_cmp(const struct klips_eroute_key *a,
			 const struct klips_eroute_key *b);
int klips_eroute_format(const struct klips_eroute *e, char *buf, size_t size);

/* eroute.c: the table */
struct klips_eroute_table;
struct mutex;
struct sk_buff;

struct klips_eroute_table *klips_eroute_table_new(struct mutex *lock,
						  unsigned int max_entries);
void klips_eroute_table_free(struct klips_eroute_table *t);

int klips_eroute_add(struct klips_eroute_table *t,
		     const struct klips_eroute_key *key,
		     const struct klips_said *said, bool replace,
		     struct netlink_ext_ack *extack);
int klips_eroute_del(struct klips_eroute_table *t,
		     const struct klips_eroute_key *key,
		     struct netlink_ext_ack *extack);
void klips_eroute_flush(struct klips_eroute_table *t);
struct klips_eroute *klips_eroute_get(struct klips_eroute_table *t,
				      const struct klips_eroute_key *key);
unsigned int klips_eroute_count(const struct klips_eroute_table *t);
unsigned int klips_eroute_gen(const struct klips_eroute_table *t);

struct klips_eroute *klips_eroute_lookup(struct klips_eroute_table *t,
					 u8 family,
					 const union klips_addr *saddr,
					 const union klips_addr *daddr,
					 u8 proto, __be16 sport, __be16 dport);

bool klips_eroute_has_ports(struct klips_eroute_table *t, u8 family);

/* Listing in matching order, for /proc and netlink dumps. */
struct klips_eroute *klips_eroute_first(struct klips_eroute_table *t);
struct klips_eroute *klips_eroute_next_after(struct klips_eroute_table *t,
					     const struct klips_eroute_key *key);

u64 klips_eroute_packets(const struct klips_eroute *e);

/* Count a packet that matched @e; packet path, under rcu_read_lock(). */
static inline void klips_eroute_count_packet(struct klips_eroute *e)
{
	this_cpu_inc(*e->packets);
}

/* flow.c: what the eroute lookup (and the transmit path) needs from a packet. */
struct klips_flow {
	union klips_addr saddr;
	union klips_addr daddr;
	u8 family;
	u8 proto;
	__be16 sport;
	__be16 dport;
	bool df;		/* IPv4 DF, or IPv6: never fragmented en route */
	bool frag;		/* a fragment: ports unknown */
	bool portless;		/* a fragment looked up without ports */
};

int klips_flow_parse(struct sk_buff *skb, struct klips_flow *f);
void klips_flow_selectors(const struct klips_flow *f,
			  struct klips_eroute_key *sel);

#endif /* _KLIPS_EROUTE_H */
