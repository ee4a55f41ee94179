// SPDX-License-Identifier: GPL-2.0
/*
 * Offline checks of what the tool parses without the kernel: keys, SAIDs
 * (the module's own said.c) and the kernel's address parsers under them
 * (as kcompat.c has them), numbers, prefixes, lifetimes; and of the
 * requests it builds: what does not fit is refused, never written past
 * the buffer. `make check` runs it under valgrind (when there is one),
 * then built with AddressSanitizer and UBSan (`make check-asan`). TAP.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nl.h"
#include "spi.h"

static int n, failed;
static const struct ctx quiet = { .cmd = "selftest" };
static char err_path[64];	/* stderr goes there, read by err_lines() */

static void ok(bool cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	failed += !cond;
}

static bool key_is(const char *text, const char *hex)
{
	struct key k;
	char out[2 * KLIPS_KEY_MAX + 1] = "";
	size_t i;

	if (parse_key(&quiet, "--enckey", text, &k))
		return false;
	for (i = 0; i < k.len; i++)
		sprintf(out + 2 * i, "%02x", k.data[i]);
	key_wipe(&k);
	return !strcmp(out, hex);
}

static int key_err(const char *text)
{
	struct key k;
	int err = parse_key(&quiet, "--enckey", text, &k);

	ok(k.len == 0, "a refused key leaves nothing behind");
	return err;
}

static char *key_file(const char *content)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/ipsec-selftest-%d", getpid());
	f = fopen(path, "w");
	fputs(content, f);
	fclose(f);
	return path;
}

