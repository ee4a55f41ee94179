// SPDX-License-Identifier: GPL-2.0
/*
 * Keys, in KLIPS's two notations, 0x<hex> (with optional '_' between
 * digits, as KLIPS's ttodata took them) and 0s<base64>, or @<file> holding
 * one of the two. Every buffer a key passed through is wiped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipsec.h"

#define KEY_FILE_MAX	4096

void key_wipe(struct key *key)
{
	explicit_bzero(key, sizeof(*key));
}

static int too_long(const struct ctx *ctx, const char *what)
{
	return fail(ctx, EXIT_USAGE, "%s: longer than %d bytes", what,
		    KLIPS_KEY_MAX);
}

static int parse_hex(const struct ctx *ctx, const char *what, const char *p,
		     struct key *key)
{
	unsigned int nibbles = 0;
	int hi = 0, d;

	for (; *p; p++) {
		if (*p == '_' && nibbles && p[1] && p[1] != '_')
			continue;
		d = hex_to_bin(*p);
		if (d < 0)
			return fail(ctx, EXIT_USAGE, "%s: not hex after 0x", what);
		if (nibbles++ % 2 == 0) {
			hi = d;
			continue;
		}
		if (key->len == sizeof(key->data))
			return too_long(ctx, what);
		key->data[key->len++] = hi << 4 | d;
	}
	if (!nibbles)
		return fail(ctx, EXIT_USAGE, "%s: no key after 0x", what);
	if (nibbles % 2)
		return fail(ctx, EXIT_USAGE, "%s: odd number of hex digits",
			    what);
	return 0;
}

static int b64_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? p - alphabet : -1;
}

/* Standard base64 (RFC 4648), '=' padding optional but only at the end. */
static int parse_base64(const struct ctx *ctx, const char *what,
			const char *p, struct key *key)
{
	size_t n = strlen(p), pad = 0, i;
	uint32_t acc = 0;
	int v;

	while (n > pad && pad < 2 && p[n - 1 - pad] == '=')
		pad++;
	n -= pad;
	if (!n)
		return fail(ctx, EXIT_USAGE, "%s: no key after 0s", what);
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return fail(ctx, EXIT_USAGE, "%s: not base64 after 0s", what);
	for (i = 0; i < n; i++) {
		v = b64_value(p[i]);
		if (v < 0)
			return fail(ctx, EXIT_USAGE, "%s: not base64 after 0s",
				    what);
		acc = acc << 6 | v;
		if (i % 4 == 0)
			continue;
		if (key->len == sizeof(key->data))
			return too_long(ctx, what);
		key->data[key->len++] = acc >> (2 * (3 - i % 4));
	}
	acc = 0;
	return 0;
}

static int parse_notation(const struct ctx *ctx, const char *what,
			  const char *text, struct key *key)
{
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return parse_hex(ctx, what, text + 2, key);
	if (text[0] == '0' && (text[1] == 's' || text[1] == 'S'))
		return parse_base64(ctx, what, text + 2, key);
	return fail(ctx, EXIT_USAGE,
		    "%s: a key is 0x<hex>, 0s<base64> or @<file>", what);
}

/* Reads @path, at most KEY_FILE_MAX bytes; trailing white space dropped. */
static int read_key_file(const struct ctx *ctx, const char *what,
			 const char *path, char *buf)
{
	size_t n = 0, r;
	FILE *f = fopen(path, "r");

	if (!f)
		return fail(ctx, EXIT_REFUSED, "%s: @%s: %s", what, path,
			    strerror(errno));
	setvbuf(f, NULL, _IONBF, 0);	/* no stdio copy of the key */
	while (n < KEY_FILE_MAX && (r = fread(buf + n, 1, KEY_FILE_MAX - n, f)))
		n += r;
	if (ferror(f) || n == KEY_FILE_MAX) {
		int err = ferror(f) ? errno : EFBIG;

		fclose(f);
		return fail(ctx, EXIT_REFUSED, "%s: @%s: %s", what, path,
			    strerror(err));
	}
	fclose(f);
	while (n && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	return 0;
}

static int parse_key_file(const struct ctx *ctx, const char *what,
			  const char *path, struct key *key)
{
	char *buf = malloc(KEY_FILE_MAX + 1);
	int err;

	if (!buf)
		return fail(ctx, EXIT_REFUSED, "out of memory");
	err = read_key_file(ctx, what, path, buf);
	if (!err && buf[0] == '@')
		err = fail(ctx, EXIT_USAGE, "%s: @%s: the file must hold "
			   "0x<hex> or 0s<base64>", what, path);
	else if (!err)
		err = parse_notation(ctx, what, buf, key);
	explicit_bzero(buf, KEY_FILE_MAX + 1);
	free(buf);
	return err;
}

int parse_key(const struct ctx *ctx, const char *what, const char *text,
	      struct key *key)
{
	int err;

	key_wipe(key);
	if (text[0] == '@' && text[1])
		err = parse_key_file(ctx, what, text + 1, key);
	else
		err = parse_notation(ctx, what, text, key);
	if (err)
		key_wipe(key);
	return err;
}
