// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the algorithm table (Documentation/klips/cli.md names,
 * Documentation/klips/proc.md transform names and figures) and the
 * /proc/net/ipsec_spi formatter, pinned on every example line of
 * Documentation/klips/proc.md. Expected text is written from the spec.
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/percpu.h>
#include <linux/timekeeping.h>
#include <crypto/algapi.h>

#include "klips.h"
#include "sa.h"
#include "xform.h"

struct esp_case {
	const char *name;
	unsigned int enckey;	/* bytes, salt included */
	unsigned int authkey;
	int err;
	const char *xform;	/* /proc transform name */
	const char *crypto;	/* crypto API name, without ESN */
	u16 eklen;
	u16 aklen;
	const char *msg;	/* extack message on refusal */
};

/* Every suite of Documentation/klips/cli.md, and the refusals it implies. */
static const struct esp_case esp_cases[] = {
	{ "3des-md5-96", 24, 16, 0, "ESP_3DES_HMAC_MD5",
	  "echainiv(authenc(hmac(md5),cbc(des3_ede)))", 192, 128 },
	{ "3des-sha1-96", 24, 20, 0, "ESP_3DES_HMAC_SHA1",
	  "echainiv(authenc(hmac(sha1),cbc(des3_ede)))", 192, 160 },
	{ "aes-sha1-96", 16, 20, 0, "ESP_AES_HMAC_SHA1",
	  "echainiv(authenc(hmac(sha1),cbc(aes)))", 128, 160 },
	{ "aes-sha1-96", 32, 20, 0, "ESP_AES_HMAC_SHA1",
	  "echainiv(authenc(hmac(sha1),cbc(aes)))", 256, 160 },
	{ "aes256-sha2_256-128", 32, 32, 0, "ESP_AES_HMAC_SHA2_256",
	  "echainiv(authenc(hmac(sha256),cbc(aes)))", 256, 256 },
	{ "aes192-sha2_384-192", 24, 48, 0, "ESP_AES_HMAC_SHA2_384",
	  "echainiv(authenc(hmac(sha384),cbc(aes)))", 192, 384 },
	{ "aes128-sha2_512-256", 16, 64, 0, "ESP_AES_HMAC_SHA2_512",
	  "echainiv(authenc(hmac(sha512),cbc(aes)))", 128, 512 },
	{ "aesctr-sha2_256-128", 20, 32, 0, "ESP_AES_CTR_HMAC_SHA2_256",
	  "seqiv(authenc(hmac(sha256),rfc3686(ctr(aes))))", 128, 256 },
	{ "aes256ctr-sha1-96", 36, 20, 0, "ESP_AES_CTR_HMAC_SHA1",
	  "seqiv(authenc(hmac(sha1),rfc3686(ctr(aes))))", 256, 160 },
	{ "null-sha1-96", 0, 20, 0, "ESP_NULL_HMAC_SHA1",
	  "authenc(hmac(sha1),ecb(cipher_null))", 0, 160 },
	{ "3des", 24, 0, 0, "ESP_3DES",
	  "echainiv(authenc(digest_null,cbc(des3_ede)))", 192, 0 },
	{ "aes", 16, 0, 0, "ESP_AES",
	  "echainiv(authenc(digest_null,cbc(aes)))", 128, 0 },
	{ "aes-gcm-8", 20, 0, 0, "ESP_AES_GCM_8",
	  "seqiv(rfc4106(gcm(aes)))", 128, 0 },
	{ "aes-gcm-12", 28, 0, 0, "ESP_AES_GCM_12",
	  "seqiv(rfc4106(gcm(aes)))", 192, 0 },
	{ "aes-gcm-16", 36, 0, 0, "ESP_AES_GCM_16",
	  "seqiv(rfc4106(gcm(aes)))", 256, 0 },
	{ "aes128gcm16", 20, 0, 0, "ESP_AES_GCM_16",
	  "seqiv(rfc4106(gcm(aes)))", 128, 0 },
	{ "aes256gcm8", 36, 0, 0, "ESP_AES_GCM_8",
	  "seqiv(rfc4106(gcm(aes)))", 256, 0 },
	{ "aes-ccm-8", 19, 0, 0, "ESP_AES_CCM_8",
	  "seqiv(rfc4309(ccm(aes)))", 128, 0 },
	{ "aes-ccm-16", 35, 0, 0, "ESP_AES_CCM_16",
	  "seqiv(rfc4309(ccm(aes)))", 256, 0 },
	{ "chacha20poly1305", 36, 0, 0, "ESP_CHACHA20_POLY1305",
	  "seqiv(rfc7539esp(chacha20,poly1305))", 256, 0 },
	{ "null-aes-gmac", 20, 0, 0, "ESP_NULL_AES_GMAC",
	  "seqiv(rfc4543(gcm(aes)))", 128, 0 },
	/* refusals */
	{ "3des-md5-96", 16, 16, -EINVAL,
	  .msg = "--enckey: 3des takes a 192-bit key" },
	{ "aes-sha1-96", 20, 20, -EINVAL,
	  .msg = "--enckey: aes takes a 128, 192 or 256-bit key" },
	{ "aes-sha1-96", 16, 16, -EINVAL,
	  .msg = "--authkey: sha1 takes a 160-bit key" },
	{ "aes-sha2_256-128", 16, 20, -EINVAL,
	  .msg = "--authkey: sha2_256 takes a 256-bit key" },
	{ "aes-gcm-16", 16, 0, -EINVAL,
	  .msg = "--enckey: aes-gcm takes a 128, 192 or 256-bit key + a 32-bit salt" },
	{ "aes-ccm-16", 20, 0, -EINVAL,
	  .msg = "--enckey: aes-ccm takes a 128, 192 or 256-bit key + a 24-bit salt" },
	{ "chacha20poly1305", 32, 0, -EINVAL,
	  .msg = "--enckey: chacha20poly1305 takes a 256-bit key + a 32-bit salt" },
	{ "null-aes-gmac", 16, 0, -EINVAL,
	  .msg = "--enckey: null-aes-gmac takes a 128, 192 or 256-bit key + a 32-bit salt" },
	{ "aes128gcm16", 36, 0, -EINVAL,
	  .msg = "--enckey: not the key size the --esp name gives" },
	{ "aesctr-sha1-96", 16, 20, -EINVAL,
	  .msg = "--enckey: aesctr takes a 128, 192 or 256-bit key + a 32-bit nonce" },
	{ "null-sha1-96", 16, 20, -EINVAL,
	  .msg = "--enckey: null takes no encryption key" },
	{ "null", 0, 0, -EINVAL,
	  .msg = "--esp: this cipher needs an integrity algorithm" },
	{ "aesctr", 20, 0, -EINVAL,
	  .msg = "--esp: this cipher needs an integrity algorithm" },
	{ "aes", 16, 20, -EINVAL,
	  .msg = "--authkey: this --esp algorithm takes no authentication key" },
	{ "aes-gcm-16-sha1-96", 20, 20, -EOPNOTSUPP, .msg = "--esp: unknown algorithm" },
	{ "aes-md5", 16, 16, -EOPNOTSUPP, .msg = "--esp: unknown algorithm" },
	{ "blowfish-sha1-96", 16, 20, -EOPNOTSUPP, .msg = "--esp: unknown algorithm" },
	{ "aes512-sha1-96", 64, 20, -EOPNOTSUPP, .msg = "--esp: unknown algorithm" },
	{ "", 0, 0, -EOPNOTSUPP, .msg = "--esp: unknown algorithm" },
};

