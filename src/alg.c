// SPDX-License-Identifier: GPL-2.0
/*
 * The algorithm table. ESP names compose a cipher and an integrity part,
 * "<cipher>[-<integ>]" (Documentation/klips/cli.md); AEADs stand alone.
 * Everything a name implies is resolved here, at configuration time, so that a
 * wrong key length is refused with a message naming it, never at packet time.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/in.h>
#include <linux/netlink.h>
#include <linux/errno.h>
#include <kunit/visibility.h>

#include "alg.h"

/*
 * Refusals are static strings (extack keeps a pointer, and 6.1 has no
 * formatted messages), so each entry carries the message for its key.
 * Names with a key size ("aes256", "aes128gcm16") are aliases of these,
 * resolved by parse_cipher().
 */
static const struct klips_cipher ciphers[] = {
	{ .name = "3des", .print = "_3DES", .crypto = "cbc(des3_ede)",
	  .geniv = "echainiv", .iana = 3, .key_bits = 192, .iv_bits = 64,
	  .block = 8, .keymsg = "--enckey: 3des takes a 192-bit key" },
	{ .name = "aes", .print = "_AES", .crypto = "cbc(aes)",
	  .geniv = "echainiv", .iana = 12, .aes_keys = true, .iv_bits = 128,
	  .block = 16,
	  .keymsg = "--enckey: aes takes a 128, 192 or 256-bit key" },
	{ .name = "aesctr", .print = "_AES_CTR", .crypto = "rfc3686(ctr(aes))",
	  .geniv = "seqiv", .iana = 13, .aes_keys = true, .salt_bytes = 4,
	  .iv_bits = 64, .block = 4,
	  .keymsg = "--enckey: aesctr takes a 128, 192 or 256-bit key + a 32-bit nonce" },
	{ .name = "null", .print = "_NULL", .crypto = "ecb(cipher_null)",
	  .iana = 11, .block = 4,
	  .keymsg = "--enckey: null takes no encryption key" },
	{ .name = "aes-gcm-8", .print = "_AES_GCM_8",
	  .crypto = "rfc4106(gcm(aes))", .geniv = "seqiv", .iana = 18,
	  .aes_keys = true, .salt_bytes = 4, .iv_bits = 64, .icv_bits = 64,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-gcm takes a 128, 192 or 256-bit key + a 32-bit salt" },
	{ .name = "aes-gcm-12", .print = "_AES_GCM_12",
	  .crypto = "rfc4106(gcm(aes))", .geniv = "seqiv", .iana = 19,
	  .aes_keys = true, .salt_bytes = 4, .iv_bits = 64, .icv_bits = 96,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-gcm takes a 128, 192 or 256-bit key + a 32-bit salt" },
	{ .name = "aes-gcm-16", .print = "_AES_GCM_16",
	  .crypto = "rfc4106(gcm(aes))", .geniv = "seqiv", .iana = 20,
	  .aes_keys = true, .salt_bytes = 4, .iv_bits = 64, .icv_bits = 128,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-gcm takes a 128, 192 or 256-bit key + a 32-bit salt" },
	{ .name = "aes-ccm-8", .print = "_AES_CCM_8",
	  .crypto = "rfc4309(ccm(aes))", .geniv = "seqiv", .iana = 14,
	  .aes_keys = true, .salt_bytes = 3, .iv_bits = 64, .icv_bits = 64,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-ccm takes a 128, 192 or 256-bit key + a 24-bit salt" },
	{ .name = "aes-ccm-12", .print = "_AES_CCM_12",
	  .crypto = "rfc4309(ccm(aes))", .geniv = "seqiv", .iana = 15,
	  .aes_keys = true, .salt_bytes = 3, .iv_bits = 64, .icv_bits = 96,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-ccm takes a 128, 192 or 256-bit key + a 24-bit salt" },
	{ .name = "aes-ccm-16", .print = "_AES_CCM_16",
	  .crypto = "rfc4309(ccm(aes))", .geniv = "seqiv", .iana = 16,
	  .aes_keys = true, .salt_bytes = 3, .iv_bits = 64, .icv_bits = 128,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: aes-ccm takes a 128, 192 or 256-bit key + a 24-bit salt" },
	{ .name = "chacha20poly1305", .print = "_CHACHA20_POLY1305",
	  .crypto = "rfc7539esp(chacha20,poly1305)", .geniv = "seqiv",
	  .iana = 28, .key_bits = 256, .salt_bytes = 4, .iv_bits = 64,
	  .icv_bits = 128, .block = 4, .aead = true,
	  .keymsg = "--enckey: chacha20poly1305 takes a 256-bit key + a 32-bit salt" },
	{ .name = "null-aes-gmac", .print = "_NULL_AES_GMAC",
	  .crypto = "rfc4543(gcm(aes))", .geniv = "seqiv", .iana = 21,
	  .aes_keys = true, .salt_bytes = 4, .iv_bits = 64, .icv_bits = 128,
	  .block = 4, .aead = true,
	  .keymsg = "--enckey: null-aes-gmac takes a 128, 192 or 256-bit key + a 32-bit salt" },
};

static const struct klips_integ integs[] = {
	{ .esp_name = "md5-96", .ah_name = "hmac-md5-96", .print = "_HMAC_MD5",
	  .crypto = "hmac(md5)", .iana = 1, .key_bits = 128, .alen = 128,
	  .icv_bits = 96, .keymsg = "--authkey: md5 takes a 128-bit key" },
	{ .esp_name = "sha1-96", .ah_name = "hmac-sha1-96",
	  .print = "_HMAC_SHA1", .crypto = "hmac(sha1)", .iana = 2,
	  .key_bits = 160, .alen = 160, .icv_bits = 96,
	  .keymsg = "--authkey: sha1 takes a 160-bit key" },
	{ .esp_name = "sha2_256-128", .ah_name = "hmac-sha2_256-128",
	  .print = "_HMAC_SHA2_256", .crypto = "hmac(sha256)", .iana = 12,
	  .key_bits = 256, .alen = 256, .icv_bits = 128,
	  .keymsg = "--authkey: sha2_256 takes a 256-bit key" },
	{ .esp_name = "sha2_384-192", .ah_name = "hmac-sha2_384-192",
	  .print = "_HMAC_SHA2_384", .crypto = "hmac(sha384)", .iana = 13,
	  .key_bits = 384, .alen = 384, .icv_bits = 192,
	  .keymsg = "--authkey: sha2_384 takes a 384-bit key" },
	{ .esp_name = "sha2_512-256", .ah_name = "hmac-sha2_512-256",
	  .print = "_HMAC_SHA2_512", .crypto = "hmac(sha512)", .iana = 14,
	  .key_bits = 512, .alen = 512, .icv_bits = 256,
	  .keymsg = "--authkey: sha2_512 takes a 512-bit key" },
	{ .ah_name = "aes-xcbc-96", .print = "_AES_XCBC_MAC",
	  .crypto = "xcbc(aes)", .iana = 5, .key_bits = 128, .alen = 128,
	  .icv_bits = 96, .keymsg = "--authkey: aes-xcbc takes a 128-bit key" },
	{ .ah_name = "aes-cmac-96", .print = "_AES_CMAC",
	  .crypto = "cmac(aes)", .iana = 8, .key_bits = 128, .alen = 128,
	  .icv_bits = 96, .keymsg = "--authkey: aes-cmac takes a 128-bit key" },
};

static const struct klips_comp comps[] = {
	{ "deflate", "_DEFLATE", "deflate", 2 },
};

/* NL_SET_ERR_MSG() takes literals only; these messages live in the tables. */
static void refuse(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

static const struct klips_cipher *find_cipher(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ciphers); i++)
		if (strlen(ciphers[i].name) == len &&
		    !memcmp(ciphers[i].name, name, len))
			return &ciphers[i];
	return NULL;
}

/*
 * A cipher name, or an alias with the AES key size in it: "aes256" is
 * "aes", "aes128ctr" is "aesctr", "aes256gcm16" is "aes-gcm-16" (and
 * "aes128ccm8" "aes-ccm-8"), each with that key size only.
 */
static const struct klips_cipher *parse_cipher(const char *name, size_t len,
					       unsigned int *bits)
{
	static const char *const sizes[] = { "128", "192", "256" };
	char base[16];
	size_t i;

	*bits = 0;
	if (len < 6 || memcmp(name, "aes", 3))
		return find_cipher(name, len);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (!memcmp(name + 3, sizes[i], 3))
			break;
	if (i == ARRAY_SIZE(sizes) || len - 6 >= sizeof(base) - 8)
		return find_cipher(name, len);
	*bits = 128 + 64 * i;
	name += 6;
	len -= 6;
	if (!len)
		return find_cipher("aes", 3);
	if (len == 3 && !memcmp(name, "ctr", 3))
		return find_cipher("aesctr", 6);
	if (len > 3 && (!memcmp(name, "gcm", 3) || !memcmp(name, "ccm", 3))) {
		/* "gcm16" -> "aes-gcm-16" */
		snprintf(base, sizeof(base), "aes-%.3s-%.*s", name,
			 (int)(len - 3), name + 3);
		return find_cipher(base, strlen(base));
	}
	return NULL;
}

static const struct klips_integ *find_integ(const char *name, bool ah)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(integs); i++) {
		const char *n = ah ? integs[i].ah_name : integs[i].esp_name;

		if (n && !strcmp(n, name))
			return &integs[i];
	}
	return NULL;
}

static int check_enckey(const struct klips_cipher *c, unsigned int fixed,
			unsigned int len, struct klips_xform *x,
			struct netlink_ext_ack *extack)
{
	unsigned int bits = (len - min_t(unsigned int, len, c->salt_bytes)) * 8;
	bool ok;

	if (len <= c->salt_bytes && (c->aes_keys || c->key_bits))
		ok = false;
	else if (fixed)
		ok = bits == fixed;
	else if (c->aes_keys)
		ok = bits == 128 || bits == 192 || bits == 256;
	else
		ok = len == c->key_bits / 8 + c->salt_bytes;
	if (!ok) {
		refuse(extack, fixed ?
		       "--enckey: not the key size the --esp name gives" :
		       c->keymsg);
		return -EINVAL;
	}
	x->eklen = bits;
	return 0;
}

static int check_authkey(const struct klips_integ *a, unsigned int len,
			 struct klips_xform *x, struct netlink_ext_ack *extack)
{
	if (len * 8 != a->key_bits) {
		refuse(extack, a->keymsg);
		return -EINVAL;
	}
	x->aklen = a->key_bits;
	return 0;
}

/**
 * klips_alg_resolve_esp() - resolve an --esp name and check the key lengths
 * @name: "<cipher>[-<integ>]" or an AEAD name
 * @enckey_len: encryption key length in bytes, salt included
 * @authkey_len: authentication key length in bytes (0: none given)
 * @x: the result
 * @extack: why a name or a key is refused
 *
 * Return: 0, -EOPNOTSUPP for an unknown name, -EINVAL for a refused combination.
 */
int klips_alg_resolve_esp(const char *name, unsigned int enckey_len,
			  unsigned int authkey_len, struct klips_xform *x,
			  struct netlink_ext_ack *extack)
{
	const struct klips_integ *a = NULL;
	const struct klips_cipher *c;
	unsigned int fixed;
	const char *dash;
	int err;

	memset(x, 0, sizeof(*x));
	c = parse_cipher(name, strlen(name), &fixed);
	if (!c) {
		/* The cipher is the part before the first '-'. */
		dash = strchr(name, '-');
		c = dash ? parse_cipher(name, dash - name, &fixed) : NULL;
		a = dash ? find_integ(dash + 1, false) : NULL;
		if (!c || !a || c->aead) {
			NL_SET_ERR_MSG(extack, "--esp: unknown algorithm");
			return -EOPNOTSUPP;
		}
	}
	/* Alone, only the CBC ciphers (compatibility, test vectors). */
	if (!a && !c->aead && (c->salt_bytes || (!c->key_bits && !c->aes_keys))) {
		NL_SET_ERR_MSG(extack,
			       "--esp: this cipher needs an integrity algorithm");
		return -EINVAL;
	}
	err = check_enckey(c, fixed, enckey_len, x, extack);
	if (err)
		return err;
	if (!a && authkey_len) {
		NL_SET_ERR_MSG(extack,
			       "--authkey: this --esp algorithm takes no authentication key");
		return -EINVAL;
	}
	if (a) {
		err = check_authkey(a, authkey_len, x, extack);
		if (err)
			return err;
	}
	x->cipher = c;
	x->integ = a;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(klips_alg_resolve_esp);

/**
 * klips_alg_resolve_ah() - resolve an --ah name and check the key length
 * @name: "hmac-sha1-96", ...
 * @authkey_len: key length in bytes
 * @x: the result
 * @extack: why it is refused
 *
 * Return: 0, -EOPNOTSUPP for an unknown name, -EINVAL for a wrong key.
 */
int klips_alg_resolve_ah(const char *name, unsigned int authkey_len,
			 struct klips_xform *x, struct netlink_ext_ack *extack)
{
	const struct klips_integ *a = find_integ(name, true);

	memset(x, 0, sizeof(*x));
	if (!a) {
		NL_SET_ERR_MSG(extack, "--ah: unknown algorithm");
		return -EOPNOTSUPP;
	}
	x->integ = a;
	return check_authkey(a, authkey_len, x, extack);
}
EXPORT_SYMBOL_IF_KUNIT(klips_alg_resolve_ah);

/**
 * klips_alg_resolve_comp() - resolve a --comp name
 * @name: "deflate"
 * @x: the result
 * @extack: why it is refused
 *
 * Return: 0 or -EOPNOTSUPP.
 */
int klips_alg_resolve_comp(const char *name, struct klips_xform *x,
			   struct netlink_ext_ack *extack)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < ARRAY_SIZE(comps); i++) {
		if (!strcmp(comps[i].name, name)) {
			x->comp = &comps[i];
			return 0;
		}
	}
	NL_SET_ERR_MSG(extack, "--comp: unknown algorithm");
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_IF_KUNIT(klips_alg_resolve_comp);

/**
 * klips_alg_crypto_name() - the crypto API name of an ESP or AH transform
 * @x: a resolved transform
 * @esn: extended sequence numbers (authencesn for non-AEAD ESP)
 * @buf: where to print
 * @size: its size, CRYPTO_MAX_ALG_NAME
 *
 * The same names XFRM allocates, IV generators included.
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int klips_alg_crypto_name(const struct klips_xform *x, bool esn, char *buf,
			  size_t size)
{
	const struct klips_cipher *c = x->cipher;
	int n;

	if (x->comp)
		n = snprintf(buf, size, "%s", x->comp->crypto);
	else if (!c)
		n = snprintf(buf, size, "%s", x->integ->crypto);
	else if (c->aead)
		n = snprintf(buf, size, "%s(%s)", c->geniv, c->crypto);
	else
		n = snprintf(buf, size, "%s%sauthenc%s(%s,%s)%s",
			     c->geniv ?: "", c->geniv ? "(" : "",
			     esn ? "esn" : "",
			     x->integ ? x->integ->crypto : "digest_null",
			     c->crypto, c->geniv ? ")" : "");
	return n < size ? 0 : -ENAMETOOLONG;
}
EXPORT_SYMBOL_IF_KUNIT(klips_alg_crypto_name);

/**
 * klips_alg_xform_name() - the transform name /proc prints
 * @proto: IPPROTO_ESP, _AH, _COMP or _IPIP
 * @x: the resolved transform (unused for IPIP)
 * @buf: where to print
 * @size: its size
 *
 * "ESP_AES_HMAC_SHA1", "AH_AES_CMAC", "COMP_DEFLATE", "IPIP".
 *
 * Return: the length, as scnprintf().
 */
int klips_alg_xform_name(u8 proto, const struct klips_xform *x, char *buf,
			 size_t size)
{
	switch (proto) {
	case IPPROTO_ESP:
		return scnprintf(buf, size, "ESP%s%s", x->cipher->print,
				 x->integ ? x->integ->print : "");
	case IPPROTO_AH:
		return scnprintf(buf, size, "AH%s", x->integ->print);
	case IPPROTO_COMP:
		return scnprintf(buf, size, "COMP%s", x->comp->print);
	default:
		return scnprintf(buf, size, "IPIP");
	}
}
EXPORT_SYMBOL_IF_KUNIT(klips_alg_xform_name);
