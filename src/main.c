// SPDX-License-Identifier: GPL-2.0
/*
 * klips: a KLIPS-style IPsec stack. Module init and exit, nothing else.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/rtnetlink.h>

#include "klips.h"
#include "debug.h"

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

static int __init klips_init(void)
{
	int err;

	if (devices > 64) {
		pr_err(KLIPS_NAME ": devices=%u: at most 64\n", devices);
		return -EINVAL;
	}

	err = klips_netns_init();
	if (err)
		return err;

	err = klips_device_init(devices);
	if (err)
		goto err_netns;

	pr_info(KLIPS_NAME " " KLIPS_VERSION " loaded, %u devices\n", devices);
	return 0;

err_netns:
	klips_netns_exit();
	return err;
}

static void __exit klips_exit(void)
{
	klips_device_exit();
	klips_netns_exit();
	pr_info(KLIPS_NAME " " KLIPS_VERSION " unloaded\n");
}

module_init(klips_init);
module_exit(klips_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KLIPS-style IPsec: ipsecN devices, SAs, eroutes");
MODULE_VERSION(KLIPS_VERSION);
MODULE_ALIAS_RTNL_LINK("klips");
