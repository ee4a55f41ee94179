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

#include <linux/inetdevice.h>
#include <net/addrconf.h>

#include "klips.h"
#include "debug.h"
#include "xform.h"
#include "sa.h"
#include "eroute.h"

/*
 * Worst-case overhead of a tunnel group on an IPv6 outer path: enough for
 * IPIP + ESP with the largest IV, padding and ICV
 * (Documentation/klips/design.md).
 */
#define KLIPS_MAX_OVERHEAD	120

/* ipsecN devices one namespace may hold, however they are created. */
static unsigned int max_devices = 64;
module_param(max_devices, uint, 0644);
MODULE_PARM_DESC(max_devices, "most ipsecN devices one network namespace may hold");

static bool klips_dev_room(struct net *net)
{
	return klips_net(net)->devices < READ_ONCE(max_devices);
}

/* Every way of creating an ipsecN comes here, RTNL held. */
static int klips_init(struct net_device *dev)
{
	struct klips_dev *kd = netdev_priv(dev);
	int err;

	if (!klips_dev_room(dev_net(dev)))
		return -ENOSPC;
	err = gro_cells_init(&kd->gro_cells, dev);
	if (!err)
		klips_net(dev_net(dev))->devices++;
	return err;
}

static void klips_uninit(struct net_device *dev)
{
	struct klips_dev *kd = netdev_priv(dev);

	klips_dev_detach(dev);
	gro_cells_destroy(&kd->gro_cells);
	klips_net(dev_net(dev))->devices--;
}

static const struct net_device_ops klips_netdev_ops = {
	.ndo_init		= klips_init,
	.ndo_uninit		= klips_uninit,
	.ndo_start_xmit		= klips_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
};

/**
 * klips_dev_effective_mtu() - what fits through an ipsecN device
 * @dev: the ipsecN device
 *
 * The smallest effective MTU of the groups the namespace's eroutes lead to,
 * through the attached device (Documentation/klips/design.md); the device's MTU
 * when there are none or it is detached. /proc/net/ipsec_tncfg and the netlink
 * device dump both show this.
 * Context: the namespace's config mutex and rcu_read_lock() held.
 *
 * Return: the effective MTU.
 */
unsigned int klips_dev_effective_mtu(struct net_device *dev)
{
	struct klips_net *kn = klips_net(dev_net(dev));
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int mtu = READ_ONCE(dev->mtu), eff = 0, m;
	struct klips_eroute *e;

	lockdep_assert_held(&kn->lock);
	if (!phys)
		return mtu;
	for (e = klips_eroute_first(kn->eroutes); e;
	     e = klips_eroute_next_after(kn->eroutes, &e->key)) {
		struct klips_sa *sa;

		if (e->said.proto == KLIPS_PROTO_INT)
			continue;
		sa = klips_sadb_lookup_rcu(kn, &e->said);
		/* A larval SA leads nowhere yet. */
		if (!sa || READ_ONCE(sa->state) == KLIPS_STATE_LARVAL)
			continue;
		m = klips_group_mtu(sa, READ_ONCE(phys->mtu),
				    e->key.family == AF_INET ?
				    sizeof(struct iphdr) :
				    sizeof(struct ipv6hdr));
		if (!eff || m < eff)
			eff = m;
	}
	return eff ?: mtu;
}

bool klips_dev_is_klips(const struct net_device *dev)
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
	/* Partial checksums are completed before the transforms; GSO is not
	 * advertised, so the core segments before ndo_start_xmit.
	 */
	dev->features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA;
	dev->hw_features = dev->features;
	/* Room for an outer IPv6 header, ESP, the largest IV and trailer. */
	dev->needed_headroom = LL_MAX_HEADER + KLIPS_MAX_OVERHEAD;
	dev->needed_tailroom = 64;
	/* Keep the route: ICMP errors sent from ndo_start_xmit need it. */
	netif_keep_dst(dev);
	klips_compat_set_lltx(dev);
	/*
	 * SAs and the attached device live in this namespace
	 * (Documentation/klips/design.md).
	 */
	klips_compat_set_netns_immutable(dev);
}

