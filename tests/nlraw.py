#!/usr/bin/python3
# Raw generic netlink against the klips family, with no library we wrote:
# malformed requests must each be refused with an error ack (and, where the
# attribute is at fault, an extack message), and random requests must each
# be answered, never crash or hang the kernel.
#
#   nlraw.py cases        the targeted malformed requests, TAP lines
#   nlraw.py fuzz N SEED  N random requests, then one TAP line
#   nlraw.py perm         every mutating command must fail with EPERM here
#   nlraw.py add SPI      add one AES-GCM SA esp.SPI@192.0.2.1 (exit status)
#   nlraw.py getspi       reserve a SPI for esp@192.0.2.1
#   nlraw.py flush        flush SAs and eroutes
import errno
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK = 11, 12
NLMSGERR_ATTR_MSG = 1
NLA_F_NESTED = 0x8000

# From include/uapi/linux/klips.h (generated from the YNL spec).
CMD = dict(sa_add=1, sa_del=2, sa_get=3, sa_flush=4, sa_getspi=5, grp_add=6,
           grp_get=7, eroute_add=8, eroute_del=9, eroute_get=10,
           eroute_flush=11, policy_set=12, dev_add=13, dev_del=14,
           dev_attach=15, dev_detach=16, dev_get=17, debug_set=18)
SA_SAID, SA_SRC, SA_DIR, SA_ESP, SA_COMP = 1, 2, 4, 5, 7
SA_ENC_KEY, SA_AUTH_KEY, SA_REPLAY_WINDOW, SA_FLAGS = 8, 9, 10, 11
SA_STATE, SA_SEQ, SA_BITMAP = 20, 23, 24
DIR_IN, DIR_OUT, FLAGS_ESN = 1, 2, 0x100
SAID_PROTO, SAID_SPI, SAID_DST = 1, 2, 3
ADDR_IP4, ADDR_IP6 = 1, 2
EROUTE_SRC, EROUTE_SRC_LEN, EROUTE_DST, EROUTE_DST_LEN, EROUTE_SAID = 1, 2, 3, 4, 8
DEV_NAME = 1
NLM_F_DUMP_INTR = 0x10
SHUNT_PASS = 256

T = {"n": 0, "fail": 0}


def ok(cond, what, detail=""):
    T["n"] += 1
    if not cond:
        T["fail"] += 1
    # Unnumbered: tests/lib.sh's absorb numbers them into the script's plan.
    print("%sok - %s" % ("" if cond else "not ", what))
    if not cond and detail:
        print("#   " + detail)


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def nest(t, *attrs):
    return attr(t | NLA_F_NESTED, b"".join(attrs))


def u8(t, v):
    return attr(t, struct.pack("=B", v))


def u32(t, v):
    return attr(t, struct.pack("=I", v))


def u64(t, v):
    return attr(t, struct.pack("=Q", v))


def be32(t, v):
    return attr(t, struct.pack(">I", v))


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)
        self.s.settimeout(10)
        self.seq = 0
        self.fam = self.family("klips")

    def send(self, ftype, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK):
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        hdr = struct.pack("=IHHII", 16 + len(body), ftype, flags, self.seq, 0)
        self.s.send(hdr + body)
        return self.seq

    def acks(self, seq):
        """Messages of one request until its ack: (error, extack msg, msgs)."""
        msgs = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off < len(data):
                ln, typ, flags, mseq, _ = struct.unpack_from("=IHHII", data, off)
                if mseq == seq and typ == NLMSG_ERROR:
                    err = struct.unpack_from("=i", data, off + 16)[0]
                    return -err, self._extack(data[off:off + ln], err), msgs
                if mseq == seq and typ == NLMSG_DONE:
                    return 0, None, msgs
                if mseq == seq:
                    msgs.append(data[off:off + ln])
                off += (ln + 3) & ~3

    @staticmethod
    def _extack(msg, err):
        # nlmsgerr: the error, then the request header (and payload unless
        # capped), then the extack TLVs.
        off = 16 + 4
        inner_len = struct.unpack_from("=I", msg, off)[0]
        flags = struct.unpack_from("=H", msg, 6)[0]
        off += 16 if flags & 0x100 else (inner_len + 3) & ~3
        while off + 4 <= len(msg):
            ln, typ = struct.unpack_from("=HH", msg, off)
            if ln < 4:
                break
            if typ == NLMSGERR_ATTR_MSG:
                return msg[off + 4:off + ln].split(b"\0")[0].decode()
            off += (ln + 3) & ~3
        return None

    def family(self, name):
        seq = self.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                        attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        err, _, msgs = self.acks(seq)
        if err or not msgs:
            sys.exit("nlraw: no klips family (%s)" % os.strerror(err or 2))
        off = 20
        m = msgs[0]
        while off < len(m):
            ln, typ = struct.unpack_from("=HH", m, off)
            if typ == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", m, off + 4)[0]
            off += (ln + 3) & ~3
        sys.exit("nlraw: family id missing")

    def do(self, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK):
        return self.acks(self.send(self.fam, CMD[cmd], payload, flags))


