/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klips: what the module's files share. One job per file: main.c (init and
 * exit), netns.c (per-namespace state), device.c (ipsecN), proc.c
 * (/proc/net/ipsec*), debug.c (klipsdebug areas), said.c (SAID text).
 */
#ifndef _KLIPS_H
#define _KLIPS_H

#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/rhashtable-types.h>
#include <linux/rbtree.h>
#include <linux/workqueue.h>
#include <linux/percpu-refcount.h>
#include <linux/completion.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/gro_cells.h>

#define KLIPS_NAME	"klips"
#define KLIPS_VERSION	"0.1.0"

#define KLIPS_REPLAY_DEFAULT	64
#define KLIPS_REPLAY_MAX	4096

/*
 * Drop and event counters of /proc/net/ipsec/stats
 * (Documentation/klips/design.md, "Counters and error accounting"); the names
 * are in proc.c, in this order.
 */
enum klips_stat {
	KLIPS_STAT_IN_HDR_ERROR,
	KLIPS_STAT_IN_NOT_OURS,
	KLIPS_STAT_IN_STATE_INVALID,
	KLIPS_STAT_IN_REPLAY,
	KLIPS_STAT_IN_AUTH_ERROR,
	KLIPS_STAT_IN_SIZE_ERROR,
	KLIPS_STAT_IN_PAD_ERROR,
	KLIPS_STAT_IN_INNER_HEADER_ERROR,
	KLIPS_STAT_IN_POLICY_ERROR,
	KLIPS_STAT_IN_NO_DEVICE,
	KLIPS_STAT_IN_DUMMY,
	KLIPS_STAT_IN_WRONG_DIR,
	KLIPS_STAT_OUT_NO_EROUTE,
	KLIPS_STAT_OUT_SHUNT,
	KLIPS_STAT_OUT_LOOP,
	KLIPS_STAT_OUT_STATE_EXPIRED,
	KLIPS_STAT_OUT_MTU,
	KLIPS_STAT_TRAP_COUNT,
	KLIPS_STAT_TRAP_SEND_COUNT,
	KLIPS_STAT_HOLD_DROP,
	KLIPS_STAT_MAX
};

struct klips_eroute_table;
struct klips_holds;

struct klips_stats {
	unsigned long count[KLIPS_STAT_MAX];
};

/* Everything klips keeps per network namespace. */
struct klips_net {
	struct net *net;
	struct proc_dir_entry *proc_dir;	/* /proc/net/ipsec */
	struct klips_stats __percpu *stats;

	/* Serialises every configuration change of this namespace. */
	struct mutex lock;
	struct rhashtable sas;			/* SAs by SAID */
	struct rhltable tuns;			/* IPIP SAs by outer addresses */
	/* SAs by serial: add order; readers resume at a serial (sadb.c). */
	struct rb_root sa_serials;
	u64 sa_serial;				/* the last one given */
	struct list_head larval_list;		/* getspi SAs, oldest first */
	unsigned int sa_count;
	u32 sa_gen;				/* bumped on every change */
	struct delayed_work larval_work;	/* expires larval SAs */
	/* Lifetimes (life.c): SAs with a time limit, SAs at a limit. */
	struct list_head life_list;
	time64_t life_next;			/* when life_list is due */
	spinlock_t life_lock;			/* life_pending, any context */
	struct list_head life_pending;
	struct delayed_work life_work;
	struct klips_eroute_table *eroutes;
	struct klips_holds *holds;		/* %hold packets, %trap requests */
	/* ipsecN devices attached to a physical device: RTNL, RCU readers. */
	struct list_head attached;
	unsigned int devices;			/* ipsecN devices here (RTNL) */
	/* Asynchronous crypto requests in flight (esp.c, ah.c). */
	struct percpu_ref async;
	struct completion async_done;
};

extern unsigned int klips_net_id;
/* Frees SAs (crypto tfms may sleep on free) after an RCU grace period. */
extern struct workqueue_struct *klips_wq;

static inline struct klips_net *klips_net(const struct net *net)
{
	return net_generic(net, klips_net_id);
}

static inline void klips_stat_inc(struct klips_net *kn, enum klips_stat stat)
{
	this_cpu_inc(kn->stats->count[stat]);
}

unsigned long klips_stat_read(struct klips_net *kn, enum klips_stat stat);

int klips_netns_init(void);
void klips_netns_exit(void);

/* ipsecN devices (device.c) */
struct klips_dev {
	struct net_device *dev;
	/* The attached physical device (tncfg --attach); NULL when detached. */
	struct net_device __rcu *phys;
	netdevice_tracker phys_tracker;
	struct list_head attached;	/* on klips_net.attached while attached */
	struct gro_cells gro_cells;	/* what klips delivers on this device */
};

extern struct rtnl_link_ops klips_dev_link_ops;

bool klips_dev_is_klips(const struct net_device *dev);
int klips_dev_init(unsigned int count);
void klips_dev_exit(void);
int klips_dev_create(struct net *net, const char *name,
		     struct netlink_ext_ack *extack);
int klips_dev_attach(struct net_device *dev, struct net_device *phys,
		     struct netlink_ext_ack *extack);
void klips_dev_detach(struct net_device *dev);
unsigned int klips_dev_effective_mtu(struct net_device *dev);

/* generic netlink (netlink.c) */
int klips_netlink_init(void);
void klips_netlink_exit(void);

/*
 * Events on the family's multicast group (notify.c): the only way the
 * packet path and the tables raise one.
 */
struct klips_sa;
struct klips_said;
struct klips_eroute_key;
union klips_addr;
void klips_nl_expire_notify(struct klips_net *kn, const struct klips_sa *sa,
			    bool hard);
void klips_nl_group_del_notify(struct klips_net *kn, struct klips_sa *sa);
void klips_nl_mapping_notify(struct klips_net *kn, struct klips_sa *sa,
			     const union klips_addr *addr, __be16 sport);
bool klips_nl_acquire_notify(struct klips_net *kn,
			     const struct klips_eroute_key *sel,
			     const struct klips_said *said);

/* /proc/net/ipsec* (proc.c) */
int klips_proc_net_init(struct klips_net *kn);
void klips_proc_net_exit(struct klips_net *kn);

#endif /* _KLIPS_H */
