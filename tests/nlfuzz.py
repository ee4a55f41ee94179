#!/usr/bin/python3
# A stateful fuzzer of the klips generic netlink family, and a churn of SAs,
# groups and eroutes under /proc readers and dumps that the kernel resumes
# between messages; tests/nlfuzz.sh runs each mode in its own namespace of
# the guest. Requests are built with tests/nlraw.py's encoders.
#
#   nlfuzz.py fuzz SECONDS SEED [OPTION=value ...]
#       WORKERS processes (workers=N, default 1) in this namespace, each
#       with its own SPI range (base=0x1000: worker k uses base + k * 0x1000
#       .. + 0x1ff), issue random sequences of every command: SAs with
#       every algorithm of Documentation/klips/cli.md and right and wrong keys, lifetimes,
#       windows, seq/bitmap, NAT-T, getspi, groups, eroutes, shunts,
#       inbound policies, ipsecN devices, debug areas, plus requests with
#       one attribute broken, random junk, malformed genetlink headers and
#       batches. A model of what each worker created keeps most requests
#       about things that exist. With exact=1 (one worker alone in its
#       namespace) every prediction of the model is a check, and the dumps
#       must equal the model at checkpoints. A larval SA (getspi) expires
#       larval_lifetime s after its creation: near then the model holds it
#       uncertain, LARVAL_LATE s after it gone. local=<addr>,... are this
#       namespace's addresses (an SA to them is inbound); phys=<dev>,...
#       its devices an ipsecN may attach to; log=<dir> keeps each worker's
#       requests in <dir>/nlfuzz-<ns>-w<k>.log for a replay.
#   nlfuzz.py churn SECONDS SEED
#       One process adds, deletes, re-adds (the same SAID again), groups
#       and ungroups SAs and adds, replaces and deletes eroutes of a fixed
#       pool; /proc readers read ipsec_spi, ipsec_spigrp, ipsec_eroute,
#       ipsec_tncfg and ipsec/stats in 17..200-byte read()s, a dumper reads
#       sa-get, grp-get and eroute-get dumps slowly, and an events listener
#       drains the events group. The churn marks each SAID and eroute in
#       shared memory as a seqlock around every change, so a reader knows
#       which entries stood still during its read: those must be listed
#       exactly once (or not at all when absent), and nothing may be
#       listed twice unless it was deleted and added again meanwhile.
#   nlfuzz.py perm SECONDS SEED
#       Without CAP_NET_ADMIN over the namespace (run it under unshare -U,
#       in the churn's namespace): every command, every dump and joining
#       the events group must fail with EPERM, about SAs that exist.
#   nlfuzz.py warm
#       Every --esp, --ah and --comp name of Documentation/klips/cli.md with each key size
#       it takes: accepted, with Documentation/klips/proc.md's transform fields; then flush.
#       (The crypto API builds and self-tests each transform on first use.)
#   nlfuzz.py consist
#       /proc and the dumps of this namespace list the same SAs (and agree
#       on their fields), groups, eroutes and devices; no SA outlived a
#       hard add-time limit or its larval lifetime; then flush both tables.
#
# Every mode prints unnumbered TAP lines ("ok - ...", tests/lib.sh's absorb
# numbers them) and last "# nlfuzz: N checks", N the number of those lines;
# the exit status is 1 if any failed.
import errno
import ipaddress
import json
import mmap
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nlraw import (CMD, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,  # noqa: E402
                   NLMSG_DONE, NLMSG_ERROR, Genl, attr, be32, nest, u8, u32,
                   u64)

REQ = NLM_F_REQUEST | NLM_F_ACK
DUMP = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP
NLM_F_DUMP_INTR = 0x10
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 3, 2, 7
GENL_ID_CTRL = 0x10
TIMEOUT = 15.0		# every request is answered within this, or it hangs
# A larval (getspi) SA expires larval_lifetime s after its creation, counted
# in whole seconds of the kernel's clock (so up to 1 s early by a clock
# that counts fractions), by a work that may run late in a slow guest:
# LARVAL_LATE is the lateness tolerated, AHEAD how far ahead of a request
# the model counts an SA about to expire as uncertain (the time a request
# may take to reach the kernel and be done).
LARVAL_LATE = 5.0
AHEAD = 1.5

# include/uapi/linux/klips.h
ADDR_IP4, ADDR_IP6 = 1, 2
SAID_PROTO, SAID_SPI, SAID_DST = 1, 2, 3
LT_ALLOC, LT_BYTES, LT_ADD, LT_USE, LT_PACKETS = 1, 2, 3, 4, 5
POL_SRC, POL_SRC_LEN, POL_DST, POL_DST_LEN = 1, 2, 3, 4
(SA_SAID, SA_SRC, SA_TUN_DST, SA_DIR, SA_ESP, SA_AH, SA_COMP, SA_ENC_KEY,
 SA_AUTH_KEY, SA_REPLAY_WINDOW, SA_FLAGS, SA_LIFE_SOFT, SA_LIFE_HARD,
 SA_NATT_TYPE, SA_NATT_SPORT, SA_NATT_DPORT, SA_NATT_OA, SA_SPI_MIN,
 SA_SPI_MAX, SA_STATE, SA_XFORM, SA_IV_BITS, SA_SEQ, SA_BITMAP,
 SA_MAX_SEQ_DIFF, SA_OOO_ERRS, SA_ALEN, SA_AKLEN, SA_EKLEN, SA_AUTH_ERRS,
 SA_ENCR_SIZE_ERRS, SA_ENCR_PAD_ERRS, SA_LIFE_CURRENT, SA_IDLE, SA_RATIO_IN,
 SA_RATIO_OUT, SA_POLICY, SA_EXPIRE_KIND, SA_MAPPING_SRC,
 SA_MAPPING_SPORT) = range(1, 41)
GROUP_SAID = 1
(ER_SRC, ER_SRC_LEN, ER_DST, ER_DST_LEN, ER_PROTO, ER_SPORT, ER_DPORT,
 ER_SAID, ER_REPLACE, ER_PACKETS) = range(1, 11)
DEV_NAME, DEV_PHYSICAL, DEV_MTU, DEV_EFF_MTU, DEV_PHYS_MTU = 1, 2, 3, 4, 5
DEBUG_SET, DEBUG_CLEAR, DEBUG_MASK = 1, 2, 3
DIR_AUTO, DIR_IN, DIR_OUT = 0, 1, 2
STATE_LARVAL, STATE_MATURE, STATE_DYING, STATE_DEAD = 0, 1, 2, 3
FLAG_POLICY, FLAG_ESN = 0x8, 0x100
NTF_CMDS = {19: "sa-add-ntf", 20: "sa-del-ntf", 21: "expire-ntf",
            22: "acquire-ntf", 23: "mapping-ntf"}
DBG_RADIJ, DBG_MAX = 5, 11	# radij: an area that prints nothing

AH, ESP, COMP, TUN, INT = 51, 50, 108, 4, 61
RANK = {TUN: 0, COMP: 1, ESP: 2, AH: 3}
PROTO_NAME = {AH: "ah", ESP: "esp", COMP: "comp", TUN: "tun", INT: "int"}
PROTO_NUM = {v: k for k, v in PROTO_NAME.items()}
SHUNT_NAME = {256: "%pass", 257: "%drop", 258: "%reject", 259: "%hold",
              260: "%trap", 261: "%trapsubnet"}
Z4, Z6 = bytes(4), bytes(16)
SHUNT_SAID = {n: (INT, s, 4, Z4) for s, n in SHUNT_NAME.items()}
SHUNT_SAID["%passthrough4"] = (TUN, 0, 4, Z4)
SHUNT_SAID["%passthrough6"] = (TUN, 0, 6, Z6)
PORT_PROTOS = (6, 17, 33, 132, 136)
ANSWERS = {0, errno.EINVAL, errno.ERANGE, errno.EOPNOTSUPP, errno.ENOENT,
           errno.EEXIST, errno.E2BIG, errno.ENODEV, errno.ENOSPC}

# --esp names (Documentation/klips/cli.md): name -> (encryption key bytes allowed, salt
# included; authentication key bytes or None without integrity).
AES = (16, 24, 32)
INTEG = {"md5-96": 16, "sha1-96": 20, "sha2_256-128": 32,
         "sha2_384-192": 48, "sha2_512-256": 64}
AH_ALGS = {"hmac-md5-96": 16, "hmac-sha1-96": 20, "hmac-sha2_256-128": 32,
           "hmac-sha2_384-192": 48, "hmac-sha2_512-256": 64,
           "aes-xcbc-96": 16, "aes-cmac-96": 16}
CIPHERS = {"3des": (24,), "aes": AES, "aesctr": tuple(k + 4 for k in AES),
           "null": (0,)}
for _b, _k in (("128", 16), ("192", 24), ("256", 32)):
    CIPHERS["aes" + _b] = (_k,)
    CIPHERS["aes%sctr" % _b] = (_k + 4,)
AEADS = {"chacha20poly1305": (36,)}
for _icv in ("8", "12", "16"):
    AEADS["aes-gcm-" + _icv] = tuple(k + 4 for k in AES)
    AEADS["aes-ccm-" + _icv] = tuple(k + 3 for k in AES)
    for _b, _k in (("128", 16), ("192", 24), ("256", 32)):
        AEADS["aes%sgcm%s" % (_b, _icv)] = (_k + 4,)
        AEADS["aes%sccm%s" % (_b, _icv)] = (_k + 3,)
AEADS["null-aes-gmac"] = tuple(k + 4 for k in AES)
# The ciphers that may stand alone (no integrity): the CBC ones.
ALONE = ("3des", "aes", "aes128", "aes192", "aes256")


class Hang(Exception):
    pass


class Tap:
    def __init__(self):
        self.n = 0
        self.fail = 0

    def ok(self, cond, what, details=()):
        self.n += 1
        if not cond:
            self.fail += 1
        print("%sok - %s" % ("" if cond else "not ", what))
        if not cond:
            for d in list(details)[:12]:
                print("#   " + str(d))
        sys.stdout.flush()

    def note(self, text):
        print("# " + text)
        sys.stdout.flush()

    def end(self):
        # The last line once every check ran (tests/lib.sh helper_result).
        print("# checks: %d" % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.fail else 0)


# --- netlink ---------------------------------------------------------------

def nla_list(b):
    """A message's or nest's attributes as (type, payload), strictly."""
    out, off, n = [], 0, len(b)
    while off < n:
        if off + 4 > n:
            raise ValueError("%d stray bytes after the attributes" % (n - off))
        ln, t = struct.unpack_from("=HH", b, off)
        if ln < 4 or off + ln > n:
            raise ValueError("attribute %d of length %d at %d of %d"
                             % (t & 0x3fff, ln, off, n))
        out.append((t & 0x3fff, bytes(b[off + 4:off + ln])))
        off += (ln + 3) & ~3
    return out


def nla_dict(b):
    return dict(nla_list(b))


def get_u(d, t, default=None):
    v = d.get(t)
    if v is None:
        return default
    fmt = {1: "=B", 2: "=H", 4: "=I", 8: "=Q"}.get(len(v))
    if fmt is None:
        raise ValueError("attribute %d: %d bytes for an integer" % (t, len(v)))
    return struct.unpack(fmt, v)[0]


def ename(err):
    return "EOPNOTSUPP" if err == errno.EOPNOTSUPP else errno.errorcode.get(
        err, str(err)) if err else "ok"


class Nl(Genl):
    """nlraw's Genl, with every answer bounded in time, the flags of the
    messages kept (NLM_F_DUMP_INTR) and dumps readable in small steps.
    The kernel sizes a dump's datagrams by the largest read the socket has
    seen: recv caps every read of this socket, from the family lookup on."""

    def __init__(self, recv=65536):
        self.recv = recv
        self.buf = bytearray(65536)
        super().__init__()

    def acks(self, seq):
        err, ext, msgs, _ = self.answer(seq)
        return err, ext, [b"\0" * 20 + m for m in msgs]

    def message(self, cmd, payload, flags, version=1):
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, 0) + payload
        return self.seq, struct.pack("=IHHII", 16 + len(body), self.fam,
                                     flags, self.seq, 0) + body

    def answer(self, seq, recv=None, pause=None):
        """(errno, extack, [attribute payloads], flags of all messages)"""
        return self.answers([seq], recv, pause)[0]

    def answers(self, seqs, recv=None, pause=None):
        """answer() of each request of a batch. Their messages may come
        interleaved: a dump's NLMSG_DONE comes with a later recv(), after
        the acks of the requests behind it in the batch. Each answer is
        due within TIMEOUT of the one before."""
        recv = min(recv or self.recv, self.recv)
        deadline = time.monotonic() + TIMEOUT
        got = {seq: [[], 0, None] for seq in seqs}	# msgs, flags, end
        left_seqs = set(seqs)
        while left_seqs:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Hang("no answer to request %d in %d s" % (
                    min(left_seqs), TIMEOUT))
            self.s.settimeout(left)
            try:
                n = self.s.recv_into(self.buf, recv, socket.MSG_TRUNC)
            except socket.timeout:
                raise Hang("no answer to request %d in %d s" % (
                    min(left_seqs), TIMEOUT))
            if n > recv:
                raise ValueError("a %d-byte datagram for a %d-byte read"
                                 % (n, recv))
            data = bytes(self.buf[:n])
            off = 0
            while off + 16 <= n:
                ln, typ, mfl, mseq, _ = struct.unpack_from("=IHHII", data, off)
                if ln < 16 or off + ln > n:
                    raise ValueError("message length %d at %d of %d"
                                     % (ln, off, n))
                if mseq in left_seqs:
                    g = got[mseq]
                    g[1] |= mfl
                    end = None
                    if typ == NLMSG_ERROR:
                        err = -struct.unpack_from("=i", data, off + 16)[0]
                        end = (err, self._extack(data[off:off + ln], err))
                    elif typ == NLMSG_DONE:
                        err = 0
                        if ln >= 20:
                            err = -struct.unpack_from("=i", data, off + 16)[0]
                        end = (err, None)
                    else:
                        g[0].append(data[off + 20:off + ln])
                    if end:
                        g[2] = end
                        left_seqs.discard(mseq)
                        deadline = time.monotonic() + TIMEOUT
                off += (ln + 3) & ~3
            if pause and left_seqs:
                time.sleep(pause())
        return [(got[q][2][0], got[q][2][1], got[q][0], got[q][1])
                for q in seqs]

    def ask(self, cmd, payload=b"", flags=REQ, recv=None, pause=None):
        seq, msg = self.message(CMD[cmd] if isinstance(cmd, str) else cmd,
                                payload, flags)
        self.s.send(msg)
        return self.answer(seq, recv, pause)

    def events_group(self):
        seq, msg = self.message(CTRL_CMD_GETFAMILY,
                                attr(CTRL_ATTR_FAMILY_NAME, b"klips\0"), REQ)
        msg = msg[:4] + struct.pack("=H", GENL_ID_CTRL) + msg[6:]
        self.s.send(msg)
        err, _, msgs, _ = self.answer(seq)
        if err or not msgs:
            raise ValueError("getfamily: %s" % os.strerror(err or 2))
        for g in nla_list(nla_dict(msgs[0]).get(CTRL_ATTR_MCAST_GROUPS, b"")):
            d = nla_dict(g[1])
            if d.get(1, b"").rstrip(b"\0") == b"events":
                return get_u(d, 2)
        raise ValueError("no events group")


# --- SAIDs, addresses, keys ------------------------------------------------

def ip(text):
    return ipaddress.ip_address(text).packed


def addr_nest(t, a):
    return nest(t, be32(ADDR_IP4, struct.unpack(">I", a)[0]) if len(a) == 4
                else attr(ADDR_IP6, a))


def said_nest(t, s):
    proto, spi, _, dst = s
    return nest(t, u8(SAID_PROTO, proto), u32(SAID_SPI, spi),
                addr_nest(SAID_DST, dst))


def addr_of(b):
    d = nla_dict(b)
    if (ADDR_IP4 in d) == (ADDR_IP6 in d):
        raise ValueError("an address with ip4 and ip6 both or neither")
    if ADDR_IP4 in d:
        if len(d[ADDR_IP4]) != 4:
            raise ValueError("ip4 of %d bytes" % len(d[ADDR_IP4]))
        return 4, d[ADDR_IP4]
    if len(d[ADDR_IP6]) != 16:
        raise ValueError("ip6 of %d bytes" % len(d[ADDR_IP6]))
    return 6, d[ADDR_IP6]


