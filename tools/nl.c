// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink for the tool: resolve the "klips" family (and its
 * "events" group) with CTRL_CMD_GETFAMILY, send requests with NLM_F_ACK,
 * report the kernel's error with its extack message, run dumps. In batch
 * mode requests go out without waiting, up to NL_WINDOW unread acks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

/* What a synchronous request waits for. */
struct wait {
	uint32_t seq;
	mnl_cb_t cb;
	void *data;
	bool done;
	int err;		/* the kernel's, negative */
	int status;		/* 1: a reply could not be handled */
	char msg[256];		/* the kernel's extack message */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or -1 */
};

static char rbuf[65536];

static void genl_msg(struct nl_req *req, uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *genl;

	memset(req, 0, sizeof(*req));
	req->nlh = mnl_nlmsg_put_header(req->buf);
	req->nlh->nlmsg_flags = NLM_F_REQUEST;
	genl = mnl_nlmsg_put_extra_header(req->nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
}

void nl_msg(struct nl_req *req, uint8_t cmd)
{
	genl_msg(req, cmd, KLIPS_GENL_VERSION);
}

/* A request that cannot be sent whole is not sent at all. */
static int req_full(const struct ctx *ctx, const struct nl_req *req)
{
	if (!req->full)
		return 0;
	return fail(ctx, EXIT_USAGE, "%s: too long: a request is %d bytes at "
		    "most", req->full, NL_MSG_SIZE);
}

/* The extack TLVs of an NLMSG_ERROR or NLMSG_DONE message. */
static void extack(const struct nlmsghdr *nlh, size_t off, struct wait *w)
{
	const struct nlattr *a;

	w->msg[0] = '\0';
	w->miss_type = -1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(w->msg, sizeof(w->msg), "%s", attr_str(a));
		else if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MISS_TYPE)
			w->miss_type = attr_u32(a);
	}
	/* Kernel messages may end in a newline; ours is one line. */
	w->msg[strcspn(w->msg, "\n")] = '\0';
}

/* Reads an ack (NLMSG_ERROR) or a dump's end (NLMSG_DONE) into @w. */
static void read_ack(const struct nlmsghdr *nlh, struct wait *w)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	w->msg[0] = '\0';
	w->miss_type = -1;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		w->err = mnl_nlmsg_get_payload_len(nlh) >= sizeof(int) ?
			 *(const int *)mnl_nlmsg_get_payload(nlh) : 0;
		extack(nlh, sizeof(int), w);
		return;
	}
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		w->err = -EPROTO;
		return;
	}
	w->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	extack(nlh, off, w);
}

static int refused(const struct ctx *ctx, const struct wait *w)
{
	if (w->msg[0])
		return fail(ctx, EXIT_REFUSED, "kernel refused: %s: %s",
			    strerror(-w->err), w->msg);
	if (w->miss_type >= 0)
		return fail(ctx, EXIT_REFUSED,
			    "kernel refused: %s: missing attribute %d",
			    strerror(-w->err), w->miss_type);
	return fail(ctx, EXIT_REFUSED, "kernel refused: %s", strerror(-w->err));
}

/* A kernel warning: an ack with success and a message. */
static void kernel_warning(const struct ctx *ctx, const struct wait *w)
{
	if (!w->err && w->msg[0])
		warn(ctx, "kernel: %s", w->msg);
}

/* An ack for a batch request sent earlier. */
static void async_ack(const struct ctx *ctx, struct nl *nl,
		      const struct nlmsghdr *nlh)
{
	struct nl_slot *slot = &nl->slot[nlh->nlmsg_seq % NL_WINDOW];
	struct ctx at = *ctx;
	struct wait w;

	if (!nl->inflight || nlh->nlmsg_seq > nl->seq ||
	    nl->seq - nlh->nlmsg_seq >= nl->inflight)
		return;		/* not one of ours: a stale message */
	nl->inflight--;
	at.line = slot->line;
	at.cmd = slot->cmd;
	at.defer = NULL;	/* the first failure: reported at once */
	read_ack(nlh, &w);
	kernel_warning(&at, &w);
	if (w.err && !nl->failed) {
		nl->failed = true;
		refused(&at, &w);
	}
}

