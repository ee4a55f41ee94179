// SPDX-License-Identifier: GPL-2.0
/*
 * What every subcommand uses: error messages, the command-line parser,
 * numbers, addresses and prefixes, and reading /proc files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

/* "ipsec spi: ", or in batch mode "ipsec: <file>:<line>: spi: " */
int err_prefix(const struct ctx *ctx, char *buf, size_t size)
{
	if (ctx->file)
		return snprintf(buf, size, "ipsec: %s:%lu: %s%s", ctx->file,
				ctx->line, ctx->cmd ? ctx->cmd : "",
				ctx->cmd ? ": " : "");
	if (ctx->cmd)
		return snprintf(buf, size, "ipsec %s: ", ctx->cmd);
	return snprintf(buf, size, "ipsec: ");
}

static void message(const struct ctx *ctx, bool deferrable, const char *what,
		    const char *fmt, va_list ap)
{
	char line[1024];
	int n = err_prefix(ctx, line, sizeof(line));

	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	n += snprintf(line + n, sizeof(line) - n, "%s", what);
	if ((size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (deferrable && ctx->defer) {
		if (!ctx->defer[0])
			snprintf(ctx->defer, ctx->defer_size, "%s", line);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
}

int fail(const struct ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(ctx, true, "", fmt, ap);
	va_end(ap);
	return status;
}

void warn(const struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(ctx, false, "warning: ", fmt, ap);
	va_end(ap);
}

static const struct opt *find_opt(const struct opt *opts, size_t nopts,
				  const char *arg, size_t len)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == len &&
		    !strncmp(opts[i].name, arg, len))
			return &opts[i];
	return NULL;
}

static int add_opt(const struct ctx *ctx, struct cmdline *cl,
		   const struct opt *o, char *val)
{
	struct given *g;

	if (has(cl, o->id))
		return fail(ctx, EXIT_USAGE, "%s: given twice", o->name);
	g = &cl->opt[cl->nopt++];
	g->id = o->id;
	g->name = o->name;
	g->val = val;
	cl->seen |= BIT(o->id);
	cl->val[o->id] = val;
	return 0;
}

/* One "--name[=value]" at argv[*i]; consumes the value word if needed. */
static int take_opt(const struct ctx *ctx, int argc, char **argv, int *i,
		    const struct opt *opts, size_t nopts, struct cmdline *cl)
{
	char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_opt(opts, nopts, arg, len);
	char *val = NULL;

	if (!o)
		return fail(ctx, EXIT_USAGE, "%.*s: unknown option", (int)len,
			    arg);
	if (o->has_arg && eq) {
		val = eq + 1;
	} else if (o->has_arg) {
		if (*i + 1 >= argc || !strncmp(argv[*i + 1], "--", 2))
			return fail(ctx, EXIT_USAGE, "%s: needs a value",
				    o->name);
		val = argv[++*i];
	} else if (eq) {
		return fail(ctx, EXIT_USAGE, "%s: takes no value", o->name);
	}
	return add_opt(ctx, cl, o, val);
}

int parse_cmdline(const struct ctx *ctx, int argc, char **argv,
		  const struct opt *opts, size_t nopts, struct cmdline *cl)
{
	int i, err;

	memset(cl, 0, sizeof(*cl));
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
			if (cl->nopt == CL_MAX_OPTS)
				return fail(ctx, EXIT_USAGE, "too many options");
			err = take_opt(ctx, argc, argv, &i, opts, nopts, cl);
			if (err)
				return err;
			continue;
		}
		if (cl->nword == CL_MAX_WORDS)
			return fail(ctx, EXIT_USAGE, "too many arguments");
		cl->word[cl->nword++] = argv[i];
	}
	return 0;
}

const struct given *first_of(const struct cmdline *cl, uint64_t mask)
{
	int i;

	for (i = 0; i < cl->nopt; i++)
		if (mask & BIT(cl->opt[i].id))
			return &cl->opt[i];
	return NULL;
}

/* KLIPS's radix rule: "0x" for hex, else decimal. No sign, no spaces. */
/*
 * Exactly one of the options in @actions, and besides it only what
 * @allowed(action) permits: the action's id in *@action, or a usage error
 * (@none when no action was given).
 */
int one_action(const struct ctx *ctx, const struct cmdline *cl,
	       uint64_t actions, uint64_t (*allowed)(int action),
	       const char *none, int *action)
{
	const struct given *a = first_of(cl, actions), *g;

	if (!a)
		return fail(ctx, EXIT_USAGE, "%s", none);
	*action = a->id;
	g = first_of(cl, actions & ~BIT(a->id));
	if (!g)
		g = first_of(cl, ~(allowed(a->id) | BIT(a->id)));
	if (g)
		return fail(ctx, EXIT_USAGE, "%s: not with %s", g->name,
			    a->name);
	return 0;
}

