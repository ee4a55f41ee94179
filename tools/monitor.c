// SPDX-License-Identifier: GPL-2.0
/*
 * ipsec monitor: the events the module multicasts on the family's
 * "events" group, one line each, flushed as they come:
 *
 *   add esp.1001@192.0.2.2 ESP_AES_HMAC_SHA1
 *   del esp.1001@192.0.2.2 ESP_AES_HMAC_SHA1
 *   expire soft esp.1001@192.0.2.2 ESP_AES_HMAC_SHA1
 *   acquire 10.0.1.1/32 -> 10.0.2.1/32:80 proto=6 => %trap
 *   mapping esp.1001@192.0.2.2 198.51.100.2:4500 -> 198.51.100.2:4600
 *
 * SIGINT and SIGTERM end it with status 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "nl.h"
#include "spi.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: recv returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void print_sa(const char *what, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[KLIPS_A_SA_MAX + 1];

	if (nl_parse(nlh, tb, KLIPS_A_SA_MAX))
		return;
	fputs(what, stdout);
	if (tb[KLIPS_A_SA_EXPIRE_KIND])
		fputs(attr_u8(tb[KLIPS_A_SA_EXPIRE_KIND]) ==
		      KLIPS_EXPIRE_KIND_HARD ? " hard" : " soft", stdout);
	putchar(' ');
	sa_print_brief(tb);
	putchar('\n');
}

static void print_acquire(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[KLIPS_A_EROUTE_MAX + 1];
	char src[80], dst[80], said[KLIPS_SAID_BUFLEN];

	if (nl_parse(nlh, tb, KLIPS_A_EROUTE_MAX))
		return;
	printf("acquire %s -> %s",
	       nl_sel_text(tb[KLIPS_A_EROUTE_SRC],
			   attr_u8(tb[KLIPS_A_EROUTE_SRC_LEN]),
			   ntohs(attr_u16(tb[KLIPS_A_EROUTE_SPORT])), src,
			   sizeof(src)),
	       nl_sel_text(tb[KLIPS_A_EROUTE_DST],
			   attr_u8(tb[KLIPS_A_EROUTE_DST_LEN]),
			   ntohs(attr_u16(tb[KLIPS_A_EROUTE_DPORT])), dst,
			   sizeof(dst)));
	if (attr_u8(tb[KLIPS_A_EROUTE_PROTO]))
		printf(" proto=%u", attr_u8(tb[KLIPS_A_EROUTE_PROTO]));
	if (tb[KLIPS_A_EROUTE_SAID])
		printf(" => %s", nl_said_text(tb[KLIPS_A_EROUTE_SAID], said,
					      sizeof(said)));
	putchar('\n');
}

/* A NAT-T peer's new outer address or port ("[addr]:port" for IPv6). */
static void print_endpoint(const struct nlattr *addr, const struct nlattr *port)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *a = addr ? nl_addr_text(addr, buf, sizeof(buf)) : "?";

	printf(strchr(a, ':') ? "[%s]:%u" : "%s:%u", a,
	       ntohs(attr_u16(port)));
}

static void print_mapping(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[KLIPS_A_SA_MAX + 1];
	char said[KLIPS_SAID_BUFLEN];

	if (nl_parse(nlh, tb, KLIPS_A_SA_MAX))
		return;
	printf("mapping %s ", tb[KLIPS_A_SA_SAID] ?
	       nl_said_text(tb[KLIPS_A_SA_SAID], said, sizeof(said)) : "?");
	print_endpoint(tb[KLIPS_A_SA_SRC], tb[KLIPS_A_SA_NATT_SPORT]);
	fputs(" -> ", stdout);
	print_endpoint(tb[KLIPS_A_SA_MAPPING_SRC], tb[KLIPS_A_SA_MAPPING_SPORT]);
	putchar('\n');
}

static void print_event(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	switch (genl->cmd) {
	case KLIPS_CMD_SA_ADD_NTF:
		print_sa("add", nlh);
		break;
	case KLIPS_CMD_SA_DEL_NTF:
		print_sa("del", nlh);
		break;
	case KLIPS_CMD_EXPIRE_NTF:
		print_sa("expire", nlh);
		break;
	case KLIPS_CMD_ACQUIRE_NTF:
		print_acquire(nlh);
		break;
	case KLIPS_CMD_MAPPING_NTF:
		print_mapping(nlh);
		break;
	default:
		printf("event %u\n", genl->cmd);
		break;
	}
	fflush(stdout);
}

static void print_events(const struct nl *nl, const char *buf, int len)
{
	const struct nlmsghdr *nlh = (const void *)buf;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		if (nlh->nlmsg_type == nl->family &&
		    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct genlmsghdr))
			print_event(nlh);
}

static int listen_events(struct ctx *ctx, struct nl *nl)
{
	static char buf[65536];
	ssize_t n;

	while (!stop) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			warn(ctx, "events lost (receive buffer overrun)");
			continue;
		}
		if (n < 0)
			return fail(ctx, EXIT_REFUSED, "netlink: receive: %s",
				    strerror(errno));
		print_events(nl, buf, n);
	}
	return 0;
}

int cmd_monitor(struct ctx *ctx, int argc, char **argv)
{
	int rcvbuf = 1 << 20;
	struct nl *nl;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		puts("usage: ipsec monitor     print the module's events as "
		     "they happen (SIGINT ends)");
		return 0;
	}
	if (argc > 1)
		return unexpected(ctx, argv[1]);
	if (ctx->batch)
		return fail(ctx, EXIT_USAGE, "not in batch mode");
	nl = nl_open(ctx);
	if (!nl)
		return EXIT_REFUSED;
	if (!nl->events_grp)
		return fail(ctx, EXIT_REFUSED, "the klips family has no "
			    "\"%s\" group", KLIPS_MCGRP_EVENTS);
	catch_signals();
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP,
				  &nl->events_grp, sizeof(nl->events_grp)) < 0)
		return fail(ctx, EXIT_REFUSED, "kernel refused: %s: joining "
			    "the events group", strerror(errno));
	return listen_events(ctx, nl);
}