static void esp_desc(const struct esp_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s enc=%u auth=%u", c->name,
		 c->enckey * 8, c->authkey * 8);
}

KUNIT_ARRAY_PARAM(esp, esp_cases, esp_desc);

static void esp_resolve_test(struct kunit *test)
{
	const struct esp_case *c = test->param_value;
	struct netlink_ext_ack extack = {};
	char buf[CRYPTO_MAX_ALG_NAME];
	struct klips_xform x;
	int err;

	err = klips_alg_resolve_esp(c->name, c->enckey, c->authkey, &x,
				    &extack);
	KUNIT_ASSERT_EQ(test, err, c->err);
	if (err) {
		KUNIT_EXPECT_STREQ(test, extack._msg, c->msg);
		return;
	}
	klips_alg_xform_name(IPPROTO_ESP, &x, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf, c->xform);
	KUNIT_ASSERT_EQ(test, klips_alg_crypto_name(&x, false, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, c->crypto);
	KUNIT_EXPECT_EQ(test, x.eklen, c->eklen);
	KUNIT_EXPECT_EQ(test, x.aklen, c->aklen);
}

static void esn_name_test(struct kunit *test)
{
	char buf[CRYPTO_MAX_ALG_NAME];
	struct klips_xform x;

	KUNIT_ASSERT_EQ(test, klips_alg_resolve_esp("aes-sha1-96", 16, 20, &x,
						    NULL), 0);
	KUNIT_ASSERT_EQ(test, klips_alg_crypto_name(&x, true, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, "echainiv(authencesn(hmac(sha1),cbc(aes)))");
	/* AEADs do ESN in their AAD: the same name. */
	KUNIT_ASSERT_EQ(test, klips_alg_resolve_esp("aes-gcm-16", 20, 0, &x,
						    NULL), 0);
	KUNIT_ASSERT_EQ(test, klips_alg_crypto_name(&x, true, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, "seqiv(rfc4106(gcm(aes)))");
}

struct ah_case {
	const char *name;
	unsigned int authkey;
	int err;
	const char *xform;
	const char *crypto;
};

static const struct ah_case ah_cases[] = {
	{ "hmac-md5-96", 16, 0, "AH_HMAC_MD5", "hmac(md5)" },
	{ "hmac-sha1-96", 20, 0, "AH_HMAC_SHA1", "hmac(sha1)" },
	{ "hmac-sha2_256-128", 32, 0, "AH_HMAC_SHA2_256", "hmac(sha256)" },
	{ "hmac-sha2_384-192", 48, 0, "AH_HMAC_SHA2_384", "hmac(sha384)" },
	{ "hmac-sha2_512-256", 64, 0, "AH_HMAC_SHA2_512", "hmac(sha512)" },
	{ "aes-xcbc-96", 16, 0, "AH_AES_XCBC_MAC", "xcbc(aes)" },
	{ "aes-cmac-96", 16, 0, "AH_AES_CMAC", "cmac(aes)" },
	{ "hmac-sha1-96", 16, -EINVAL },
	{ "aes-cmac-96", 32, -EINVAL },
	{ "sha1-96", 20, -EOPNOTSUPP },
	{ "hmac-sha1", 20, -EOPNOTSUPP },
};

static void ah_desc(const struct ah_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s key=%u", c->name,
		 c->authkey * 8);
}

KUNIT_ARRAY_PARAM(ah, ah_cases, ah_desc);

static void ah_resolve_test(struct kunit *test)
{
	const struct ah_case *c = test->param_value;
	char buf[CRYPTO_MAX_ALG_NAME];
	struct klips_xform x;

	KUNIT_ASSERT_EQ(test, klips_alg_resolve_ah(c->name, c->authkey, &x,
						   NULL), c->err);
	if (c->err)
		return;
	klips_alg_xform_name(IPPROTO_AH, &x, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf, c->xform);
	KUNIT_ASSERT_EQ(test, klips_alg_crypto_name(&x, false, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, c->crypto);
	KUNIT_EXPECT_EQ(test, x.aklen, c->authkey * 8);
}

/* An SA as the formatter sees it, without crypto or tables. */
struct fmt_sa {
	const char *said;
	u8 proto_alg;		/* which resolver: IPPROTO_ESP, _AH, _COMP, 0 */
	const char *alg;
	unsigned int enckey, authkey;
	u8 dir;
	const char *src;	/* an address: parsed through a SAID */
	u32 replay_window;
	u64 seq, bitmap;
	u64 bytes, packets;
	u64 hard_bytes;
	time64_t add_ago, use_ago, idle;
	u64 ratio_in, ratio_out;
	const char *policy_src, *policy_dst;
	u8 policy_src_len, policy_dst_len;
	bool larval;		/* getspi SA; else state, or mature if 0 */
	u8 state;
	u16 natt_sport, natt_dport;
	u64 auth_errs, ooo_errs;
	const char *line;	/* expected, from the file cited above */
};

static const struct fmt_sa fmt_cases[] = {
	{ "tun.12a@192.168.43.1", 0, NULL, 0, 0, KLIPS_DIR_OUT, "192.168.43.2",
	  .bytes = 14073, .packets = 14, .add_ago = 269, .use_ago = 149,
	  .idle = 23,
	  .line =
		"tun.12a@192.168.43.1 IPIP: dir=out src=192.168.43.2 life(c,s,h)=bytes(14073,0,0)add(269,0,0)use(149,0,0)packets(14,0,0) idle=23",
	},
	{ "esp:9a35fc02@3049:1::1", IPPROTO_ESP, "3des-md5-96", 24, 16,
	  KLIPS_DIR_IN, "3049:1::2", .replay_window = 32, .seq = 7149,
	  .bitmap = 0xffffffff, .bytes = 1222304, .packets = 7149,
	  .add_ago = 4593, .use_ago = 3858, .idle = 23,
	  .line =
		"esp:9a35fc02@3049:1::1 ESP_3DES_HMAC_MD5: dir=in src=3049:1::2 iv_bits=64 ooowin=32 seq=7149 bit=0xffffffff alen=128 aklen=128 eklen=192 life(c,s,h)=bytes(1222304,0,0)add(4593,0,0)use(3858,0,0)packets(7149,0,0) idle=23",
	},
	{ "esp.d1234567@192.1.2.45", IPPROTO_ESP, "aes-sha1-96", 32, 20,
	  KLIPS_DIR_OUT, "192.1.2.23", .add_ago = 3,
	  .line =
		"esp.d1234567@192.1.2.45 ESP_AES_HMAC_SHA1: dir=out src=192.1.2.23 iv_bits=128 alen=160 aklen=160 eklen=256 life(c,s,h)=add(3,0,0)",
	},
	{ "esp.12345678@192.1.2.45", IPPROTO_ESP, "3des-md5-96", 24, 16,
	  KLIPS_DIR_OUT, "192.1.2.23", .hard_bytes = 800,
	  .line =
		"esp.12345678@192.1.2.45 ESP_3DES_HMAC_MD5: dir=out src=192.1.2.23 iv_bits=64 alen=128 aklen=128 eklen=192 life(c,s,h)=bytes(0,0,800)add(0,0,0)",
	},
	{ "comp.6593@192.1.2.23", IPPROTO_COMP, "deflate", 0, 0, KLIPS_DIR_IN,
	  "192.1.2.45", .bytes = 4096, .packets = 3, .add_ago = 6,
	  .use_ago = 5, .idle = 5, .ratio_in = 4096, .ratio_out = 1187,
	  .line =
		"comp.6593@192.1.2.23 COMP_DEFLATE: dir=in src=192.1.2.45 life(c,s,h)=bytes(4096,0,0)add(6,0,0)use(5,0,0)packets(3,0,0) idle=5 ratio=4096:1187",
	},
	{ "tun.1001@192.1.2.23", 0, NULL, 0, 0, KLIPS_DIR_IN, "192.1.2.45",
	  .add_ago = 6, .policy_src = "192.0.1.0", .policy_src_len = 24,
	  .policy_dst = "192.0.2.0", .policy_dst_len = 24,
	  .line =
		"tun.1001@192.1.2.23 IPIP: dir=in src=192.1.2.45 policy=192.0.1.0/24->192.0.2.0/24 flags=0x8 life(c,s,h)=add(6,0,0)",
	},
	/* beyond the spec's examples: the other optional fields */
	{ "esp.1234@192.1.2.23", IPPROTO_ESP, "aes-gcm-16", 20, 0, KLIPS_DIR_IN,
	  "192.1.2.45", .replay_window = 64, .auth_errs = 2, .ooo_errs = 1,
	  .state = KLIPS_STATE_DYING,
	  .line =
		"esp.1234@192.1.2.23 ESP_AES_GCM_16: dir=in src=192.1.2.45 state=dying iv_bits=64 ooowin=64 ooo_errs=1 alen=128 auth_errs=2 eklen=128 life(c,s,h)=add(0,0,0)",
	},
	{ "esp.1000@192.1.2.23", 0, NULL, 0, 0, KLIPS_DIR_IN, "0.0.0.0",
	  .larval = true, .add_ago = 1,
	  .line =
		"esp.1000@192.1.2.23 ESP: dir=in src=0.0.0.0 state=larval life(c,s,h)=add(1,0,0)",
	},
	{ "esp.12345678@192.1.2.45", IPPROTO_ESP, "3des-md5-96", 24, 16,
	  KLIPS_DIR_OUT, "192.1.2.23", .natt_sport = 4500, .natt_dport = 4500,
	  .line =
		"esp.12345678@192.1.2.45 ESP_3DES_HMAC_MD5: dir=out src=192.1.2.23 iv_bits=64 alen=128 aklen=128 eklen=192 life(c,s,h)=add(0,0,0) natencap=nonesp natsport=4500 natdport=4500",
	},
	{ "ah.a9123456@192.1.2.45", IPPROTO_AH, "hmac-sha1-96", 0, 20,
	  KLIPS_DIR_OUT, "192.1.2.23",
	  .line =
		"ah.a9123456@192.1.2.45 AH_HMAC_SHA1: dir=out src=192.1.2.23 alen=160 aklen=160 life(c,s,h)=add(0,0,0)",
	},
};

static void fmt_desc(const struct fmt_sa *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->said);
}

KUNIT_ARRAY_PARAM(fmt, fmt_cases, fmt_desc);

static void parse_addr(struct kunit *test, const char *text, u8 *family,
		       union klips_addr *addr)
{
	struct klips_said said;
	char buf[KLIPS_SAID_BUFLEN];

	snprintf(buf, sizeof(buf), "tun0x100@%s", text);
	KUNIT_ASSERT_EQ(test, klips_said_parse(buf, strlen(buf), &said, NULL), 0);
	*family = said.family;
	*addr = said.dst;
}

static void build_sa(struct kunit *test, const struct fmt_sa *c,
		     struct klips_sa *sa, time64_t now)
{
	struct klips_sa_pcpu *p;
	int err = 0;
	u8 family;

	KUNIT_ASSERT_EQ(test, klips_said_parse(c->said, strlen(c->said),
					       &sa->said, NULL), 0);
	sa->type = klips_xform_type_get(sa->said.proto);
	switch (c->proto_alg) {
	case IPPROTO_ESP:
		err = klips_alg_resolve_esp(c->alg, c->enckey, c->authkey,
					    &sa->xform, NULL);
		break;
	case IPPROTO_AH:
		err = klips_alg_resolve_ah(c->alg, c->authkey, &sa->xform,
					   NULL);
		break;
	case IPPROTO_COMP:
		err = klips_alg_resolve_comp(c->alg, &sa->xform, NULL);
		break;
	}
	KUNIT_ASSERT_EQ(test, err, 0);
	if (c->larval)
		strscpy(sa->xform_name, "ESP", sizeof(sa->xform_name));
	else
		klips_alg_xform_name(sa->said.proto, &sa->xform, sa->xform_name,
				     sizeof(sa->xform_name));
	sa->state = c->larval ? KLIPS_STATE_LARVAL :
		    c->state ?: KLIPS_STATE_MATURE;
	sa->dir = c->dir;
	parse_addr(test, c->src, &sa->src_family, &sa->src);
	sa->replay_window = c->replay_window;
	if (c->dir == KLIPS_DIR_IN && c->seq) {
		unsigned int i;

		/* The window as the packet path leaves it: bit i is seq - i. */
		sa->replay = kunit_kzalloc(test, sizeof(*sa->replay), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, sa->replay);
		KUNIT_ASSERT_EQ(test, klips_replay_init(sa->replay,
							c->replay_window, false), 0);
		for (i = 64; i-- > 0;)
			if (c->bitmap & BIT_ULL(i))
				KUNIT_ASSERT_EQ(test,
						klips_replay_advance(sa->replay,
								     c->seq - i), 0);
	} else {
		atomic64_set(&sa->out_seq, c->seq);
	}
	sa->hard.bytes = c->hard_bytes;
	sa->add_time = now - c->add_ago;
	sa->first_use = c->use_ago ? now - c->use_ago : 0;
	sa->last_use = c->use_ago ? now - c->idle : 0;
	atomic64_set(&sa->ratio_in, c->ratio_in);
	atomic64_set(&sa->ratio_out, c->ratio_out);
	atomic64_set(&sa->auth_errs, c->auth_errs);
	atomic64_set(&sa->ooo_errs, c->ooo_errs);
	if (c->natt_sport) {
		sa->natt_type = KLIPS_NATT_TYPE_NONESP;
		sa->natt_sport = cpu_to_be16(c->natt_sport);
		sa->natt_dport = cpu_to_be16(c->natt_dport);
	}
	if (c->policy_src) {
		struct klips_policy *pol;

		pol = kunit_kzalloc(test, sizeof(*pol), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pol);
		parse_addr(test, c->policy_src, &family, &pol->src.addr);
		parse_addr(test, c->policy_dst, &family, &pol->dst.addr);
		pol->src.len = c->policy_src_len;
		pol->dst.len = c->policy_dst_len;
		pol->family = family;
		RCU_INIT_POINTER(sa->policy, pol);
	}
	p = per_cpu_ptr(sa->pcpu, 0);
	p->bytes = c->bytes;
	p->packets = c->packets;
}

static void sa_format_test(struct kunit *test)
{
	const struct fmt_sa *c = test->param_value;
	/*
	 * Not the clock: a guest may run this within its first seconds, and
	 * a first use "5 s ago" must not come out as 0 (never used).
	 */
	time64_t now = 100000;
	struct klips_sa *sa;
	char line[512];
	int len;

	sa = kunit_kzalloc(test, sizeof(*sa), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sa);
	sa->pcpu = alloc_percpu(struct klips_sa_pcpu);
	KUNIT_ASSERT_TRUE(test, !!sa->pcpu);
	build_sa(test, c, sa, now);
	len = klips_sa_format(sa, now, line, sizeof(line));
	free_percpu(sa->pcpu);
	KUNIT_EXPECT_STREQ(test, line, c->line);
	KUNIT_EXPECT_EQ(test, len, (int)strlen(c->line));
}

/* An IPIP SA's configuration: 192.0.2.2 -> 192.0.2.1, this SPI. */
static void ipip_cfg(struct klips_sa_config *cfg, u32 spi, u8 dir)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->said.proto = IPPROTO_IPIP;
	cfg->said.spi = spi;
	cfg->said.family = AF_INET;
	cfg->said.dst.ip4 = htonl(0xc0000201);
	cfg->src.ip4 = htonl(0xc0000202);
	cfg->src_family = AF_INET;
	cfg->tun_dst = cfg->said.dst;
	cfg->tun_family = AF_INET;
	cfg->dir = dir;
}

/* An IPIP SA (no crypto) with @soft / @hard packets and bytes limits. */
static struct klips_sa *life_sa(struct kunit *test, u64 soft_packets,
				u64 hard_packets, u64 soft_bytes,
				u64 hard_bytes)
{
	struct klips_sa_config cfg;
	struct klips_sa *sa;

	ipip_cfg(&cfg, 0x1234, KLIPS_DIR_OUT);
	cfg.soft.packets = soft_packets;
	cfg.hard.packets = hard_packets;
	cfg.soft.bytes = soft_bytes;
	cfg.hard.bytes = hard_bytes;
	sa = klips_sa_create(klips_net(&init_net), &cfg, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sa));
	return sa;
}