def said_of(b):
    d = nla_dict(b)
    fam, dst = addr_of(d[SAID_DST])
    return get_u(d, SAID_PROTO), get_u(d, SAID_SPI), fam, dst


def famof(a):
    return 4 if len(a) == 4 else 6


def ip_text(a):
    return str(ipaddress.ip_address(bytes(a)))


def said_text(s):
    proto, spi, fam, dst = s
    if not any(dst):
        if proto == INT and fam == 4 and spi in SHUNT_NAME:
            return SHUNT_NAME[spi]
        if proto == TUN and spi == 0:
            return "%%passthrough%d" % fam
    return "%s%s%x@%s" % (PROTO_NAME.get(proto, "unk%d" % proto),
                          "." if fam == 4 else ":", spi, ip_text(dst))


SAID_RE = re.compile(r"(ah|esp|comp|tun|int)([.:])(0|[1-9a-f][0-9a-f]*)@"
                     r"([0-9a-f.:]+)$")


def said_parse(text):
    """SAID text as /proc prints it (Documentation/klips/proc.md), or None."""
    if text in SHUNT_SAID:
        return SHUNT_SAID[text]
    m = SAID_RE.match(text)
    if not m:
        return None
    try:
        a = ipaddress.ip_address(m.group(4))
    except ValueError:
        return None
    if (m.group(2) == ".") != (a.version == 4):
        return None
    # RFC 5952 text; Python before 3.13 prints IPv4-mapped in hex.
    if str(a) != m.group(4) and not (a.version == 6 and a.ipv4_mapped):
        return None
    return PROTO_NUM[m.group(1)], int(m.group(3), 16), a.version, a.packed


def life_nest(t, lt):
    out = b""
    for k, v in sorted(lt.items()):
        out += u32(k, v) if k == LT_ALLOC else u64(k, v)
    return nest(t, out)


def mask(a, n):
    bits = len(a) * 8
    v = int.from_bytes(a, "big") & (((1 << n) - 1) << (bits - n) if n else 0)
    return v.to_bytes(len(a), "big")


# --- the model of one worker's namespace -----------------------------------

class SA:
    """due: of a larval SA, (earliest, latest) monotonic time its expiry is
    due (the work deletes it at that time, or somewhat later); None when
    not known (a larval SA then stays uncertain)."""
    __slots__ = ("dir", "larval", "inner", "outer", "due", "vol")

    def __init__(self, d, larval=False, vol=False, due=None):
        self.dir, self.larval, self.vol = d, larval, vol
        self.inner = self.outer = None
        self.due = due


class Model:
    def __init__(self):
        self.sas = {}		# SAID -> SA
        self.eroutes = {}	# key -> target SAID
        self.devs = {}		# name -> physical or None
        self.uncertain = set()	# SAIDs that may come or go by themselves
        self.dev_uncertain = False

    def group(self, s):
        """The SAIDs of s's group, inner to outer (as far as the model
        has them)."""
        while self.sas[s].inner in self.sas:
            s = self.sas[s].inner
        out = [s]
        while self.sas[s].outer in self.sas:
            s = self.sas[s].outer
            out.append(s)
        return out

    def delete_group(self, s):
        for m in self.group(s):
            del self.sas[m]
            self.uncertain.discard(m)

    def forget(self, s):
        """s is gone (it expired, or the kernel reused its SAID): out of
        the model; the rest of its group, if it had one, is uncertain."""
        if s not in self.sas:
            return
        for m in self.group(s):
            self.sas[m].inner = self.sas[m].outer = None
            if m != s:
                self.uncertain.add(m)
        del self.sas[s]
        self.uncertain.discard(s)

    def groups(self):
        out = set()
        for s, sa in self.sas.items():
            if sa.inner is None and sa.outer is not None:
                out.add(tuple(self.group(s)))
        return out


def larval_lifetime():
    try:
        with open("/sys/module/klips/parameters/larval_lifetime") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 30


def dump_state(nl, strict=True):
    """The namespace's SAs, groups, eroutes and devices from the dumps:
    ({SAID: attrs}, [groups], {key: (target, packets)}, {dev: attrs},
    problems) where problems lists what did not parse or repeated."""
    problems = []
    sas, groups, eroutes, devs = {}, [], {}, {}
    for cmd in ("sa_get", "grp_get", "eroute_get", "dev_get"):
        err, ext, msgs, fl = nl.ask(cmd, b"", DUMP)
        if err:
            problems.append("%s dump: %s %s" % (cmd, ename(err), ext))
            continue
        seen = set()
        for m in msgs:
            try:
                d = nla_dict(m)
                if cmd == "sa_get":
                    k = said_of(d[SA_SAID])
                    sas[k] = d
                elif cmd == "grp_get":
                    k = tuple(said_of(v) for t, v in nla_list(m)
                              if t == GROUP_SAID)
                    groups.append(k)
                elif cmd == "eroute_get":
                    k = eroute_key_of(d)
                    eroutes[k] = (said_of(d[ER_SAID]), get_u(d, ER_PACKETS))
                else:
                    k = d[DEV_NAME].rstrip(b"\0").decode()
                    devs[k] = d
            except (KeyError, ValueError, UnicodeDecodeError) as e:
                problems.append("%s dump: a message does not parse: %s %r"
                                % (cmd, e, m[:64]))
                continue
            if k in seen and not fl & NLM_F_DUMP_INTR:
                problems.append("%s dump: %r twice without NLM_F_DUMP_INTR"
                                % (cmd, k))
            seen.add(k)
    return sas, groups, eroutes, devs, problems


def eroute_key_of(d):
    sf, src = addr_of(d[ER_SRC])
    df, dst = addr_of(d[ER_DST])
    if sf != df:
        raise ValueError("an eroute with --src and --dst of two families")
    return (sf, src, get_u(d, ER_SRC_LEN), dst, get_u(d, ER_DST_LEN),
            get_u(d, ER_PROTO, 0), socket.ntohs(get_u(d, ER_SPORT, 0)),
            socket.ntohs(get_u(d, ER_DPORT, 0)))


def eroute_attrs(key):
    fam, src, slen, dst, dlen, proto, sport, dport = key
    out = [(ER_SRC, addr_nest(ER_SRC, src)), (ER_SRC_LEN, u8(ER_SRC_LEN, slen)),
           (ER_DST, addr_nest(ER_DST, dst)), (ER_DST_LEN, u8(ER_DST_LEN, dlen))]
    if proto:
        out.append((ER_PROTO, u8(ER_PROTO, proto)))
    if sport:
        out.append((ER_SPORT, attr(ER_SPORT, struct.pack(">H", sport))))
    if dport:
        out.append((ER_DPORT, attr(ER_DPORT, struct.pack(">H", dport))))
    return out


def eroute_text(key):
    fam, src, slen, dst, dlen, proto, sport, dport = key
    return "%s/%d:%d -> %s/%d:%d proto %d" % (ip_text(src), slen, sport,
                                             ip_text(dst), dlen, dport, proto)


# --- the fuzzer --------------------------------------------------------------

E = errno
EINVAL = {E.EINVAL}
POLICY = {E.EINVAL, E.ERANGE}	# what the attribute policy may answer


class Req:
    """One request: what to send, what the model expects (None: unknown),
    and what changes in the model if it succeeds; saids: the SAs whose
    presence the expectation relies on (if one of them turns uncertain
    before the answer, by larval expiry, the outcome is not predicted)."""
    __slots__ = ("cmd", "payload", "flags", "expect", "effect", "what",
                 "check", "raw", "mutating", "saids")

    def __init__(self, cmd, payload, what, expect=None, effect=None,
                 flags=REQ, check=None, raw=None, saids=()):
        self.cmd, self.payload, self.what = cmd, payload, what
        self.expect, self.effect, self.flags = expect, effect, flags
        self.check, self.raw, self.saids = check, raw, saids
        self.mutating = cmd not in ("sa_get", "grp_get", "eroute_get",
                                    "dev_get")


