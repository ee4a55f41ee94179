/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The klips generic netlink family over libmnl: family resolution,
 * requests with acks (extack messages reported), dumps, and batch mode's
 * window of requests whose acks are read later.
 */
#ifndef _KLIPS_TOOL_NL_H
#define _KLIPS_TOOL_NL_H

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/klips.h>

#include "ipsec.h"

/*
 * Request buffers: our messages are small (a key is 64 bytes at most, an
 * algorithm name 63 characters), but what goes in is checked all the same.
 */
#define NL_MSG_SIZE	4096

/* Acks batch mode leaves unread at most. */
#define NL_WINDOW	128

struct nl_slot {
	unsigned long line;
	const char *cmd;
};

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	uint32_t events_grp;		/* 0 if the family has none */
	unsigned int inflight;		/* batch: acks not read yet */
	struct nl_slot slot[NL_WINDOW];	/* by seq % NL_WINDOW */
	bool failed;			/* batch: a request was refused */
	bool intr_warned;
	int rcvbuf;			/* SO_RCVBUF to ask for, 0: default */
};

/* Opens the socket and resolves the family, once. NULL: error printed. */
struct nl *nl_open(const struct ctx *ctx);
void nl_close(struct nl *nl);

/*
 * A request being built. The nl_put*() helpers add an attribute only if it
 * fits in @buf: the first one that does not is named in @full (by the
 * option it comes from, as @what), nothing is added after it, and nl_do()
 * refuses to send the request.
 */
struct nl_req {
	struct nlmsghdr *nlh;		/* at the start of @buf */
	const char *full;		/* NULL, or what did not fit */
	char buf[NL_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* A klips request in @req; the type is set when sent. */
void nl_msg(struct nl_req *req, uint8_t cmd);

/*
 * Sends a request and reads its ack, handing replies to @cb. In batch
 * mode a request without @cb is only sent; its ack is read later.
 * Returns 0, or 1 with the error printed (the kernel's extack message
 * included), or 2 without sending anything if the request is full.
 */
int nl_do(const struct ctx *ctx, struct nl_req *req, mnl_cb_t cb, void *data);
int nl_dump(const struct ctx *ctx, uint8_t cmd, mnl_cb_t cb, void *data);

/* Batch mode: reads every outstanding ack. 0, or 1 if one was a refusal. */
int nl_drain(const struct ctx *ctx);

/* Attributes, if they fit (see struct nl_req); @what names them. */
void nl_put(struct nl_req *req, const char *what, uint16_t type, size_t len,
	    const void *data);
void nl_put_u8(struct nl_req *req, const char *what, uint16_t type,
	       uint8_t val);
void nl_put_u16(struct nl_req *req, const char *what, uint16_t type,
		uint16_t val);
void nl_put_u32(struct nl_req *req, const char *what, uint16_t type,
		uint32_t val);
void nl_put_u64(struct nl_req *req, const char *what, uint16_t type,
		uint64_t val);
void nl_put_strz(struct nl_req *req, const char *what, uint16_t type,
		 const char *str);
/* NULL if the nest did not fit; nl_nest_end() takes that too. */
struct nlattr *nl_nest_start(struct nl_req *req, const char *what,
			     uint16_t type);
void nl_nest_end(struct nl_req *req, struct nlattr *nest);
void nl_put_addr(struct nl_req *req, const char *what, uint16_t type, int af,
		 const union klips_addr *addr);
void nl_put_said(struct nl_req *req, const char *what, uint16_t type,
		 const struct klips_said *said);

/* Parses a message's (or a nest's) attributes into tb[0..max]. */
int nl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb,
	     unsigned int max);
int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max);
int nl_get_addr(const struct nlattr *nest, int *af, union klips_addr *addr);
int nl_get_said(const struct nlattr *nest, struct klips_said *said);

/* Text of an address nest / a SAID nest ("?" if malformed). */
const char *nl_addr_text(const struct nlattr *nest, char *buf, size_t size);
const char *nl_said_text(const struct nlattr *nest, char *buf, size_t size);
/* An eroute selector as /proc prints it: <net>/<len>[:<port>], host-order
 * port (0: none); IPv6 with a port as [<net>/<len>]:<port>. */
const char *nl_sel_text(const struct nlattr *addr, uint8_t len, uint16_t port,
			char *buf, size_t size);



/* Attribute payloads, length-checked: a short attribute reads as 0 / "?". */
static inline uint8_t attr_u8(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 1 ? mnl_attr_get_u8(a) : 0;
}

static inline uint16_t attr_u16(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 2 ? mnl_attr_get_u16(a) : 0;
}

static inline uint32_t attr_u32(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 4 ? mnl_attr_get_u32(a) : 0;
}

static inline uint64_t attr_u64(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 8 ? mnl_attr_get_u64(a) : 0;
}

const char *attr_str(const struct nlattr *a);

#endif /* _KLIPS_TOOL_NL_H */
