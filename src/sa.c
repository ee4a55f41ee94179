// SPDX-License-Identifier: GPL-2.0
/*
 * SA lifetime: building an SA from an admin's request (algorithms resolved
 * and crypto transforms keyed here, so that nothing can fail at packet
 * time), and freeing it after the last reference and an RCU grace period,
 * key material wiped on every path.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/inetdevice.h>
#include <linux/timekeeping.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <kunit/visibility.h>

#include "klips.h"
#include "sa.h"
#include "xform.h"

static void sa_free(struct klips_sa *sa)
{
	/* The tfms hold the expanded keys; freeing them wipes those. */
	if (sa->type && sa->type->destroy)
		sa->type->destroy(sa);
	kfree(sa->replay);
	/* After a grace period, and no reference left: no reader. */
	kfree(rcu_dereference_protected(sa->policy, true));
	free_percpu(sa->pcpu);
	kfree_sensitive(sa);
}

static void sa_free_work(struct work_struct *work)
{
	sa_free(container_of(to_rcu_work(work), struct klips_sa, free_work));
}

/*
 * The last put may come from softirq; freeing a tfm may sleep, and RCU
 * readers may still look at the SA: free it from a work item after a grace
 * period.
 */
void klips_sa_put(struct klips_sa *sa)
{
	if (sa && refcount_dec_and_test(&sa->refcnt))
		queue_rcu_work(klips_wq, &sa->free_work);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_put);

/**
 * klips_sa_publish_policy() - give an inbound IPIP SA a new inbound policy
 * @sa: the SA; its namespace's config mutex held
 * @pol: the policy, which the SA owns from here on
 *
 * The packet path reads the policy under RCU: a policy is never changed
 * once published, the old one is freed after a grace period. Does not
 * sleep.
 */
void klips_sa_publish_policy(struct klips_sa *sa, struct klips_policy *pol)
{
	struct klips_policy *old;

	old = rcu_replace_pointer(sa->policy, pol,
				  lockdep_is_held(&sa->kn->lock));
	if (old)
		kfree_rcu(old, rcu);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_publish_policy);

static struct klips_sa *sa_alloc(const struct klips_said *said)
{
	struct klips_sa *sa;

	sa = kzalloc(sizeof(*sa), GFP_KERNEL_ACCOUNT);
	if (!sa)
		return NULL;
	sa->pcpu = alloc_percpu_gfp(struct klips_sa_pcpu, GFP_KERNEL_ACCOUNT);
	if (!sa->pcpu) {
		kfree(sa);
		return NULL;
	}
	refcount_set(&sa->refcnt, 1);
	INIT_RCU_WORK(&sa->free_work, sa_free_work);
	RB_CLEAR_NODE(&sa->serial_node);
	INIT_LIST_HEAD(&sa->larval_list);
	INIT_LIST_HEAD(&sa->life_list);
	INIT_LIST_HEAD(&sa->life_pending);
	sa->said = *said;
	sa->type = klips_xform_type_get(said->proto);
	sa->add_time = ktime_get_seconds();
	return sa;
}

static int resolve(struct klips_sa *sa, const struct klips_sa_config *cfg,
		   struct netlink_ext_ack *extack)
{
	if (!sa->type) {
		NL_SET_ERR_MSG(extack, "SAID: only ah, esp, comp and tun SAs exist");
		return -EINVAL;
	}
	return sa->type->resolve(sa, cfg, extack);
}

/* "in" when the destination is one of this namespace's addresses. */
static u8 local_dir(struct net *net, const struct klips_said *said)
{
	bool local;

	if (said->family == AF_INET)
		local = inet_addr_type(net, said->dst.ip4) == RTN_LOCAL;
	else
		local = ipv6_chk_addr(net, &said->dst.ip6, NULL, 0);
	return local ? KLIPS_DIR_IN : KLIPS_DIR_OUT;
}

static int check_replay(struct klips_sa *sa, const struct klips_sa_config *cfg,
			struct netlink_ext_ack *extack)
{
	bool integrity = sa->xform.integ ||
			 (sa->xform.cipher && sa->xform.cipher->aead);
	bool has_window = sa->type->flags & KLIPS_XFORM_IPSEC;
	int err;