static void reply(const struct ctx *ctx, struct nl *nl, const struct nlmsghdr *nlh,
		  struct wait *w)
{
	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
		read_ack(nlh, w);
		w->done = true;
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;		/* NOOP, OVERRUN */
	if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && !nl->intr_warned) {
		nl->intr_warned = true;
		warn(ctx, "the table changed during the listing: it may be "
		     "inconsistent");
	}
	if (w->cb && !w->status && w->cb(nlh, w->data) == MNL_CB_ERROR)
		w->status = fail(ctx, EXIT_REFUSED,
				 "malformed reply from the kernel");
}

/* Reads one datagram and dispatches its messages. */
static int recv_one(const struct ctx *ctx, struct nl *nl, struct wait *w)
{
	const struct nlmsghdr *nlh = (const void *)rbuf;
	ssize_t n;
	int len;

	do
		n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		nl->failed = true;
		return fail(ctx, EXIT_REFUSED, "netlink: receive: %s",
			    strerror(errno));
	}
	for (len = n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_pid && nlh->nlmsg_pid != nl->portid)
			continue;
		if (w && nlh->nlmsg_seq == w->seq)
			reply(ctx, nl, nlh, w);
		else if (nlh->nlmsg_type == NLMSG_ERROR)
			async_ack(ctx, nl, nlh);
	}
	return 0;
}

static int send_msg(const struct ctx *ctx, struct nl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return fail(ctx, EXIT_REFUSED, "netlink: send: %s",
			    strerror(errno));
	return 0;
}

/*
 * Sends @nlh and reads until its ack or its dump's end. Returns 0, 1 (a
 * local failure, printed), or the kernel's negative errno with @w filled.
 */
static int transact(const struct ctx *ctx, struct nl *nl, struct nlmsghdr *nlh,
		    struct wait *w)
{
	if (send_msg(ctx, nl, nlh))
		return EXIT_REFUSED;
	w->seq = nlh->nlmsg_seq;
	while (!w->done)
		if (recv_one(ctx, nl, w))
			return EXIT_REFUSED;
	if (w->status)
		return w->status;
	return w->err;
}

static int family_grp(const struct nlattr *grps, struct nl *nl)
{
	const struct nlattr *g, *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];

	mnl_attr_for_each_nested(g, grps) {
		if (nl_parse_nested(g, tb, CTRL_ATTR_MCAST_GRP_MAX))
			return MNL_CB_ERROR;
		if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
		    !strcmp(attr_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
			    KLIPS_MCGRP_EVENTS))
			nl->events_grp = attr_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nl *nl = data;

	if (nl_parse(nlh, tb, CTRL_ATTR_MAX) || !tb[CTRL_ATTR_FAMILY_ID])
		return MNL_CB_ERROR;
	nl->family = attr_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_MCAST_GROUPS])
		return family_grp(tb[CTRL_ATTR_MCAST_GROUPS], nl);
	return MNL_CB_OK;
}

static int resolve(const struct ctx *ctx, struct nl *nl)
{
	struct wait w = { .cb = family_cb, .data = nl };
	struct nl_req req;
	int err;

	genl_msg(&req, CTRL_CMD_GETFAMILY, 1);
	req.nlh->nlmsg_type = GENL_ID_CTRL;
	req.nlh->nlmsg_flags |= NLM_F_ACK;
	nl_put_strz(&req, "the family name", CTRL_ATTR_FAMILY_NAME,
		    KLIPS_GENL_NAME);
	if (req_full(ctx, &req))
		return EXIT_USAGE;
	err = transact(ctx, nl, req.nlh, &w);
	if (err == -ENOENT)
		return fail(ctx, EXIT_REFUSED, "the klips netlink family is not "
			    "registered (is klips.ko loaded?)");
	if (err < 0)
		return refused(ctx, &w);
	if (!err && !nl->family)
		return fail(ctx, EXIT_REFUSED, "malformed reply from the kernel");
	return err;
}

struct nl *nl_open(const struct ctx *ctx)
{
	struct nl *nl = ctx->nl;
	int one = 1;

	if (nl->sock)
		return nl;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		fail(ctx, EXIT_REFUSED, "netlink: socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		fail(ctx, EXIT_REFUSED, "netlink: bind: %s", strerror(errno));
		nl_close(nl);
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* Both are optional: without them, errors lose their message. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (nl->rcvbuf)
		setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF,
			   &nl->rcvbuf, sizeof(nl->rcvbuf));
	if (resolve(ctx, nl)) {
		nl_close(nl);
		return NULL;
	}
	return nl;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	memset(nl, 0, sizeof(*nl));
}

