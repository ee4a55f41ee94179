/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the transform suites (esp_test.c, ah_test.c) share: SAs and skbs
 * that are put or freed when the test ends, a transform run as the packet
 * path runs it, and a MAC computed apart from the module.
 */
#ifndef KLIPS_XFORM_TEST_H
#define KLIPS_XFORM_TEST_H

#include <kunit/test.h>
#include <linux/skbuff.h>

#include "klips.h"
#include "sa.h"

unsigned long klips_test_stat(enum klips_stat stat);
struct klips_sa *klips_test_sa(struct kunit *test,
			       const struct klips_sa_config *cfg);
struct sk_buff *klips_test_skb(struct kunit *test, unsigned int len);
struct sk_buff *klips_test_copy(struct kunit *test, struct sk_buff *skb);
struct sk_buff *klips_test_clone(struct kunit *test, struct sk_buff *skb);
int klips_test_run(struct kunit *test,
		   int (*xform)(struct sk_buff *skb, struct klips_sa *sa),
		   struct sk_buff *skb, struct klips_sa *sa);
u64 klips_test_window_top(struct klips_sa *sa);
void klips_test_mac(struct kunit *test, const char *alg, const u8 *key,
		    unsigned int key_len, const u8 *data, unsigned int len,
		    const __be32 *seqhi, u8 *out);

#endif
