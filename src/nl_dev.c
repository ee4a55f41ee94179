// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecN device commands of the klips family (tncfg): dev-add, dev-del,
 * dev-attach, dev-detach and dev-get. The devices are device.c's; changes
 * take the RTNL, the dump the namespace's config mutex.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

/* An ipsecN device of this namespace by name. Context: RTNL held. */
static struct net_device *find_dev(struct net *net, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_NAME];
	struct net_device *dev;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg: --virtual is required");
		return ERR_PTR(-EINVAL);
	}
	dev = __dev_get_by_name(net, nla_data(nla));
	if (!dev || !klips_dev_is_klips(dev)) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "tncfg: no such ipsecN device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

int klips_nl_dev_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_NAME];
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg --create: a name is required");
		return -EINVAL;
	}
	rtnl_lock();
	err = klips_dev_create(genl_info_net(info), nla_data(nla),
			       info->extack);
	rtnl_unlock();
	return err;
}

int klips_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev;

	rtnl_lock();
	dev = find_dev(genl_info_net(info), info);
	if (!IS_ERR(dev))
		unregister_netdevice(dev);
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(dev);
}

int klips_nl_dev_attach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[KLIPS_A_DEV_PHYSICAL];
	struct net *net = genl_info_net(info);
	struct net_device *dev, *phys;
	int err;

	if (!nla) {
		NL_SET_ERR_MSG(info->extack, "tncfg --attach: --physical is required");
		return -EINVAL;
	}
	rtnl_lock();
	dev = find_dev(net, info);
	err = PTR_ERR_OR_ZERO(dev);
	if (err)
		goto out;
	phys = __dev_get_by_name(net, nla_data(nla));
	if (!phys) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "tncfg --physical: no such device in this namespace");
		err = -ENODEV;
		goto out;
	}
	err = klips_dev_attach(dev, phys, info->extack);
out:
	rtnl_unlock();
	return err;
}

/* Without a name: detach every ipsecN of the namespace (tncfg --clear). */
int klips_nl_dev_detach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct net_device *dev;
	int err = 0;

	rtnl_lock();
	if (info->attrs[KLIPS_A_DEV_NAME]) {
		dev = find_dev(net, info);
		err = PTR_ERR_OR_ZERO(dev);
		if (!err)
			klips_dev_detach(dev);
	} else {
		for_each_netdev(net, dev)
			if (klips_dev_is_klips(dev))
				klips_dev_detach(dev);
	}
	rtnl_unlock();
	return err;
}

static int fill_dev(struct sk_buff *skb, struct net_device *dev,
		    struct netlink_callback *cb)
{
	struct klips_dev *kd = netdev_priv(dev);
	struct net_device *phys = rcu_dereference(kd->phys);
	unsigned int eff;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &klips_nl_family, NLM_F_MULTI, KLIPS_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	eff = klips_dev_effective_mtu(dev);
	if (nla_put_string(skb, KLIPS_A_DEV_NAME, dev->name) ||
	    (phys && nla_put_string(skb, KLIPS_A_DEV_PHYSICAL, phys->name)) ||
	    nla_put_u32(skb, KLIPS_A_DEV_MTU, dev->mtu) ||
	    nla_put_u32(skb, KLIPS_A_DEV_EFFECTIVE_MTU, eff) ||
	    nla_put_u32(skb, KLIPS_A_DEV_PHYSICAL_MTU, phys ? phys->mtu : 0)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int klips_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct net_device *dev;
	long i = 0;

	/*
	 * The effective MTU walks the namespace's eroutes: under its config
	 * mutex and RCU, as /proc's tncfg, never under the global RTNL.
	 */
	mutex_lock(&klips_net(net)->lock);
	/*
	 * The walk resumes by position: a device registered or unregistered
	 * between two parts (the list's own change count, which RTNL guards)
	 * sets NLM_F_DUMP_INTR on the later one.
	 */
	cb->seq = READ_ONCE(net->dev_base_seq);
	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (!klips_dev_is_klips(dev))
			continue;
		if (i++ < cb->args[0])
			continue;
		if (fill_dev(skb, dev, cb)) {
			i--;
			break;
		}
	}
	rcu_read_unlock();
	mutex_unlock(&klips_net(net)->lock);
	cb->args[0] = i;
	return skb->len;
}