struct rtnl_link_ops klips_dev_link_ops __read_mostly = {
	.kind		= KLIPS_NAME,
	.priv_size	= sizeof(struct klips_dev),
	.setup		= klips_setup,
};

/**
 * klips_dev_create() - create an ipsecN device (tncfg --create)
 * @net: its namespace
 * @name: its name
 * @extack: why it failed
 *
 * Context: RTNL held.
 * Return: 0 or a negative errno.
 */
int klips_dev_create(struct net *net, const char *name,
		     struct netlink_ext_ack *extack)
{
	struct net_device *dev;
	int err;

	ASSERT_RTNL();
	if (!dev_valid_name(name)) {
		NL_SET_ERR_MSG(extack, "tncfg: not a valid device name");
		return -EINVAL;
	}
	if (!klips_dev_room(net)) {
		NL_SET_ERR_MSG(extack,
			       "tncfg: the namespace holds max_devices ipsecN devices already (module parameter)");
		return -ENOSPC;
	}
	dev = alloc_netdev(sizeof(struct klips_dev), name, NET_NAME_USER,
			   klips_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, net);
	dev->rtnl_link_ops = &klips_dev_link_ops;
	err = register_netdevice(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "tncfg: a device of that name exists");
		free_netdev(dev);
		return err;
	}
	klips_dbg(KLIPS_DBG_TUNNEL, "created %s\n", name);
	return 0;
}

/*
 * The attach MTU's headroom: IPIP + ESP with an 8-byte IV, full padding and
 * a 16-byte ICV; larger suites rely on the per-packet check against the
 * group's effective MTU (Documentation/klips/design.md).
 */
#define KLIPS_OVERHEAD_IPV4	80

/*
 * KLIPS gave every ipsecN a fixed MTU of 16260 and relied on its own ICMP
 * too-big. Old scripts that expect it can set fixed_mtu=16260; 0 derives
 * the MTU from the physical device on attach.
 */
static unsigned int fixed_mtu;
module_param(fixed_mtu, uint, 0644);
MODULE_PARM_DESC(fixed_mtu,
		 "MTU set on tncfg --attach instead of the physical MTU minus the overhead (0: derive; KLIPS used 16260)");

/*
 * Whether @phys can carry an IPv6 outer path: it has an IPv6 address wider
 * than link scope. Then the attach MTU leaves room for the IPv6 outer header,
 * so that PMTU discovery through ipsecN takes one step for either family.
 * Context: RTNL held.
 */
static bool klips_phys_has_ipv6(struct net_device *phys)
{
	struct inet6_dev *idev = __in6_dev_get(phys);
	struct inet6_ifaddr *ifa;
	bool found = false;

	if (!idev)
		return false;
	read_lock_bh(&idev->lock);
	list_for_each_entry(ifa, &idev->addr_list, if_list) {
		if (!(ifa->scope & (IFA_LINK | IFA_HOST))) {
			found = true;
			break;
		}
	}
	read_unlock_bh(&idev->lock);
	return found;
}

/**
 * klips_dev_attach() - attach an ipsecN device to a physical device
 * @dev: the ipsecN device
 * @phys: the physical device, in the same namespace
 * @extack: why it is refused
 *
 * Context: RTNL held.
 * Return: 0 or a negative errno.
 */
int klips_dev_attach(struct net_device *dev, struct net_device *phys,
		     struct netlink_ext_ack *extack)
{
	struct klips_dev *kd = netdev_priv(dev);
	unsigned int overhead, mtu;