def said(proto=50, spi=0x1234, dst=0xc0000201):
    return nest(SA_SAID, u8(SAID_PROTO, proto), u32(SAID_SPI, spi),
                nest(SAID_DST, be32(ADDR_IP4, dst)))


def good_sa(spi=0x1234):
    return (said(spi=spi) + nest(SA_SRC, be32(ADDR_IP4, 0xc0000202)) +
            attr(SA_ESP, b"aes-gcm-16\0") + attr(SA_ENC_KEY, os.urandom(20)))


def cases(g):
    # Each: (what, command, payload, expected errno, extack must mention)
    bad = [
        ("sa-add without a SAID", "sa_add",
         attr(SA_ESP, b"aes-gcm-16\0"), errno.EINVAL, "SAID"),
        ("SAID without its dst", "sa_add",
         nest(SA_SAID, u8(SAID_PROTO, 50), u32(SAID_SPI, 0x1234)),
         errno.EINVAL, "SAID"),
        ("SAID spi as a u8 (wrong length)", "sa_add",
         nest(SA_SAID, u8(SAID_PROTO, 50), u8(SAID_SPI, 1),
              nest(SAID_DST, be32(ADDR_IP4, 1))), errno.EINVAL, "length"),
        ("address with ip4 and ip6 both", "sa_add",
         nest(SA_SAID, u8(SAID_PROTO, 50), u32(SAID_SPI, 0x1234),
              nest(SAID_DST, be32(ADDR_IP4, 1), attr(ADDR_IP6, b"\0" * 16))),
         errno.EINVAL, "address"),
        ("ip6 address of 15 bytes", "sa_add",
         nest(SA_SAID, u8(SAID_PROTO, 50), u32(SAID_SPI, 0x1234),
              nest(SAID_DST, attr(ADDR_IP6, b"\0" * 15))), errno.ERANGE, None),
        ("a 65-byte key (oversized)", "sa_add",
         said() + attr(SA_ESP, b"aes-gcm-16\0") + attr(SA_ENC_KEY, b"k" * 65),
         errno.ERANGE, None),
        ("algorithm name not NUL-terminated", "sa_add",
         said() + attr(SA_ESP, b"aes-gcm-16"), errno.EINVAL, None),
        ("a reply-only attribute (state) in a request", "sa_add",
         good_sa() + u8(SA_STATE, 1), errno.EINVAL, "state"),
        ("seq on a comp SA", "sa_add",
         said(proto=108, spi=0x4000) + nest(SA_SRC, be32(ADDR_IP4, 0xc0000202)) +
         attr(SA_COMP, b"deflate\0") + u8(SA_DIR, DIR_OUT) + u64(SA_SEQ, 5),
         errno.EINVAL, "only ah and esp"),
        ("seq on a tun SA", "sa_add",
         said(proto=4, spi=0x4000) + u8(SA_DIR, DIR_IN) + u64(SA_SEQ, 5),
         errno.EINVAL, "only ah and esp"),
        ("seq without dir (its meaning depends on it)", "sa_add",
         good_sa() + u64(SA_SEQ, 5), errno.EINVAL, "seq: needs dir"),
        ("seq beyond 2^32 - 1 without esn", "sa_add",
         good_sa() + u8(SA_DIR, DIR_OUT) + u64(SA_SEQ, 1 << 32), errno.EINVAL,
         "without esn"),
        ("bitmap without seq", "sa_add",
         good_sa() + u8(SA_DIR, DIR_IN) + u64(SA_BITMAP, 1), errno.EINVAL,
         "goes with seq"),
        ("bitmap on an outbound SA", "sa_add",
         good_sa() + u8(SA_DIR, DIR_OUT) + u64(SA_SEQ, 100) + u64(SA_BITMAP, 1),
         errno.EINVAL, "outbound SA has no replay window"),
        ("bitmap 0 on an outbound SA", "sa_add",
         good_sa() + u8(SA_DIR, DIR_OUT) + u64(SA_SEQ, 100) + u64(SA_BITMAP, 0),
         errno.EINVAL, "outbound SA has no replay window"),
        ("bitmap beyond a window of 32", "sa_add",
         good_sa() + u8(SA_DIR, DIR_IN) + u32(SA_REPLAY_WINDOW, 32) +
         u64(SA_SEQ, 100) + u64(SA_BITMAP, 1 << 32), errno.EINVAL,
         "beyond the replay window"),
        ("bitmap naming number 0", "sa_add",
         good_sa() + u8(SA_DIR, DIR_IN) + u64(SA_SEQ, 3) + u64(SA_BITMAP, 0xf),
         errno.EINVAL, "before number 1"),
        ("bitmap on an SA without integrity", "sa_add",
         said(spi=0x4001) + nest(SA_SRC, be32(ADDR_IP4, 0xc0000202)) +
         attr(SA_ESP, b"aes\0") + attr(SA_ENC_KEY, os.urandom(16)) +
         u8(SA_DIR, DIR_IN) + u64(SA_SEQ, 3) + u64(SA_BITMAP, 1),
         errno.EINVAL, "no replay window"),
        ("an attribute beyond the policy", "sa_add",
         good_sa() + u32(60, 1), errno.EINVAL, None),
        ("unknown algorithm", "sa_add",
         said() + attr(SA_ESP, b"rot13\0") + attr(SA_ENC_KEY, b"k" * 16),
         errno.EOPNOTSUPP, "--esp"),
        ("reserved SPI 0xff", "sa_add", good_sa(spi=0xff), errno.EINVAL,
         "reserved"),
        ("delete of a missing SA", "sa_del", said(spi=0x9999), errno.ENOENT,
         "no such SA"),
        ("eroute without selectors", "eroute_add",
         nest(EROUTE_SAID, u8(SAID_PROTO, 61), u32(SAID_SPI, 257),
              nest(SAID_DST, be32(ADDR_IP4, 0))), errno.EINVAL, "eroute"),
        ("debug area beyond the last", "debug_set", u32(1, 1 << 20),
         errno.EINVAL, "klipsdebug"),
        ("attach of a missing device", "dev_attach",
         attr(1, b"ipsec77\0") + attr(2, b"eth0\0"), errno.ENODEV, "tncfg"),
    ]
    for what, cmd, payload, want, msg in bad:
        err, ext, _ = g.do(cmd, payload)
        good = err == want and (msg is None or (ext and msg in ext))
        ok(good, "refused: " + what,
           "errno %d (%s), extack %r; wanted %d%s" %
           (err, os.strerror(err) if err else "ok", ext, want,
            " and %r" % msg if msg else ""))
    err, _, _ = g.do("sa_add", good_sa())
    ok(err == 0, "a good SA is accepted", os.strerror(err))
    err, ext, _ = g.do("sa_add", good_sa())
    ok(err == errno.EEXIST and "exists" in (ext or ""),
       "the same SAID again: EEXIST", "%d %r" % (err, ext))
    err, _, _ = g.do("sa_del", said())
    ok(err == 0, "and it deletes", os.strerror(err))
    # A window handed over from another host (seq and bitmap), with ESN
    # beyond 2^32, and its edges (bit 31 of a window of 32, the bit of
    # number 1): /proc shows them as given; the outbound counters likewise.
    top = (1 << 32) + 7
    accept = [
        (0x1235, "an inbound SA with esn, seq beyond 2^32 and bitmap",
         u8(SA_DIR, DIR_IN) + u32(SA_FLAGS, FLAGS_ESN) + u64(SA_SEQ, top) +
         u64(SA_BITMAP, 0x8000000000000005),
         " seq=%d bit=0x8000000000000005 " % top),
        (0x1236, "an outbound SA with seq 2^32 - 1",
         u8(SA_DIR, DIR_OUT) + u64(SA_SEQ, 0xffffffff), " seq=4294967295 "),
        (0x1237, "an outbound SA with esn and seq beyond 2^32",
         u8(SA_DIR, DIR_OUT) + u32(SA_FLAGS, FLAGS_ESN) + u64(SA_SEQ, top),
         " seq=%d " % top),
        (0x1238, "bit 31 of a window of 32",
         u8(SA_DIR, DIR_IN) + u32(SA_REPLAY_WINDOW, 32) + u64(SA_SEQ, 100) +
         u64(SA_BITMAP, 1 << 31), " seq=100 bit=0x80000000 "),
        (0x1239, "bits down to number 1",
         u8(SA_DIR, DIR_IN) + u64(SA_SEQ, 3) + u64(SA_BITMAP, 0x7),
         " seq=3 bit=0x7 "),
        (0x123a, "seq alone: all up to it received",
         u8(SA_DIR, DIR_IN) + u64(SA_SEQ, 70), " seq=70 bit=0xffffffffffffffff "),
    ]
    for spi, what, extra, _ in accept:
        err, ext, _ = g.do("sa_add", good_sa(spi=spi) + extra)
        ok(err == 0, "accepted: " + what, "%d %r" % (err, ext))
    with open("/proc/net/ipsec_spi") as f:
        lines = f.read().splitlines()
    for spi, what, _, want in accept:
        line = [x for x in lines if x.startswith("esp.%x@" % spi)]
        ok(line and want in line[0], "/proc shows it: " + what, repr(line))
    for spi, _, _, _ in accept:
        g.do("sa_del", said(spi=spi))


