// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/ipsec/... and the classic /proc/net/ipsec_* names, per network
 * namespace, rendered as Documentation/klips/proc.md says. Never any key
 * material.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "klips.h"
#include "debug.h"
#include "sa.h"
#include "eroute.h"
#include "xform.h"

static const char *const stat_names[KLIPS_STAT_MAX] = {
	[KLIPS_STAT_IN_HDR_ERROR]		= "InHdrError",
	[KLIPS_STAT_IN_NOT_OURS]		= "InNotOurs",
	[KLIPS_STAT_IN_STATE_INVALID]		= "InStateInvalid",
	[KLIPS_STAT_IN_REPLAY]			= "InReplay",
	[KLIPS_STAT_IN_AUTH_ERROR]		= "InAuthError",
	[KLIPS_STAT_IN_SIZE_ERROR]		= "InSizeError",
	[KLIPS_STAT_IN_PAD_ERROR]		= "InPadError",
	[KLIPS_STAT_IN_INNER_HEADER_ERROR]	= "InInnerHeaderError",
	[KLIPS_STAT_IN_POLICY_ERROR]		= "InPolicyError",
	[KLIPS_STAT_IN_NO_DEVICE]		= "InNoDevice",
	[KLIPS_STAT_IN_DUMMY]			= "InDummy",
	[KLIPS_STAT_IN_WRONG_DIR]		= "InWrongDir",
	[KLIPS_STAT_OUT_NO_EROUTE]		= "OutNoEroute",
	[KLIPS_STAT_OUT_SHUNT]			= "OutShunt",
	[KLIPS_STAT_OUT_LOOP]			= "OutLoop",
	[KLIPS_STAT_OUT_STATE_EXPIRED]		= "OutStateExpired",
	[KLIPS_STAT_OUT_MTU]			= "OutMtu",
	[KLIPS_STAT_TRAP_COUNT]			= "TrapCount",
	[KLIPS_STAT_TRAP_SEND_COUNT]		= "TrapSendCount",
	[KLIPS_STAT_HOLD_DROP]			= "HoldDrop",
};

static int stats_show(struct seq_file *seq, void *v)
{
	struct klips_net *kn = klips_net(seq_file_single_net(seq));
	int i;

	for (i = 0; i < KLIPS_STAT_MAX; i++)
		seq_printf(seq, "%-24s\t%lu\n", stat_names[i],
			   klips_stat_read(kn, i));
	return 0;
}

static int version_show(struct seq_file *seq, void *v)
{
	seq_puts(seq, KLIPS_NAME " version: " KLIPS_VERSION "\n");
	return 0;
}

static int klipsdebug_show(struct seq_file *seq, void *v)
{
	int i;

	for (i = 0; i < KLIPS_DBG_MAX; i++)
		seq_printf(seq, "debug_%s=%08x.\n", klips_debug_area_name(i),
			   klips_debug_on(i) ? 0xffffffffU : 0);
	return 0;
}

/*
 * "Name order" with digit runs compared as numbers, so ipsec2 comes
 * before ipsec10.
 */
static int namecmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit(*a) && isdigit(*b)) {
			size_t la = strspn(a, "0123456789");
			size_t lb = strspn(b, "0123456789");
			int c;

			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return !!*a - !!*b;
}

static void tncfg_line(struct seq_file *seq, struct net_device *dev)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int mtu = READ_ONCE(dev->mtu);

	seq_printf(seq, "%s -> %s mtu=%u(%u) -> %u\n", dev->name,
		   phys ? phys->name : "NULL", mtu,
		   klips_dev_effective_mtu(dev),
		   phys ? READ_ONCE(phys->mtu) : 0);
}

/*
 * A namespace has a handful of ipsecN devices: pick them in name order by
 * repeated scans under RCU rather than holding RTNL across a read.
 */
static int tncfg_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	char prev[IFNAMSIZ] = "";
	bool first = true;

	for (;;) {
		struct net_device *dev, *next = NULL;

		mutex_lock(&klips_net(net)->lock);
		rcu_read_lock();
		for_each_netdev_rcu(net, dev) {
			if (!klips_dev_is_klips(dev))
				continue;
			if (!first && namecmp(dev->name, prev) <= 0)
				continue;
			if (!next || namecmp(dev->name, next->name) < 0)
				next = dev;
		}
		if (next) {
			tncfg_line(seq, next);
			strscpy(prev, next->name, sizeof(prev));
		}
		rcu_read_unlock();
		mutex_unlock(&klips_net(net)->lock);
		if (!next)
			return 0;
		first = false;
	}
}

