/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where the supported kernels (Debian's 6.1 and 6.12, UML
 * 6.12) differ. Every switch is keyed on a feature probe of the kernel tree
 * (KLIPS_HAVE_*, set by Kbuild), never on a version number.
 */
#ifndef _KLIPS_COMPAT_H
#define _KLIPS_COMPAT_H

#include <linux/netdevice.h>
#include <linux/crypto.h>

/* NETIF_F_LLTX became dev->lltx. */
static inline void klips_compat_set_lltx(struct net_device *dev)
{
#ifdef KLIPS_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/*
 * NETIF_F_NETNS_LOCAL became dev->netns_local, then dev->netns_immutable
 * (within 6.12.y point releases, so probe both).
 */
static inline void klips_compat_set_netns_immutable(struct net_device *dev)
{
#if defined(KLIPS_HAVE_NETNS_IMMUTABLE)
	dev->netns_immutable = true;
#elif defined(KLIPS_HAVE_NETNS_LOCAL)
	dev->netns_local = true;
#else
	dev->features |= NETIF_F_NETNS_LOCAL;
#endif
}

/*
 * Crypto completion callbacks take the request's data pointer (6.3 on) or
 * the request itself (6.1): declare them with KLIPS_CRYPTO_CB_ARG and read
 * the data with klips_crypto_cb_data().
 */
#ifdef KLIPS_HAVE_CRYPTO_CB_VOID
#define KLIPS_CRYPTO_CB_ARG void *
#define klips_crypto_cb_data(arg) (arg)
#else
#define KLIPS_CRYPTO_CB_ARG struct crypto_async_request *
#define klips_crypto_cb_data(arg) ((arg)->data)
#endif

#endif /* _KLIPS_COMPAT_H */