	/* An outbound SA ignores a window: admins key both directions alike. */
	if (cfg->replay_window_set && cfg->replay_window &&
	    (!has_window || !integrity)) {
		NL_SET_ERR_MSG(extack,
			       "--replay_window: only ah and esp SAs with integrity have a replay window");
		return -EINVAL;
	}
	if (cfg->replay_window > KLIPS_REPLAY_MAX) {
		NL_SET_ERR_MSG(extack, "--replay_window: at most 4096 packets");
		return -EINVAL;
	}
	if (has_window && integrity && sa->dir == KLIPS_DIR_IN)
		sa->replay_window = cfg->replay_window_set ?
				    cfg->replay_window : KLIPS_REPLAY_DEFAULT;
	if ((cfg->flags & KLIPS_SA_FLAGS_ESN) && !has_window) {
		NL_SET_ERR_MSG(extack, "--esn: only ah and esp SAs have sequence numbers");
		return -EINVAL;
	}
	/* Inbound: a window, also of 0, which still infers ESN high bits. */
	if (has_window && sa->dir == KLIPS_DIR_IN) {
		sa->replay = kmalloc(sizeof(*sa->replay), GFP_KERNEL_ACCOUNT);
		if (!sa->replay)
			return -ENOMEM;
		err = klips_replay_init(sa->replay, sa->replay_window,
					sa->flags & KLIPS_SA_FLAGS_ESN);
		if (err)
			return err;
		if (cfg->bitmap_set && !sa->replay_window) {
			NL_SET_ERR_MSG(extack,
				       "bitmap: the SA has no replay window (a window of 0, or no integrity)");
			return -EINVAL;
		}
		if (klips_replay_start(sa->replay, cfg->seq,
				       cfg->bitmap_set ? &cfg->bitmap : NULL)) {
			NL_SET_ERR_MSG(extack,
				       "bitmap: a bit beyond the replay window or before number 1");
			return -EINVAL;
		}
		return 0;
	}
	/* nl_sa.c checked that seq is for an AH/ESP SA given a direction. */
	atomic64_set(&sa->out_seq, cfg->seq);
	return 0;
}

static int check_lifetimes(const struct klips_sa_config *cfg,
			   struct netlink_ext_ack *extack)
{
	const struct klips_lifetime *s = &cfg->soft, *h = &cfg->hard;

	if ((h->bytes && s->bytes >= h->bytes) ||
	    (h->packets && s->packets >= h->packets) ||
	    (h->addtime && s->addtime >= h->addtime) ||
	    (h->usetime && s->usetime >= h->usetime) ||
	    (h->allocations && s->allocations >= h->allocations)) {
		NL_SET_ERR_MSG(extack,
			       "--life: a soft limit must be below its non-zero hard limit");
		return -EINVAL;
	}
	return 0;
}

/**
 * klips_sa_create() - build a mature SA from an admin's request
 * @kn: the namespace
 * @cfg: the parsed request
 * @extack: why it is refused
 *
 * Allocates and keys the crypto transforms, so that an unknown algorithm
 * or a wrong key is refused here. The SA is not in any table yet.
 *
 * Return: the SA with one reference, or an ERR_PTR().
 */
struct klips_sa *klips_sa_create(struct klips_net *kn,
				 const struct klips_sa_config *cfg,
				 struct netlink_ext_ack *extack)
{
	const struct klips_xform_type *type;
	struct klips_sa *sa;
	int err;

	if (!klips_said_spi_valid(&cfg->said)) {
		type = klips_xform_type_get(cfg->said.proto);
		if (cfg->said.proto == KLIPS_PROTO_INT)
			NL_SET_ERR_MSG(extack, "SAID: a shunt is an eroute target, not an SA");
		else if (type && (type->flags & KLIPS_XFORM_COMPRESS))
			NL_SET_ERR_MSG(extack, "SAID: a CPI is 2 or 0x100..0xffff");
		else
			NL_SET_ERR_MSG(extack, "SAID: SPIs 0..0xff are reserved");
		return ERR_PTR(-EINVAL);
	}
	err = check_lifetimes(cfg, extack);
	if (err)
		return ERR_PTR(err);

	sa = sa_alloc(&cfg->said);
	if (!sa)
		return ERR_PTR(-ENOMEM);
	sa->state = KLIPS_STATE_MATURE;
	sa->dir = cfg->dir ?: local_dir(kn->net, &cfg->said);
	sa->flags = cfg->flags & KLIPS_SA_FLAGS_ESN;
	sa->src = cfg->src;
	sa->src_family = cfg->src_family;
	sa->tun_dst = cfg->tun_dst;
	sa->tun_family = cfg->tun_family;
	sa->kn = kn;
	sa->soft = cfg->soft;
	sa->hard = cfg->hard;
	sa->count_limit = sa->soft.bytes || sa->soft.packets ||
			  sa->hard.bytes || sa->hard.packets;
	sa->natt_type = cfg->natt_type;
	sa->natt_sport = cfg->natt_sport;
	sa->natt_dport = cfg->natt_dport;
	sa->natt_oa = cfg->natt_oa;
	sa->natt_oa_family = cfg->natt_oa_family;