/*
 * ipsec_eroute lists in matching order. Between read() chunks the key where
 * the walk stopped is kept: the next eroute to show (it did not fit the
 * chunk; the one at that key, or else the first after it) or, at the end
 * of a chunk, the last one shown (the first after it). Either way the walk
 * resumes in O(log n), and an eroute added or deleted before that key
 * meanwhile neither repeats a line nor skips one. A reader that seeks
 * walks to its position.
 */
struct eroute_iter {
	struct seq_net_private p;
	struct klips_eroute_key key;
	loff_t pos;		/* the read position the key stands for */
	bool at;		/* resume at the key itself, else after it */
	bool valid;
};

static void *eroute_seq_start(struct seq_file *seq, loff_t *pos)
{
	struct eroute_iter *it = seq->private;
	struct klips_net *kn = klips_net(seq_file_net(seq));
	struct klips_eroute *e;
	loff_t i;

	mutex_lock(&kn->lock);
	if (*pos && it->valid && *pos == it->pos) {
		e = it->at ? klips_eroute_get(kn->eroutes, &it->key) : NULL;
		return e ?: klips_eroute_next_after(kn->eroutes, &it->key);
	}
	e = klips_eroute_first(kn->eroutes);
	for (i = 0; e && i < *pos; i++)
		e = klips_eroute_next_after(kn->eroutes, &e->key);
	return e;
}

static void *eroute_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct eroute_iter *it = seq->private;
	struct klips_net *kn = klips_net(seq_file_net(seq));
	struct klips_eroute *e = v;

	++*pos;
	it->key = e->key;
	it->at = false;
	it->pos = *pos;
	it->valid = true;
	return klips_eroute_next_after(kn->eroutes, &e->key);
}

static void eroute_seq_stop(struct seq_file *seq, void *v)
{
	struct eroute_iter *it = seq->private;
	struct klips_eroute *e = v;

	if (e) {
		it->key = e->key;
		it->at = true;
		it->pos = seq->index;
		it->valid = true;
	}
	mutex_unlock(&klips_net(seq_file_net(seq))->lock);
}

static int eroute_seq_show(struct seq_file *seq, void *v)
{
	struct klips_eroute *e = v;
	char line[KLIPS_EROUTE_LINE_LEN];

	klips_eroute_format(e, line, sizeof(line));
	seq_printf(seq, "%s\n", line);
	return 0;
}

static const struct seq_operations eroute_seq_ops = {
	.start = eroute_seq_start,
	.next = eroute_seq_next,
	.stop = eroute_seq_stop,
	.show = eroute_seq_show,
};

/*
 * ipsec_spi and ipsec_spigrp walk the SAs in add order under the config
 * mutex, one read() chunk at a time. Between chunks only the serial of the
 * next SA to show is kept, not the SA: the walk resumes at the first SA at
 * or after that serial (klips_sadb_from()), whatever was deleted or added
 * in between, so a whole read stays O(n log n). A reader that seeks walks
 * to its position.
 */
struct sa_iter {
	struct seq_net_private p;
	u64 resume;		/* the serial to resume at */
	loff_t resume_pos;	/* for a read at this position */
	time64_t now;
	/*
	 * One ipsec_spi line: an SA with every field at its widest (IPv6
	 * addresses, 20-digit counters and limits, NAT-T) passes 512.
	 */
	char line[1024];
};

static void *sa_seq_start(struct seq_file *seq, loff_t *pos)
{
	struct sa_iter *it = seq->private;
	struct klips_net *kn = klips_net(seq_file_net(seq));

	mutex_lock(&kn->lock);
	it->now = ktime_get_seconds();
	if (!*pos)
		return klips_sadb_from(kn, 0);
	if (*pos == it->resume_pos)
		return klips_sadb_from(kn, it->resume);
	return klips_sadb_at(kn, *pos);
}

static void *sa_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct sa_iter *it = seq->private;
	struct klips_sa *sa = v;

	++*pos;
	it->resume = sa->serial + 1;
	it->resume_pos = *pos;
	return klips_sadb_next(sa);
}