static void count(struct klips_sa *sa, unsigned int bytes)
{
	local_bh_disable();
	klips_sa_count(sa, bytes);
	local_bh_enable();
}

/* Packets: mature below the soft limit, dying from it, dead at the hard. */
static void life_packets_test(struct kunit *test)
{
	static const u8 want[] = { KLIPS_STATE_MATURE, KLIPS_STATE_MATURE,
				   KLIPS_STATE_DYING, KLIPS_STATE_DYING,
				   KLIPS_STATE_DEAD, KLIPS_STATE_DEAD };
	struct klips_sa *sa = life_sa(test, 3, 5, 0, 0);
	u64 bytes, packets;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		count(sa, 100);
		KUNIT_EXPECT_EQ_MSG(test, READ_ONCE(sa->state), want[i],
				    "after packet %u", i + 1);
	}
	KUNIT_EXPECT_TRUE(test, test_bit(KLIPS_LIFE_SOFT, &sa->life_flags));
	KUNIT_EXPECT_TRUE(test, test_bit(KLIPS_LIFE_HARD, &sa->life_flags));
	klips_sa_totals(sa, &bytes, &packets);
	KUNIT_EXPECT_EQ(test, bytes, 600ULL);
	KUNIT_EXPECT_EQ(test, packets, 6ULL);
	klips_sa_put(sa);
}