class Fuzzer:
    def __init__(self, wid, seed, seconds, opts):
        self.wid = wid
        self.rnd = random.Random(seed)
        self.deadline = time.monotonic() + seconds
        self.exact = opts.get("exact") == "1"
        self.ns = opts.get("ns", "?")
        self.name = "fuzz %s/w%d" % (self.ns, wid)
        base = int(opts.get("base", "0x1000"), 0) + wid * 0x1000
        self.spis = (base, base + 0x1ff)
        self.local = [ip(a) for a in opts.get("local", "").split(",") if a]
        self.phys = [p for p in opts.get("phys", "").split(",") if p]
        self.m = Model()
        self.nl = Nl()
        self.log = None
        if opts.get("log"):
            # Line by line: what was sent must be there after a panic.
            self.log = open(os.path.join(opts["log"], "nlfuzz-%s-w%d.log" % (
                self.ns, wid)), "w", buffering=1)
        self.stats = {}
        self.requests = self.answered = 0
        self.hangs, self.odd_errno, self.bad_reply = [], [], []
        self.predicted, self.mismatch = 0, []
        self.checkpoints, self.cp_fail = 0, []
        self.dump_dups = []
        self.recent = []
        self.slow, self.busy = [], 0.0
        self.lifetime = larval_lifetime()
        self.old_larval, self.larval_oldest = [], None
        self.resyncs = 0
        # Larval SAs the model saw go: past their lifetime (and then
        # predicted absent), or found gone while uncertain at a checkpoint.
        self.expired = {"past": 0, "checkpoint": 0}
        # False while a batch's answers are handled after a resync: the
        # model then is the state after the whole batch, not the one each
        # request of the batch met.
        self.model_now = True
        self.t_sent = self.t_done = time.monotonic()
        r = self.rnd
        self.remote4 = [ip("192.0.2.2"), ip("192.0.2.3"), ip("198.51.100.7")]
        self.remote6 = [ip("2001:db8:1::2"), ip("2001:db8:2::9")]
        self.edge = [ip("0.0.0.0"), ip("255.255.255.255"), ip("192.0.2.255"),
                     ip("::"), ip("::ffff:192.0.2.1"), ip("fe80::1"),
                     ip("ff02::1")]
        self.ops = [("sa_add", 26, self.op_sa_add), ("sa_del", 7, self.op_sa_del),
                    ("sa_get", 6, self.op_sa_get), ("getspi", 5, self.op_getspi),
                    ("grp_add", 10, self.op_grp_add),
                    ("eroute_add", 12, self.op_eroute_add),
                    ("eroute_del", 5, self.op_eroute_del),
                    ("policy_set", 4, self.op_policy_set),
                    ("dev", 6, self.op_dev), ("dump", 4, self.op_dump),
                    ("flush", 0.6, self.op_flush), ("debug", 0.8, self.op_debug),
                    ("mutate", 8, self.op_mutate), ("junk", 5, self.op_junk),
                    ("genl", 2, self.op_genl), ("batch", 2, self.op_batch),
                    ("physical", 0.4, self.op_physical)]
        self.total_w = sum(w for _, w, _ in self.ops)
        self.r = r

    # -- helpers --
    def pick_op(self):
        x = self.rnd.random() * self.total_w
        for name, w, fn in self.ops:
            x -= w
            if x < 0:
                return name, fn
        return self.ops[0][0], self.ops[0][2]

    def local_dir(self, dst):
        return DIR_IN if dst in self.local else DIR_OUT

    def fresh_spi(self, proto):
        lo, hi = self.spis
        if proto == COMP and self.rnd.random() < 0.05:
            return 2
        return self.rnd.randint(lo, hi)

    def pick_dst(self, fam, allow_edge=True):
        r = self.rnd
        if allow_edge and r.random() < 0.06:
            return r.choice(self.edge)
        loc = [a for a in self.local if len(a) == (4 if fam == 4 else 16)]
        if loc and r.random() < 0.45:
            return r.choice(loc)
        return r.choice(self.remote4 if fam == 4 else self.remote6)

    def known(self, cond=None):
        c = [s for s, sa in self.m.sas.items()
             if s not in self.m.uncertain and (cond is None or cond(s, sa))]
        return self.rnd.choice(c) if c else None

    def missing_said(self):
        for _ in range(20):
            proto = self.rnd.choice((ESP, AH, COMP, TUN))
            dst = self.pick_dst(self.rnd.choice((4, 6)), False)
            s = (proto, self.fresh_spi(proto), 4 if len(dst) == 4 else 6, dst)
            if s not in self.m.sas and s not in self.m.uncertain:
                return s
        return None

    def uncertain_touch(self, *saids):
        return any(s in self.m.uncertain for s in saids if s)

    # -- sa-add --
    def gen_sa(self, said=None):
        """A valid SA (a dict) and its attributes, or a SAID given."""
        r = self.rnd
        c = {}
        if said is None:
            proto = r.choice((ESP,) * 5 + (AH,) * 2 + (COMP,) + (TUN,) * 3)
            dst = self.pick_dst(4 if r.random() < 0.7 else 6)
            said = (proto, self.fresh_spi(proto), famof(dst), dst)
        proto, spi, fam, dst = said
        c["said"] = said
        edge = dst in self.edge
        if edge or r.random() < 0.4:
            c["dir"] = r.choice((DIR_IN, DIR_OUT))
        c["sdir"] = c.get("dir") or self.local_dir(dst)
        sfam = fam if r.random() < 0.9 else 10 - fam
        if proto == TUN or r.random() < 0.8:
            c["src"] = self.pick_dst(sfam, False)
        if proto == TUN:
            tfam = 4 if len(c["src"]) == 4 else 6
            c["tun_dst"] = self.pick_dst(tfam, False)
        integ = False
        if proto == ESP:
            x = r.random()
            if x < 0.45:
                name = r.choice(sorted(AEADS))
                c["esp"], c["ek"] = name, r.choice(AEADS[name])
                integ = True
            elif x < 0.9:
                cn = r.choice(sorted(CIPHERS))
                ig = r.choice(sorted(INTEG))
                c["esp"] = "%s-%s" % (cn, ig)
                c["ek"], c["ak"] = r.choice(CIPHERS[cn]), INTEG[ig]
                integ = True
            else:
                cn = r.choice(ALONE)
                c["esp"], c["ek"] = cn, r.choice(CIPHERS[cn])
        elif proto == AH:
            name = r.choice(sorted(AH_ALGS))
            c["ah"], c["ak"] = name, AH_ALGS[name]
            integ = True
        elif proto == COMP:
            c["comp"] = "deflate"
        c["integ"] = integ
        ipsec = proto in (ESP, AH)
        if ipsec and integ and r.random() < 0.35:
            c["window"] = r.choice((0, 1, 32, 63, 64, 65, 100, 1024, 4095, 4096))
        elif r.random() < 0.05:
            c["window"] = 0
        if ipsec and r.random() < 0.25:
            c["esn"] = True
        if ipsec and "dir" in c and r.random() < 0.25:
            top = (1 << 64) - 1 if c.get("esn") else 0xffffffff
            c["seq"] = r.choice((0, 1, 2, 63, 64, 65, 1000, top,
                                 r.randint(0, top)))
            window = c.get("window", 64) if integ else 0
            if c["dir"] == DIR_IN and window and r.random() < 0.6:
                width = min(window, c["seq"], 64)
                if width:
                    c["bitmap"] = r.getrandbits(width) | (
                        1 << (width - 1) if r.random() < 0.5 else 0)
                else:
                    c["bitmap"] = 0
        if r.random() < 0.25:
            hard, soft = {}, {}
            for k in (LT_ALLOC, LT_BYTES, LT_ADD, LT_USE, LT_PACKETS):
                top = 0xffffffff if k == LT_ALLOC else (1 << 64) - 1
                if r.random() < 0.4:
                    hard[k] = r.choice((1, 2, 100, 86400, top, r.randint(2, top)))
                if r.random() < 0.4:
                    lim = hard.get(k)
                    soft[k] = r.randint(0, lim - 1) if lim else r.choice(
                        (0, 1, 50, top))
            if r.random() < 0.25:
                hard[LT_ADD] = r.randint(2, 8)	# gone within seconds
                soft.pop(LT_ADD, None)
            c["hard"], c["soft"] = hard, soft
        if proto == ESP and r.random() < 0.12:
            c["natt"] = (r.randint(1, 65535), r.choice((500, 4500, 65535)))
            if r.random() < 0.5:
                c["natt_oa"] = self.pick_dst(r.choice((4, 6)), False)
        return c

    def sa_attrs(self, c):
        a = [(SA_SAID, said_nest(SA_SAID, c["said"]))]
        if "src" in c:
            a.append((SA_SRC, addr_nest(SA_SRC, c["src"])))
        if "tun_dst" in c:
            a.append((SA_TUN_DST, addr_nest(SA_TUN_DST, c["tun_dst"])))
        if "dir" in c:
            a.append((SA_DIR, u8(SA_DIR, c["dir"])))
        for k, t in (("esp", SA_ESP), ("ah", SA_AH), ("comp", SA_COMP)):
            if k in c:
                a.append((t, attr(t, c[k].encode() + b"\0")))
        if c.get("ek"):
            a.append((SA_ENC_KEY, attr(SA_ENC_KEY, os.urandom(c["ek"]))))
        if c.get("ak"):
            a.append((SA_AUTH_KEY, attr(SA_AUTH_KEY, os.urandom(c["ak"]))))
        if "window" in c:
            a.append((SA_REPLAY_WINDOW, u32(SA_REPLAY_WINDOW, c["window"])))
        if c.get("esn") or "flags" in c:
            a.append((SA_FLAGS, u32(SA_FLAGS, c.get("flags", FLAG_ESN))))
        if "soft" in c and c["soft"]:
            a.append((SA_LIFE_SOFT, life_nest(SA_LIFE_SOFT, c["soft"])))
        if "hard" in c and c["hard"]:
            a.append((SA_LIFE_HARD, life_nest(SA_LIFE_HARD, c["hard"])))
        if "natt" in c:
            a.append((SA_NATT_TYPE, u8(SA_NATT_TYPE, c.get("natt_type", 1))))
            if c["natt"][0]:
                a.append((SA_NATT_SPORT, attr(SA_NATT_SPORT,
                                              struct.pack(">H", c["natt"][0]))))
            if c["natt"][1]:
                a.append((SA_NATT_DPORT, attr(SA_NATT_DPORT,
                                              struct.pack(">H", c["natt"][1]))))
        if "natt_oa" in c:
            a.append((SA_NATT_OA, addr_nest(SA_NATT_OA, c["natt_oa"])))
        if "seq" in c:
            a.append((SA_SEQ, u64(SA_SEQ, c["seq"])))
        if "bitmap" in c:
            a.append((SA_BITMAP, u64(SA_BITMAP, c["bitmap"])))
        return a

    def sa_fault(self, c, a):
        """Break one thing of a valid SA: (what, errnos), attrs changed."""
        r = self.rnd
        proto = c["said"][0]
        said = c["said"]

        def drop(t):
            a[:] = [x for x in a if x[0] != t]

        def put(t, payload):
            drop(t)
            a.append((t, payload))

        faults = ["nosaid", "said_nodst", "said_both", "spi_u8", "ip6_15",
                  "reply_only", "beyond", "bad_spi", "bad_proto", "dir3",
                  "flags", "nonul", "longname", "key65", "unknown_alg",
                  "wrong_alg_attr", "two_algs"]
        if proto in (ESP, AH):
            faults += ["bad_key", "bad_key", "seq_nodir", "bitmap_noseq",
                       "window4097"]
            if "dir" in c:
                faults += ["seq_big", "bitmap_out"]
        if proto == ESP:
            faults += ["aead_authkey", "alone", "natt_noport", "natt_type2",
                       "no_alg"]
            if not c["integ"]:
                faults += ["window_nointeg"]
        if proto == AH:
            faults += ["ah_enckey"]
        if proto == COMP:
            faults += ["comp_key", "window_nointeg", "esn_nonipsec",
                       "seq_nonipsec"]
        if proto == TUN:
            faults += ["tun_nodst", "tun_alg", "tun_family", "window_nointeg",
                       "esn_nonipsec", "seq_nonipsec"]
        if c.get("hard"):
            faults += ["life"]
        f = r.choice(faults)
        sd = said_nest(SA_SAID, said)
        if f == "nosaid":
            drop(SA_SAID)
            return f, EINVAL
        if f == "said_nodst":
            put(SA_SAID, nest(SA_SAID, u8(SAID_PROTO, proto), u32(SAID_SPI, said[1])))
            return f, EINVAL
        if f == "said_both":
            put(SA_SAID, nest(SA_SAID, u8(SAID_PROTO, proto), u32(SAID_SPI, said[1]),
                              nest(SAID_DST, be32(ADDR_IP4, 1),
                                   attr(ADDR_IP6, bytes(16)))))
            return f, EINVAL
        if f == "spi_u8":
            put(SA_SAID, nest(SA_SAID, u8(SAID_PROTO, proto), u8(SAID_SPI, 1),
                              addr_nest(SAID_DST, said[3])))
            return f, EINVAL
        if f == "ip6_15":
            put(SA_SAID, nest(SA_SAID, u8(SAID_PROTO, proto), u32(SAID_SPI, said[1]),
                              nest(SAID_DST, attr(ADDR_IP6, bytes(15)))))
            return f, {E.ERANGE}
        if f == "reply_only":
            t = r.choice((SA_STATE, SA_XFORM, SA_IV_BITS))
            a.append((t, u8(t, 1) if t == SA_STATE else
                      attr(t, b"ESP\0") if t == SA_XFORM else u32(t, 64)))
            return f, EINVAL
        if f == "beyond":
            t = r.choice((25, 30, 33, 37, 40, 41, 60, 0x3fff))
            a.append((t, u32(t, 1)))
            return f, EINVAL
        if f == "bad_spi":
            spi = r.choice((0, 1, 0xff) if proto != COMP else
                           (0, 1, 3, 0xff, 0x10000, 0xffffffff))
            put(SA_SAID, said_nest(SA_SAID, (proto, spi, said[2], said[3])))
            return f, EINVAL
        if f == "bad_proto":
            p = r.choice((0, 6, 17, 41, 61, 255))
            put(SA_SAID, said_nest(SA_SAID, (p, said[1], said[2], said[3])))
            return f, EINVAL
        if f == "dir3":
            put(SA_DIR, u8(SA_DIR, r.choice((3, 4, 255))))
            return f, {E.ERANGE}
        if f == "flags":
            put(SA_FLAGS, u32(SA_FLAGS, r.choice((FLAG_POLICY, 1, 0x200, 0xffffffff))))
            return f, EINVAL
        if f == "nonul" or f == "longname" or f == "unknown_alg" or f == "no_alg":
            t = {ESP: SA_ESP, AH: SA_AH, COMP: SA_COMP}.get(proto)
            if t is None or f == "no_alg" and proto != ESP:
                t = SA_ESP
                if f == "unknown_alg":
                    put(t, attr(t, b"aes-gcm-16\0"))
                    return f, EINVAL	# --esp on a tun SA
            if f == "nonul":
                put(t, attr(t, b"deflate"))
                return f, EINVAL
            if f == "longname":
                put(t, attr(t, b"a" * r.choice((64, 65, 200)) + b"\0"))
                return f, POLICY
            if f == "no_alg":
                drop(SA_ESP)
                return f, EINVAL
            name = r.choice((b"rot13", b"AES-GCM-16", b"aes-gcm-16 ",
                             b"hmac-sha1-96x", b"", b"aes-", b"-sha1-96",
                             b"aes512", b"aes128gcm7", b"aes-sha1",
                             b"3des-hmac-sha1-96", b"des", b"aes-xcbc-96"))
            if proto == AH and name == b"aes-xcbc-96":
                name = b"aes-gcm-16"
            put(t, attr(t, name + b"\0"))
            return f, {E.EOPNOTSUPP}
        if f == "key65":
            put(SA_ENC_KEY, attr(SA_ENC_KEY, b"k" * r.choice((65, 100, 1000))))
            return f, {E.ERANGE}
        if f == "wrong_alg_attr":
            other = {ESP: (SA_AH, b"hmac-sha1-96\0"), AH: (SA_ESP, b"aes-gcm-16\0"),
                     COMP: (SA_ESP, b"aes-gcm-16\0"), TUN: (SA_COMP, b"deflate\0")}
            t, v = other[proto]
            drop(SA_ESP)
            drop(SA_AH)
            drop(SA_COMP)
            a.append((t, attr(t, v)))
            return f, EINVAL
        if f == "two_algs":
            a.append((SA_COMP, attr(SA_COMP, b"deflate\0")) if proto != COMP
                     else (SA_AH, attr(SA_AH, b"hmac-sha1-96\0")))
            return f, EINVAL
        if f == "bad_key":
            t = SA_ENC_KEY if proto == ESP and c.get("ek") else SA_AUTH_KEY
            if proto == ESP and c.get("ak") and r.random() < 0.4:
                t = SA_AUTH_KEY
            n = c["ek"] if t == SA_ENC_KEY else c["ak"]
            if proto == ESP and t == SA_AUTH_KEY and not c.get("ak"):
                t, n = SA_ENC_KEY, c.get("ek", 0)
            m = r.choice([x for x in (0, n - 1, n + 1, n - 4, n + 4, n + 8, 1)
                          if 0 <= x <= 64 and x != n] or [n + 1])
            # An AES key size that a salted or unsalted cipher also takes.
            if proto == ESP and t == SA_ENC_KEY:
                name = c["esp"]
                cn = name.split("-")[0] if name not in AEADS else name
                ok_sizes = AEADS.get(name) or CIPHERS.get(cn) or ()
                if m in ok_sizes:
                    m = max(ok_sizes) + 1
            if m == 0:
                drop(t)
            else:
                put(t, attr(t, os.urandom(m)))
            return f, EINVAL
        if f == "seq_nodir":
            drop(SA_DIR)
            drop(SA_BITMAP)
            put(SA_SEQ, u64(SA_SEQ, 5))
            return f, EINVAL
        if f == "bitmap_noseq":
            drop(SA_SEQ)
            put(SA_BITMAP, u64(SA_BITMAP, 1))
            return f, EINVAL
        if f == "window4097":
            put(SA_REPLAY_WINDOW, u32(SA_REPLAY_WINDOW, r.choice(
                (4097, 8192, 0xffffffff))))
            return f, EINVAL
        if f == "seq_big":
            drop(SA_FLAGS)
            drop(SA_BITMAP)
            put(SA_SEQ, u64(SA_SEQ, r.choice((1 << 32, (1 << 64) - 1))))
            return f, EINVAL
        if f == "bitmap_out":
            put(SA_DIR, u8(SA_DIR, DIR_OUT))
            put(SA_SEQ, u64(SA_SEQ, 100))
            put(SA_BITMAP, u64(SA_BITMAP, r.choice((0, 1))))
            return f, EINVAL
        if f == "aead_authkey":
            drop(SA_ESP)
            drop(SA_ENC_KEY)
            a.append((SA_ESP, attr(SA_ESP, b"aes-gcm-16\0")))
            a.append((SA_ENC_KEY, attr(SA_ENC_KEY, os.urandom(20))))
            put(SA_AUTH_KEY, attr(SA_AUTH_KEY, os.urandom(20)))
            return f, EINVAL
        if f == "alone":
            drop(SA_ESP)
            drop(SA_ENC_KEY)
            drop(SA_AUTH_KEY)
            drop(SA_REPLAY_WINDOW)
            drop(SA_BITMAP)
            name, k = r.choice((("aesctr", 20), ("null", 0), ("aes128ctr", 20)))
            a.append((SA_ESP, attr(SA_ESP, name.encode() + b"\0")))
            if k:
                a.append((SA_ENC_KEY, attr(SA_ENC_KEY, os.urandom(k))))
            return f, EINVAL
        if f == "natt_noport":
            put(SA_NATT_TYPE, u8(SA_NATT_TYPE, 1))
            drop(SA_NATT_SPORT)
            return f, EINVAL
        if f == "natt_type2":
            put(SA_NATT_TYPE, u8(SA_NATT_TYPE, r.choice((2, 255))))
            return f, {E.ERANGE}
        if f == "window_nointeg":
            put(SA_REPLAY_WINDOW, u32(SA_REPLAY_WINDOW, r.choice((1, 32, 64))))
            return f, EINVAL
        if f == "ah_enckey":
            put(SA_ENC_KEY, attr(SA_ENC_KEY, os.urandom(16)))
            return f, EINVAL
        if f == "comp_key":
            t = r.choice((SA_ENC_KEY, SA_AUTH_KEY))
            put(t, attr(t, os.urandom(16)))
            return f, EINVAL
        if f == "esn_nonipsec":
            put(SA_FLAGS, u32(SA_FLAGS, FLAG_ESN))
            return f, EINVAL
        if f == "seq_nonipsec":
            put(SA_DIR, u8(SA_DIR, DIR_OUT))
            put(SA_SEQ, u64(SA_SEQ, 1))
            return f, EINVAL
        if f == "tun_nodst":
            drop(SA_TUN_DST)
            return f, EINVAL
        if f == "tun_alg":
            a.append((SA_ENC_KEY, attr(SA_ENC_KEY, os.urandom(16))))
            return f, EINVAL
        if f == "tun_family":
            fam = 4 if len(c["src"]) == 16 else 6
            put(SA_TUN_DST, addr_nest(SA_TUN_DST, self.pick_dst(fam, False)))
            return f, EINVAL
        if f == "life":
            k = r.choice(sorted(c["hard"]))
            soft = dict(c.get("soft") or {})
            soft[k] = c["hard"][k] + r.choice((0, 0, 1))
            if soft[k] > (0xffffffff if k == LT_ALLOC else (1 << 64) - 1):
                soft[k] = c["hard"][k]
            put(SA_LIFE_SOFT, life_nest(SA_LIFE_SOFT, soft))
            return f, EINVAL
        raise AssertionError(f)

    def op_sa_add(self):
        r = self.rnd
        said = None
        x = r.random()
        if x < 0.08:
            said = self.known()			# exists: EEXIST
        elif x < 0.16:
            # Fill in, a larval SA about to expire too: filled in or added
            # anew, the outcome is the same.
            larval = sorted(s for s, sa in self.m.sas.items() if sa.larval)
            said = r.choice(larval) if larval else None
        c = self.gen_sa(said)
        a = self.sa_attrs(c)
        said = c["said"]
        if r.random() < 0.3:
            what, expect = self.sa_fault(c, a)
            effect = None
        else:
            what = "valid"
            old = self.m.sas.get(said)
            if old is not None and old.larval:
                expect = {0}	# fills it in, or adds anew if it expired
            elif said in self.m.uncertain:
                expect = None
            elif old is not None:
                expect = {E.EEXIST}
            else:
                expect = {0}
            vol = 0 < c.get("hard", {}).get(LT_ADD, 0) < 1000

            def effect(c=c, said=said, vol=vol):
                sa = SA(c["sdir"], vol=vol)
                self.m.sas[said] = sa
                if vol:
                    self.m.uncertain.add(said)
                else:
                    self.m.uncertain.discard(said)
        if r.random() < 0.3:
            r.shuffle(a)
        return Req("sa_add", b"".join(p for _, p in a),
                   "sa-add %s %s" % (said_text(said), what), expect, effect)

    # -- sa-del, sa-get --
    def op_sa_del(self):
        s = self.known() if self.rnd.random() < 0.8 else self.missing_said()
        if s is None:
            return None
        exists = s in self.m.sas

        def effect(s=s):
            if s in self.m.sas:
                self.m.delete_group(s)
        return Req("sa_del", said_nest(SA_SAID, s), "sa-del " + said_text(s),
                   {0} if exists else {E.ENOENT}, effect, saids=(s,))

    def op_sa_get(self):
        s = self.known() if self.rnd.random() < 0.8 else self.missing_said()
        if s is None:
            return None
        exists = s in self.m.sas

        def check(msgs, s=s):
            if len(msgs) != 1:
                return "sa-get %s: %d replies" % (said_text(s), len(msgs))
            d = nla_dict(msgs[0])
            got = said_of(d[SA_SAID])
            if got != s:
                return "sa-get %s answered %s" % (said_text(s), said_text(got))
            for t in (SA_ENC_KEY, SA_AUTH_KEY):
                if t in d:
                    return "sa-get %s: a key attribute in the reply" % said_text(s)
            # The model as it is now, when the answer is handled: in a
            # batch, the requests before this one changed it. Another
            # worker of the namespace may have changed the SA since: the
            # model is only the truth for a worker alone, and not for an
            # SA that may have expired, nor after a resync in a batch.
            sa = self.m.sas.get(s)
            if not self.exact or not self.model_now or sa is None or \
                    s in self.m.uncertain:
                return None
            if get_u(d, SA_DIR) != sa.dir:
                return "sa-get %s: dir %s, the model says %d" % (
                    said_text(s), get_u(d, SA_DIR), sa.dir)
            if (get_u(d, SA_STATE) == STATE_LARVAL) != sa.larval:
                return "sa-get %s: state %s, larval %s in the model" % (
                    said_text(s), get_u(d, SA_STATE), sa.larval)
            return None
        return Req("sa_get", said_nest(SA_SAID, s), "sa-get " + said_text(s),
                   {0} if exists else {E.ENOENT}, check=check, saids=(s,))

    # -- getspi --
    def op_getspi(self):
        r = self.rnd
        proto = r.choice((ESP, ESP, AH, COMP, TUN))
        fam = r.choice((4, 4, 6))
        dst = self.pick_dst(fam, False)
        lo, hi = self.spis
        x = r.random()
        a = [said_nest(SA_SAID, (proto, 0, fam, dst))]
        if x < 0.2:
            rng = None
            top = 0xffff if proto == COMP else 0xffffffff
            rlo, rhi = 0x100, top
        elif x < 0.7:
            rlo = r.randint(lo, hi)
            rhi = min(hi, rlo + r.choice((0, 0, 1, 3, 15)))
            rng = (rlo, rhi)
        else:
            rng = r.choice(((0xff, 0x200), (0x300, 0x2ff), (0, 0),
                            (0x100, 0x10000), (5, 0xffffffff)))
            rlo, rhi = rng
        if rng:
            a.append(u32(SA_SPI_MIN, rng[0]))
            a.append(u32(SA_SPI_MAX, rng[1]))
        top = 0xffff if proto == COMP else 0xffffffff
        if proto not in (ESP, AH, COMP) or rlo < 0x100 or rhi > top or rlo > rhi:
            expect = EINVAL
        elif rng is None:
            expect = {0}
        else:
            full = all((proto, s, fam, dst) in self.m.sas
                       for s in range(rlo, rhi + 1))
            unc = any((proto, s, fam, dst) in self.m.uncertain
                      for s in range(rlo, rhi + 1))
            expect = None if unc else {E.ENOSPC} if full else {0}
        got = []

        def check(msgs):
            if len(msgs) != 1:
                return "getspi: %d replies" % len(msgs)
            s = said_of(nla_dict(msgs[0])[SA_SAID])
            if s[0] != proto or s[2] != fam or s[3] != dst or not (
                    rlo <= s[1] <= rhi):
                return "getspi %d %s in %#x-%#x gave %s" % (
                    proto, ip_text(dst), rlo, rhi, said_text(s))
            if self.exact and self.model_now and s in self.m.sas and \
                    s not in self.m.uncertain:
                return "getspi gave %s, which exists" % said_text(s)
            got.append(s)
            return None

        def effect():
            if got:
                s = got[0]
                # An SA of that SAID the model had must have gone by itself.
                self.m.forget(s)
                # Created between the send and the answer; expires at the
                # kernel's whole second after, the lifetime later.
                self.m.sas[s] = SA(self.local_dir(dst), larval=True, due=(
                    self.t_sent + self.lifetime - 1.2,
                    self.t_done + self.lifetime))
        saids = ()
        if rng and rhi - rlo < 64:
            saids = tuple((proto, x, fam, dst) for x in range(rlo, rhi + 1))
        return Req("sa_getspi", b"".join(a), "getspi %s %s %s" % (
            PROTO_NAME.get(proto), ip_text(dst),
            "%#x-%#x" % rng if rng else "any"), expect, effect, check=check,
            saids=saids)

    # -- groups --
    def op_grp_add(self):
        r = self.rnd
        m = self.m
        x = r.random()
        free = [s for s, sa in m.sas.items() if s not in m.uncertain and
                not sa.larval and sa.inner is None and sa.outer is None]
        saids = []
        if x < 0.55 and free:
            d = r.choice((DIR_IN, DIR_OUT))
            by_rank = {}
            for s in free:
                if m.sas[s].dir == d:
                    by_rank.setdefault(RANK[s[0]], []).append(s)
            ranks = sorted(by_rank)
            if len(ranks) >= 2:
                pick = sorted(r.sample(ranks, r.randint(2, len(ranks))))
                saids = [r.choice(by_rank[k]) for k in pick]
        if not saids:
            pool = list(m.sas)
            if not pool:
                return None
            y = r.random()
            if y < 0.25:
                saids = [r.choice(pool)]			# ungroup
            elif y < 0.4:
                saids = [r.choice(pool) for _ in range(5)]	# E2BIG
            elif y < 0.5:
                saids = []
            elif y < 0.6:
                ms = self.missing_said()
                saids = [r.choice(pool), ms] if ms else [r.choice(pool)]
            else:
                saids = [r.choice(pool) for _ in range(r.randint(2, 4))]
                if y < 0.8:
                    saids.sort(key=lambda s: -RANK[s[0]])
        payload = b"".join(said_nest(GROUP_SAID, s) for s in saids)
        expect = self.predict_group(saids)

        def effect(saids=saids):
            if len(saids) == 1:
                for s in m.group(saids[0]):
                    m.sas[s].inner = m.sas[s].outer = None
                return
            vol = any(m.sas[s].vol for s in saids)
            for i, s in enumerate(saids):
                m.sas[s].inner = saids[i - 1] if i else None
                m.sas[s].outer = saids[i + 1] if i + 1 < len(saids) else None
                if vol:
                    m.sas[s].vol = True
                    m.uncertain.add(s)
        return Req("grp_add", payload, "grp-add " + " ".join(
            said_text(s) for s in saids), expect, effect, saids=tuple(saids))

    def predict_group(self, saids):
        m = self.m
        if self.uncertain_touch(*saids):
            return None
        for i, s in enumerate(saids):
            if i == 4:
                return {E.E2BIG}
            if s not in m.sas:
                return {E.ENOENT}
        if not saids:
            return EINVAL
        if len(saids) == 1:
            return {0}
        for i, s in enumerate(saids):
            sa = m.sas[s]
            if sa.inner or sa.outer:
                return {E.EEXIST}
            if sa.larval:
                return EINVAL
            if i and RANK[s[0]] <= RANK[saids[i - 1][0]]:
                return EINVAL
            if i and sa.dir != m.sas[saids[0]].dir:
                return EINVAL
        return {0}

    # -- eroutes --
    def gen_key(self):
        r = self.rnd
        if self.m.eroutes and r.random() < 0.3:
            return r.choice(sorted(self.m.eroutes))
        fam = 4 if r.random() < 0.7 else 6
        n = 4 if fam == 4 else 16
        bits = n * 8

        def prefix():
            ln = r.choice((0, 8, 16, 24, bits, bits, r.randint(0, bits)))
            if fam == 4:
                a = r.choice((ip("10.1.0.0"), ip("10.2.3.4"), ip("192.0.2.77"),
                              os.urandom(4)))
            else:
                a = r.choice((ip("2001:db8:10::"), ip("2001:db8:20::5"),
                              os.urandom(16)))
            return mask(a, ln), ln
        src, slen = prefix()
        dst, dlen = prefix()
        proto = sport = dport = 0
        x = r.random()
        if x < 0.3:
            proto = r.choice(PORT_PROTOS)
            if r.random() < 0.7:
                sport = r.choice((0, 500, 4500, 65535, r.randint(1, 65535)))
                dport = r.choice((0, 53, 1701, r.randint(1, 65535)))
        elif x < 0.4:
            proto = r.choice((1, 47, 58, 255))
        return (fam, src, slen, dst, dlen, proto, sport, dport)

    def key_fault(self, key, a):
        r = self.rnd
        fam, src, slen, dst, dlen, proto, sport, dport = key
        bits = 32 if fam == 4 else 128
        f = r.choice(("no_len", "family", "long_prefix", "host_bits",
                      "ports_noproto", "ports_icmp", "no_src"))
        a = [x for x in a]
        if f == "no_len":
            gone = r.choice((ER_SRC_LEN, ER_DST_LEN))
            a = [x for x in a if x[0] != gone]
        elif f == "no_src":
            gone = r.choice((ER_SRC, ER_DST))
            a = [x for x in a if x[0] != gone]
        elif f == "family":
            other = ip("2001:db8::1") if fam == 4 else ip("192.0.2.1")
            a = [x for x in a if x[0] != ER_DST] + [
                (ER_DST, addr_nest(ER_DST, other))]
        elif f == "long_prefix":
            a = [x for x in a if x[0] != ER_SRC_LEN] + [
                (ER_SRC_LEN, u8(ER_SRC_LEN, r.choice((bits + 1, 255))))]
        elif f == "host_bits":
            if dlen == bits:
                dlen = bits - 8
            a = [x for x in a if x[0] not in (ER_DST, ER_DST_LEN)] + [
                (ER_DST, addr_nest(ER_DST, b"\x0a" + b"\xff" * (
                    len(dst) - 1))), (ER_DST_LEN, u8(ER_DST_LEN, dlen))]
        elif f == "ports_noproto":
            a = [x for x in a if x[0] not in (ER_PROTO, ER_SPORT, ER_DPORT)] + [
                (ER_DPORT, attr(ER_DPORT, struct.pack(">H", 80)))]
        else:
            a = [x for x in a if x[0] not in (ER_PROTO, ER_SPORT, ER_DPORT)] + [
                (ER_PROTO, u8(ER_PROTO, 1)),
                (ER_SPORT, attr(ER_SPORT, struct.pack(">H", 7)))]
        return f, a

    def pick_target(self):
        """(SAID, expected errnos of the target alone, what)"""
        r = self.rnd
        x = r.random()
        if x < 0.35:
            return (INT, r.randint(256, 261), 4, Z4), None, "shunt"
        if x < 0.45:
            fam = r.choice((4, 6))
            return (TUN, 0, fam, Z4 if fam == 4 else Z6), None, "passthrough"
        if x < 0.5:
            return (INT, r.choice((0, 255, 262, 0xffffffff)), 4, Z4), EINVAL, \
                "no such shunt"
        if x < 0.55:
            fam = r.choice((4, 6))
            return (INT, r.randint(256, 261), fam, self.pick_dst(fam, False)), \
                None, "shunt with an address"
        s = self.known() if x < 0.93 else self.missing_said()
        if s is None:
            return (INT, 257, 4, Z4), None, "shunt"
        return s, None if s in self.m.sas else {E.ENOENT}, "SA"

    def op_eroute_add(self):
        r = self.rnd
        key = self.gen_key()
        a = eroute_attrs(key)
        target, texp, twhat = self.pick_target()
        replace = r.random() < 0.3
        a.append((ER_SAID, said_nest(ER_SAID, target)))
        if replace:
            a.append((ER_REPLACE, attr(ER_REPLACE, b"")))
        what = "eroute-add %s => %s%s" % (eroute_text(key), said_text(target),
                                          " replace" if replace else "")
        effect = None
        is_sa = target[0] != INT and not (target[0] == TUN and not target[1])
        if is_sa and target in self.m.uncertain:
            expect = None
        elif texp is not None:
            expect = texp
        elif r.random() < 0.2:
            f, a = self.key_fault(key, a)
            what += " " + f
            expect = EINVAL
        else:
            expect = {E.EEXIST} if key in self.m.eroutes and not replace else {0}
        if expect == {0}:
            def effect(key=key, target=target):
                self.m.eroutes[key] = target
        if r.random() < 0.3:
            r.shuffle(a)
        return Req("eroute_add", b"".join(p for _, p in a), what, expect, effect,
                   saids=(target,) if is_sa else ())

    def op_eroute_del(self):
        r = self.rnd
        key = self.gen_key()
        a = eroute_attrs(key)
        if r.random() < 0.15:
            f, a = self.key_fault(key, a)
            return Req("eroute_del", b"".join(p for _, p in a),
                       "eroute-del %s %s" % (eroute_text(key), f), EINVAL)
        if r.random() < 0.1:
            a.append((ER_SAID, said_nest(ER_SAID, (INT, 257, 4, Z4))))

        def effect(key=key):
            self.m.eroutes.pop(key, None)
        return Req("eroute_del", b"".join(p for _, p in a),
                   "eroute-del " + eroute_text(key),
                   {0} if key in self.m.eroutes else {E.ENOENT}, effect)

    def op_policy_set(self):
        r = self.rnd
        m = self.m
        s = self.known(lambda s, sa: s[0] == TUN) if r.random() < 0.6 else None
        s = s or self.known() or self.missing_said()
        if s is None:
            return None
        key = self.gen_key()
        fam = key[0]
        key = key[:5] + (0, 0, 0)
        a = eroute_attrs(key) + [(ER_SAID, said_nest(ER_SAID, s))]
        what = "policy-set %s %s" % (said_text(s), eroute_text(key))
        if r.random() < 0.15:
            f, a = self.key_fault(key, a)
            return Req("policy_set", b"".join(p for _, p in a), what + " " + f,
                       EINVAL)
        if r.random() < 0.1:
            a.append((ER_PROTO, u8(ER_PROTO, 6)))
            return Req("policy_set", b"".join(p for _, p in a), what + " proto",
                       EINVAL)
        del fam
        if self.uncertain_touch(s):
            expect = None
        elif s not in m.sas:
            expect = {E.ENOENT}
        else:
            inner = m.group(s)[0]
            ok = inner[0] == TUN and m.sas[inner].dir == DIR_IN
            expect = {0} if ok else EINVAL
        return Req("policy_set", b"".join(p for _, p in a), what, expect,
                   saids=tuple(m.group(s)) if s in m.sas else (s,))

    # -- devices --
    def op_dev(self):
        r = self.rnd
        m = self.m
        x = r.random()
        names = ["ipsec%d" % i for i in range(8)]
        certain = not m.dev_uncertain
        if x < 0.3:
            y = r.random()
            if y < 0.75:
                name = r.choice(names)
                expect = {E.EEXIST} if name in m.devs else {0}
            elif y < 0.8:
                name = r.choice(self.phys or ["lo"])
                expect = {E.EEXIST}
            elif y < 0.83:
                name = "ipsec%d"
                expect = None
                m.dev_uncertain = True
            else:
                name = r.choice(("", "a/b", "x:y", "sp ace", ".", "..",
                                 "0123456789abcdef", "0123456789abcde"))
                expect = POLICY if len(name) > 15 else (
                    {0} if name == "0123456789abcde" and name not in m.devs
                    else {E.EEXIST} if name in m.devs else EINVAL)
                if name == "0123456789abcde":
                    names.append(name)

            def effect(name=name):
                if "%" not in name:
                    m.devs[name] = None
            return Req("dev_add", attr(DEV_NAME, name.encode() + b"\0"),
                       "dev-add " + name, expect if certain else None, effect)
        if x < 0.45:
            y = r.random()
            if y < 0.7 and m.devs:
                name = r.choice(sorted(m.devs))
                expect = {0}
            elif y < 0.9:
                name = r.choice(names + self.phys + ["lo"])
                expect = {0} if name in m.devs else {E.ENODEV}
            else:
                return Req("dev_del", b"", "dev-del without a name",
                           EINVAL if certain else None)

            def effect(name=name):
                m.devs.pop(name, None)
            return Req("dev_del", attr(DEV_NAME, name.encode() + b"\0"),
                       "dev-del " + name, expect if certain else None, effect)
        if x < 0.7:
            name = r.choice(sorted(m.devs)) if m.devs and r.random() < 0.8 \
                else r.choice(names)
            y = r.random()
            if y < 0.7 and self.phys:
                phys = r.choice(self.phys)
                pexp = None
            elif y < 0.8:
                phys, pexp = "lo", EINVAL
            elif y < 0.9:
                phys = r.choice(names)
                pexp = EINVAL if phys in m.devs else {E.ENODEV}
            else:
                phys, pexp = "nosuch0", {E.ENODEV}
            a = attr(DEV_NAME, name.encode() + b"\0")
            if r.random() < 0.05:
                return Req("dev_attach", a, "dev-attach %s without physical" %
                           name, EINVAL)
            a += attr(DEV_PHYSICAL, phys.encode() + b"\0")
            if name not in m.devs:
                expect = {E.ENODEV}
            else:
                expect = pexp or {0}

            def effect(name=name, phys=phys):
                m.devs[name] = phys
            return Req("dev_attach", a, "dev-attach %s %s" % (name, phys),
                       expect if certain else None, effect)
        if x < 0.85:
            if r.random() < 0.2:
                def effect():
                    for k in m.devs:
                        m.devs[k] = None
                return Req("dev_detach", b"", "dev-detach all", {0}, effect)
            name = r.choice(sorted(m.devs)) if m.devs and r.random() < 0.8 \
                else r.choice(names + ["lo"])

            def effect(name=name):
                if name in m.devs:
                    m.devs[name] = None
            return Req("dev_detach", attr(DEV_NAME, name.encode() + b"\0"),
                       "dev-detach " + name,
                       ({0} if name in m.devs else {E.ENODEV}) if certain
                       else None, effect)
        return Req("dev_get", b"", "dev-get dump", {0}, flags=DUMP,
                   check=self.check_dump("dev_get"))

    def op_physical(self):
        """Take a physical device away under its ipsecN, and bring it back."""
        if not self.phys or len(self.phys) < 2:
            return None
        p = self.phys[-1]
        subprocess.run(["ip", "link", "del", p], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "add", p, "type", "dummy"],
                       stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "set", p, "up"], stderr=subprocess.DEVNULL)
        for k, v in self.m.devs.items():
            if v == p:
                self.m.devs[k] = None
        self.count("physical", 0)
        return None

    # -- dumps, flushes, debug --
    def check_dump(self, cmd):
        def check(msgs, fl=0):
            seen = set()
            for msg in msgs:
                d = nla_dict(msg)
                if cmd == "sa_get":
                    k = said_of(d[SA_SAID])
                    for t in (SA_ENC_KEY, SA_AUTH_KEY):
                        if t in d:
                            return "a key attribute in the SA dump"
                elif cmd == "grp_get":
                    k = tuple(said_of(v) for t, v in nla_list(msg)
                              if t == GROUP_SAID)
                    if len(k) < 2:
                        return "a group of %d SAs" % len(k)
                elif cmd == "eroute_get":
                    k = eroute_key_of(d)
                    said_of(d[ER_SAID])
                else:
                    k = d[DEV_NAME]
                if k in seen and not fl & NLM_F_DUMP_INTR:
                    self.dump_dups.append("%s dump lists %r twice" % (cmd, k))
                seen.add(k)
            return None
        return check

    def op_dump(self):
        cmd = self.rnd.choice(("sa_get", "grp_get", "eroute_get", "dev_get"))
        return Req(cmd, b"", cmd.replace("_", "-") + " dump", {0}, flags=DUMP,
                   check=self.check_dump(cmd))

    def op_flush(self):
        if self.rnd.random() < 0.5:
            def effect():
                self.m.sas.clear()
                self.m.uncertain.clear()
            return Req("sa_flush", b"", "sa-flush", {0}, effect)

        def effect():
            self.m.eroutes.clear()
        return Req("eroute_flush", b"", "eroute-flush", {0}, effect)

    def op_debug(self):
        r = self.rnd
        x = r.random()
        if x < 0.4:
            # Module-wide: on and off again at once, an area that is silent.
            return [Req("debug_set", u32(DEBUG_SET, 1 << DBG_RADIJ),
                        "debug-set radij", {0}),
                    Req("debug_set", u32(DEBUG_CLEAR, 1 << DBG_RADIJ),
                        "debug-clear radij", {0})]
        if x < 0.6:
            return Req("debug_set", b"", "debug-set nothing", {0})
        bad = r.choice((1 << DBG_MAX, 1 << 31, 0xffffffff, 0xfffff800))
        t = r.choice((DEBUG_SET, DEBUG_CLEAR))
        return Req("debug_set", u32(t, bad), "debug-set %#x" % bad, EINVAL)

    # -- broken requests --
    def op_mutate(self):
        """A request the model would build, with one attribute broken."""
        r = self.rnd
        for _ in range(5):
            base = r.choice((self.op_sa_add, self.op_sa_add, self.op_eroute_add,
                             self.op_grp_add, self.op_getspi, self.op_sa_del,
                             self.op_policy_set, self.op_sa_get))()
            if base is not None:
                break
        else:
            return None
        p = bytearray(base.payload)
        offs = []
        off = 0
        while off + 4 <= len(p):
            ln = struct.unpack_from("=H", p, off)[0]
            if ln < 4:
                break
            offs.append(off)
            off += (ln + 3) & ~3
        how = r.choice(("type", "nested_flag", "truncate", "grow", "len_huge",
                        "len_short", "dup", "junk_inside", "tail"))
        if offs:
            o = r.choice(offs)
            ln, t = struct.unpack_from("=HH", p, o)
            if how == "type":
                struct.pack_into("=H", p, o + 2, (t & 0xc000) | r.randint(0, 63))
            elif how == "nested_flag":
                struct.pack_into("=H", p, o + 2, t ^ 0x8000)
            elif how == "truncate" and ln > 4:
                n = r.randint(4, ln - 1)
                chunk = p[o:o + n]
                struct.pack_into("=H", chunk, 0, n)
                p = p[:o] + chunk + b"\0" * ((4 - n % 4) % 4) + \
                    p[o + ((ln + 3) & ~3):]
            elif how == "grow":
                extra = os.urandom(r.choice((1, 4, 8, 60)))
                chunk = p[o:o + ln] + extra
                struct.pack_into("=H", chunk, 0, len(chunk))
                p = p[:o] + chunk + b"\0" * ((4 - len(chunk) % 4) % 4) + \
                    p[o + ((ln + 3) & ~3):]
            elif how == "len_huge":
                struct.pack_into("=H", p, o, r.choice((0xffff, len(p) + 4, 4096)))
            elif how == "len_short":
                struct.pack_into("=H", p, o, r.choice((0, 1, 2, 3)))
            elif how == "dup":
                p = p + p[o:o + ((ln + 3) & ~3)]
            elif how == "junk_inside" and t & 0x8000 and ln > 8:
                p[o + 4:o + 8] = os.urandom(4)
            else:
                p += os.urandom(r.randint(1, 3))
        else:
            p += os.urandom(r.randint(1, 7))
        return Req(base.cmd, bytes(p), base.what + " [" + how + "]", None,
                   flags=base.flags)

    def junk(self, depth=0):
        r = self.rnd
        out = b""
        for _ in range(r.randint(0, 5)):
            t = r.choice((r.randint(0, 45), r.randint(0, 0x3fff)))
            if depth < 3 and r.random() < 0.3:
                out += nest(t, self.junk(depth + 1))
            else:
                out += attr(t, os.urandom(r.choice((0, 1, 2, 3, 4, 8, 15, 16,
                                                    17, 63, 64, 65, 300))))
        return out

    def op_junk(self):
        r = self.rnd
        cmd = r.choice([c for c in range(31) if c != CMD["debug_set"]])
        flags = REQ if r.random() < 0.8 else DUMP
        payload = self.junk()
        if r.random() < 0.4:
            payload = said_nest(r.choice((1, 8)), self.known() or (
                ESP, 0x1234, 4, ip("192.0.2.2"))) + payload
        return Req(cmd, payload, "junk cmd %d flags %#x" % (cmd, flags), None,
                   flags=flags)

    def op_genl(self):
        """Malformed at the genetlink level: each must still be answered."""
        r = self.rnd
        x = r.random()
        if x < 0.25:
            # A genetlink header cut short.
            n = r.choice((0, 1, 2, 3))
            return Req("sa_get", b"", "a %d-byte genetlink header" % n, EINVAL,
                       raw=("short", n))
        if x < 0.5:
            cmd = r.choice((0, 19, 20, 21, 22, 23, 24, 99, 255))
            return Req(cmd, b"", "command %d" % cmd, {E.EOPNOTSUPP})
        if x < 0.7:
            cmd = r.choice(("sa_add", "sa_del", "sa_flush", "debug_set",
                            "eroute_add", "dev_add"))
            return Req(cmd, b"", "%s as a dump" % cmd, {E.EOPNOTSUPP}, flags=DUMP)
        if x < 0.85:
            cmd = r.choice(("grp_get", "eroute_get", "dev_get"))
            return Req(cmd, b"", "%s as a do" % cmd, {E.EOPNOTSUPP})
        return Req("sa_get", b"", "sa-get with no SAID", EINVAL)

    def op_batch(self):
        """Two to four requests in one datagram, each acked in order."""
        reqs = []
        for _ in range(self.rnd.randint(2, 4)):
            q = self.rnd.choice((self.op_sa_add, self.op_sa_get, self.op_sa_del,
                                 self.op_eroute_add, self.op_grp_add,
                                 self.op_junk))()
            if q is not None:
                q.raw = ("batch",)
                if reqs:
                    q.expect = None	# the model would need the first's answer
                reqs.append(q)
        return reqs

    # -- running --
    def count(self, what, err):
        k = "%s %s" % (what, ename(err))
        self.stats[k] = self.stats.get(k, 0) + 1

    def send(self, reqs):
        """Send one request, or a batch in one datagram; answer each."""
        nl = self.nl
        seqs, data = [], b""
        for q in reqs:
            cmd = CMD[q.cmd] if isinstance(q.cmd, str) else q.cmd
            if q.raw and q.raw[0] == "short":
                nl.seq += 1
                body = struct.pack("=BBH", cmd, 1, 0)[:q.raw[1]]
                msg = struct.pack("=IHHII", 16 + len(body), nl.fam, q.flags,
                                  nl.seq, 0) + body
                seq = nl.seq
            else:
                seq, msg = nl.message(cmd, q.payload, q.flags)
            seqs.append(seq)
            data += msg
            if self.log:
                self.log.write("%d %s %s %s\n" % (seq, q.cmd, q.flags,
                                                  q.payload.hex()))
        self.t_sent = time.monotonic()
        nl.s.send(data)
        out = nl.answers(seqs)
        self.t_done = time.monotonic()
        return out

    def run_one(self, reqs):
        if reqs is None:
            return
        if isinstance(reqs, Req):
            reqs = [reqs]
        reqs = [q for q in reqs if q is not None]
        if not reqs:
            return
        batch = len(reqs) > 1 and reqs[0].raw == ("batch",)
        groups = [reqs] if batch else [[q] for q in reqs]
        for grp in groups:
            self.requests += len(grp)
            t0 = time.monotonic()
            try:
                answers = self.send(grp)
            except Hang as e:
                self.hangs.append("%s: %s (recent: %s)" % (
                    " + ".join(q.what for q in grp), e, "; ".join(
                        self.recent[-5:])))
                self.nl.s.close()
                self.nl = Nl()
                self.resync()
                return
            except (ValueError, OSError) as e:
                self.bad_reply.append("%s: %s" % (" + ".join(
                    q.what for q in grp), e))
                self.nl.s.close()
                self.nl = Nl()
                self.resync()
                return
            dt = time.monotonic() - t0
            self.slow.append((dt, " + ".join(q.what for q in grp)))
            self.slow.sort(reverse=True)
            del self.slow[3:]
            self.busy += dt
            # The kernel did these by now: a larval SA that may have
            # expired meanwhile is uncertain, whatever was predicted.
            self.age(0)
            resyncs = self.resyncs
            for q, (err, ext, msgs, fl) in zip(grp, answers):
                self.model_now = self.resyncs == resyncs
                self.answered += 1
                self.recent.append("%s -> %s" % (q.what, ename(err)))
                del self.recent[:-30]
                name = q.cmd if isinstance(q.cmd, str) else "cmd%d" % q.cmd
                self.count(name, err)
                if err not in ANSWERS:
                    self.odd_errno.append("%s: %s (%s)" % (
                        q.what, ename(err), ext))
                expect = q.expect
                if expect is not None and (not self.model_now or
                                           self.uncertain_touch(*q.saids)):
                    expect = None
                if expect is not None and self.exact:
                    self.predicted += 1
                    if err not in expect:
                        self.mismatch.append("%s: %s %s, the model expected %s" % (
                            q.what, ename(err),
                            ext or "", "/".join(sorted(
                                ename(x) for x in expect))))
                        self.resync()
                        continue
                if err == 0 and q.check:
                    try:
                        why = q.check(msgs, fl) if q.flags == DUMP else q.check(msgs)
                    except (KeyError, ValueError) as e:
                        why = "%s: the reply does not parse: %s" % (q.what, e)
                    if why:
                        self.bad_reply.append(why)
                if err == 0 and q.mutating and (expect is None or
                                                0 not in expect):
                    self.resync()	# it did something the model cannot know
                elif err == 0 and q.effect:
                    q.effect()
            self.model_now = True

    def larval_ages(self, sas, where):
        """Every larval SA of a dump within its lifetime (and the lateness
        tolerated): the kernel's own account, whatever the model says."""
        for s, d in sas.items():
            if get_u(d, SA_STATE) != STATE_LARVAL:
                continue
            cur = get_u(nla_dict(d.get(SA_LIFE_CURRENT, b"")), LT_ADD, 0)
            if self.larval_oldest is None or cur > self.larval_oldest:
                self.larval_oldest = cur
            if cur > self.lifetime + LARVAL_LATE:
                self.old_larval.append("%s: %s larval, added %d s ago" % (
                    where, said_text(s), cur))

    def resync(self):
        """Take the model from the kernel's dumps."""
        self.resyncs += 1
        t0 = time.monotonic()
        try:
            sas, groups, eroutes, devs, problems = dump_state(self.nl)
        except (Hang, ValueError, OSError) as e:
            self.hangs.append("resync: %s" % e)
            return
        t1 = time.monotonic()
        self.dump_dups.extend(problems)
        self.larval_ages(sas, "resync")
        m = self.m
        m.sas = {}
        m.uncertain = set()
        for s, d in sas.items():
            larval = get_u(d, SA_STATE) == STATE_LARVAL
            hard = nla_dict(d.get(SA_LIFE_HARD, b""))
            vol = 0 < get_u(hard, LT_ADD, 0) < 1000
            sa = SA(get_u(d, SA_DIR), larval=larval, vol=vol)
            if larval:
                # Listed cur whole seconds of the kernel's clock after its
                # creation, at a time between t0 and t1: its expiry is due
                # lifetime - cur seconds of that clock later.
                cur = get_u(nla_dict(d.get(SA_LIFE_CURRENT, b"")), LT_ADD, 0)
                sa.due = (t0 + self.lifetime - cur - 1.2,
                          t1 + self.lifetime - cur)
            m.sas[s] = sa
            if vol:
                m.uncertain.add(s)
        for g in groups:
            if not all(s in m.sas for s in g):
                # The SAs changed between the two dumps (another worker):
                # a group to learn again.
                m.uncertain.update(s for s in g if s in m.sas)
                continue
            for i, s in enumerate(g):
                m.sas[s].inner = g[i - 1] if i else None
                m.sas[s].outer = g[i + 1] if i + 1 < len(g) else None
            if any(s in m.uncertain for s in g):
                m.uncertain.update(g)
        m.eroutes = {k: v[0] for k, v in eroutes.items()}
        m.devs = {}
        for name, d in devs.items():
            p = d.get(DEV_PHYSICAL)
            m.devs[name] = p.rstrip(b"\0").decode() if p else None
        m.dev_uncertain = False
        self.age()

    def checkpoint(self):
        """The dumps equal the model (exact mode)."""
        self.age()	# what may expire while the dumps run
        try:
            sas, groups, eroutes, devs, problems = dump_state(self.nl)
        except (Hang, ValueError, OSError) as e:
            self.hangs.append("checkpoint: %s" % e)
            return
        self.checkpoints += 1
        self.larval_ages(sas, "checkpoint %d" % self.checkpoints)
        m = self.m
        diff = list(problems)
        unc = m.uncertain
        for s in set(sas) - set(m.sas):
            if s not in unc:
                d = sas[s]
                diff.append("the kernel has %s (state %s, added %s s ago), the "
                            "model not" % (said_text(s), get_u(d, SA_STATE),
                                           get_u(nla_dict(d.get(
                                               SA_LIFE_CURRENT, b"")), LT_ADD)))
        for s in set(m.sas) - set(sas):
            if s not in unc:
                diff.append("the model has %s, the kernel not" % said_text(s))
        for s in set(sas) & set(m.sas):
            if s in unc:
                continue
            d = sas[s]
            if get_u(d, SA_DIR) != m.sas[s].dir:
                diff.append("%s: dir %s, the model %s" % (
                    said_text(s), get_u(d, SA_DIR), m.sas[s].dir))
            if (get_u(d, SA_STATE) == STATE_LARVAL) != m.sas[s].larval:
                diff.append("%s: state %s, larval in the model: %s" % (
                    said_text(s), get_u(d, SA_STATE), m.sas[s].larval))
        kg = {g for g in groups if not any(s in unc for s in g)}
        mg = {g for g in m.groups() if not any(s in unc for s in g)}
        for g in kg ^ mg:
            diff.append("group %s only in the %s" % (
                " ".join(said_text(s) for s in g),
                "kernel" if g in kg else "model"))
        ke = {k: v[0] for k, v in eroutes.items()}
        for k in set(ke) | set(m.eroutes):
            if ke.get(k) != m.eroutes.get(k):
                diff.append("eroute %s: kernel %s, model %s" % (
                    eroute_text(k), ke.get(k) and said_text(ke[k]),
                    m.eroutes.get(k) and said_text(m.eroutes[k])))
        if not m.dev_uncertain:
            kd = {}
            for name, d in devs.items():
                p = d.get(DEV_PHYSICAL)
                kd[name] = p.rstrip(b"\0").decode() if p else None
            if kd != m.devs:
                diff.append("devices: kernel %s, model %s" % (kd, m.devs))
        if diff:
            self.cp_fail.append("checkpoint %d: %s (recent: %s)" % (
                self.checkpoints, "; ".join(diff[:6]), "; ".join(
                    self.recent[-8:])))
        # What went by itself (expiry) leaves the model now.
        for s in list(unc):
            if s not in sas and s in m.sas:
                self.expired["checkpoint"] += m.sas[s].larval
                del m.sas[s]
                unc.discard(s)
        self.resync()

    def age(self, ahead=AHEAD):
        """Larval SAs whose expiry is due within ahead seconds, or may be
        overdue, are uncertain; past their latest due time and the
        lateness tolerated, gone."""
        now = time.monotonic()
        for s, sa in list(self.m.sas.items()):
            if not sa.larval:
                continue
            if sa.due is None:
                self.m.uncertain.add(s)
            elif now > sa.due[1] + LARVAL_LATE:
                self.m.forget(s)
                self.expired["past"] += 1
            elif now + ahead >= sa.due[0]:
                self.m.uncertain.add(s)

    def run(self):
        self.resync()
        ops = 0
        while time.monotonic() < self.deadline:
            name, fn = self.pick_op()
            self.age()
            reqs = fn()
            self.run_one(reqs)
            ops += 1
            if len(self.hangs) > 3:
                break
            if ops % 60 == 0:
                if self.exact:
                    self.checkpoint()
                else:
                    self.resync()
        # Leave the debug areas off, whatever happened.
        try:
            self.nl.ask("debug_set", u32(DEBUG_CLEAR, (1 << DBG_MAX) - 1))
        except (Hang, OSError):
            pass
        if self.exact:
            self.checkpoint()
        if self.log:
            self.log.close()
        n = self.name
        res = []
        res.append((not self.hangs and self.answered == self.requests,
                    "%s: %d requests, each answered within %d s" % (
                        n, self.requests, TIMEOUT), self.hangs + [
                        "%d of %d answered" % (self.answered, self.requests)]))
        res.append((not self.odd_errno, "%s: every refusal is an errno of the "
                    "family's (EINVAL ERANGE EOPNOTSUPP ENOENT EEXIST E2BIG "
                    "ENODEV ENOSPC)" % n, self.odd_errno))
        res.append((not self.bad_reply, "%s: every reply parses and answers "
                    "its request (sa-get, getspi, dumps)" % n, self.bad_reply))
        res.append((not self.dump_dups, "%s: no dump lists an entry twice "
                    "without NLM_F_DUMP_INTR" % n, self.dump_dups))
        res.append((not self.old_larval, "%s: no larval SA in a dump added more "
                    "than larval_lifetime (%d s) + %d s before" % (
                        n, self.lifetime, LARVAL_LATE), self.old_larval))
        if self.exact:
            res.append((not self.mismatch and self.predicted > 0,
                        "%s: %d outcomes as the model predicted" % (
                            n, self.predicted), self.mismatch or ["none"]))
            res.append((not self.cp_fail and self.checkpoints > 0,
                        "%s: %d checkpoints: the dumps equal the model" % (
                            n, self.checkpoints), self.cp_fail or ["none"]))
        notes = ["%s: %s" % (n, " ".join("%s=%d" % kv for kv in sorted(
            self.stats.items()))), "%s: %.1f s waiting for answers; slowest: %s"
            % (n, self.busy, "; ".join("%.2f s %s" % x for x in self.slow)),
            "%s: the oldest larval SA a dump listed was added %s s before "
            "(larval_lifetime %d s); larval SAs the model saw expire: %d "
            "past their lifetime, %d found gone at a checkpoint" % (
                n, self.larval_oldest, self.lifetime, self.expired["past"],
                self.expired["checkpoint"])]
        return res, notes


