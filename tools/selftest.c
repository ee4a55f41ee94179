// SPDX-License-Identifier: GPL-2.0
/*
 * Offline checks of what the tool parses without the kernel: keys, SAIDs
 * (the module's own said.c), numbers, prefixes, lifetimes; and of the
 * requests it builds: what does not fit is refused, never written past
 * the buffer. `make check` runs it under valgrind (when there is one),
 * then built with AddressSanitizer and UBSan (`make check-asan`). TAP.
 */
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
#define PLAN 80

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
