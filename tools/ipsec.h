/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsec: the klips admin tool (Documentation/klips/cli.md). What the
 * subcommands share: the run context (for error messages and batch mode),
 * option parsing, value parsing, and the /proc and netlink plumbing.
 */
#ifndef _KLIPS_TOOL_IPSEC_H
#define _KLIPS_TOOL_IPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include "kcompat.h"
#include "said.h"

#define EXIT_REFUSED	1	/* the kernel said no, or a file can't be read */
#define EXIT_USAGE	2

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

struct nl;

/* One command being run: from the command line or a line of a batch file. */
struct ctx {
	const char *cmd;	/* "spi", ...: names the command in messages */
	const char *file;	/* batch file, or NULL */
	unsigned long line;	/* its line number */
	struct nl *nl;		/* the netlink socket, opened on first use */
	bool batch;		/* don't wait for acks (bounded window) */
	unsigned int warned;	/* warnings given once per batch run */
	/*
	 * Batch mode keeps a line's error here until the acks of the lines
	 * before it are read: only the first failure is reported.
	 */
	char *defer;		/* NULL: print errors at once */
	size_t defer_size;
};

/* Errors and warnings: one line on stderr, "ipsec <cmd>: ..." */
int fail(const struct ctx *ctx, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void warn(const struct ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int err_prefix(const struct ctx *ctx, char *buf, size_t size);

/*
 * Options: "--name value", "--name=value" or a flag "--name"; other words
 * are positional. Each option may be given once. Option ids are < 64.
 */
struct opt {
	const char *name;	/* "--enckey" */
	bool has_arg;
	int id;
};

#define CL_MAX_OPTS	64
#define CL_MAX_WORDS	32

struct given {
	int id;
	const char *name;	/* the table's name, "--enckey" */
	char *val;		/* its value, or NULL for a flag */
};

struct cmdline {
	struct given opt[CL_MAX_OPTS];	/* in command-line order */
	int nopt;
	char *word[CL_MAX_WORDS];
	int nword;
	uint64_t seen;			/* bit per option id */
	char *val[CL_MAX_OPTS];		/* by id */
};

#define BIT(id)		(1ULL << (id))

int parse_cmdline(const struct ctx *ctx, int argc, char **argv,
		  const struct opt *opts, size_t nopts, struct cmdline *cl);

static inline bool has(const struct cmdline *cl, int id)
{
	return cl->seen & BIT(id);
}

/* The first option given among @mask, or NULL. */
const struct given *first_of(const struct cmdline *cl, uint64_t mask);
int one_action(const struct ctx *ctx, const struct cmdline *cl,
	       uint64_t actions, uint64_t (*allowed)(int action),
	       const char *none, int *action);

/* Values. Each returns 0 or prints the error (naming @what) and returns 2. */
int parse_u32(const struct ctx *ctx, const char *what, const char *text,
	      uint32_t *val);
int parse_u64(const struct ctx *ctx, const char *what, const char *text,
	      uint64_t *val);
int parse_port(const struct ctx *ctx, const char *what, const char *text,
	       const char *proto, uint16_t *port);
int parse_af(const struct ctx *ctx, const char *what, const char *text,
	     int *af);

struct prefix {
	int af;
	union klips_addr addr;
	uint8_t len;
};

/* @af: AF_INET, AF_INET6, or AF_UNSPEC for either (then set). */
int parse_addr(const struct ctx *ctx, const char *what, const char *text,
	       int *af, union klips_addr *addr);
int parse_prefix(const struct ctx *ctx, const char *what, const char *text,
		 struct prefix *p);
const char *af_name(int af);
int parse_said(const struct ctx *ctx, const char *what, const char *text,
	       struct klips_said *said);
const char *proto_name(uint8_t proto);
int unexpected(const struct ctx *ctx, const char *word);	/* returns 2 */	/* "esp", ... as SAIDs spell it */

/*
 * <SA> := --said <SAID> | --af <af> --edst <addr> --spi <spi> --proto <p>:
 * the ids of those options in a command's table (indexed by id).
 */
struct sa_opt_ids {
	int af, edst, spi, proto, said;
};

int get_sa(const struct ctx *ctx, const struct cmdline *cl,
	   const struct opt *opts, const struct sa_opt_ids *ids,
	   struct klips_said *said, bool with_spi);
int format_addr(int af, const union klips_addr *addr, char *buf, size_t size);

/* Keys: 0x<hex>, 0s<base64> or @<file>. Returns 0, 1 (file) or 2. */
struct key {
	uint8_t data[KLIPS_KEY_MAX];
	size_t len;
};

int parse_key(const struct ctx *ctx, const char *what, const char *text,
	      struct key *key);
void key_wipe(struct key *key);

/* /proc */
int cat_file(const struct ctx *ctx, const char *path);
char *read_file(const struct ctx *ctx, const char *path, size_t *len);

#define PROC_SPI	"/proc/net/ipsec_spi"
#define PROC_EROUTE	"/proc/net/ipsec_eroute"
#define PROC_SPIGRP	"/proc/net/ipsec_spigrp"
#define PROC_TNCFG	"/proc/net/ipsec_tncfg"
#define PROC_VERSION	"/proc/net/ipsec_version"
#define PROC_KLIPSDEBUG	"/proc/net/ipsec_klipsdebug"

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_spi(struct ctx *ctx, int argc, char **argv);
int cmd_eroute(struct ctx *ctx, int argc, char **argv);
int cmd_spigrp(struct ctx *ctx, int argc, char **argv);
int cmd_tncfg(struct ctx *ctx, int argc, char **argv);
int cmd_klipsdebug(struct ctx *ctx, int argc, char **argv);
int cmd_look(struct ctx *ctx, int argc, char **argv);
int cmd_version(struct ctx *ctx, int argc, char **argv);
int cmd_monitor(struct ctx *ctx, int argc, char **argv);

/* "--help" of each subcommand */
void usage_spi(FILE *f);
void usage_eroute(FILE *f);
void usage_spigrp(FILE *f);
void usage_tncfg(FILE *f);
void usage_klipsdebug(FILE *f);

#endif /* _KLIPS_TOOL_IPSEC_H */