def fuzz(g, n, seed):
    rnd = random.Random(seed)
    cmds = [c for c in CMD if c not in ("sa_flush", "eroute_flush",
                                         "dev_detach", "debug_set",
                                         "dev_del")]

    def junk(depth=0):
        out = b""
        for _ in range(rnd.randint(0, 4)):
            t = rnd.randint(0, 24)
            if depth < 3 and rnd.random() < 0.3:
                out += nest(t, junk(depth + 1))
            else:
                out += attr(t, os.urandom(rnd.choice([0, 1, 2, 3, 4, 8, 15,
                                                      16, 17, 64, 65])))
        return out

    answered = 0
    for _ in range(n):
        cmd = rnd.choice(cmds)
        payload = junk()
        if rnd.random() < 0.5:
            payload = good_sa(rnd.randint(0x100, 0x1ff)) + payload
        try:
            g.do(cmd, payload)
            answered += 1
        except socket.timeout:
            break
    ok(answered == n, "fuzz: %d random requests (seed %d) each answered"
       % (n, seed), "%d answered" % answered)


def pass_eroute(i):
    """eroute 10.<i>/32 -> 198.18.<i>/32 => %pass."""
    return (nest(EROUTE_SRC, be32(ADDR_IP4, 0x0a000000 + i)) +
            u8(EROUTE_SRC_LEN, 32) +
            nest(EROUTE_DST, be32(ADDR_IP4, 0xc6120000 + i)) +
            u8(EROUTE_DST_LEN, 32) +
            nest(EROUTE_SAID, u8(SAID_PROTO, 61), u32(SAID_SPI, SHUNT_PASS),
                 nest(SAID_DST, be32(ADDR_IP4, 0))))


