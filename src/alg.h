/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The algorithm table, in one place: the composable names of
 * Documentation/klips/cli.md, the kernel crypto API names, the transform names
 * and key/IV/ICV figures /proc prints (Documentation/klips/proc.md), and the
 * IANA transform numbers.
 */
#ifndef _KLIPS_ALG_H
#define _KLIPS_ALG_H

#include <linux/types.h>
#include <linux/netlink.h>

/* An ESP cipher, alone or an AEAD. */
struct klips_cipher {
	const char *name;	/* "aes", "aes128", "aes-gcm-16", ... */
	const char *print;	/* "_AES", "_AES_GCM_16", ... */
	const char *crypto;	/* "cbc(aes)", "rfc4106(gcm(aes))", ... */
	const char *geniv;	/* IV generator, as XFRM picks it; or NULL */
	const char *keymsg;	/* refusal of a wrong key */
	u16 iana;		/* IKEv2 transform type 1 */
	u16 key_bits;		/* fixed key size, or 0: 128, 192 or 256 */
	u8 salt_bytes;		/* salt/nonce at the end of the key */
	u8 iv_bits;		/* on the wire */
	u8 icv_bits;		/* AEADs: the ICV, printed as alen */
	u8 block;		/* padding alignment in bytes */
	bool aead;
	bool aes_keys;		/* key size 128/192/256, from the key */
};

/* An integrity algorithm, for ESP or AH. */
struct klips_integ {
	const char *esp_name;	/* "sha1-96", or NULL if AH only */
	const char *ah_name;	/* "hmac-sha1-96" */
	const char *print;	/* "_HMAC_SHA1" */
	const char *crypto;	/* "hmac(sha1)" */
	const char *keymsg;	/* refusal of a wrong key */
	u16 iana;		/* IKEv2 transform type 3 */
	u16 key_bits;
	u16 alen;		/* /proc alen: the full MAC in bits */
	u16 icv_bits;		/* truncated ICV on the wire */
};

struct klips_comp {
	const char *name;	/* "deflate" */
	const char *print;	/* "_DEFLATE" */
	const char *crypto;	/* "deflate" */
	u16 iana;		/* IPComp transform ID */
};

/* What an SA's transform is, resolved from the CLI name and the keys. */
struct klips_xform {
	const struct klips_cipher *cipher;	/* ESP */
	const struct klips_integ *integ;	/* ESP or AH, or NULL */
	const struct klips_comp *comp;
	u16 eklen;		/* bits, salt not counted */
	u16 aklen;
};

int klips_alg_resolve_esp(const char *name, unsigned int enckey_len,
			  unsigned int authkey_len, struct klips_xform *x,
			  struct netlink_ext_ack *extack);
int klips_alg_resolve_ah(const char *name, unsigned int authkey_len,
			 struct klips_xform *x, struct netlink_ext_ack *extack);
int klips_alg_resolve_comp(const char *name, struct klips_xform *x,
			   struct netlink_ext_ack *extack);
int klips_alg_crypto_name(const struct klips_xform *x, bool esn, char *buf,
			  size_t size);
int klips_alg_xform_name(u8 proto, const struct klips_xform *x, char *buf,
			 size_t size);

#endif /* _KLIPS_ALG_H */
