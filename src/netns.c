// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace state: every namespace has its own tables, counters and
 * /proc/net/ipsec* files, created with the namespace and freed with it.
 */
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include <linux/moduleparam.h>
#include <kunit/visibility.h>

#include "klips.h"
#include "xform.h"
#include "sa.h"
#include "eroute.h"
#include "hold.h"

static unsigned int max_eroutes = 1 << 20;
module_param(max_eroutes, uint, 0444);
MODULE_PARM_DESC(max_eroutes, "most eroutes one network namespace may hold");

unsigned int klips_net_id __read_mostly;
EXPORT_SYMBOL_IF_KUNIT(klips_net_id);

unsigned long klips_stat_read(struct klips_net *kn, enum klips_stat stat)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(kn->stats, cpu)->count[stat];
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(klips_stat_read);

static int __net_init klips_net_init(struct net *net)
{
	struct klips_net *kn = klips_net(net);
	int err;

	kn->net = net;
	INIT_LIST_HEAD(&kn->attached);
	kn->stats = alloc_percpu_gfp(struct klips_stats, GFP_KERNEL_ACCOUNT);
	if (!kn->stats)
		return -ENOMEM;
	err = klips_async_init(kn);
	if (err)
		goto err_free_stats;

	err = klips_sadb_init(kn);
	if (err)
		goto err_async;
	kn->eroutes = klips_eroute_table_new(&kn->lock, max_eroutes);
	if (IS_ERR(kn->eroutes)) {
		err = PTR_ERR(kn->eroutes);
		goto err_sadb;
	}
	err = klips_hold_init(kn);
	if (err)
		goto err_eroutes;
	err = klips_proc_net_init(kn);
	if (err)
		goto err_holds;
	return 0;

err_holds:
	klips_hold_exit(kn);
err_eroutes:
	klips_eroute_table_free(kn->eroutes);
err_sadb:
	klips_sadb_exit(kn);
err_async:
	klips_async_kill(kn);
	klips_async_wait(kn);
err_free_stats:
	free_percpu(kn->stats);
	return err;
}

static void __net_exit klips_net_exit(struct net *net)
{
	klips_proc_net_exit(klips_net(net));
}

/*
 * Our exit runs before the core's default_device_exit (pernet device ops
 * exit in reverse order of registration), so a dying namespace's ipsecN
 * devices are still there: delete them here, before freeing what their
 * packet path uses.
 */
static void __net_exit klips_net_exit_batch(struct list_head *net_exit_list)
{
	struct net_device *dev, *tmp;
	struct net *net;
	LIST_HEAD(kill);

	rtnl_lock();
	list_for_each_entry(net, net_exit_list, exit_list)
		for_each_netdev_safe(net, dev, tmp)
			if (klips_dev_is_klips(dev))
				unregister_netdevice_queue(dev, &kill);
	unregister_netdevice_many(&kill);
	rtnl_unlock();
	/*
	 * Completions of asynchronous crypto still use the tables. A packet
	 * that passed check_net() before the namespace died starts its
	 * request within this grace period; then only those in flight are
	 * waited for, this namespace's alone.
	 */
	synchronize_net();
	list_for_each_entry(net, net_exit_list, exit_list)
		klips_async_kill(klips_net(net));
	list_for_each_entry(net, net_exit_list, exit_list)
		klips_async_wait(klips_net(net));

	list_for_each_entry(net, net_exit_list, exit_list) {
		struct klips_net *kn = klips_net(net);

		klips_hold_exit(kn);
		klips_eroute_table_free(kn->eroutes);
		klips_sadb_exit(kn);
		free_percpu(kn->stats);
	}
}

static struct pernet_operations klips_net_ops = {
	.init = klips_net_init,
	.exit = klips_net_exit,
	.exit_batch = klips_net_exit_batch,
	.id = &klips_net_id,
	.size = sizeof(struct klips_net),
};

int klips_netns_init(void)
{
	return register_pernet_device(&klips_net_ops);
}

void klips_netns_exit(void)
{
	unregister_pernet_device(&klips_net_ops);
}