	err = resolve(sa, cfg, extack);
	if (!err)
		err = check_replay(sa, cfg, extack);
	if (err)
		goto err_free;
	if (sa->type->init) {
		err = sa->type->init(sa, cfg, extack);
		if (err)
			goto err_free;
	}
	klips_alg_xform_name(sa->said.proto, &sa->xform, sa->xform_name,
			     sizeof(sa->xform_name));
	return sa;

err_free:
	sa_free(sa);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_create);

/**
 * klips_sa_create_larval() - an SA that reserves a SPI (getspi)
 * @kn: the namespace
 * @said: its SAID, whose protocol is an SA's (getspi: ah, esp or comp)
 * @lifetime: seconds until it expires unless an add fills it in
 *
 * Return: the SA with one reference, or NULL.
 */
struct klips_sa *klips_sa_create_larval(struct klips_net *kn,
					const struct klips_said *said,
					time64_t lifetime)
{
	struct klips_sa *sa = sa_alloc(said);

	if (!sa)
		return NULL;
	sa->kn = kn;
	sa->state = KLIPS_STATE_LARVAL;
	sa->dir = local_dir(kn->net, said);
	sa->larval_expires = sa->add_time + lifetime;
	scnprintf(sa->xform_name, sizeof(sa->xform_name), "%s",
		  sa->type->name);
	return sa;
}

/**
 * klips_sa_seq_view() - the seq=, bit= and max_seq_diff= of an SA
 * @sa: the SA
 * @v: set to the inbound window's view, or the outbound counter
 */
void klips_sa_seq_view(const struct klips_sa *sa, struct klips_replay_view *v)
{
	if (sa->replay) {
		klips_replay_read(sa->replay, v);
		return;
	}
	v->seq = atomic64_read(&sa->out_seq);
	v->bitmap = 0;
	v->max_seq_diff = 0;
}

void klips_sa_totals(const struct klips_sa *sa, u64 *bytes, u64 *packets)
{
	int cpu;

	/* An SA with a bytes or packets limit counts in atomics instead. */
	*bytes = atomic64_read(&sa->life_bytes);
	*packets = atomic64_read(&sa->life_packets);
	for_each_possible_cpu(cpu) {
		const struct klips_sa_pcpu *p = per_cpu_ptr(sa->pcpu, cpu);

		*bytes += READ_ONCE(p->bytes);
		*packets += READ_ONCE(p->packets);
	}
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_totals);

static int fmt_life(char *buf, size_t size, const char *name, u64 c, u64 s,
		    u64 h)
{
	return scnprintf(buf, size, "%s(%llu,%llu,%llu)", name, c, s, h);
}

static int fmt_prefix(char *buf, size_t size, u8 family,
		      const struct klips_prefix *p)
{
	int len = klips_addr_format(family, &p->addr, buf, size);

	return len + scnprintf(buf + len, size - len, "/%u", p->len);
}

/* The replay and error fields: AH/ESP only, each only when non-zero. */
static int fmt_counters(const struct klips_sa *sa, char *buf, size_t size)
{
	const struct klips_xform *x = &sa->xform;
	u64 ooo = atomic64_read(&sa->ooo_errs);
	u64 auth = atomic64_read(&sa->auth_errs);
	u64 esize = atomic64_read(&sa->encr_size_errs);
	u64 epad = atomic64_read(&sa->encr_pad_errs);
	bool ipsec = sa->type->flags & KLIPS_XFORM_IPSEC;
	struct klips_replay_view v;
	unsigned int alen = 0;
	int len = 0;

	klips_sa_seq_view(sa, &v);
	if (x->cipher && x->cipher->aead)
		alen = x->cipher->icv_bits;
	else if (x->integ)
		alen = x->integ->alen;
	if (ipsec && sa->replay_window)
		len += scnprintf(buf + len, size - len, " ooowin=%u",
				 sa->replay_window);
	if (ipsec && ooo)
		len += scnprintf(buf + len, size - len, " ooo_errs=%llu", ooo);
	if (ipsec && v.seq)
		len += scnprintf(buf + len, size - len, " seq=%llu", v.seq);
	if (ipsec && v.bitmap)
		len += scnprintf(buf + len, size - len, " bit=0x%llx",
				 v.bitmap);
	if (ipsec && v.max_seq_diff)
		len += scnprintf(buf + len, size - len, " max_seq_diff=%u",
				 v.max_seq_diff);
	if (klips_sa_flags(sa))
		len += scnprintf(buf + len, size - len, " flags=0x%x",
				 klips_sa_flags(sa));
	if (alen)
		len += scnprintf(buf + len, size - len, " alen=%u", alen);
	if (x->aklen)
		len += scnprintf(buf + len, size - len, " aklen=%u", x->aklen);
	if (auth)
		len += scnprintf(buf + len, size - len, " auth_errs=%llu", auth);
	if (x->eklen)
		len += scnprintf(buf + len, size - len, " eklen=%u", x->eklen);
	if (esize)
		len += scnprintf(buf + len, size - len, " encr_size_errs=%llu",
				 esize);
	if (epad)
		len += scnprintf(buf + len, size - len, " encr_pad_errs=%llu",
				 epad);
	return len;
}