int nl_drain(const struct ctx *ctx)
{
	struct nl *nl = ctx->nl;

	while (nl->sock && nl->inflight)
		if (recv_one(ctx, nl, NULL))
			return EXIT_REFUSED;
	return nl->failed ? EXIT_REFUSED : 0;
}

static int send_async(const struct ctx *ctx, struct nl *nl, struct nlmsghdr *nlh)
{
	struct nl_slot *slot;

	if (nl->failed || send_msg(ctx, nl, nlh))
		return EXIT_REFUSED;
	slot = &nl->slot[nlh->nlmsg_seq % NL_WINDOW];
	slot->line = ctx->line;
	slot->cmd = ctx->cmd;
	nl->inflight++;
	while (nl->inflight >= NL_WINDOW && !nl->failed)
		if (recv_one(ctx, nl, NULL))
			return EXIT_REFUSED;
	return nl->failed ? EXIT_REFUSED : 0;
}

static int run(const struct ctx *ctx, struct nl *nl, struct nlmsghdr *nlh,
	       mnl_cb_t cb, void *data)
{
	struct wait w = { .cb = cb, .data = data };
	int err;

	if (nl_drain(ctx))
		return EXIT_REFUSED;
	err = transact(ctx, nl, nlh, &w);
	if (err < 0)
		return refused(ctx, &w);
	if (!err)
		kernel_warning(ctx, &w);
	return err;
}

int nl_do(const struct ctx *ctx, struct nl_req *req, mnl_cb_t cb, void *data)
{
	struct nlmsghdr *nlh = req->nlh;
	struct nl *nl;

	if (req_full(ctx, req))
		return EXIT_USAGE;
	nl = nl_open(ctx);
	if (!nl)
		return EXIT_REFUSED;
	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (ctx->batch && !cb)
		return send_async(ctx, nl, nlh);
	return run(ctx, nl, nlh, cb, data);
}

int nl_dump(const struct ctx *ctx, uint8_t cmd, mnl_cb_t cb, void *data)
{
	struct nl_req req;
	struct nl *nl = nl_open(ctx);

	if (!nl)
		return EXIT_REFUSED;
	nl_msg(&req, cmd);
	req.nlh->nlmsg_type = nl->family;
	req.nlh->nlmsg_flags |= NLM_F_DUMP;
	return run(ctx, nl, req.nlh, cb, data);
}

/*
 * Attributes: libmnl's _check variants, which add nothing that would not
 * fit in the buffer. After the first miss, @req is full: nothing more.
 */

static void put_done(struct nl_req *req, const char *what, bool put)
{
	if (!put)
		req->full = what;
}

void nl_put(struct nl_req *req, const char *what, uint16_t type, size_t len,
	    const void *data)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_check(req->nlh, sizeof(req->buf),
						       type, len, data));
}

void nl_put_u8(struct nl_req *req, const char *what, uint16_t type,
	       uint8_t val)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_u8_check(req->nlh,
							  sizeof(req->buf),
							  type, val));
}

void nl_put_u16(struct nl_req *req, const char *what, uint16_t type,
		uint16_t val)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_u16_check(req->nlh,
							   sizeof(req->buf),
							   type, val));
}

void nl_put_u32(struct nl_req *req, const char *what, uint16_t type,
		uint32_t val)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_u32_check(req->nlh,
							   sizeof(req->buf),
							   type, val));
}

void nl_put_u64(struct nl_req *req, const char *what, uint16_t type,
		uint64_t val)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_u64_check(req->nlh,
							   sizeof(req->buf),
							   type, val));
}

void nl_put_strz(struct nl_req *req, const char *what, uint16_t type,
		 const char *str)
{
	if (!req->full)
		put_done(req, what, mnl_attr_put_strz_check(req->nlh,
							    sizeof(req->buf),
							    type, str));
}

struct nlattr *nl_nest_start(struct nl_req *req, const char *what,
			     uint16_t type)
{
	struct nlattr *nest;

	if (req->full)
		return NULL;
	nest = mnl_attr_nest_start_check(req->nlh, sizeof(req->buf), type);
	put_done(req, what, nest);
	return nest;
}

void nl_nest_end(struct nl_req *req, struct nlattr *nest)
{
	if (nest)
		mnl_attr_nest_end(req->nlh, nest);
}