/* Bytes: the packet that crosses a limit passes; a hard limit wins. */
static void life_bytes_test(struct kunit *test)
{
	struct klips_sa *sa = life_sa(test, 0, 0, 250, 1000);

	count(sa, 249);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_MATURE);
	count(sa, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_DYING);
	count(sa, 749);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_DYING);
	count(sa, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_DEAD);
	klips_sa_put(sa);

	/* One packet over both: hard only, no soft on the way. */
	sa = life_sa(test, 0, 0, 250, 1000);
	count(sa, 1500);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_DEAD);
	KUNIT_EXPECT_FALSE(test, test_bit(KLIPS_LIFE_SOFT, &sa->life_flags));
	klips_sa_put(sa);
}

/*
 * The packet path counts on an inbound tun or comp SA it found under RCU
 * alone: its last reference may be gone (deleted, freed after the grace
 * period). Crossing a limit then must not take a reference from zero
 * (refcount_t warns: with panic_on_warn the guest dies) nor queue it.
 */
static void life_dead_sa_test(struct kunit *test)
{
	struct klips_sa *sa = life_sa(test, 0, 2, 0, 0);

	refcount_set(&sa->refcnt, 0);
	count(sa, 100);
	count(sa, 100);
	KUNIT_EXPECT_EQ(test, READ_ONCE(sa->state), KLIPS_STATE_DEAD);
	KUNIT_EXPECT_TRUE(test, list_empty(&sa->life_pending));
	KUNIT_EXPECT_EQ(test, refcount_read(&sa->refcnt), 0U);
	refcount_set(&sa->refcnt, 1);
	klips_sa_put(sa);
}