	ASSERT_RTNL();
	if (klips_dev_is_klips(phys) || (phys->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG(extack,
			       "tncfg --physical: not an ipsecN or loopback device");
		return -EINVAL;
	}
	klips_dev_detach(dev);
	netdev_hold(phys, &kd->phys_tracker, GFP_KERNEL);
	rcu_assign_pointer(kd->phys, phys);
	/* The first attached of several on one device receives (as before). */
	list_add_tail_rcu(&kd->attached, &klips_net(dev_net(dev))->attached);
	mtu = READ_ONCE(fixed_mtu);
	if (mtu) {
		dev_set_mtu(dev, clamp(mtu, dev->min_mtu, dev->max_mtu));
	} else {
		overhead = klips_phys_has_ipv6(phys) ? KLIPS_MAX_OVERHEAD :
						       KLIPS_OVERHEAD_IPV4;
		if (phys->mtu > overhead + ETH_MIN_MTU)
			dev_set_mtu(dev, phys->mtu - overhead);
	}
	klips_dbg(KLIPS_DBG_TUNNEL, "%s attached to %s\n", dev->name,
		  phys->name);
	return 0;
}

/*
 * Context: RTNL held. A detached device keeps its MTU
 * (Documentation/klips/design.md). The receive path may be walking the attached
 * list: it is done with this device before the device can be freed.
 */
void klips_dev_detach(struct net_device *dev)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rtnl_dereference(kd->phys);

	if (!phys)
		return;
	list_del_rcu(&kd->attached);
	RCU_INIT_POINTER(kd->phys, NULL);
	synchronize_net();
	netdev_put(phys, &kd->phys_tracker);
	klips_dbg(KLIPS_DBG_TUNNEL, "%s detached from %s\n", dev->name,
		  phys->name);
}

/*
 * What arrives on ipsecN was checked by klips, and what routing sends into
 * it is klips's to protect: XFRM policy stays out of both
 * (Documentation/klips/design.md). IPv6 has no disable_xfrm.
 */
static void klips_dev_registered(struct net_device *dev)
{
	struct in_device *in_dev = __in_dev_get_rtnl(dev);
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (in_dev) {
		IN_DEV_CONF_SET(in_dev, NOPOLICY, 1);
		IN_DEV_CONF_SET(in_dev, NOXFRM, 1);
	}
	if (idev)
		WRITE_ONCE(idev->cnf.disable_policy, 1);
}

/*
 * The physical device going away, leaving the namespace (which unregisters
 * it here) or being renamed detaches every ipsecN attached to it.
 */
static int klips_netdev_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *phys = netdev_notifier_info_to_dev(ptr);
	struct klips_dev *kd, *tmp;
	struct klips_net *kn;

	if (event == NETDEV_REGISTER && klips_dev_is_klips(phys))
		klips_dev_registered(phys);
	if (event != NETDEV_UNREGISTER && event != NETDEV_CHANGENAME)
		return NOTIFY_DONE;
	if (klips_dev_is_klips(phys))
		return NOTIFY_DONE;
	/* None in a namespace whose setup failed before klips's part. */
	kn = klips_net(dev_net(phys));
	if (!kn)
		return NOTIFY_DONE;
	list_for_each_entry_safe(kd, tmp, &kn->attached, attached)
		if (rtnl_dereference(kd->phys) == phys)
			klips_dev_detach(kd->dev);
	return NOTIFY_DONE;
}

static struct notifier_block klips_netdev_notifier = {
	.notifier_call = klips_netdev_event,
};

int klips_dev_init(unsigned int count)
{
	unsigned int i;
	int err;

	if (count > READ_ONCE(max_devices)) {
		pr_err(KLIPS_NAME ": devices=%u is more than max_devices=%u\n",
		       count, READ_ONCE(max_devices));
		return -EINVAL;
	}
	err = register_netdevice_notifier(&klips_netdev_notifier);
	if (err)
		return err;
	err = rtnl_link_register(&klips_dev_link_ops);
	if (err)
		goto err_notifier;

	rtnl_lock();
	for (i = 0; i < count; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "ipsec%u", i);
		err = klips_dev_create(&init_net, name, NULL);
		if (err) {
			pr_err(KLIPS_NAME ": cannot create %s: %d\n", name, err);
			break;
		}
	}
	rtnl_unlock();
	if (!err)
		return 0;

	/* Deletes the devices created so far, in every namespace. */
	rtnl_link_unregister(&klips_dev_link_ops);
err_notifier:
	unregister_netdevice_notifier(&klips_netdev_notifier);
	return err;
}

void klips_dev_exit(void)
{
	rtnl_link_unregister(&klips_dev_link_ops);
	unregister_netdevice_notifier(&klips_netdev_notifier);
}
