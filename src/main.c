// SPDX-License-Identifier: GPL-2.0
/*
 * klips: a KLIPS-style IPsec stack. Module init and exit, nothing else.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/rtnetlink.h>

#include "klips.h"
#include "debug.h"
#include "xform.h"

static unsigned int devices = 4;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "number of ipsecN devices created in the initial namespace (0-64)");

static int debug_set(const char *val, const struct kernel_param *kp)
{
	unsigned long mask;
	int err;

	err = kstrtoul(val, 0, &mask);
	if (err)
		return err;
	klips_debug_set(mask);
	return 0;
}

static int debug_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "0x%lx\n", READ_ONCE(klips_debug_mask));
}

static const struct kernel_param_ops debug_ops = {
	.set = debug_set,
	.get = debug_get,
};
module_param_cb(debug, &debug_ops, NULL, 0600);
MODULE_PARM_DESC(debug, "klipsdebug area mask (bit n: area n of /proc/net/ipsec_klipsdebug)");

struct workqueue_struct *klips_wq;

static int __init klips_init(void)
{
	int err;

	if (devices > 64) {
		pr_err(KLIPS_NAME ": devices=%u: at most 64\n", devices);
		return -EINVAL;
	}

	klips_wq = alloc_workqueue(KLIPS_NAME, 0, 0);
	if (!klips_wq)
		return -ENOMEM;

	err = klips_netns_init();
	if (err)
		goto err_wq;

	err = klips_dev_init(devices);
	if (err)
		goto err_netns;

	err = klips_netlink_init();
	if (err)
		goto err_device;

	/* Last: from here on packets arrive, and every table exists. */
	err = klips_input_init();
	if (err)
		goto err_netlink;

	pr_info(KLIPS_NAME " " KLIPS_VERSION " loaded, %u devices\n", devices);
	return 0;

err_netlink:
	klips_netlink_exit();
err_device:
	klips_dev_exit();
err_netns:
	klips_netns_exit();
err_wq:
	rcu_barrier();
	destroy_workqueue(klips_wq);
	return err;
}

static void __exit klips_exit(void)
{
	klips_input_exit();
	klips_netlink_exit();
	klips_dev_exit();
	/*
	 * Each namespace's exit waits for its crypto completions: none runs
	 * this module's code after this.
	 */
	klips_netns_exit();
	/* SAs are freed by RCU work: let it all run before the code goes. */
	rcu_barrier();
	destroy_workqueue(klips_wq);
	pr_info(KLIPS_NAME " " KLIPS_VERSION " unloaded\n");
}

module_init(klips_init);
module_exit(klips_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KLIPS-style IPsec: ipsecN devices, SAs, eroutes");
MODULE_VERSION(KLIPS_VERSION);
MODULE_ALIAS_RTNL_LINK("klips");