/* An inbound IPIP SA of init_net with this SPI, not in the table yet. */
static struct klips_sa *table_sa(struct kunit *test, u32 spi)
{
	struct klips_sa_config cfg;
	struct klips_sa *sa;

	ipip_cfg(&cfg, spi, KLIPS_DIR_IN);
	sa = klips_sa_create(klips_net(&init_net), &cfg, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sa));
	return sa;
}

/*
 * A reader of the table (a /proc read() chunk, a netlink dump message)
 * keeps the serial of the SA it stopped at, never the SA: that SA may be
 * deleted, and its SAID added again, before the reader comes back.
 */
static void sadb_resume_test(struct kunit *test)
{
	struct klips_net *kn = klips_net(&init_net);
	struct klips_sa *sa[4], *larval;
	struct klips_said said = {};
	u64 stop, serial;
	unsigned int i;

	mutex_lock(&kn->lock);
	KUNIT_ASSERT_NULL(test, klips_sadb_from(kn, 0));
	for (i = 0; i < 3; i++) {
		sa[i] = table_sa(test, 0x5001 + i);
		KUNIT_ASSERT_EQ(test, klips_sadb_add(kn, sa[i], NULL), 0);
	}
	KUNIT_EXPECT_LT(test, sa[0]->serial, sa[1]->serial);
	KUNIT_EXPECT_LT(test, sa[1]->serial, sa[2]->serial);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_from(kn, 0), sa[0]);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_next(sa[0]), sa[1]);

	/* The reader stopped at sa[1], which is then deleted. */
	stop = sa[1]->serial;
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_from(kn, stop), sa[1]);
	klips_sadb_del(kn, sa[1]);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_from(kn, stop), sa[2]);

	/* Its SAID added again: a new serial, after everything there. */
	sa[3] = table_sa(test, 0x5002);
	KUNIT_ASSERT_EQ(test, klips_sadb_add(kn, sa[3], NULL), 0);
	KUNIT_EXPECT_GT(test, sa[3]->serial, sa[2]->serial);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_from(kn, stop), sa[2]);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_next(sa[2]), sa[3]);
	KUNIT_EXPECT_NULL(test, klips_sadb_next(sa[3]));

	/* Stopped at the last SA, which goes: nothing more to read. */
	stop = sa[3]->serial;
	klips_sadb_del(kn, sa[3]);
	KUNIT_EXPECT_NULL(test, klips_sadb_from(kn, stop));

	/* A larval SA filled in keeps its serial, and its place. */
	said.proto = IPPROTO_IPIP;
	said.family = AF_INET;
	said.dst.ip4 = htonl(0xc0000201);
	KUNIT_ASSERT_EQ(test, klips_sadb_getspi(kn, &said, 0x6000, 0x6000,
						NULL), 0);
	larval = klips_sadb_from(kn, sa[2]->serial + 1);
	KUNIT_ASSERT_NOT_NULL(test, larval);
	KUNIT_EXPECT_EQ(test, larval->said.spi, 0x6000U);
	serial = larval->serial;
	sa[1] = table_sa(test, 0x6000);
	KUNIT_ASSERT_EQ(test, klips_sadb_add(kn, sa[1], NULL), 0);
	KUNIT_EXPECT_EQ(test, sa[1]->serial, serial);
	KUNIT_EXPECT_PTR_EQ(test, klips_sadb_from(kn, serial), sa[1]);

	klips_sadb_flush(kn);
	KUNIT_EXPECT_NULL(test, klips_sadb_from(kn, 0));
	mutex_unlock(&kn->lock);
}