/* life(c,s,h)=[alloc()][bytes()]add()[use()][packets()] [idle=] */
static int fmt_lifetimes(const struct klips_sa *sa, time64_t now, char *buf,
			 size_t size)
{
	const struct klips_lifetime *s = &sa->soft, *h = &sa->hard;
	u64 bytes, packets;
	int len;

	klips_sa_totals(sa, &bytes, &packets);
	len = scnprintf(buf, size, " life(c,s,h)=");
	if (s->allocations || h->allocations)
		len += fmt_life(buf + len, size - len, "alloc", 0,
				s->allocations, h->allocations);
	if (bytes || s->bytes || h->bytes)
		len += fmt_life(buf + len, size - len, "bytes", bytes, s->bytes,
				h->bytes);
	len += fmt_life(buf + len, size - len, "add", now - sa->add_time,
			s->addtime, h->addtime);
	if (sa->first_use || s->usetime || h->usetime)
		len += fmt_life(buf + len, size - len, "use",
				sa->first_use ? now - sa->first_use : 0,
				s->usetime, h->usetime);
	if (packets || s->packets || h->packets)
		len += fmt_life(buf + len, size - len, "packets", packets,
				s->packets, h->packets);
	if (sa->last_use)
		len += scnprintf(buf + len, size - len, " idle=%lld",
				 now - sa->last_use);
	return len;
}

/**
 * klips_sa_format() - an SA's line of /proc/net/ipsec_spi
 * @sa: the SA
 * @now: ktime_get_seconds(), so that every line of a read agrees
 * @buf: where to print, without a newline
 * @size: its size; 512 always suffices
 *
 * The fields and their conditions are Documentation/klips/proc.md's, in its
 * order.
 *
 * Return: the length, as scnprintf().
 */
int klips_sa_format(const struct klips_sa *sa, time64_t now, char *buf,
		    size_t size)
{
	u8 src_family = sa->src_family ?: sa->said.family;
	const struct klips_policy *pol;
	int len;

	len = klips_said_format(&sa->said, buf, size);
	len += scnprintf(buf + len, size - len, " %s: dir=%s src=",
			 sa->xform_name, sa->dir == KLIPS_DIR_IN ? "in" : "out");
	len += klips_addr_format(src_family, &sa->src, buf + len, size - len);
	rcu_read_lock();
	pol = rcu_dereference(sa->policy);
	if (pol) {
		len += scnprintf(buf + len, size - len, " policy=");
		len += fmt_prefix(buf + len, size - len, pol->family,
				  &pol->src);
		len += scnprintf(buf + len, size - len, "->");
		len += fmt_prefix(buf + len, size - len, pol->family,
				  &pol->dst);
	}
	rcu_read_unlock();
	if (sa->state == KLIPS_STATE_LARVAL || sa->state == KLIPS_STATE_DYING)
		len += scnprintf(buf + len, size - len, " state=%s",
				 sa->state == KLIPS_STATE_LARVAL ? "larval" :
								   "dying");
	if (sa->xform.cipher && sa->xform.cipher->iv_bits)
		len += scnprintf(buf + len, size - len, " iv_bits=%u",
				 sa->xform.cipher->iv_bits);
	len += fmt_counters(sa, buf + len, size - len);
	len += fmt_lifetimes(sa, now, buf + len, size - len);
	if ((sa->type->flags & KLIPS_XFORM_COMPRESS) &&
	    (atomic64_read(&sa->ratio_in) || atomic64_read(&sa->ratio_out)))
		len += scnprintf(buf + len, size - len, " ratio=%lld:%lld",
				 atomic64_read(&sa->ratio_in),
				 atomic64_read(&sa->ratio_out));
	if (sa->natt_type == KLIPS_NATT_TYPE_NONESP)
		len += scnprintf(buf + len, size - len,
				 " natencap=nonesp natsport=%u natdport=%u",
				 be16_to_cpu(sa->natt_sport),
				 be16_to_cpu(sa->natt_dport));
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(klips_sa_format);
