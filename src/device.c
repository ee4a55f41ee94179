// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecN: the virtual devices that routing sends protected traffic into.
 * Created at load in the initial namespace (module parameter "devices"),
 * elsewhere with `ip link add ipsecN type klips`.
 */
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <net/ip.h>
#include <net/rtnetlink.h>

#include "klips.h"
#include "debug.h"

/*
 * Worst-case overhead of a tunnel group on an IPv6 outer path: enough for
 * IPIP + ESP with the largest IV, padding and ICV (design.md).
 */
#define KLIPS_MAX_OVERHEAD	120

static netdev_tx_t klips_xmit(struct sk_buff *skb, struct net_device *dev)
{
	/* No eroute table yet: everything routed in is dropped and counted. */
	klips_stat_inc(klips_net(dev_net(dev)), KLIPS_STAT_OUT_NO_EROUTE);
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops klips_netdev_ops = {
	.ndo_start_xmit		= klips_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
};

bool klips_is_klips_dev(const struct net_device *dev)
{
	return dev->netdev_ops == &klips_netdev_ops;
}

static void klips_setup(struct net_device *dev)
{
	struct klips_dev *kd = netdev_priv(dev);

	kd->dev = dev;
	dev->netdev_ops = &klips_netdev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = IP_MAX_MTU - KLIPS_MAX_OVERHEAD;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->needs_free_netdev = true;
	klips_compat_set_lltx(dev);
	/* SAs and the attached device live in this namespace (design.md). */
	klips_compat_set_netns_immutable(dev);
}

struct rtnl_link_ops klips_link_ops __read_mostly = {
	.kind		= KLIPS_NAME,
	.priv_size	= sizeof(struct klips_dev),
	.setup		= klips_setup,
};

int klips_device_init(unsigned int count)
{
	struct net_device *dev;
	unsigned int i;
	int err;

	err = rtnl_link_register(&klips_link_ops);
	if (err)
		return err;

	rtnl_lock();
	for (i = 0; i < count; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "ipsec%u", i);
		dev = alloc_netdev(sizeof(struct klips_dev), name,
				   NET_NAME_ENUM, klips_setup);
		if (!dev) {
			err = -ENOMEM;
			goto err_unlock;
		}
		dev->rtnl_link_ops = &klips_link_ops;
		err = register_netdevice(dev);
		if (err) {
			pr_err(KLIPS_NAME ": cannot create %s: %d\n", name, err);
			free_netdev(dev);
			goto err_unlock;
		}
		klips_dbg(KLIPS_DBG_TUNNEL, "created %s\n", name);
	}
	rtnl_unlock();
	return 0;

err_unlock:
	rtnl_unlock();
	/* Deletes the devices created so far, in every namespace. */
	rtnl_link_unregister(&klips_link_ops);
	return err;
}

void klips_device_exit(void)
{
	rtnl_link_unregister(&klips_link_ops);
}