/*
 * eroute --addin gives a tun SA a new inbound policy while the receive
 * path may be reading the old one under RCU: a reader keeps seeing the
 * whole policy it found, never one half rewritten.
 */
static void policy_publish_test(struct kunit *test)
{
	struct klips_net *kn = klips_net(&init_net);
	struct klips_sa *sa = table_sa(test, 0x5101);
	struct klips_policy *a, *b, seen;
	const struct klips_policy *before, *after;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	a->family = AF_INET;
	a->src.addr.ip4 = htonl(0x0a010000);
	a->src.len = 16;
	a->dst.addr.ip4 = htonl(0x0a020000);
	a->dst.len = 16;
	b->family = AF_INET6;
	b->src.len = 48;
	b->dst.len = 64;
	mutex_lock(&kn->lock);
	KUNIT_ASSERT_EQ(test, klips_sadb_add(kn, sa, NULL), 0);
	klips_sa_publish_policy(sa, a);
	rcu_read_lock();
	before = rcu_dereference(sa->policy);
	seen = *before;
	/* The change, while this reader holds the old policy. */
	klips_sa_publish_policy(sa, b);
	after = rcu_dereference(sa->policy);
	KUNIT_EXPECT_EQ(test, memcmp(&seen.src, &before->src, sizeof(seen.src)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&seen.dst, &before->dst, sizeof(seen.dst)), 0);
	KUNIT_EXPECT_EQ(test, before->family, AF_INET);
	KUNIT_EXPECT_PTR_NE(test, before, after);
	KUNIT_EXPECT_EQ(test, after->family, AF_INET6);
	KUNIT_EXPECT_EQ(test, after->dst.len, 64);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, klips_sa_flags(sa) & KLIPS_SA_FLAGS_INBOUND_POLICY,
			(u32)KLIPS_SA_FLAGS_INBOUND_POLICY);
	klips_sadb_flush(kn);
	mutex_unlock(&kn->lock);
}