static int parse_num(const char *text, uint64_t max, uint64_t *val)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *p = text;
	int digit;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		digit = hex_to_bin(*p);
		if (digit < 0 || (unsigned int)digit >= base)
			return -EINVAL;
		if (v > (max - digit) / base)
			return -ERANGE;
		v = v * base + digit;
	}
	*val = v;
	return 0;
}

static int num_err(const struct ctx *ctx, const char *what, const char *text,
		   int err)
{
	if (err == -ERANGE)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is out of range", what,
			    text);
	return fail(ctx, EXIT_USAGE,
		    "%s: '%s' is not a number (0x<hex> or decimal)", what, text);
}

int parse_u32(const struct ctx *ctx, const char *what, const char *text,
	      uint32_t *val)
{
	uint64_t v;
	int err = parse_num(text, UINT32_MAX, &v);

	if (err)
		return num_err(ctx, what, text, err);
	*val = v;
	return 0;
}

int parse_u64(const struct ctx *ctx, const char *what, const char *text,
	      uint64_t *val)
{
	int err = parse_num(text, UINT64_MAX, val);

	return err ? num_err(ctx, what, text, err) : 0;
}

/* A number 0..65535 or a service name (of @proto, if known). */
int parse_port(const struct ctx *ctx, const char *what, const char *text,
	       const char *proto, uint16_t *port)
{
	struct servent *se;
	uint64_t v;
	int err = parse_num(text, 65535, &v);

	if (!err) {
		*port = v;
		return 0;
	}
	if (err == -ERANGE)
		return num_err(ctx, what, text, err);
	se = getservbyname(text, proto);
	endservent();
	if (!se)
		return fail(ctx, EXIT_USAGE,
			    "%s: '%s' is not a port number or service name",
			    what, text);
	*port = ntohs(se->s_port);
	return 0;
}

int parse_af(const struct ctx *ctx, const char *what, const char *text,
	     int *af)
{
	if (!strcmp(text, "inet"))
		*af = AF_INET;
	else if (!strcmp(text, "inet6"))
		*af = AF_INET6;
	else
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not inet or inet6",
			    what, text);
	return 0;
}

const char *af_name(int af)
{
	return af == AF_INET6 ? "inet6" : "inet";
}

int parse_addr(const struct ctx *ctx, const char *what, const char *text,
	       int *af, union klips_addr *addr)
{
	int want = *af, got = strchr(text, ':') ? AF_INET6 : AF_INET;

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(got, text, addr) != 1)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not an IP address",
			    what, text);
	if (want != AF_UNSPEC && want != got)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not an %s address",
			    what, text, af_name(want));
	*af = got;
	return 0;
}

int parse_prefix(const struct ctx *ctx, const char *what, const char *text,
		 struct prefix *p)
{
	const char *slash = strrchr(text, '/');
	char buf[INET6_ADDRSTRLEN];
	uint64_t len;
	size_t n;

	if (!slash)
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not <net>/<len>",
			    what, text);
	n = slash - text;
	if (n >= sizeof(buf))
		return fail(ctx, EXIT_USAGE, "%s: '%.*s' is not an IP address",
			    what, (int)n, text);
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (parse_addr(ctx, what, buf, &p->af, &p->addr))
		return EXIT_USAGE;
	if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    parse_num(slash + 1, p->af == AF_INET ? 32 : 128, &len))
		return fail(ctx, EXIT_USAGE, "%s: '%s' is not a prefix length "
			    "(0-%d)", what, slash + 1, p->af == AF_INET ? 32 : 128);
	p->len = len;
	return 0;
}

int format_addr(int af, const union klips_addr *addr, char *buf, size_t size)
{
	return klips_addr_format(af, addr, buf, size);
}

/* Batch mode: what was sent before a listing is acked before it. */
static int settle(const struct ctx *ctx)
{
	return ctx->batch ? nl_drain(ctx) : 0;
}

int cat_file(const struct ctx *ctx, const char *path)
{
	char buf[65536];
	size_t n;
	FILE *f;

	if (settle(ctx))
		return EXIT_REFUSED;
	f = fopen(path, "r");
	if (!f)
		return fail(ctx, EXIT_REFUSED, "%s: %s%s", path,
			    strerror(errno),
			    errno == ENOENT ? " (is klips.ko loaded?)" : "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	if (ferror(f)) {
		fclose(f);
		return fail(ctx, EXIT_REFUSED, "%s: %s", path, strerror(errno));
	}
	fclose(f);
	return fflush(stdout) ? EXIT_REFUSED : 0;
}