static void test_keys(void)
{
	char at[80];

	ok(key_is("0x0123456789abcdef", "0123456789abcdef"), "hex key");
	ok(key_is("0XABCDEF01", "abcdef01"), "upper-case hex and 0X");
	ok(key_is("0x0123_4567_89ab", "0123456789ab"), "hex with '_' (ttodata)");
	ok(key_is("0sAAECAwQFBgc=", "0001020304050607"), "base64, padded");
	ok(key_is("0sAAECAwQFBgc", "0001020304050607"), "base64, unpadded");
	ok(key_is("0s/+8=", "ffef"), "base64 '+' and '/'");
	ok(key_is("0sAAECAw==", "00010203"), "base64, two pad characters");
	ok(key_err("0x012") == EXIT_USAGE, "odd hex digits: usage error");
	ok(key_err("0x01zz") == EXIT_USAGE, "not hex: usage error");
	ok(key_err("0x") == EXIT_USAGE, "empty hex: usage error");
	ok(key_err("0x_01") == EXIT_USAGE, "leading '_': usage error");
	ok(key_err("0x01__02") == EXIT_USAGE, "double '_': usage error");
	ok(key_err("0sA") == EXIT_USAGE, "base64 of one character: error");
	ok(key_err("0sAA=A") == EXIT_USAGE, "'=' inside base64: error");
	ok(key_err("0sAAA==") == EXIT_USAGE, "too much padding: error");
	ok(key_err("0s") == EXIT_USAGE, "empty base64: error");
	ok(key_err("0123") == EXIT_USAGE, "no notation: usage error");
	ok(key_err("0x" "00000000000000000000000000000000"
		    "00000000000000000000000000000000"
		    "00000000000000000000000000000000"
		    "0000000000000000000000000000000000") == EXIT_USAGE,
	   "65 bytes: longer than KLIPS_KEY_MAX");
	ok(key_is("0x" "00000000000000000000000000000000"
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000",
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000"), "64 bytes: allowed");
	snprintf(at, sizeof(at), "@%s", key_file("0xdeadbeef\n"));
	ok(key_is(at, "deadbeef"), "@file with a trailing newline");
	snprintf(at, sizeof(at), "@%s", key_file("0s3q2+7w==\r\n"));
	ok(key_is(at, "deadbeef"), "@file, base64, CRLF");
	snprintf(at, sizeof(at), "@%s", key_file("@/etc/passwd\n"));
	ok(key_err(at) == EXIT_USAGE, "@file holding @file: usage error");
	snprintf(at, sizeof(at), "@%s", key_file(""));
	ok(key_err(at) == EXIT_USAGE, "empty @file: usage error");
	unlink(at + 1);
	ok(key_err(at) == EXIT_REFUSED, "missing @file: exit 1");
}

static bool said_round(const char *in, const char *out)
{
	struct klips_said said;
	char buf[KLIPS_SAID_BUFLEN];

	if (parse_said(&quiet, "--said", in, &said))
		return false;
	klips_said_format(&said, buf, sizeof(buf));
	return !strcmp(buf, out);
}

static void test_saids(void)
{
	struct klips_said said;

	ok(said_round("esp.12a@192.168.43.1", "esp.12a@192.168.43.1"),
	   "IPv4 SAID");
	ok(said_round("esp:9A35FC02@3049:1:0:0:0:0:0:1", "esp:9a35fc02@3049:1::1"),
	   "IPv6 SAID printed lower case, compressed");
	ok(said_round("tun0xD1234567@192.1.2.45", "tun.d1234567@192.1.2.45"),
	   "KLIPS's <proto>0x<hex>@ form");
	ok(said_round("esp257@1.2.3.4", "esp.101@1.2.3.4"), "decimal SPI");
	ok(said_round("%passthrough", "%passthrough4"), "%passthrough alias");
	ok(said_round("%trap", "%trap"), "shunt");
	ok(said_round("ah:100@::ffff:192.0.2.1", "ah:100@::ffff:192.0.2.1"),
	   "IPv4-mapped IPv6");
	ok(said_round("comp.2@10.0.0.1", "comp.2@10.0.0.1"), "IPComp CPI 2");
	ok(parse_said(&quiet, "--said", "esp.100@01.2.3.4", &said) == EXIT_USAGE,
	   "leading zero in a dotted quad refused");
	ok(parse_said(&quiet, "--said", "esp.100@1.2.3.4.5", &said) == EXIT_USAGE,
	   "five-part address refused");
	ok(parse_said(&quiet, "--said", "esp:100@1.2.3.4", &said) == EXIT_USAGE,
	   "':' with IPv4 refused");
	ok(parse_said(&quiet, "--said", "foo.100@1.2.3.4", &said) == EXIT_USAGE,
	   "unknown protocol refused");
	ok(parse_said(&quiet, "--said", "esp.100000000@1.2.3.4", &said) ==
	   EXIT_USAGE, "SPI above 32 bits refused");
}

/*
 * kcompat.c's hex_to_bin(), in4_pton() and in6_pton() stand in for the
 * kernel's, so they are held to what the kernel's do. This table is that
 * contract, from the kernel's documentation and from what its functions
 * return for these inputs: the return value, the bytes written to dst
 * (none on failure) and the offset *end points at.
 */
struct pton_case {
	const char *text;
	int srclen;		/* -1: up to the NUL */
	int delim;		/* -1: none */
	int ret;
	int end;		/* *end - text */
	const char *addr;	/* dst, as inet_pton() reads it; NULL: untouched */
	const char *what;
};

static const struct pton_case in4_cases[] = {
	{ "192.0.2.1", -1, -1, 1, 9, "192.0.2.1", "dotted quad" },
	{ "0.0.0.0", -1, -1, 1, 7, "0.0.0.0", "zeros" },
	{ "255.255.255.255", -1, -1, 1, 15, "255.255.255.255", "largest" },
	{ "01.002.0003.4", -1, -1, 1, 13, "1.2.3.4",
	  "leading zeros taken (said.c refuses them)" },
	{ "000000000010.1.1.1", -1, -1, 1, 18, "10.1.1.1",
	  "any number of leading zeros, decimal" },
	{ "", -1, -1, 0, 0, NULL, "empty" },
	{ "256.1.1.1", -1, -1, 0, 2, NULL, "256: wrong at its last digit" },
	{ "1.2.3.256", -1, -1, 0, 8, NULL, "256 as the last part" },
	{ "1234.1.1.1", -1, -1, 0, 3, NULL, "1234: wrong at the '4'" },
	{ "1.2.3", -1, -1, 0, 5, NULL, "three parts: wrong at the end" },
	{ "1.2.3.4.5", -1, -1, 0, 7, NULL, "five parts: wrong at the 4th dot" },
	{ "1..2.3", -1, -1, 0, 2, NULL, "empty part" },
	{ ".1.2.3", -1, -1, 0, 0, NULL, "leading dot" },
	{ "1.2.3.", -1, -1, 0, 6, NULL, "trailing dot" },
	{ "a.b.c.d", -1, -1, 0, 0, NULL, "hex letters" },
	{ " 1.2.3.4", -1, -1, 0, 0, NULL, "leading space: an empty address" },
	{ "1.2.3.4 ", -1, -1, 1, 7, "1.2.3.4", "a space ends it" },
	{ "1.2.3.4/24", -1, -1, 1, 7, "1.2.3.4", "a '/' ends it" },
	{ "0x1.2.3.4", -1, -1, 0, 1, NULL, "an 'x' ends it after one part" },
	{ "1.2.3.4a", -1, -1, 0, 7, NULL, "a hex letter is wrong, not an end" },
	{ "1.2.3.4:500", -1, -1, 1, 7, "1.2.3.4", "a ':' ends it" },
	{ "1:2.3.4", -1, -1, 0, 1, NULL, "a ':' after one part" },
	{ "1.2.3.4x", -1, 0, 0, 7, NULL, "with a delimiter, 'x' is wrong" },
	{ "1.2.3.4/24", -1, '/', 1, 7, "1.2.3.4", "ends at the delimiter" },
	{ "1.2.3.4/24", -1, ' ', 0, 7, NULL, "another delimiter: '/' wrong" },
	{ "1.2.3.4", -1, '.', 0, 1, NULL, "'.' as the delimiter" },
	{ "1.2.3.45", -1, '5', 1, 7, "1.2.3.4", "a digit as the delimiter" },
	{ "1.2.3.45", 7, -1, 1, 7, "1.2.3.4", "srclen leaves out the '5'" },
	{ "1.2.3.4", 6, -1, 0, 6, NULL, "srclen cuts off the last part" },
	{ "1.2.3.4", 0, -1, 0, 0, NULL, "srclen 0" },
	{ "1.2.3.4", 20, -1, 1, 7, "1.2.3.4", "srclen past the NUL" },
};

static const struct pton_case in6_cases[] = {
	{ "2001:db8::1", -1, -1, 1, 11, "2001:db8::1", "::" },
	{ "::", -1, -1, 1, 2, "::", "all zeros" },
	{ "::1", -1, -1, 1, 3, "::1", "loopback" },
	{ "1::", -1, -1, 1, 3, "1::", "trailing ::" },
	{ "1:2:3:4:5:6:7:8", -1, -1, 1, 15, "1:2:3:4:5:6:7:8", "eight groups" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", -1, -1, 1, 39,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "largest" },
	{ "2001:DB8::A", -1, -1, 1, 11, "2001:db8::a", "upper-case hex" },
	{ "1:2:3:4:5:6:7::", -1, -1, 1, 15,
	  "1:2:3:4:5:6:7:0", ":: as the eighth group" },
	{ "::1:2:3:4:5:6:7", -1, -1, 1, 15,
	  "0:1:2:3:4:5:6:7", ":: as the first group" },
	{ "00001::", -1, -1, 1, 7, "1::",
	  "leading zeros past four digits (said.c refuses them)" },
	{ "::ffff:1.2.3.4", -1, -1, 1, 14, "::ffff:1.2.3.4", "IPv4-mapped" },
	{ "::ffff:01.02.03.04", -1, -1, 1, 18,
	  "::ffff:1.2.3.4", "leading zeros in the quad" },
	{ "::1.2.3.4", -1, -1, 1, 9, "::1.2.3.4", "quad after ::" },
	{ "1:2:3:4:5:6:1.2.3.4", -1, -1, 1, 19,
	  "1:2:3:4:5:6:1.2.3.4", "six groups and a quad" },
	{ "::1:2:3:4:5:1.2.3.4", -1, -1, 1, 19,
	  "::1:2:3:4:5:1.2.3.4", "::, five groups and a quad" },
	{ "::ffff:1.2.3.4:5", -1, -1, 1, 14, "::ffff:1.2.3.4",
	  "a ':' ends the quad" },
	{ "", -1, -1, 0, 0, NULL, "empty" },
	{ ":", -1, -1, 0, 1, NULL, "a lone ':'" },
	{ ":1", -1, -1, 0, 1, NULL, "a single leading ':'" },
	{ ":::", -1, -1, 0, 2, NULL, "':::'" },
	{ "1:::", -1, -1, 0, 3, NULL, "'1:::'" },
	{ "1:", -1, -1, 0, 2, NULL, "trailing ':'" },
	{ "::1:", -1, -1, 0, 4, NULL, "trailing ':' after ::" },
	{ "1::2::3", -1, -1, 0, 5, NULL, "two ::" },
	{ "1:2:3:4:5:6:7", -1, -1, 0, 13, NULL, "seven groups, no ::" },
	{ "1:2:3:4:5:6:7:8:9", -1, -1, 0, 15, NULL,
	  "nine groups: wrong at the ':' before the ninth" },
	{ "1:2:3:4:5:6:7:8::", -1, -1, 0, 15, NULL, "eight groups and ::" },
	{ "1:2:3:4:5:6:7::8", -1, -1, 0, 15, NULL,
	  ":: as the eighth group, then a ninth" },
	{ "1::2:3:4:5:6:7:8", -1, -1, 0, 14, NULL,
	  ":: stands for one group at least: no room for the 8" },
	{ "12345::", -1, -1, 0, 4, NULL, "five digits: wrong at the fifth" },
	{ "::12345", -1, -1, 0, 6, NULL, "five digits after ::" },
	{ "1.2.3.4", -1, -1, 0, 1, NULL, "a bare dotted quad" },
	{ "::1.2.3", -1, -1, 0, 7, NULL, "a quad of three parts" },
	{ "::1.2.3.4.5", -1, -1, 0, 9, NULL, "a quad of five parts" },
	{ "::ffff:256.1.2.3", -1, -1, 0, 9, NULL, "256 in the quad" },
	{ "::a.1.2.3", -1, -1, 0, 2, NULL, "a hex letter in the quad" },
	{ "1:2:3:4:5:1.2.3.4", -1, -1, 0, 11, NULL,
	  "a quad after five groups, no ::: wrong at its first dot" },
	{ "1:2:3:4:5:6:7:1.2.3.4", -1, -1, 0, 15, NULL,
	  "a quad after seven groups" },
	{ "::1:2:3:4:5:6:1.2.3.4", -1, -1, 0, 15, NULL,
	  "a quad after :: and six groups" },
	{ "[::1]", -1, -1, 0, 0, NULL, "leading '['" },
	{ "2001:db8::1/64", -1, -1, 1, 11, "2001:db8::1", "a '/' ends it" },
	{ "1:2:3:4:5:6:7:8 ", -1, -1, 1, 15,
	  "1:2:3:4:5:6:7:8", "a space ends it" },
	{ "::g", -1, -1, 1, 2, "::", "a 'g' ends it after ::" },
	{ "1:2:3:4:5:6:7:8x", -1, 0, 0, 15, NULL,
	  "with a delimiter, 'x' is wrong" },
	{ "fe80::1%eth0", -1, '%', 1, 7, "fe80::1", "ends at the delimiter" },
	{ "fe80::1%eth0", -1, 0, 0, 7, NULL, "another delimiter: '%' wrong" },
	{ "::1]:500", -1, ']', 1, 3, "::1", "delimiter ']'" },
	{ "1::2", -1, ':', 0, 1, NULL, "':' as the delimiter" },
	{ "2001:db8::1", 10, -1, 1, 10, "2001:db8::",
	  "srclen leaves out the '1' after ::" },
	{ "1:2:3:4:5:6:7:8", 14, -1, 0, 14, NULL,
	  "srclen cuts to a trailing ':'" },
	{ "::ffff:1.2.3.4", 12, -1, 0, 12, NULL, "srclen cuts the quad" },
	{ "::1", 0, -1, 0, 0, NULL, "srclen 0" },
	{ "::1", 20, -1, 1, 3, "::1", "srclen past the NUL" },
};

/*
 * Runs one case on a heap copy of only the bytes the function may read
 * (to srclen, or to the NUL), so that a read past them shows under
 * valgrind and ASan; or on the table's text, the rest of it included.
 */
static int pton_run(int family, const struct pton_case *c, bool exact,
		    u8 dst[16], long *end)
{
	size_t size = strlen(c->text) + 1;
	const char *text = c->text, *stop = NULL;
	char *copy = NULL;
	int ret;

	if (exact) {
		if (c->srclen >= 0 && (size_t)c->srclen < size)
			size = c->srclen;
		copy = malloc(size ? size : 1);
		if (!copy)
			abort();
		memcpy(copy, c->text, size);
		text = copy;
	}
	memset(dst, 0xa5, 16);
	if (family == AF_INET)
		ret = in4_pton(text, c->srclen, dst, c->delim, &stop);
	else
		ret = in6_pton(text, c->srclen, dst, c->delim, &stop);
	*end = stop ? stop - text : -1;
	free(copy);
	return ret;
}

/* One check per case: both runs give its result, address and end. */
static void pton_case(int family, const struct pton_case *c)
{
	char what[160], delim[8];
	u8 want[16], dst[16];
	bool pass = true;
	int ret, run, i;
	long end;

	/* Bytes not written keep the 0xa5 they were filled with. */
	memset(want, 0xa5, sizeof(want));
	if (c->addr && inet_pton(family, c->addr, want) != 1) {
		printf("# the table's address does not parse\n");
		pass = false;
	}
	for (run = 0; run < 2; run++) {
		ret = pton_run(family, c, run, dst, &end);
		if (ret == c->ret && end == c->end && !memcmp(dst, want, 16))
			continue;
		printf("# %s: got %d, end %ld, ", run ? "copy" : "text", ret,
		       end);
		for (i = 0; i < 16; i++)
			printf("%02x", dst[i]);
		printf("\n");
		pass = false;
	}
	if (c->delim >= ' ' && c->delim < 127)
		snprintf(delim, sizeof(delim), "'%c'", c->delim);
	else
		snprintf(delim, sizeof(delim), "%d", c->delim);
	snprintf(what, sizeof(what), "%s(\"%s\", %d, %s): %s",
		 family == AF_INET ? "in4_pton" : "in6_pton", c->text,
		 c->srclen, delim, c->what);
	ok(pass, what);
}

static void test_pton(void)
{
	static const char digits[] = "0123456789abcdef";
	const char *hit;
	bool pass = true;
	size_t i;
	int ch, want;
	u8 dst[16];

	for (ch = 0; ch < 256; ch++) {
		hit = ch ? strchr(digits, tolower(ch)) : NULL;
		want = hit ? hit - digits : -1;
		if (hex_to_bin(ch) != want) {
			printf("# hex_to_bin(%d) = %d\n", ch, hex_to_bin(ch));
			pass = false;
		}
	}
	ok(pass, "hex_to_bin(): 0-9, a-f, A-F, and -1 for the 234 others");
	for (i = 0; i < ARRAY_LEN(in4_cases); i++)
		pton_case(AF_INET, &in4_cases[i]);
	for (i = 0; i < ARRAY_LEN(in6_cases); i++)
		pton_case(AF_INET6, &in6_cases[i]);
	ok(in4_pton("10.1.2.3", -1, dst, -1, NULL) == 1 && dst[0] == 10 &&
	   dst[3] == 3 && !in4_pton("10.1.2", -1, dst, -1, NULL),
	   "in4_pton() with end NULL");
	ok(in6_pton("::2", -1, dst, -1, NULL) == 1 && dst[15] == 2 &&
	   !in6_pton(":::", -1, dst, -1, NULL),
	   "in6_pton() with end NULL");
}

static void test_numbers(void)
{
	struct prefix p = { .af = AF_UNSPEC };
	uint32_t v = 0;
	struct life life[2];
	char text[64];

	ok(!parse_u32(&quiet, "--spi", "0x1001", &v) && v == 4097, "0x hex");
	ok(!parse_u32(&quiet, "--spi", "4097", &v) && v == 4097, "decimal");
	ok(!parse_u32(&quiet, "--spi", "010", &v) && v == 10, "no octal");
	ok(parse_u32(&quiet, "--spi", "4294967296", &v) == EXIT_USAGE,
	   "above 32 bits refused");
	ok(parse_u32(&quiet, "--spi", "-1", &v) == EXIT_USAGE, "no sign");
	ok(parse_u32(&quiet, "--spi", "0x", &v) == EXIT_USAGE, "bare 0x");
	ok(!parse_prefix(&quiet, "--src", "2001:db8::/32", &p) &&
	   p.af == AF_INET6 && p.len == 32, "IPv6 prefix");
	p.af = AF_INET;
	ok(parse_prefix(&quiet, "--src", "10.0.0.0/", &p) == EXIT_USAGE,
	   "empty prefix length refused");
	memset(life, 0, sizeof(life));
	snprintf(text, sizeof(text), "soft-bytes=1000,hard-addtime=0x3c");
	ok(!parse_life(&quiet, text, life) &&
	   life[LIFE_SOFT].val[KLIPS_A_LIFETIME_BYTES] == 1000 &&
	   life[LIFE_HARD].val[KLIPS_A_LIFETIME_ADDTIME] == 60 &&
	   life[LIFE_SOFT].set == 1U << KLIPS_A_LIFETIME_BYTES,
	   "lifetimes");
	ok(!strcmp(text, "soft-bytes=1000,hard-addtime=0x3c"),
	   "parse_life leaves its text as it was");
	snprintf(text, sizeof(text), "soft-bytes=1,");
	ok(parse_life(&quiet, text, life) == EXIT_USAGE, "empty item refused");
}

/* Forgets what was written to stderr so far. */
static void err_reset(void)
{
	fflush(stderr);
	if (ftruncate(fileno(stderr), 0) || fseek(stderr, 0, SEEK_SET))
		ok(false, "stderr file truncated");
}

/*
 * The lines written to stderr since err_reset() (one is 1024 characters
 * at most, as message() cuts it); the first in @first.
 */
static int err_lines(char first[2048])
{
	char line[2048];
	int lines = 0;
	FILE *f;

	fflush(stderr);
	first[0] = '\0';
	f = fopen(err_path, "r");
	if (!f)
		return -1;
	while (fgets(lines ? line : first, sizeof(line), f))
		lines++;
	fclose(f);
	return lines;
}

static char *repeat(char c, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memset(s, c, len);
	s[len] = '\0';
	return s;
}

/* `ipsec spi <args>` in @ctx, offline: its status and stderr lines. */
static int spi_run(struct ctx *ctx, const char *const *args, char first[2048],
		   int *lines)
{
	char *argv[24];
	int argc = 0, status;

	argv[argc++] = strdup("spi");
	for (; *args && argc < (int)ARRAY_LEN(argv); args++)
		argv[argc++] = strdup(*args);	/* keys are wiped: writable */
	err_reset();
	status = cmd_spi(ctx, argc, argv);
	*lines = err_lines(first);
	while (argc)
		free(argv[--argc]);
	return status;
}

/*
 * @args must be refused as a usage error, in one line on stderr starting
 * with @msg, before any socket is opened.
 */
static void spi_refused(const char *const *args, const char *msg,
			const char *what)
{
	struct nl nl = { 0 };
	struct ctx ctx = { .cmd = "spi", .nl = &nl };
	char first[2048];
	int status, lines;

	status = spi_run(&ctx, args, first, &lines);
	ok(status == EXIT_USAGE && lines == 1 && !nl.sock &&
	   !strncmp(first, msg, strlen(msg)), what);
	printf("# exit %d, %d line(s): %s%s", status, lines, first,
	       strchr(first, '\n') ? "" : "\n");
	nl_close(&nl);
}

#define SA_ARGS(proto)	"--af", "inet", "--edst", "192.0.2.1", "--spi", \
			"0x100", "--proto", proto, "--src", "192.0.2.2"

/* As `ipsec -f <file>` runs a line: the error waits for earlier acks. */
static void batch_refused(const char *const *args)
{
	struct nl nl = { 0 };
	char defer[1024] = "", first[2048];
	struct ctx ctx = { .cmd = "spi", .file = "batch", .line = 7,
			   .batch = true, .nl = &nl, .defer = defer,
			   .defer_size = sizeof(defer) };
	const char *msg = "ipsec: batch:7: spi: --esp: longer than";
	int status, lines;

	status = spi_run(&ctx, args, first, &lines);
	ok(status == EXIT_USAGE && !lines && !nl.sock &&
	   !strncmp(defer, msg, strlen(msg)) && !strchr(defer, '\n'),
	   "batch mode: a 6000-character --esp refused in one line");
	nl_close(&nl);
}

/* The SA_ADD request of @a: full at @full (NULL: not full), never sent. */
static void sa_msg(const struct sa_add *a, const char *full, const char *what)
{
	struct nl nl = { 0 };
	struct ctx ctx = { .cmd = "spi", .nl = &nl };
	char first[2048], msg[64];
	struct nl_req req;
	int lines, status;

	memset(&req, 0xa5, sizeof(req));
	sa_add_msg(&req, a);
	ok(req.nlh->nlmsg_len <= sizeof(req.buf) &&
	   (full ? req.full && !strcmp(req.full, full) : !req.full), what);
	if (!full)
		return;
	snprintf(msg, sizeof(msg), "ipsec spi: %s: too long", full);
	err_reset();
	status = nl_do(&ctx, &req, NULL, NULL);
	lines = err_lines(first);
	ok(status == EXIT_USAGE && lines == 1 && !nl.sock &&
	   !strncmp(first, msg, strlen(msg)), "... and not sent: one line");
	nl_close(&nl);
}

/* A nest whose header fits but not what goes in it. */
static void test_nest_full(void)
{
	struct klips_said said = { .family = AF_INET, .proto = IPPROTO_ESP };
	static const char pad[NL_MSG_SIZE];
	struct nl_req req;
	uint32_t len;

	nl_msg(&req, KLIPS_CMD_SA_DEL);
	nl_put(&req, "pad", KLIPS_A_SA_ESP, NL_MSG_SIZE - req.nlh->nlmsg_len -
	       2 * MNL_ATTR_HDRLEN, pad);
	ok(!req.full && req.nlh->nlmsg_len == NL_MSG_SIZE - MNL_ATTR_HDRLEN,
	   "room for a nest's header only");
	nl_put_said(&req, "<SA>", KLIPS_A_SA_SAID, &said);
	len = req.nlh->nlmsg_len;
	ok(req.full && !strcmp(req.full, "<SA>") && len <= NL_MSG_SIZE,
	   "a SAID that does not fit: the request is full, named <SA>");
	nl_put_u8(&req, "--dir", KLIPS_A_SA_DIR, 1);
	ok(req.nlh->nlmsg_len == len && !strcmp(req.full, "<SA>"),
	   "nothing is added to a full request");
}

static void test_long_names(void)
{
	char *name = repeat('a', 6000), *name64 = repeat('a', 64);
	char *hex = repeat('0', 2 + 2 * 3000), *key = repeat('0', 2 + 2 * 36);
	char *akey = repeat('0', 2 + 2 * 20);
	const char *const esp[] = { SA_ARGS("esp"), "--esp", name,
				    "--enckey", key, NULL };
	const char *const esp64[] = { SA_ARGS("esp"), "--esp", name64,
				      "--enckey", key, NULL };
	const char *const ah[] = { SA_ARGS("ah"), "--ah", name,
				   "--authkey", akey, NULL };
	const char *const comp[] = { SA_ARGS("comp"), "--comp", name, NULL };
	const char *const bigkey[] = { SA_ARGS("esp"), "--esp", "aes",
				       "--enckey", hex, NULL };
	struct sa_add a = {
		.said = { .family = AF_INET6, .proto = IPPROTO_ESP },
		.has_enckey = true, .has_authkey = true, .has_replay = true,
		.esn = true, .tun = true, .dir = KLIPS_DIR_IN,
		.natt = KLIPS_NATT_TYPE_NONESP, .has_natoa = true,
		.enckey.len = KLIPS_KEY_MAX, .authkey.len = KLIPS_KEY_MAX,
		.life = { { .set = ~0U << 1 }, { .set = ~0U << 1 } },
	};

	key[1] = 'x';
	akey[1] = 'x';
	hex[1] = 'x';
	spi_refused(esp, "ipsec spi: --esp: ",
		    "a 6000-character --esp refused in one line, nothing sent");
	spi_refused(esp64, "ipsec spi: --esp: ",
		    "a 64-character --esp refused in one line, nothing sent");
	spi_refused(ah, "ipsec spi: --ah: ",
		    "a 6000-character --ah refused in one line, nothing sent");
	spi_refused(comp, "ipsec spi: --comp: ",
		    "a 6000-character --comp refused in one line, nothing sent");
	spi_refused(bigkey, "ipsec spi: --enckey: ",
		    "a 3000-byte --enckey refused in one line, nothing sent");
	batch_refused(esp);

	/* The builder itself, past the parser's limits. */
	name64[SA_ALG_NAME_MAX] = '\0';
	a.esp = a.ah = a.comp = name64;
	sa_msg(&a, NULL, "every attribute at its largest fits in a request");
	a.ah = a.comp = NULL;
	a.esp = name;
	sa_msg(&a, "--esp", "a 6000-character --esp does not fit: named");
	a.esp = NULL;
	a.ah = name;
	sa_msg(&a, "--ah", "a 6000-character --ah does not fit: named");
	a.ah = NULL;
	a.comp = name;
	sa_msg(&a, "--comp", "a 6000-character --comp does not fit: named");
	name[3960] = '\0';
	a.comp = NULL;
	a.esp = name;
	sa_msg(&a, "--enckey", "a 3960-character --esp fits, the key after "
	       "it does not: named");
	test_nest_full();
	free(name);
	free(name64);
	free(hex);
	free(key);
	free(akey);
}

/*
 * How many checks main() runs, declared before the first one (TAP's plan):
 * a check that stops running is a failure, not a smaller count.
 */
#define PLAN 167

int main(void)
{
	FILE *tty = stderr;
	int status;

	/*
	 * The tool's messages go to a file that some tests read back. Only
	 * the stream moves (glibc's stderr is a variable): file descriptor 2
	 * stays where it was, for valgrind's and the sanitizers' reports.
	 */
	snprintf(err_path, sizeof(err_path), "/tmp/ipsec-selftest-err-%d",
		 getpid());
	stderr = fopen(err_path, "w");
	if (!stderr)
		return 1;
	setvbuf(stderr, NULL, _IONBF, 0);
	printf("1..%d\n", PLAN);
	test_keys();
	test_saids();
	test_pton();
	test_numbers();
	test_long_names();
	if (n != PLAN)
		printf("# ran %d of %d planned checks\n", n, PLAN);
	status = failed || n != PLAN ? 1 : 0;
	fclose(stderr);
	stderr = tty;
	unlink(err_path);
	return status;
}