def dump_parts(fam, cmd, between=None):
    """A dump read one part at a time, on a socket of its own that never
    read more than 4 KiB at once (the kernel sizes the parts it builds by
    the largest read so far): parts of one page or less. Reading a part
    makes the kernel build the next, so @between, run once the first part
    is read, lands between the second and the third.
    Return: (parts read, [(part, flags) of every message])."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.settimeout(10)
    body = struct.pack("=BBH", CMD[cmd], 1, 0)
    s.send(struct.pack("=IHHII", 20, fam, NLM_F_REQUEST | NLM_F_ACK |
                       NLM_F_DUMP, 1, 0) + body)
    got, parts = [], 0
    while True:
        data, _, mflags, _ = s.recvmsg(4096)
        if mflags & socket.MSG_TRUNC:
            sys.exit("nlraw: a dump part longer than 4096 bytes")
        parts += 1
        off = 0
        while off < len(data):
            ln, typ, flags, mseq, _ = struct.unpack_from("=IHHII", data, off)
            if mseq == 1 and typ in (NLMSG_DONE, NLMSG_ERROR):
                s.close()
                return parts, got
            if mseq == 1:
                got.append((parts, flags))
            off += (ln + 3) & ~3
        if parts == 1 and between:
            between()


def intr_checks(g, what, cmd, n, change):
    """Two dumps of @n objects: the one with a change between its parts
    flags a later part NLM_F_DUMP_INTR; the one without flags nothing."""
    parts, got = dump_parts(g.fam, cmd)
    ok(parts >= 3 and len(got) == n and
       not any(f & NLM_F_DUMP_INTR for _, f in got),
       "%s dump in %d parts, nothing changed: %d objects, no "
       "NLM_F_DUMP_INTR" % (what, parts, n),
       "%d messages, flags %s" % (len(got), sorted({f for _, f in got})))
    parts, got = dump_parts(g.fam, cmd, change)
    late = [p for p, f in got if f & NLM_F_DUMP_INTR]
    ok(parts >= 3 and late and min(late) >= 2,
       "%s dump in %d parts, one added after the first: a later part has "
       "NLM_F_DUMP_INTR" % (what, parts),
       "parts with the flag: %s" % sorted(set(late)))


def dumpintr(g):
    """Dumps that resume tell a reader the table changed under them."""
    n = 400
    for i in range(n):
        err, ext, _ = g.do("eroute_add", pass_eroute(i))
        if err:
            sys.exit("nlraw: eroute %d: %s: %s" % (i, os.strerror(err), ext))
    intr_checks(g, "eroute", "eroute_get", n,
                lambda: g.do("eroute_add", pass_eroute(n)))
    g.do("eroute_flush", b"")
    # Devices: the caller raised max_devices. The namespace may have its
    # own ipsecN already.
    n = 150
    base = len(dump_parts(g.fam, "dev_get")[1])
    for i in range(n):
        err, ext, _ = g.do("dev_add", attr(DEV_NAME, b"ipsec%d\0" % (100 + i)))
        if err:
            sys.exit("nlraw: ipsec%d: %s: %s" % (100 + i, os.strerror(err),
                                                  ext))
    intr_checks(g, "device", "dev_get", base + n,
                lambda: g.do("dev_add", attr(DEV_NAME, b"ipsec99\0")))


def perm(g):
    for cmd, payload in (("sa_add", good_sa()), ("sa_del", said()),
                         ("sa_flush", b""), ("eroute_flush", b""),
                         ("dev_add", attr(1, b"ipsec9\0")),
                         ("debug_set", u32(1, 1))):
        err, _, _ = g.do(cmd, payload)
        ok(err == errno.EPERM, "without CAP_NET_ADMIN: %s refused (EPERM)"
           % cmd, "errno %d" % err)
    err, _, _ = g.do("sa_get", b"", NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
    ok(err == errno.EPERM, "without CAP_NET_ADMIN: SA dump refused",
       "errno %d" % err)


def main():
    g = Genl()
    if sys.argv[1] == "cases":
        cases(g)
    elif sys.argv[1] == "fuzz":
        fuzz(g, int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "perm":
        perm(g)
    elif sys.argv[1] == "dumpintr":
        dumpintr(g)
    elif sys.argv[1] == "add":
        err, ext, _ = g.do("sa_add", good_sa(int(sys.argv[2], 0)))
        if err:
            sys.exit("nlraw: %s: %s" % (os.strerror(err), ext))
    elif sys.argv[1] == "flush":
        for cmd in ("sa_flush", "eroute_flush"):
            err, ext, _ = g.do(cmd, b"")
            if err:
                sys.exit("nlraw: %s: %s" % (os.strerror(err), ext))
    elif sys.argv[1] == "getspi":
        err, ext, msgs = g.do("sa_getspi", said(spi=0))
        if err or not msgs:
            sys.exit("nlraw: %s: %s" % (os.strerror(err), ext))
        print("ok")
    if sys.argv[1] in ("cases", "fuzz", "perm", "dumpintr"):
        # The last line once every check ran: tests/lib.sh's helper_run
        # compares it with the lines it absorbed and with its plan.
        print("# checks: %d" % T["n"])
    sys.exit(1 if T["fail"] else 0)


if __name__ == "__main__":
    main()