def listener(deadline):
    """Drain the events group; every event must parse."""
    nl = Nl()
    gid = nl.events_group()
    nl.s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, gid)
    counts, bad, overruns = {}, [], 0
    while time.monotonic() < deadline:
        nl.s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = nl.s.recv(65536)
        except socket.timeout:
            break
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                overruns += 1
                continue
            raise
        off = 0
        while off + 20 <= len(data):
            ln, typ, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if ln < 20 or off + ln > len(data):
                bad.append("an event of length %d" % ln)
                break
            cmd = data[off + 16]
            name = NTF_CMDS.get(cmd, "cmd%d" % cmd)
            counts[name] = counts.get(name, 0) + 1
            try:
                d = nla_dict(data[off + 20:off + ln])
                if cmd == 22:
                    eroute_key_of(d)
                    said_of(d[ER_SAID])
                elif cmd in NTF_CMDS:
                    said_of(d[SA_SAID])
                    for t in (SA_ENC_KEY, SA_AUTH_KEY):
                        if t in d:
                            bad.append("%s with a key attribute" % name)
                else:
                    bad.append("an event of command %d" % cmd)
            except (KeyError, ValueError) as e:
                bad.append("%s does not parse: %s" % (name, e))
            off += (ln + 3) & ~3
    return counts, bad, overruns