/* The whole file, NUL-terminated (malloc'ed); NULL on error, printed. */
char *read_file(const struct ctx *ctx, const char *path, size_t *len)
{
	size_t size = 65536, n = 0, r;
	char *buf = NULL, *bigger;
	FILE *f;

	if (settle(ctx))
		return NULL;
	f = fopen(path, "r");
	if (!f) {
		fail(ctx, EXIT_REFUSED, "%s: %s%s", path, strerror(errno),
		     errno == ENOENT ? " (is klips.ko loaded?)" : "");
		return NULL;
	}
	for (;;) {
		bigger = realloc(buf, size + 1);
		if (!bigger) {
			fail(ctx, EXIT_REFUSED, "%s: out of memory", path);
			break;
		}
		buf = bigger;
		r = fread(buf + n, 1, size - n, f);
		n += r;
		if (n < size) {
			if (ferror(f)) {
				fail(ctx, EXIT_REFUSED, "%s: %s", path,
				     strerror(errno));
				break;
			}
			fclose(f);
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		size *= 2;
	}
	fclose(f);
	free(buf);
	return NULL;
}

int parse_said(const struct ctx *ctx, const char *what, const char *text,
	       struct klips_said *said)
{
	const char *msg = "SAID: invalid";

	if (klips_said_parse(text, strlen(text), said, &msg))
		return fail(ctx, EXIT_USAGE, "%s: %s: %s", what, text, msg);
	return 0;
}

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_COMP:
		return "comp";
	case IPPROTO_IPIP:
		return "tun";
	default:
		return "int";
	}
}

static int parse_sa_proto(const struct ctx *ctx, const char *what,
			  const char *text, uint8_t *proto)
{
	static const uint8_t protos[] = {
		IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPIP, IPPROTO_COMP
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(protos); i++) {
		if (!strcmp(text, proto_name(protos[i]))) {
			*proto = protos[i];
			return 0;
		}
	}
	return fail(ctx, EXIT_USAGE, "%s: '%s' is not ah, esp, tun or comp",
		    what, text);
}

int get_sa(const struct ctx *ctx, const struct cmdline *cl,
	   const struct opt *opts, const struct sa_opt_ids *ids,
	   struct klips_said *said, bool with_spi)
{
	const int parts[] = { ids->af, ids->edst, ids->spi, ids->proto };
	uint64_t all = BIT(ids->af) | BIT(ids->edst) | BIT(ids->spi) |
		       BIT(ids->proto);
	const struct given *g;
	int af = AF_UNSPEC;
	size_t i;

	memset(said, 0, sizeof(*said));
	if (has(cl, ids->said)) {
		g = first_of(cl, all);
		if (g)
			return fail(ctx, EXIT_USAGE, "%s: not with --said",
				    g->name);
		return parse_said(ctx, opts[ids->said].name, cl->val[ids->said],
				  said);
	}
	if (!first_of(cl, all))
		return fail(ctx, EXIT_USAGE, "no SA given: --said <SAID>, or "
			    "--af --edst%s --proto", with_spi ? " --spi" : "");
	for (i = 0; i < ARRAY_LEN(parts); i++)
		if (!has(cl, parts[i]) && (with_spi || parts[i] != ids->spi))
			return fail(ctx, EXIT_USAGE, "%s: missing",
				    opts[parts[i]].name);
	if (parse_af(ctx, opts[ids->af].name, cl->val[ids->af], &af) ||
	    parse_addr(ctx, opts[ids->edst].name, cl->val[ids->edst], &af,
		       &said->dst) ||
	    (with_spi && parse_u32(ctx, opts[ids->spi].name, cl->val[ids->spi],
				   &said->spi)) ||
	    parse_sa_proto(ctx, opts[ids->proto].name, cl->val[ids->proto],
			   &said->proto))
		return EXIT_USAGE;
	said->family = af;
	return 0;
}

/* A stray word; one that may be a key is not shown. */
int unexpected(const struct ctx *ctx, const char *word)
{
	if (word[0] == '0' && strchr("xXsS", word[1]) && strlen(word) > 10)
		return fail(ctx, EXIT_USAGE, "unexpected argument (not shown: "
			    "it may be a key)");
	return fail(ctx, EXIT_USAGE, "'%s': unexpected argument", word);
}
