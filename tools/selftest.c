// SPDX-License-Identifier: GPL-2.0
/*
 * Offline checks of what the tool parses without the kernel: keys, SAIDs
 * (the module's own said.c), numbers, prefixes, lifetimes. `make check`
 * runs it (under valgrind when there is one). TAP output.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spi.h"

static int n, failed;
static const struct ctx quiet = { .cmd = "selftest" };

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

int main(void)
{
	/* The expected errors would only clutter the TAP output. */
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	test_keys();
	test_saids();
	test_numbers();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