static void sa_seq_stop(struct seq_file *seq, void *v)
{
	struct sa_iter *it = seq->private;
	struct klips_net *kn = klips_net(seq_file_net(seq));
	struct klips_sa *sa = v;

	if (sa) {
		it->resume = sa->serial;
		it->resume_pos = seq->index;
	}
	mutex_unlock(&kn->lock);
}

static int spi_seq_show(struct seq_file *seq, void *v)
{
	struct sa_iter *it = seq->private;

	klips_sa_format(v, it->now, it->line, sizeof(it->line));
	seq_printf(seq, "%s\n", it->line);
	return 0;
}

/* A group is one line, from its innermost SA outwards. */
static int spigrp_seq_show(struct seq_file *seq, void *v)
{
	struct klips_net *kn = klips_net(seq_file_net(seq));
	const struct klips_sa *sa = v;
	char said[KLIPS_SAID_BUFLEN];

	if (rcu_access_pointer(sa->inner) || !rcu_access_pointer(sa->outer))
		return 0;
	for (; sa; sa = rcu_dereference_protected(sa->outer,
						  lockdep_is_held(&kn->lock))) {
		klips_said_format(&sa->said, said, sizeof(said));
		seq_printf(seq, "%s%s", said,
			   rcu_access_pointer(sa->outer) ? " " : "\n");
	}
	return 0;
}

static const struct seq_operations spi_seq_ops = {
	.start = sa_seq_start,
	.next = sa_seq_next,
	.stop = sa_seq_stop,
	.show = spi_seq_show,
};

static const struct seq_operations spigrp_seq_ops = {
	.start = sa_seq_start,
	.next = sa_seq_next,
	.stop = sa_seq_stop,
	.show = spigrp_seq_show,
};

struct proc_table {
	const char *dir;	/* subdirectory of /proc/net/ipsec, or NULL */
	const char *name;
	const char *classic;	/* /proc/net/<classic> symlink, or NULL */
	umode_t mode;
	int (*show)(struct seq_file *seq, void *v);	/* single files */
	const struct seq_operations *ops;		/* tables */
	unsigned int state_size;
};

static const struct proc_table proc_files[] = {
	{ "spi", "all", "ipsec_spi", 0400, NULL, &spi_seq_ops,
	  sizeof(struct sa_iter) },
	{ "eroute", "all", "ipsec_eroute", 0400, NULL, &eroute_seq_ops,
	  sizeof(struct eroute_iter) },
	{ "spigrp", "all", "ipsec_spigrp", 0400, NULL, &spigrp_seq_ops,
	  sizeof(struct sa_iter) },
	{ NULL, "tncfg",      "ipsec_tncfg",      0400, tncfg_show },
	{ NULL, "version",    "ipsec_version",    0444, version_show },
	{ NULL, "klipsdebug", "ipsec_klipsdebug", 0400, klipsdebug_show },
	{ NULL, "stats",      NULL,               0400, stats_show },
};

void klips_proc_net_exit(struct klips_net *kn)
{
	struct proc_dir_entry *proc_net = kn->net->proc_net;
	int i;

	for (i = 0; i < ARRAY_SIZE(proc_files); i++)
		if (proc_files[i].classic)
			remove_proc_subtree(proc_files[i].classic, proc_net);
	remove_proc_subtree("ipsec", proc_net);
	kn->proc_dir = NULL;
}

int klips_proc_net_init(struct klips_net *kn)
{
	struct proc_dir_entry *proc_net = kn->net->proc_net;
	int i;

	kn->proc_dir = proc_net_mkdir(kn->net, "ipsec", proc_net);
	if (!kn->proc_dir)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(proc_files); i++) {
		const struct proc_table *f = &proc_files[i];
		struct proc_dir_entry *parent = kn->proc_dir;
		char target[32];

		if (f->dir) {
			parent = proc_net_mkdir(kn->net, f->dir, kn->proc_dir);
			if (!parent)
				goto err;
			snprintf(target, sizeof(target), "ipsec/%s/%s",
				 f->dir, f->name);
		} else {
			snprintf(target, sizeof(target), "ipsec/%s", f->name);
		}
		if (f->ops ? !proc_create_net(f->name, f->mode, parent, f->ops,
					      f->state_size) :
		    !proc_create_net_single(f->name, f->mode, parent, f->show,
					    NULL))
			goto err;
		if (f->classic && !proc_symlink(f->classic, proc_net, target))
			goto err;
	}
	return 0;

err:
	klips_proc_net_exit(kn);
	return -ENOMEM;
}
