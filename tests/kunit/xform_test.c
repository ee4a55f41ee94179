// SPDX-License-Identifier: GPL-2.0
/* Helpers of the transform suites: see xform_test.h. */
#include <kunit/resource.h>
#include <crypto/hash.h>
#include <net/net_namespace.h>

#include "replay.h"
#include "xform_test.h"

KUNIT_DEFINE_ACTION_WRAPPER(sa_put_action, klips_sa_put, struct klips_sa *);
KUNIT_DEFINE_ACTION_WRAPPER(skb_free_action, kfree_skb, struct sk_buff *);
KUNIT_DEFINE_ACTION_WRAPPER(shash_free_action, crypto_free_shash,
			    struct crypto_shash *);

/* A per-namespace counter of init_net, where the suites' skbs live. */
unsigned long klips_test_stat(enum klips_stat stat)
{
	return klips_stat_read(klips_net(&init_net), stat);
}

/* An SA as an admin's add builds it, in no table; put when the test ends. */
struct klips_sa *klips_test_sa(struct kunit *test,
			       const struct klips_sa_config *cfg)
{
	struct netlink_ext_ack extack = {};
	struct klips_sa *sa;

	sa = klips_sa_create(klips_net(&init_net), cfg, &extack);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(sa), "%s: error %ld: %s", cfg->alg,
			       PTR_ERR(sa), extack._msg ?: "");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sa_put_action, sa),
			0);
	return sa;
}

static struct sk_buff *own_skb(struct kunit *test, struct sk_buff *skb)
{
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, skb_free_action,
							skb), 0);
	return skb;
}

/* An empty skb for @len bytes and link headers, on init_net's loopback. */
struct sk_buff *klips_test_skb(struct kunit *test, unsigned int len)
{
	struct sk_buff *skb = own_skb(test, alloc_skb(LL_MAX_HEADER + len,
						      GFP_KERNEL));

	skb_reserve(skb, LL_MAX_HEADER);
	skb->dev = init_net.loopback_dev;
	return skb;
}

struct sk_buff *klips_test_copy(struct kunit *test, struct sk_buff *skb)
{
	return own_skb(test, skb_copy(skb, GFP_KERNEL));
}

struct sk_buff *klips_test_clone(struct kunit *test, struct sk_buff *skb)
{
	return own_skb(test, skb_clone(skb, GFP_KERNEL));
}

/*
 * @xform on @skb as the packet path runs it, bottom halves off. Crypto
 * must be synchronous here: an asynchronous one would resume the real
 * packet path from its completion.
 */
int klips_test_run(struct kunit *test,
		   int (*xform)(struct sk_buff *skb, struct klips_sa *sa),
		   struct sk_buff *skb, struct klips_sa *sa)
{
	int ret;

	local_bh_disable();
	ret = xform(skb, sa);
	local_bh_enable();
	KUNIT_ASSERT_NE(test, ret, -EINPROGRESS);
	return ret;
}

/* The highest sequence number an inbound SA's window has taken. */
u64 klips_test_window_top(struct klips_sa *sa)
{
	struct klips_replay_view view;

	klips_replay_read(sa->replay, &view);
	return view.seq;
}

/*
 * The kernel's shash @alg keyed with @key over @len bytes at @data, then
 * over @seqhi unless NULL (the high half of an extended sequence number,
 * which ESP and AH put after the packet).
 */
void klips_test_mac(struct kunit *test, const char *alg, const u8 *key,
		    unsigned int key_len, const u8 *data, unsigned int len,
		    const __be32 *seqhi, u8 *out)
{
	struct crypto_shash *tfm = crypto_alloc_shash(alg, 0, 0);
	struct shash_desc *desc;

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(tfm), "%s: %ld", alg, PTR_ERR(tfm));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, shash_free_action,
							tfm), 0);
	desc = kunit_kzalloc(test, sizeof(*desc) + crypto_shash_descsize(tfm),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, desc);
	desc->tfm = tfm;
	KUNIT_ASSERT_EQ(test, crypto_shash_setkey(tfm, key, key_len), 0);
	KUNIT_ASSERT_EQ(test, crypto_shash_init(desc), 0);
	KUNIT_ASSERT_EQ(test, crypto_shash_update(desc, data, len), 0);
	if (seqhi)
		KUNIT_ASSERT_EQ(test, crypto_shash_update(desc, (const u8 *)seqhi,
							  sizeof(*seqhi)), 0);
	KUNIT_ASSERT_EQ(test, crypto_shash_final(desc, out), 0);
}