# --- running workers ---------------------------------------------------------

def fork_worker(fn):
    """Run fn() in a child; its result comes back as JSON through a pipe."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            out = fn()
            code = 0
        except BaseException as e:	# noqa: B902 - report whatever it was
            import traceback
            out = {"error": "%s: %s" % (type(e).__name__, e),
                   "trace": traceback.format_exc().splitlines()[-12:]}
            code = 1
        data = json.dumps(out).encode()
        with os.fdopen(wr, "wb") as f:
            f.write(data)
        os._exit(code)
    os.close(wr)
    return pid, rd


def collect(t, workers, grace):
    """Read each child's result; a child that died, hung or failed to
    report is a failure of its own."""
    results = []
    for name, pid, rd in workers:
        chunks = []
        deadline = time.monotonic() + grace
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            import select
            r, _, _ = select.select([rd], [], [], left)
            if not r:
                break
            b = os.read(rd, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(rd)
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        if not done:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
            os.waitpid(pid, 0)
            t.ok(False, "%s: finished in time" % name,
                 ["still running %d s after its deadline" % grace])
            continue
        try:
            out = json.loads(b"".join(chunks).decode())
        except ValueError:
            out = None
        if out is None or "error" in out or status != 0:
            t.ok(False, "%s: ran to its end" % name, [
                "status %#x" % status] + ([out["error"]] + out["trace"]
                                          if out and "error" in out else []))
            continue
        results.append((name, out))
    return results


def parse_opts(args):
    opts = {}
    for a in args:
        k, _, v = a.partition("=")
        opts[k] = v
    return opts


def mode_fuzz(t, seconds, seed, opts):
    workers = int(opts.get("workers", "1"))
    ns = opts.get("ns", "?")
    t.note("fuzz %s: %d worker(s) for %d s, seed %d%s" % (
        ns, workers, seconds, seed, ", exact" if opts.get("exact") == "1"
        else ""))
    kids = []
    deadline = time.monotonic() + seconds
    pid, rd = fork_worker(lambda: dict(zip(("counts", "bad", "overruns"),
                                           listener(deadline + 2))))
    kids.append(("fuzz %s/events" % ns, pid, rd))
    for k in range(workers):
        def work(k=k):
            f = Fuzzer(k, seed * 100 + k, seconds, opts)
            res, notes = f.run()
            return {"res": res, "notes": notes}
        pid, rd = fork_worker(work)
        kids.append(("fuzz %s/w%d" % (ns, k), pid, rd))
    for name, out in collect(t, kids, seconds + 120):
        if "res" in out:
            for note in out["notes"]:
                t.note(note)
            for cond, what, details in out["res"]:
                t.ok(cond, what, details)
        else:
            c = out["counts"]
            t.note("%s: %s, %d overruns" % (name, " ".join(
                "%s=%d" % kv for kv in sorted(c.items())), out["overruns"]))
            t.ok(not out["bad"] and sum(c.values()) > 0,
                 "%s: %d events, every one parses" % (name, sum(c.values())),
                 out["bad"] or ["no events at all"])


# --- the churn -----------------------------------------------------------------

UNITS = 160		# SA units of the churn: 1 to 3 SAs each
EROUTES = 90
CH_LOCAL4, CH_REMOTE4 = ip("203.0.113.1"), ip("203.0.113.2")
CH_LOCAL6, CH_REMOTE6 = ip("2001:db8:3::1"), ip("2001:db8:3::2")


def unit_members(i):
    """The SAIDs of churn unit i, inner to outer, and how to add each."""
    kind = i % 4
    spi = 0x20000 + i
    local = (i // 4) % 2 == 0
    if kind == 3:
        dst, src = (CH_LOCAL6, CH_REMOTE6) if local else (CH_REMOTE6, CH_LOCAL6)
        fam = 6
    else:
        dst, src = (CH_LOCAL4, CH_REMOTE4) if local else (CH_REMOTE4, CH_LOCAL4)
        fam = 4
    protos = {0: (TUN,), 1: (ESP,), 2: (TUN, ESP), 3: (TUN, ESP, AH)}[kind]
    out = []
    for p in protos:
        s = (p, spi, fam, dst)
        a = said_nest(SA_SAID, s) + addr_nest(SA_SRC, src)
        if p == TUN:
            a += addr_nest(SA_TUN_DST, dst)
        elif p == ESP:
            a += attr(SA_ESP, b"aes-gcm-16\0") + attr(SA_ENC_KEY, os.urandom(20))
        else:
            a += attr(SA_AH, b"hmac-sha1-96\0") + attr(SA_AUTH_KEY, os.urandom(20))
        out.append((s, a))
    return out


def unit_saids():
    """Every SAID of the pool -> its index in the shared arrays."""
    idx = {}
    for i in range(UNITS):
        for m, (s, _) in enumerate(unit_members(i)):
            idx[s] = i * 3 + m
    return idx


def eroute_pool(j):
    if j % 3 == 2:
        src = ip("2001:db8:100::")[:6] + bytes([0, j]) + bytes(8)
        return (6, src, 64, mask(ip("2001:db8:200::"), 48), 48, 0, 0, 0)
    key = (4, bytes([10, j, 0, 0]), 16, ip("10.200.0.0"), 16, 0, 0, 0)
    if j % 5 == 0:
        key = key[:5] + (17, 0, 500 + j)
    return key


class Shared:
    """Seqlock counters and states in memory shared across fork(): the churn
    makes a counter odd before it changes an entry and even after."""

    def __init__(self, nsa, ner):
        self.nsa, self.ner = nsa, ner
        self.mm = mmap.mmap(-1, 4 * (nsa + ner) + nsa + ner)
        self.fmt_sa = "=%dI" % nsa
        self.fmt_er = "=%dI" % ner

    def bump(self, kind, i):
        off = 0 if kind == "sa" else 4 * self.nsa
        v = struct.unpack_from("=I", self.mm, off + 4 * i)[0]
        struct.pack_into("=I", self.mm, off + 4 * i, v + 1)

    def set_state(self, kind, i, v):
        off = 4 * (self.nsa + self.ner) + (0 if kind == "sa" else self.nsa)
        self.mm[off + i] = v

    def snap(self, kind):
        if kind == "sa":
            seqs = struct.unpack_from(self.fmt_sa, self.mm, 0)
            off = 4 * (self.nsa + self.ner)
            return seqs, bytes(self.mm[off:off + self.nsa])
        seqs = struct.unpack_from(self.fmt_er, self.mm, 4 * self.nsa)
        off = 4 * (self.nsa + self.ner) + self.nsa
        return seqs, bytes(self.mm[off:off + self.ner])


def churn(sh, seed, deadline):
    r = random.Random(seed)
    nl = Nl()
    idx = unit_saids()
    members = [unit_members(i) for i in range(UNITS)]
    state = [0] * UNITS		# 0 absent, 1 present, 2 grouped
    broken = set()
    er = {}			# eroute index -> target
    ops, bad = {}, []

    def expect(what, want, res):
        err, ext = res[0], res[1]
        k = "%s %s" % (what, ename(err))
        ops[k] = ops.get(k, 0) + 1
        if err != want:
            bad.append("%s: %s %s, expected %s" % (
                what, ename(err), ext,
                ename(want)))
            return False
        return True

    def sa_bump(i):
        for s, _ in members[i]:
            sh.bump("sa", idx[s])

    def sa_states(i, v):
        for s, _ in members[i]:
            sh.set_state("sa", idx[s], v)

    def add_unit(i):
        good = True
        for s, a in members[i]:
            good &= expect("sa-add", 0, nl.ask("sa_add", a))
        if len(members[i]) > 1:
            good &= expect("grp-add", 0, nl.ask("grp_add", b"".join(
                said_nest(GROUP_SAID, s) for s, _ in members[i])))
        state[i] = 2 if len(members[i]) > 1 else 1
        sa_states(i, state[i])
        return good

    def del_unit(i):
        # A group goes with any of its SAs; ungrouped, each SA alone.
        ms = [r.choice(members[i])] if state[i] == 2 else members[i]
        good = True
        for s, _ in ms:
            good &= expect("sa-del", 0, nl.ask("sa_del", said_nest(SA_SAID, s)))
        state[i] = 0
        sa_states(i, 0)
        return good

    while time.monotonic() < deadline:
        x = r.random()
        i = r.randrange(UNITS)
        if i in broken:
            continue
        if x < 0.6:
            sa_bump(i)
            good = del_unit(i) if state[i] else add_unit(i)
            if x < 0.15 and good and not state[i]:
                good = add_unit(i)	# the same SAIDs again, at once
            if good:
                sa_bump(i)
            else:
                broken.add(i)
        elif x < 0.67:
            if not state[i] or len(members[i]) == 1:
                continue
            sa_bump(i)
            if state[i] == 2:
                good = expect("grp-add (ungroup)", 0, nl.ask(
                    "grp_add", said_nest(GROUP_SAID, r.choice(members[i])[0])))
                state[i] = 1
            else:
                good = expect("grp-add", 0, nl.ask("grp_add", b"".join(
                    said_nest(GROUP_SAID, s) for s, _ in members[i])))
                state[i] = 2
            sa_states(i, state[i])
            if good:
                sa_bump(i)
            else:
                broken.add(i)
        elif x < 0.72:
            tun = members[i][0][0]
            if not state[i] or tun[0] != TUN or tun[3] not in (CH_LOCAL4,
                                                              CH_LOCAL6):
                continue
            sa_bump(i)
            fam = tun[2]
            key = eroute_pool(1 if fam == 4 else 2)
            good = expect("policy-set", 0, nl.ask("policy_set", b"".join(
                p for _, p in eroute_attrs(key[:5] + (0, 0, 0))) + said_nest(
                ER_SAID, r.choice(members[i])[0] if state[i] == 2 else tun)))
            if good:
                sa_bump(i)
            else:
                broken.add(i)
        else:
            j = r.randrange(EROUTES)
            if ("er", j) in broken:
                continue
            key = eroute_pool(j)
            sh.bump("er", j)
            y = r.random()
            if j in er and y < 0.5:
                good = expect("eroute-del", 0, nl.ask("eroute_del", b"".join(
                    p for _, p in eroute_attrs(key))))
                del er[j]
                sh.set_state("er", j, 0)
            else:
                live = [u for u in range(UNITS) if state[u] and u not in broken]
                if live and r.random() < 0.5:
                    target = members[r.choice(live)][0][0]
                else:
                    target = r.choice(list(SHUNT_SAID.values()))
                good = expect("eroute-add", 0, nl.ask("eroute_add", b"".join(
                    p for _, p in eroute_attrs(key)) + said_nest(
                    ER_SAID, target) + (attr(ER_REPLACE, b"") if j in er
                                        else b"")))
                er[j] = target
                sh.set_state("er", j, 1)
            if good:
                sh.bump("er", j)
            else:
                broken.add(("er", j))
    return {"ops": ops, "bad": bad}


def parse_spi_line(line):
    """(SAID, fields) of an ipsec_spi line, or raise ValueError."""
    tok = line.split(" ")
    said = said_parse(tok[0])
    if said is None:
        raise ValueError("no SAID")
    if len(tok) < 5 or not re.match(r"(ESP|AH|IPIP|COMP)[A-Z0-9_]*:$", tok[1]):
        raise ValueError("no transform")
    if not re.match(r"dir=(in|out)$", tok[2]) or not tok[3].startswith("src="):
        raise ValueError("no dir= src=")
    f = {"xform": tok[1][:-1], "dir": tok[2][4:], "src": tok[3][4:]}
    life = None
    for w in tok[4:]:
        if w.startswith("life(c,s,h)="):
            life = w
        elif "=" in w:
            k, _, v = w.partition("=")
            f[k] = v
        else:
            raise ValueError("a word without '=': %r" % w)
    if life is None:
        raise ValueError("no life(c,s,h)=")
    items = re.findall(r"([a-z]+)\((\d+),(\d+),(\d+)\)", life[12:])
    if "".join("%s(%s,%s,%s)" % it for it in items) != life[12:]:
        raise ValueError("life(c,s,h)= does not parse")
    if not any(it[0] == "add" for it in items):
        raise ValueError("no add(c,s,h)")
    f["life"] = {it[0]: tuple(int(x) for x in it[1:]) for it in items}
    return said, f


def parse_eroute_line(line):
    """(key, target, count) of an ipsec_eroute line, or raise ValueError."""
    tok = line.split()
    if len(tok) != 6 or tok[2] != "->" or tok[4] != "=>":
        raise ValueError("not <count> <src> -> <dst> => <SAID>")
    count = int(tok[0])

    def sel(text):
        port = 0
        m = re.match(r"\[(.*)\]:(\d+)$", text)
        if m:
            text, port = m.group(1), int(m.group(2))
        elif text.count(":") == 1 and "." in text:
            text, p = text.split(":")
            port = int(p)
        net, _, ln = text.partition("/")
        a = ipaddress.ip_address(net)
        return a.version, a.packed, int(ln), port
    sf, src, slen, sport = sel(tok[1])
    df, dst, dlen, dport = sel(tok[3])
    if sf != df:
        raise ValueError("two families")
    t = tok[5]
    proto = 0
    m = re.match(r"\[(.*)\]:(\d+)$", t)
    if m:
        t, proto = m.group(1), int(m.group(2))
    elif ":" in t and (t.startswith("%") or "." in t.split("@")[0]):
        t, p = t.rsplit(":", 1)
        proto = int(p)
    target = said_parse(t)
    if target is None:
        raise ValueError("target %r does not parse" % t)
    return (sf, src, slen, dst, dlen, proto, sport, dport), target, count


def read_proc(path, r, chunk=(17, 200)):
    fd = os.open(path, os.O_RDONLY)
    out = []
    try:
        while True:
            b = os.read(fd, r.randint(*chunk) if r.random() < 0.9 else 4096)
            if not b:
                break
            out.append(b)
    finally:
        os.close(fd)
    return b"".join(out).decode()


class Verdict:
    """What readers of one kind found: complete reads, lines that did not
    parse, entries twice, stable entries missing or extra."""

    def __init__(self):
        self.reads = 0
        self.intr = 0
        self.parse, self.twice, self.stable = [], [], []

    def judge(self, counts, before, after, states, want, desc, stamp):
        """counts: index -> times listed; want(state) -> times expected."""
        b, a = before, after
        for i, n in counts.items():
            if n > 1 and b[i] == a[i] and b[i] % 2 == 0:
                self.twice.append("%s: %s listed %d times (%s)" % (
                    stamp, desc(i), n, "unchanged during the read"))
        for i in range(len(b)):
            if b[i] != a[i] or b[i] % 2:
                continue
            w = want(i, states[i])
            if w is None:
                continue
            n = counts.get(i, 0)
            if n != w:
                self.stable.append("%s: %s listed %d times, %d expected "
                                   "(unchanged during the read, state %d)" % (
                                       stamp, desc(i), n, w, states[i]))


def proc_reader(sh, seed, deadline, kinds):
    r = random.Random(seed)
    idx = unit_saids()
    rev = {v: k for k, v in idx.items()}
    ekeys = {eroute_pool(j): j for j in range(EROUTES)}
    unit_of = {}
    for i in range(UNITS):
        ms = [s for s, _ in unit_members(i)]
        unit_of[ms[0]] = (i, tuple(ms))
    v = {k: Verdict() for k in kinds}
    other = []
    seeks = 0
    while time.monotonic() < deadline:
        time.sleep(r.uniform(0, 0.03))	# CPU for the churn and the fuzz
        kind = r.choice(kinds)
        vd = v[kind]
        if kind in ("tncfg", "stats"):
            path = {"tncfg": "/proc/net/ipsec_tncfg",
                    "stats": "/proc/net/ipsec/stats"}[kind]
            text = read_proc(path, r)
            vd.reads += 1
            for line in text.splitlines():
                ok = re.match(r"\S+ -> \S+ mtu=\d+\(\d+\) -> \d+$", line) \
                    if kind == "tncfg" else re.match(r"[A-Za-z]+ *\t\d+$", line)
                if not ok:
                    vd.parse.append("%s: %r" % (path, line))
            continue
        if r.random() < 0.05:
            # Seek about: the position path, nothing to check but an answer.
            fd = os.open("/proc/net/ipsec_spi", os.O_RDONLY)
            try:
                os.read(fd, r.randint(1, 500))
                os.lseek(fd, r.randint(0, 20000), os.SEEK_SET)
                os.read(fd, r.randint(1, 500))
                os.lseek(fd, 0, os.SEEK_SET)
                os.read(fd, 300)
            finally:
                os.close(fd)
            seeks += 1
            continue
        stamp = "read %d of %s" % (vd.reads + 1, kind)
        sk = "er" if kind == "eroute" else "sa"
        b, st = sh.snap(sk)
        path = {"spi": "/proc/net/ipsec_spi", "spigrp": "/proc/net/ipsec_spigrp",
                "eroute": "/proc/net/ipsec_eroute"}[kind]
        text = read_proc(path, r)
        a, _ = sh.snap(sk)
        vd.reads += 1
        counts = {}
        if text and not text.endswith("\n"):
            vd.parse.append("%s: %s ends without a newline" % (stamp, path))
        for line in text.splitlines():
            try:
                if kind == "spi":
                    said, _ = parse_spi_line(line)
                    i = idx.get(said)
                    if i is None:
                        raise ValueError("not an SA of the churn")
                elif kind == "spigrp":
                    g = tuple(said_parse(w) for w in line.split(" "))
                    if None in g or g[0] not in unit_of or unit_of[g[0]][1] != g:
                        raise ValueError("not a group of the churn")
                    i = idx[g[0]]
                else:
                    key, _, _ = parse_eroute_line(line)
                    i = ekeys.get(key)
                    if i is None:
                        raise ValueError("not an eroute of the churn")
            except (ValueError, KeyError) as e:
                vd.parse.append("%s: %r: %s" % (stamp, line, e))
                continue
            counts[i] = counts.get(i, 0) + 1
        if kind == "spi":
            vd.judge(counts, b, a, st, lambda i, s: 1 if s else 0,
                     lambda i: said_text(rev[i]), stamp)
        elif kind == "spigrp":
            def want(i, s):
                if i % 3 or i // 3 % 4 < 2:
                    return None		# not the innermost of a group unit
                return 1 if s == 2 else 0
            vd.judge(counts, b, a, st, want, lambda i: "the group of " +
                     said_text(rev[i]), stamp)
        else:
            vd.judge(counts, b, a, st, lambda i, s: s,
                     lambda i: "eroute " + eroute_text(eroute_pool(i)), stamp)
    return {k: vars(x) for k, x in v.items()}, other, seeks


def slow_dumper(sh, seed, deadline):
    r = random.Random(seed)
    idx = unit_saids()
    rev = {v: k for k, v in idx.items()}
    ekeys = {eroute_pool(j): j for j in range(EROUTES)}
    v = {k: Verdict() for k in ("sa_get", "grp_get", "eroute_get")}
    nl = Nl(recv=8192)	# dumps in datagrams of 8 KiB: many resumes
    chunks = 0
    while time.monotonic() < deadline:
        time.sleep(r.uniform(0, 0.03))
        cmd = r.choice(sorted(v))
        vd = v[cmd]
        stamp = "dump %d of %s" % (vd.reads + 1, cmd)
        sk = "er" if cmd == "eroute_get" else "sa"
        b, st = sh.snap(sk)
        steps = [0]

        def pause():
            steps[0] += 1
            return r.uniform(0, 0.015)
        err, ext, msgs, fl = nl.ask(cmd, b"", DUMP, pause=pause)
        a, _ = sh.snap(sk)
        chunks += steps[0]
        vd.reads += 1
        if fl & NLM_F_DUMP_INTR:
            vd.intr += 1
        if err:
            vd.parse.append("%s: %s %s" % (stamp, ename(err), ext))
            continue
        counts = {}
        for m in msgs:
            try:
                d = nla_dict(m)
                if cmd == "sa_get":
                    i = idx[said_of(d[SA_SAID])]
                elif cmd == "grp_get":
                    g = [said_of(x) for t, x in nla_list(m) if t == GROUP_SAID]
                    i = idx[g[0]]
                    want = [s for s, _ in unit_members(i // 3)]
                    if g != want:
                        raise ValueError("group %s is not %s" % (g, want))
                else:
                    i = ekeys[eroute_key_of(d)]
            except (KeyError, ValueError) as e:
                vd.parse.append("%s: a message does not parse or is not the "
                                "churn's: %s" % (stamp, e))
                continue
            counts[i] = counts.get(i, 0) + 1
        if cmd != "eroute_get" and not fl & NLM_F_DUMP_INTR:
            for i, n in counts.items():
                if n > 1:
                    vd.twice.append("%s: %s %d times without NLM_F_DUMP_INTR"
                                    % (stamp, said_text(rev[i]), n))
        if cmd == "sa_get":
            vd.judge(counts, b, a, st, lambda i, s: 1 if s else 0,
                     lambda i: said_text(rev[i]), stamp)
        elif cmd == "grp_get":
            vd.judge(counts, b, a, st, lambda i, s: None if i % 3 or i // 3 % 4 < 2
                     else (1 if s == 2 else 0), lambda i: "the group of " +
                     said_text(rev[i]), stamp)
        else:
            for i, n in counts.items():
                if n > 1:
                    vd.twice.append("%s: eroute %s %d times (keys only grow)"
                                    % (stamp, eroute_text(eroute_pool(i)), n))
            vd.judge(counts, b, a, st, lambda i, s: s,
                     lambda i: "eroute " + eroute_text(eroute_pool(i)), stamp)
    return {k: vars(x) for k, x in v.items()}, chunks


def mode_churn(t, seconds, seed):
    t.note("churn: %d units (%d SAs at most), %d eroutes, %d s, seed %d" % (
        UNITS, sum(len(unit_members(i)) for i in range(UNITS)), EROUTES,
        seconds, seed))
    sh = Shared(UNITS * 3, EROUTES)
    deadline = time.monotonic() + seconds
    kids = []
    for name, fn in (
            ("churn", lambda: churn(sh, seed, deadline)),
            ("churn/reader1", lambda: dict(zip(("v", "other", "seeks"), proc_reader(
                sh, seed + 1, deadline, ["spi", "spi", "spigrp", "eroute",
                                         "tncfg", "stats"])))),
            ("churn/reader2", lambda: dict(zip(("v", "other", "seeks"), proc_reader(
                sh, seed + 2, deadline, ["spi", "spigrp", "eroute"])))),
            ("churn/dumper", lambda: dict(zip(("v", "chunks"), slow_dumper(
                sh, seed + 3, deadline)))),
            ("churn/events", lambda: dict(zip(("counts", "bad", "overruns"),
                                              listener(deadline + 2))))):
        pid, rd = fork_worker(fn)
        kids.append((name, pid, rd))
    got = dict(collect(t, kids, seconds + 120))
    c = got.get("churn")
    if c:
        n = sum(c["ops"].values())
        t.note("churn: " + " ".join("%s=%d" % kv for kv in sorted(c["ops"].items())))
        t.ok(not c["bad"] and n > 0, "churn: %d changes of SAs, groups, "
             "policies and eroutes, each answered as expected" % n,
             c["bad"] or ["no changes"])
    merged = {}
    for name in ("churn/reader1", "churn/reader2", "churn/dumper"):
        if name not in got:
            continue
        for kind, vd in got[name]["v"].items():
            m = merged.setdefault(kind, {"reads": 0, "intr": 0, "parse": [],
                                         "twice": [], "stable": []})
            for k in m:
                m[k] += vd[k]
    desc = {"spi": "/proc/net/ipsec_spi", "spigrp": "/proc/net/ipsec_spigrp",
            "eroute": "/proc/net/ipsec_eroute", "tncfg": "/proc/net/ipsec_tncfg",
            "stats": "/proc/net/ipsec/stats", "sa_get": "sa-get dump",
            "grp_get": "grp-get dump", "eroute_get": "eroute-get dump"}
    for kind in ("spi", "spigrp", "eroute", "tncfg", "stats", "sa_get",
                 "grp_get", "eroute_get"):
        m = merged.get(kind)
        if m is None:
            continue
        d = desc[kind]
        how = "slow recv()s" if "_" in kind else "17..200-byte read()s"
        extra = ", %d flagged NLM_F_DUMP_INTR" % m["intr"] if kind in (
            "sa_get", "grp_get") else ""
        t.ok(not m["parse"] and m["reads"] >= 3, "churn: %s: %d complete reads "
             "in %s%s, every line parses" % (d, m["reads"], how, extra),
             m["parse"] or ["only %d reads" % m["reads"]])
        if kind in ("tncfg", "stats"):
            continue
        t.ok(not m["twice"], "churn: %s: nothing listed twice unless deleted "
             "and added again during the read" % d, m["twice"])
        t.ok(not m["stable"], "churn: %s: every entry left alone during a "
             "read listed exactly once, none that was absent" % d, m["stable"])
    if "churn/dumper" in got:
        t.note("churn: the dumps took %d resumed recv()s" %
               got["churn/dumper"]["chunks"])
    for name in ("churn/reader1", "churn/reader2"):
        if name in got:
            t.note("%s: %d reads after lseek()" % (name, got[name]["seeks"]))
    ev = got.get("churn/events")
    if ev:
        c = ev["counts"]
        t.note("churn/events: %s, %d overruns" % (" ".join(
            "%s=%d" % kv for kv in sorted(c.items())), ev["overruns"]))
        t.ok(not ev["bad"] and c.get("sa-add-ntf", 0) > 0 and
             c.get("sa-del-ntf", 0) > 0, "churn/events: %d events, every one "
             "parses" % sum(c.values()), ev["bad"] or ["counts %s" % c])


# --- without CAP_NET_ADMIN -----------------------------------------------------

def mode_perm(t, seconds, seed):
    r = random.Random(seed)
    nl = Nl()
    pool = [m for i in range(UNITS) for m in unit_members(i)]
    deadline = time.monotonic() + seconds
    cmds = {}
    bad = []
    n = 0
    key = eroute_pool(0)
    ek = b"".join(p for _, p in eroute_attrs(key))
    while time.monotonic() < deadline:
        s, add = r.choice(pool)
        sd = said_nest(SA_SAID, s)
        reqs = [("sa_add", add, REQ), ("sa_del", sd, REQ), ("sa_get", sd, REQ),
                ("sa_flush", b"", REQ),
                ("sa_getspi", said_nest(SA_SAID, (ESP, 0, 4, CH_LOCAL4)), REQ),
                ("grp_add", said_nest(GROUP_SAID, s), REQ),
                ("eroute_add", ek + said_nest(ER_SAID, (INT, 257, 4, Z4)) +
                 attr(ER_REPLACE, b""), REQ),
                ("eroute_del", ek, REQ), ("eroute_flush", b"", REQ),
                ("policy_set", b"".join(p for _, p in eroute_attrs(
                    key[:5] + (0, 0, 0))) + said_nest(ER_SAID, s), REQ),
                ("dev_add", attr(DEV_NAME, b"ipsec9\0"), REQ),
                ("dev_del", attr(DEV_NAME, b"ipsec0\0"), REQ),
                ("dev_attach", attr(DEV_NAME, b"ipsec0\0") +
                 attr(DEV_PHYSICAL, b"eth0\0"), REQ),
                ("dev_detach", b"", REQ),
                ("debug_set", u32(DEBUG_SET, 1 << DBG_RADIJ), REQ),
                ("sa_get", b"", DUMP), ("grp_get", b"", DUMP),
                ("eroute_get", b"", DUMP), ("dev_get", b"", DUMP)]
        cmd, payload, flags = r.choice(reqs)
        name = cmd + (" dump" if flags == DUMP else "")
        try:
            err, ext, msgs, _ = nl.ask(cmd, payload, flags)
        except Hang as e:
            bad.append("%s: %s" % (name, e))
            break
        n += 1
        cmds[name] = cmds.get(name, 0) + 1
        time.sleep(0.02)	# CPU for the others: refusals are cheap
        if err != errno.EPERM or msgs:
            bad.append("%s: %s%s" % (name, ename(err),
                                     ", %d replies" % len(msgs) if msgs else ""))
    t.note("perm: " + " ".join("%s=%d" % kv for kv in sorted(cmds.items())))
    t.ok(not bad and n > 0 and len(cmds) == 19, "perm: %d requests of all 19 "
         "kinds (commands and dumps), each refused with EPERM" % n,
         bad or ["%d kinds" % len(cmds)])
    try:
        gid = nl.events_group()
        nl.s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, gid)
        res = "joined"
    except OSError as e:
        res = ename(e.errno)
    t.ok(res == "EPERM", "perm: joining the events group refused (EPERM)", [res])


# --- every algorithm once -------------------------------------------------------

# Documentation/klips/proc.md's table: the printed part, on-wire IV bits, salt bytes (not
# counted in eklen), ICV bits of an AEAD.
CIPHER_TABLE = {"3des": ("_3DES", 64, 0, 0), "aes": ("_AES", 128, 0, 0),
                "aesctr": ("_AES_CTR", 64, 4, 0), "null": ("_NULL", 0, 0, 0),
                "chacha20poly1305": ("_CHACHA20_POLY1305", 64, 4, 128),
                "null-aes-gmac": ("_NULL_AES_GMAC", 64, 4, 128)}
for _icv in ("8", "12", "16"):
    CIPHER_TABLE["aes-gcm-" + _icv] = ("_AES_GCM_" + _icv, 64, 4, int(_icv) * 8)
    CIPHER_TABLE["aes-ccm-" + _icv] = ("_AES_CCM_" + _icv, 64, 3, int(_icv) * 8)
# print, key bits (aklen), alen
INTEG_TABLE = {"md5-96": ("_HMAC_MD5", 128, 128), "sha1-96": ("_HMAC_SHA1", 160, 160),
               "sha2_256-128": ("_HMAC_SHA2_256", 256, 256),
               "sha2_384-192": ("_HMAC_SHA2_384", 384, 384),
               "sha2_512-256": ("_HMAC_SHA2_512", 512, 512),
               "aes-xcbc-96": ("_AES_XCBC_MAC", 128, 128),
               "aes-cmac-96": ("_AES_CMAC", 128, 128)}


def cipher_base(name):
    """'aes256' -> 'aes', 'aes128ctr' -> 'aesctr', 'aes192gcm8' -> 'aes-gcm-8'"""
    m = re.match(r"aes(128|192|256)(ctr|gcm|ccm)?(\d*)$", name)
    if not m:
        return name
    if not m.group(2):
        return "aes"
    if m.group(2) == "ctr":
        return "aesctr"
    return "aes-%s-%s" % (m.group(2), m.group(3))


def mode_warm(t):
    """Every --esp, --ah and --comp name of Documentation/klips/cli.md with each key size
    it takes, once: accepted, with the transform, iv_bits, alen, aklen and
    eklen of Documentation/klips/proc.md's table; then flushed. The crypto API builds and
    self-tests each transform the first time, seconds each in the debug
    guest: done here, the fuzz that follows spends its time on sequences."""
    nl = Nl()
    cases = []
    for name, sizes in sorted(AEADS.items()):
        for k in sizes:
            cases.append(("aead", ESP, name, k, 0))
    for name, sizes in sorted(CIPHERS.items()):
        for k in sizes:
            for ig in sorted(INTEG):
                cases.append(("cipher-integ", ESP, "%s-%s" % (name, ig), k,
                              INTEG[ig]))
            if name in ALONE:
                cases.append(("cipher alone", ESP, name, k, 0))
    for name, k in sorted(AH_ALGS.items()):
        cases.append(("ah", AH, name, 0, k))
    cases.append(("comp", COMP, "deflate", 0, 0))
    bad = {}
    count = {}
    t0 = time.monotonic()
    for i, (kind, proto, name, ek, ak) in enumerate(cases):
        s = (proto, 0x9000 + i, 4, ip("192.0.2.2"))
        a = said_nest(SA_SAID, s) + attr({ESP: SA_ESP, AH: SA_AH, COMP: SA_COMP}[
            proto], name.encode() + b"\0")
        if ek:
            a += attr(SA_ENC_KEY, os.urandom(ek))
        if ak:
            a += attr(SA_AUTH_KEY, os.urandom(ak))
        count[kind] = count.get(kind, 0) + 1
        err, ext, _, _ = nl.ask("sa_add", a)
        if err:
            bad.setdefault(kind, []).append("%s, %d/%d-byte keys: %s %s" % (
                name, ek, ak, ename(err), ext))
            continue
        err, ext, msgs, _ = nl.ask("sa_get", said_nest(SA_SAID, s))
        if err or len(msgs) != 1:
            bad.setdefault(kind, []).append("sa-get %s: %s" % (name, ename(err)))
            continue
        d = nla_dict(msgs[0])
        got = (d.get(SA_XFORM, b"").rstrip(b"\0").decode(), get_u(d, SA_IV_BITS),
               get_u(d, SA_ALEN), get_u(d, SA_AKLEN), get_u(d, SA_EKLEN))
        if proto == COMP:
            want = ("COMP_DEFLATE", 0, 0, 0, 0)
        elif proto == AH:
            p, kb, alen = INTEG_TABLE[name.replace("hmac-", "")]
            want = ("AH" + p, 0, alen, kb, 0)
        else:
            cn, _, ig = name.partition("-") if name not in AEADS else (name, "", "")
            pr, iv, salt, icv = CIPHER_TABLE[cipher_base(cn)]
            if ig:
                ip_, kb, alen = INTEG_TABLE[ig]
                want = ("ESP" + pr + ip_, iv, alen, kb, (ek - salt) * 8)
            else:
                want = ("ESP" + pr, iv, icv, 0, (ek - salt) * 8)
        if got != want:
            bad.setdefault(kind, []).append(
                "%s, %d-byte key: xform, iv_bits, alen, aklen, eklen %s, "
                "Documentation/klips/proc.md %s" % (name, ek, got, want))
    t.note("warm: %d SAs in %.1f s" % (len(cases), time.monotonic() - t0))
    for kind, what in (("aead", "every AEAD --esp name (and its aes<bits>"
                        "gcm/ccm<icv> aliases)"),
                       ("cipher-integ", "every <cipher>-<integ> --esp name"),
                       ("cipher alone", "every cipher that may stand alone"),
                       ("ah", "every --ah name"), ("comp", "--comp deflate")):
        t.ok(kind not in bad and count.get(kind), "warm: %s, each key size "
             "(%d SAs): accepted, transform, iv_bits, alen, aklen and eklen as "
             "Documentation/klips/proc.md's table" % (what, count.get(kind, 0)),
             bad.get(kind, []))
    err = nl.ask("sa_flush")[0]
    t.ok(err == 0 and read_proc("/proc/net/ipsec_spi", random.Random(0)) == "",
         "warm: sa-flush empties ipsec_spi again", [ename(err)])


# --- /proc against the dumps ---------------------------------------------------

def mode_consist(t, label):
    nl = Nl()
    lifetime = larval_lifetime()
    # Expiry may run between the reads: compare when /proc stood still.
    for attempt in range(8):
        p1 = [read_proc(f, random.Random(attempt), (4096, 4096)) for f in (
            "/proc/net/ipsec_spi", "/proc/net/ipsec_spigrp",
            "/proc/net/ipsec_eroute", "/proc/net/ipsec_tncfg")]
        sas, groups, eroutes, devs, problems = dump_state(nl)
        p2 = [read_proc(f, random.Random(attempt), (4096, 4096)) for f in (
            "/proc/net/ipsec_spi", "/proc/net/ipsec_spigrp",
            "/proc/net/ipsec_eroute", "/proc/net/ipsec_tncfg")]

        def sets(p):
            return [set(re.sub(r"add\(\d+,", "add(,", re.sub(r"idle=\d+", "",
                        line)) for line in x.splitlines()) for x in p]
        if sets(p1) == sets(p2):
            break
        time.sleep(0.7)
    spi, spigrp, eroute, tncfg = p2
    t.note("consist %s: %d SAs, %d groups, %d eroutes, %d devices (attempt %d)"
           % (label, len(sas), len(groups), len(eroutes), len(devs),
              attempt + 1))
    # SAs: the set, then each one's fields.
    bad, fields, old = list(problems), [], []
    psa = {}
    for line in spi.splitlines():
        try:
            s, f = parse_spi_line(line)
        except ValueError as e:
            bad.append("%r: %s" % (line, e))
            continue
        if s in psa:
            bad.append("%s twice" % said_text(s))
        psa[s] = f
    for s in set(psa) ^ set(sas):
        bad.append("%s only in %s" % (said_text(s), "/proc" if s in psa
                                      else "the dump"))
    t.ok(not bad, "consist %s: ipsec_spi and the sa-get dump list the same "
         "%d SAs" % (label, len(sas)), bad)
    for s in set(psa) & set(sas):
        f, d = psa[s], sas[s]
        why = compare_sa(f, d)
        if why:
            fields.append("%s: %s" % (said_text(s), why))
        life = f["life"]
        if life["add"][2] and life["add"][0] > life["add"][2] + 5:
            old.append("%s: added %d s ago, hard add-time limit %d s" % (
                said_text(s), life["add"][0], life["add"][2]))
        # Counted in the kernel's whole seconds: more than LARVAL_LATE s
        # after its expiry was due.
        if f.get("state") == "larval" and \
                life["add"][0] > lifetime + LARVAL_LATE:
            old.append("%s: larval for %d s, larval_lifetime %d s" % (
                said_text(s), life["add"][0], lifetime))
    t.ok(not fields, "consist %s: each SA's line agrees with its dump (dir, "
         "xform, src, state, flags, window, lifetimes, NAT-T)" % label, fields)
    t.ok(not old, "consist %s: no SA outlived a hard add-time limit, no larval "
         "SA its lifetime" % label, old)
    bad = []
    pg = set()
    for line in spigrp.splitlines():
        g = tuple(said_parse(w) for w in line.split(" "))
        if None in g or len(g) < 2:
            bad.append("%r does not parse" % line)
        pg.add(g)
    for g in pg ^ set(groups):
        bad.append("group %s only in %s" % (" ".join(
            said_text(s) for s in g if s), "/proc" if g in pg else "the dump"))
    t.ok(not bad, "consist %s: ipsec_spigrp and the grp-get dump list the "
         "same %d groups" % (label, len(groups)), bad)
    bad = []
    pe = {}
    for line in eroute.splitlines():
        try:
            key, target, count = parse_eroute_line(line)
        except ValueError as e:
            bad.append("%r: %s" % (line, e))
            continue
        pe[key] = (target, count)
    for k in set(pe) | set(eroutes):
        a, b = pe.get(k), eroutes.get(k)
        if a is None or b is None or a[0] != b[0] or a[1] < b[1]:
            bad.append("eroute %s: /proc %s, dump %s" % (eroute_text(k), a and (
                said_text(a[0]), a[1]), b and (said_text(b[0]), b[1])))
    t.ok(not bad, "consist %s: ipsec_eroute and the eroute-get dump list the "
         "same %d eroutes, targets and counts" % (label, len(eroutes)), bad)
    bad = []
    pd = {}
    for line in tncfg.splitlines():
        m = re.match(r"(\S+) -> (\S+) mtu=(\d+)\((\d+)\) -> (\d+)$", line)
        if not m:
            bad.append("%r does not parse" % line)
            continue
        pd[m.group(1)] = (None if m.group(2) == "NULL" else m.group(2),
                          int(m.group(3)), int(m.group(4)), int(m.group(5)))
    kd = {}
    for name, d in devs.items():
        p = d.get(DEV_PHYSICAL)
        kd[name] = (p.rstrip(b"\0").decode() if p else None, get_u(d, DEV_MTU),
                    get_u(d, DEV_EFF_MTU), get_u(d, DEV_PHYS_MTU))
    if pd != kd:
        bad.append("/proc %s, dump %s" % (pd, kd))
    t.ok(not bad, "consist %s: ipsec_tncfg and the dev-get dump list the same "
         "%d devices" % (label, len(devs)), bad)
    res = [nl.ask(c)[0] for c in ("sa_flush", "eroute_flush")]
    left = [read_proc(f, random.Random(0), (4096, 4096)) for f in (
        "/proc/net/ipsec_spi", "/proc/net/ipsec_spigrp", "/proc/net/ipsec_eroute")]
    t.ok(res == [0, 0] and left == ["", "", ""], "consist %s: after sa-flush "
         "and eroute-flush the tables are empty" % label, [res] + left)


def compare_sa(f, d):
    """Where an ipsec_spi line and the SA's dump differ, or None."""
    life = f["life"]
    dirs = {DIR_IN: "in", DIR_OUT: "out"}
    if f["dir"] != dirs.get(get_u(d, SA_DIR)):
        return "dir=%s, dump %s" % (f["dir"], get_u(d, SA_DIR))
    xf = d.get(SA_XFORM, b"").rstrip(b"\0").decode()
    if f["xform"] != xf:
        return "xform %s, dump %s" % (f["xform"], xf)
    if SA_SRC in d:
        src = ip_text(addr_of(d[SA_SRC])[1])
        if f["src"] != src:
            return "src=%s, dump %s" % (f["src"], src)
    st = get_u(d, SA_STATE)
    want = {STATE_LARVAL: "larval", STATE_DYING: "dying"}.get(st)
    if f.get("state") != want:
        return "state=%s, dump %s" % (f.get("state"), st)
    fl = get_u(d, SA_FLAGS, 0)
    if int(f.get("flags", "0x0"), 16) != fl:
        return "flags=%s, dump %#x" % (f.get("flags"), fl)
    proto = said_of(d[SA_SAID])[0]
    win = get_u(d, SA_REPLAY_WINDOW, 0) if proto in (AH, ESP) else 0
    if int(f.get("ooowin", "0")) != win:
        return "ooowin=%s, dump %d" % (f.get("ooowin"), win)
    if proto in (AH, ESP) and int(f.get("seq", "0")) != get_u(d, SA_SEQ, 0):
        return "seq=%s, dump %s" % (f.get("seq"), get_u(d, SA_SEQ))
    soft = nla_dict(d.get(SA_LIFE_SOFT, b""))
    hard = nla_dict(d.get(SA_LIFE_HARD, b""))
    for name, t in (("alloc", LT_ALLOC), ("bytes", LT_BYTES), ("add", LT_ADD),
                    ("use", LT_USE), ("packets", LT_PACKETS)):
        s, h = get_u(soft, t, 0), get_u(hard, t, 0)
        got = life.get(name, (0, 0, 0))[1:]
        if got != (s, h):
            return "%s(,%d,%d), dump soft %d hard %d" % (name, got[0], got[1],
                                                        s, h)
    if SA_NATT_TYPE in d:
        want = "natencap=nonesp natsport=%d natdport=%d" % (
            socket.ntohs(get_u(d, SA_NATT_SPORT)),
            socket.ntohs(get_u(d, SA_NATT_DPORT)))
        got = "natencap=%s natsport=%s natdport=%s" % (
            f.get("natencap"), f.get("natsport"), f.get("natdport"))
        if got != want:
            return "%s, dump %s" % (got, want)
    elif "natencap" in f:
        return "natencap= without NAT-T in the dump"
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__ or "usage: nlfuzz.py fuzz|churn|perm|consist ...")
    t = Tap()
    mode = sys.argv[1]
    if mode == "fuzz":
        mode_fuzz(t, float(sys.argv[2]), int(sys.argv[3]),
                  parse_opts(sys.argv[4:]))
    elif mode == "churn":
        mode_churn(t, float(sys.argv[2]), int(sys.argv[3]))
    elif mode == "perm":
        mode_perm(t, float(sys.argv[2]), int(sys.argv[3]))
    elif mode == "warm":
        mode_warm(t)
    elif mode == "consist":
        mode_consist(t, sys.argv[2] if len(sys.argv) > 2 else "?")
    else:
        sys.exit("nlfuzz.py: no mode %r" % mode)
    t.end()


if __name__ == "__main__":
    main()