/*
 * The receive path finds an SA under rcu_read_lock() alone, and only then
 * tries for a reference: an SA whose last reference a delete drops must
 * stay readable until every such reader has left its read-side section
 * (sa.c frees it after a grace period). Read here, inside the section,
 * freed memory is a KASAN report (the guest panics) or zeros.
 */
static void sa_grace_test(struct kunit *test)
{
	struct klips_net *kn = klips_net(&init_net);
	struct klips_sa *sa = table_sa(test, 0x5201), *found;
	unsigned int refs = 0;
	u32 spi = 0;
	int err;

	mutex_lock(&kn->lock);
	err = klips_sadb_add(kn, sa, NULL);
	rcu_read_lock();
	/* As the receive path's lookup finds it, by then in the table. */
	found = err ? NULL : klips_sadb_from(kn, sa->serial);
	if (found) {
		/* The table's reference, the only one: the delete drops it. */
		refs = refcount_read(&found->refcnt);
		klips_sadb_del(kn, found);
		spi = READ_ONCE(found->said.spi);
	}
	rcu_read_unlock();
	mutex_unlock(&kn->lock);
	if (err)
		klips_sa_put(sa);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_PTR_EQ(test, found, sa);
	KUNIT_EXPECT_EQ(test, refs, 1U);
	KUNIT_EXPECT_EQ(test, spi, 0x5201U);
}