void nl_put_addr(struct nl_req *req, const char *what, uint16_t type, int af,
		 const union klips_addr *addr)
{
	struct nlattr *nest = nl_nest_start(req, what, type);

	if (af == AF_INET)
		nl_put_u32(req, what, KLIPS_A_ADDR_IP4, addr->ip4);
	else
		nl_put(req, what, KLIPS_A_ADDR_IP6, sizeof(addr->ip6),
		       &addr->ip6);
	nl_nest_end(req, nest);
}

void nl_put_said(struct nl_req *req, const char *what, uint16_t type,
		 const struct klips_said *said)
{
	struct nlattr *nest = nl_nest_start(req, what, type);

	nl_put_u8(req, what, KLIPS_A_SAID_PROTO, said->proto);
	nl_put_u32(req, what, KLIPS_A_SAID_SPI, said->spi);
	nl_put_addr(req, what, KLIPS_A_SAID_DST, said->family, &said->dst);
	nl_nest_end(req, nest);
}

struct tb {
	const struct nlattr **tb;
	unsigned int max;
};

static int tb_cb(const struct nlattr *a, void *data)
{
	struct tb *t = data;

	if (mnl_attr_get_type(a) <= t->max)
		t->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

int nl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb,
	     unsigned int max)
{
	struct tb t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tb_cb, &t) ==
	       MNL_CB_OK ? 0 : -1;
}

int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max)
{
	struct tb t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, tb_cb, &t) == MNL_CB_OK ? 0 : -1;
}

const char *attr_str(const struct nlattr *a)
{
	const char *s;
	uint16_t len;

	if (!a)
		return "?";
	s = mnl_attr_get_payload(a);
	len = mnl_attr_get_payload_len(a);
	return len && !s[len - 1] ? s : "?";
}

int nl_get_addr(const struct nlattr *nest, int *af, union klips_addr *addr)
{
	const struct nlattr *tb[KLIPS_A_ADDR_MAX + 1];

	memset(addr, 0, sizeof(*addr));
	if (!nest || nl_parse_nested(nest, tb, KLIPS_A_ADDR_MAX))
		return -1;
	if (tb[KLIPS_A_ADDR_IP4] &&
	    mnl_attr_get_payload_len(tb[KLIPS_A_ADDR_IP4]) == 4) {
		*af = AF_INET;
		memcpy(&addr->ip4, mnl_attr_get_payload(tb[KLIPS_A_ADDR_IP4]), 4);
		return 0;
	}
	if (tb[KLIPS_A_ADDR_IP6] &&
	    mnl_attr_get_payload_len(tb[KLIPS_A_ADDR_IP6]) == 16) {
		*af = AF_INET6;
		memcpy(&addr->ip6, mnl_attr_get_payload(tb[KLIPS_A_ADDR_IP6]),
		       16);
		return 0;
	}
	return -1;
}

int nl_get_said(const struct nlattr *nest, struct klips_said *said)
{
	const struct nlattr *tb[KLIPS_A_SAID_MAX + 1];
	int af;

	memset(said, 0, sizeof(*said));
	if (!nest || nl_parse_nested(nest, tb, KLIPS_A_SAID_MAX) ||
	    nl_get_addr(tb[KLIPS_A_SAID_DST], &af, &said->dst))
		return -1;
	said->family = af;
	said->proto = attr_u8(tb[KLIPS_A_SAID_PROTO]);
	said->spi = attr_u32(tb[KLIPS_A_SAID_SPI]);
	return 0;
}

const char *nl_addr_text(const struct nlattr *nest, char *buf, size_t size)
{
	union klips_addr addr;
	int af;

	if (nl_get_addr(nest, &af, &addr))
		snprintf(buf, size, "?");
	else
		format_addr(af, &addr, buf, size);
	return buf;
}

const char *nl_said_text(const struct nlattr *nest, char *buf, size_t size)
{
	struct klips_said said;

	if (nl_get_said(nest, &said))
		snprintf(buf, size, "?");
	else
		klips_said_format(&said, buf, size);
	return buf;
}

const char *nl_sel_text(const struct nlattr *addr, uint8_t len, uint16_t port,
			char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	union klips_addr a;
	int af;

	if (nl_get_addr(addr, &af, &a))
		snprintf(buf, size, "?");
	else if (!port)
		snprintf(buf, size, "%s/%u", nl_addr_text(addr, text,
							  sizeof(text)), len);
	else
		snprintf(buf, size, af == AF_INET6 ? "[%s/%u]:%u" : "%s/%u:%u",
			 nl_addr_text(addr, text, sizeof(text)), len, port);
	return buf;
}