/* A soft limit at or above a non-zero hard one is refused. */
static void life_refused_test(struct kunit *test)
{
	struct klips_sa_config cfg = {};
	struct klips_sa *sa;

	cfg.said.proto = IPPROTO_IPIP;
	cfg.said.spi = 0x1234;
	cfg.said.family = AF_INET;
	cfg.src_family = AF_INET;
	cfg.tun_family = AF_INET;
	cfg.soft.packets = 5;
	cfg.hard.packets = 5;
	sa = klips_sa_create(klips_net(&init_net), &cfg, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(sa), -EINVAL);
	cfg.soft.packets = 0;
	cfg.hard.packets = 5;
	cfg.soft.usetime = 7;
	sa = klips_sa_create(klips_net(&init_net), &cfg, NULL);
	KUNIT_EXPECT_FALSE(test, IS_ERR(sa));
	if (!IS_ERR(sa))
		klips_sa_put(sa);
}

static struct kunit_case klips_sa_cases[] = {
	KUNIT_CASE_PARAM(esp_resolve_test, esp_gen_params),
	KUNIT_CASE(esn_name_test),
	KUNIT_CASE_PARAM(ah_resolve_test, ah_gen_params),
	KUNIT_CASE_PARAM(sa_format_test, fmt_gen_params),
	KUNIT_CASE(life_packets_test),
	KUNIT_CASE(life_bytes_test),
	KUNIT_CASE(life_refused_test),
	KUNIT_CASE(life_dead_sa_test),
	KUNIT_CASE(sadb_resume_test),
	KUNIT_CASE(policy_publish_test),
	KUNIT_CASE(sa_grace_test),
	{}
};

static struct kunit_suite klips_sa_suite = {
	.name = "klips_sa",
	.test_cases = klips_sa_cases,
};

kunit_test_suite(klips_sa_suite);
