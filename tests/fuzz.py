#!/usr/bin/python3
"""Random packets against gwB's receive path (tests/wire.sh, part 5).

    fuzz.py <sa file> <count> <seed> <gwB eth0 MAC> <router eth1 MAC>

Run in the initial namespace; it sends from the router's eth1 and reads
gwB's counters. Each line of the SA file is one inbound group of gwB:

    label spi src dst inner-src inner-dst layers esp-kind enc-key auth-key [ah-key]

layers is "comp+esp+ah", "esp" ...: what wraps the inner packet, inner to
outer, under the IPIP SA; esp-kind is gcm, gcm-esn or cbc (AES-CBC with
HMAC-SHA1-96 keyed with auth-key); AH is HMAC-SHA1-96 keyed with ah-key.
Keys in hex, "-" for none. The crypto is done here, with the cryptography
package and hashlib, not with klips's code.

Two kinds of packets, in turn (the contents chosen by the seed):

  - sealed: every layer valid (a good ICV, fresh sequence numbers), the
    content random: inner packets random, cut, or with broken headers;
    any next header, pad length and padding; IPComp with random data, a
    cut or corrupt DEFLATE stream, a decompression bomb, IPComp inside
    IPComp, a wrong CPI; a layer skipped, doubled or reordered. Each must
    come out of klips exactly once: delivered on ipsec0 (its rx_packets)
    or counted in exactly one In* counter of /proc/net/ipsec/stats.
    Among them, valid packets with random IPv4 options or IPv6 Hop-by-Hop
    and Destination Options headers before AH, the ICV computed here from
    RFC 4302's rules: each must be delivered. Every class of every group
    comes once before classes are drawn at random.
  - broken: a sealed packet with bytes flipped, cut or added anywhere in
    the outer IP packet, or the outer protocol changed (the kinds in
    turn). Each may be dropped before klips (the IP stack), so only:
    counted at most once.

After each packet a valid one, a fence, whose inner packet hostB must
receive: gwB handles the frames of its eth0 in order, so once the fence is
at hostB every count of the packet before it has shown (no fixed settle).

TAP lines on stdout, a check per class of sealed packets (of all the
groups together), one per kind of damage, one for the fences: 6 + 3 with
ESP + 7 with IPComp + 4 with AH in some group, + 5 + 1, whatever the count
and seed. The first mismatches are shown with their packets. The last
line, once the run got to its end, is "# checks: <n>"; the exit status 1
if a check failed, else 0.
"""
import os
import random
import select
import struct
import sys
import time
import zlib
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from espcraft import setns, packet_socket, tap, finish, PACKET_OUTGOING  # noqa: E402
from ahcraft import ah_wrap, csum  # noqa: E402

IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP = 4, 41, 50, 51, 108


def inet(addr):
    import socket
    if ":" in addr:
        return socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_pton(socket.AF_INET, addr)


def ip4(src, dst, proto, payload, ttl=64, ident=0):
    h = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload),
                              ident, 0x4000, ttl, proto, 0, inet(src), inet(dst)))
    struct.pack_into(">H", h, 10, csum(h))
    return bytes(h) + payload


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       inet(src), inet(dst)) + payload


def icmp_echo(ident, data):
    h = bytearray(struct.pack(">BBHHH", 8, 0, 0, ident, 1) + data)
    struct.pack_into(">H", h, 2, csum(h + (b"\0" if len(h) % 2 else b"")))
    return bytes(h)


class Group:
    def __init__(self, line):
        f = line.split()
        (self.label, spi, self.src, self.dst, self.isrc, self.idst,
         layers, self.kind, ekey, akey) = f[:10]
        hkey = f[10] if len(f) > 10 else "-"
        self.spi = int(spi, 16)
        self.layers = layers.split("+")
        self.ekey = bytes.fromhex(ekey)
        self.akey = bytes.fromhex(akey) if akey != "-" else None
        self.hkey = bytes.fromhex(hkey) if hkey != "-" else None
        self.v6 = ":" in self.dst
        self.iv6 = ":" in self.idst
        self.seq = 0          # ESP's and AH's counters (fresh numbers only)
        self.ah_seq = 0

    # Layers ----------------------------------------------------------------

    def esp(self, payload, nh, padlen=None, padding=None, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        gcm = self.kind.startswith("gcm")
        block = 4 if gcm else 16
        if padding is None:
            n = (-(len(payload) + 2)) % block
            padding = bytes(range(1, n + 1))
        if padlen is None:
            padlen = len(padding)
        pt = payload + padding + bytes([padlen & 0xFF, nh & 0xFF])
        hdr = struct.pack(">II", self.spi, seq & 0xFFFFFFFF)
        if gcm:
            iv = struct.pack(">Q", seq)
            aad = hdr
            if self.kind == "gcm-esn":
                aad = struct.pack(">III", self.spi, seq >> 32, seq & 0xFFFFFFFF)
            ct = AESGCM(self.ekey[:-4]).encrypt(self.ekey[-4:] + iv, pt, aad)
            return hdr + iv + ct
        iv = struct.pack(">QQ", seq, self.spi)
        if len(pt) % 16:      # a trailer that breaks the block size: as is
            enc = pt
        else:
            e = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).encryptor()
            enc = e.update(pt) + e.finalize()
        icv = hmac.new(self.akey, hdr + iv + enc, hashlib.sha1).digest()[:12]
        return hdr + iv + enc + icv

    def comp(self, data, nh, cpi=None):
        return struct.pack(">BBH", nh, 0, self.spi & 0xFFFF if cpi is None else cpi) + data

    def outer(self, proto, payload):
        if self.v6:
            return ip6(self.src, self.dst, proto, payload)
        return ip4(self.src, self.dst, proto, payload)

    def ah(self, packet):
        self.ah_seq += 1
        return ah_wrap(packet, self.spi, self.ah_seq, self.hkey)

    def ah_options(self, rnd, proto, payload):
        """The outer packet with random IPv4 options, or IPv6 Hop-by-Hop
        and Destination Options headers of random TLVs, before AH; the ICV
        computed here as RFC 4302 and XFRM say: IPv4 options other than
        End, NOP, the security options, Router Alert and SDMD zeroed whole;
        IPv6 options whose type has the may-change bit (0x20) with their
        data zeroed."""
        self.ah_seq += 1
        ah = bytearray(struct.pack(">BBHII", proto, 4, 0, self.spi, self.ah_seq) + bytes(12))
        if self.v6:
            exts = []
            for nh_type in rnd.sample((0, 60), rnd.randrange(1, 3)):
                exts.append((nh_type, v6_tlvs(rnd)))
            exts.sort()           # Hop-by-Hop first
            chain = [t for t, _ in exts] + [IPPROTO_AH]
            hdrs = b"".join(bytes([chain[i + 1], (len(body) + 2) // 8 - 1]) + body
                            for i, (_, body) in enumerate(exts))
            rest = hdrs + bytes(ah) + payload
            base = bytearray(ip6(self.src, self.dst, chain[0], rest))
            z = bytearray(base[:40 + len(hdrs)])
            z[0:4] = b"\x60\0\0\0"
            z[7] = 0
            off = 40
            for _, body in exts:
                zero_v6_tlvs(z, off + 2, off + 2 + len(body))
                off += 2 + len(body)
            ah[12:] = hmac.new(self.hkey, bytes(z) + bytes(ah) + payload,
                               hashlib.sha1).digest()[:12]
            return bytes(base[:40 + len(hdrs)]) + bytes(ah) + payload
        opts, zeroed = v4_options(rnd)
        hlen = 20 + len(opts)
        h = bytearray(struct.pack(">BBHHHBBH4s4s", 0x40 | hlen // 4, 0,
                                  hlen + 24 + len(payload), rnd.randrange(65536),
                                  0x4000, 64, IPPROTO_AH, 0, inet(self.src),
                                  inet(self.dst)) + opts)
        struct.pack_into(">H", h, 10, csum(h))
        z = bytearray(h[:20]) + zeroed
        z[1] = 0
        z[6:12] = bytes([0, 0, 0, IPPROTO_AH, 0, 0])
        ah[12:] = hmac.new(self.hkey, bytes(z) + bytes(ah) + payload,
                           hashlib.sha1).digest()[:12]
        return bytes(h) + bytes(ah) + payload

    def inner(self, rnd, size=None, text=False):
        """A valid inner ICMP echo (v4) or a UDP datagram (v6), its data
        random or (@text) repetitive, so that DEFLATE uses Huffman codes
        rather than a stored block."""
        n = size if size is not None else rnd.randrange(0, 300)
        if text:
            data = (b"klips %d " % rnd.randrange(10) * n)[:n]
        else:
            data = rnd.randbytes(n)
        if self.iv6:
            udp = struct.pack(">HHHH", 40000, 9, 8 + len(data), 0) + data
            return ip6(self.isrc, self.idst, 17, udp)
        return ip4(self.isrc, self.idst, 1, icmp_echo(rnd.randrange(65536), data),
                   ident=rnd.randrange(65536))

    def seal(self, inner, nh, rnd, comp=True, esp_kw=None, ah=True):
        """inner (with next header nh) in every layer of the group."""
        payload, proto = inner, nh
        if "comp" in self.layers and comp:
            payload = self.comp(zlib.compress(payload, 9)[2:-4], proto)
            proto = IPPROTO_COMP
        if "esp" in self.layers:
            payload = self.esp(payload, proto, **(esp_kw or {}))
            proto = IPPROTO_ESP
        pkt = self.outer(proto, payload)
        if "ah" in self.layers and ah:
            pkt = self.ah(pkt)
        return pkt

    # The sealed classes ----------------------------------------------------

    def classes(self):
        c = ["valid inner packet", "random inner bytes", "inner cut",
             "inner header bytes changed", "inner of the other family",
             "random next header"]
        if "esp" in self.layers:
            c += ["random padding", "random pad length", "ESP inside ESP"]
        if "comp" in self.layers:
            c += ["IPComp: random data", "IPComp: DEFLATE cut",
                  "IPComp: decompression bomb", "IPComp: a DEFLATE bit flipped",
                  "IPComp inside IPComp", "IPComp: another CPI",
                  "IPComp skipped"]
        if "ah" in self.layers:
            c += ["AH skipped", "AH around random bytes", "AH inside AH",
                  "options before AH", "options before AH"]
        return c

    def fence(self, n):
        """A valid packet in every layer whose inner packet carries
        "klips-fence <n> ": hostB sees it once gwB handled everything sent
        before it."""
        data = b"klips-fence %d " % n
        if self.iv6:
            udp = struct.pack(">HHHH", 40000, 9, 8 + len(data), 0) + data
            inner = ip6(self.isrc, self.idst, 17, udp)
        else:
            inner = ip4(self.isrc, self.idst, 1, icmp_echo(n & 0xFFFF, data))
        return data, self.seal(inner, IPPROTO_IPV6 if self.iv6 else IPPROTO_IPIP,
                               None)

    def sealed(self, rnd, what=None):
        """(what, packet): a random content in valid layers (of class
        @what, or of a random one)."""
        inh = IPPROTO_IPV6 if self.iv6 else IPPROTO_IPIP
        what = what or rnd.choice(self.classes())
        if what == "valid inner packet":
            return what, self.seal(self.inner(rnd), inh, rnd)
        if what == "random inner bytes":
            return what, self.seal(rnd.randbytes(rnd.randrange(0, 120)), inh, rnd)
        if what == "inner cut":
            p = self.inner(rnd)
            return what, self.seal(p[:rnd.randrange(0, len(p))], inh, rnd)
        if what == "inner header bytes changed":
            p = bytearray(self.inner(rnd))
            for _ in range(rnd.randrange(1, 4)):
                p[rnd.randrange(0, 40 if self.iv6 else 20)] = rnd.randrange(256)
            return what, self.seal(bytes(p), inh, rnd)
        if what == "inner of the other family":
            return what, self.seal(self.inner(rnd), IPPROTO_IPIP if self.iv6 else IPPROTO_IPV6, rnd)
        if what == "random next header":
            return what, self.seal(self.inner(rnd), rnd.randrange(256), rnd)
        if what == "random padding":
            pad = rnd.randbytes(rnd.randrange(0, 20))
            return what, self.seal(self.inner(rnd), inh, rnd, esp_kw={"padding": pad})
        if what == "random pad length":
            return what, self.seal(self.inner(rnd), inh, rnd,
                                   esp_kw={"padlen": rnd.randrange(256)})
        if what == "ESP inside ESP":
            p = self.seal(self.inner(rnd), inh, rnd, ah=False)
            e = self.esp(p[40 if self.v6 else 20:], IPPROTO_ESP)
            return what, self.wrap_ah(self.outer(IPPROTO_ESP, e))
        if what == "IPComp: random data":
            return what, self.seal_raw(self.comp(rnd.randbytes(rnd.randrange(0, 200)), inh))
        if what == "IPComp: DEFLATE cut":
            # At least 2 bytes short: the kernel's inflate (XFRM's too)
            # feeds itself one zero byte when its input runs out, so a
            # stream short of a last byte of zero bits is whole.
            d = zlib.compress(self.inner(rnd, 400, rnd.random() < 0.5), 9)[2:-4]
            return what, self.seal_raw(self.comp(d[:rnd.randrange(0, len(d) - 1)], inh))
        if what == "IPComp: decompression bomb":
            d = zlib.compress(bytes(rnd.choice((70000, 1 << 20))), 9)[2:-4]
            return what, self.seal_raw(self.comp(d, inh))
        if what == "IPComp: a DEFLATE bit flipped":
            d = bytearray(zlib.compress(self.inner(rnd, 400, rnd.random() < 0.5), 9)[2:-4])
            d[rnd.randrange(len(d))] ^= 1 << rnd.randrange(8)
            return what, self.seal_raw(self.comp(bytes(d), inh))
        if what == "IPComp inside IPComp":
            c = self.comp(zlib.compress(self.inner(rnd), 9)[2:-4], inh)
            return what, self.seal_raw(self.comp(zlib.compress(c, 9)[2:-4], IPPROTO_COMP))
        if what == "IPComp: another CPI":
            cpi = rnd.randrange(65535)
            c = self.comp(zlib.compress(self.inner(rnd), 9)[2:-4], inh,
                          cpi=cpi + (cpi >= (self.spi & 0xFFFF)))
            return what, self.seal_raw(c)
        if what == "IPComp skipped":
            return what, self.seal(self.inner(rnd), inh, rnd, comp=False)
        if what == "AH skipped":
            return what, self.seal(self.inner(rnd), inh, rnd, ah=False)
        if what == "AH around random bytes":
            pkt = self.outer(rnd.randrange(256), rnd.randbytes(rnd.randrange(0, 100)))
            return what, self.ah(pkt)
        if what == "options before AH":
            inner = self.inner(rnd)
            if "comp" in self.layers and rnd.random() < 0.5:
                inner = self.comp(zlib.compress(inner, 9)[2:-4], inh)
                nh = IPPROTO_COMP
            else:
                nh = inh
            return what, self.ah_options(rnd, IPPROTO_ESP, self.esp(inner, nh))
        # AH inside AH
        return what, self.ah(self.seal(self.inner(rnd), inh, rnd))

    def seal_raw(self, payload, proto=IPPROTO_COMP):
        """A payload that is already the comp layer, in the layers outside."""
        if "esp" in self.layers:
            payload = self.esp(payload, proto)
            proto = IPPROTO_ESP
        return self.wrap_ah(self.outer(proto, payload))

    def wrap_ah(self, pkt):
        return self.ah(pkt) if "ah" in self.layers else pkt


# IPv4 options that a receiving Linux accepts, and whether RFC 4302 has
# them in the ICV: (type, maker of the option's bytes after type and
# length, immutable).
V4_OPTS = (
    (148, lambda r: b"\0\0", True),                        # Router Alert
    (130, lambda r: r.randbytes(9), True),                 # Security
    (133, lambda r: r.randbytes(r.randrange(1, 6)), True),  # Extended Security
    (149, lambda r: r.randbytes(2), True),                 # SDMD
    (7, lambda r: b"\x04" + r.randbytes(4 * r.randrange(1, 4)), False),   # Record Route
    (68, lambda r: b"\x05\x00" + r.randbytes(4 * r.randrange(1, 4)), False),  # Timestamp
    (25, lambda r: r.randbytes(r.randrange(0, 6)), False),  # unknown: zeroed
    (158, lambda r: r.randbytes(r.randrange(0, 6)), False),
)


def v4_options(rnd):
    """Random IPv4 options, padded to 32 bits with End: (the bytes, the
    same with the mutable options zeroed)."""
    opts, zeroed, seen = b"", b"", set()
    for _ in range(rnd.randrange(1, 5)):
        t, body, keep = rnd.choice(V4_OPTS + ((1, None, True),))
        if t in seen and t in (7, 68):      # one of each, as Linux wants
            continue
        seen.add(t)
        o = bytes([1]) if t == 1 else bytes([t, 2 + len(b := body(rnd))]) + b
        if len(opts) + len(o) > 40:
            break
        opts += o
        zeroed += o if keep else bytes(len(o))
    pad = (-len(opts)) % 4
    return opts + bytes(pad), zeroed + bytes(pad)


def v6_tlvs(rnd):
    """The TLVs of an IPv6 Hop-by-Hop or Destination Options header (a
    multiple of 8 bytes with its 2 leading bytes): options of types Linux
    skips when it does not know them (high bits 00), some with the
    may-change bit, PadN between."""
    body = b""
    for _ in range(rnd.randrange(1, 4)):
        t = rnd.choice([x for x in range(0x08, 0x40) if x not in (0x20, 0x31)])
        data = rnd.randbytes(rnd.randrange(0, 12))
        body += bytes([t, len(data)]) + data
    n = (-(len(body) + 2)) % 8
    if n == 1:
        body += b"\0"                   # Pad1
    elif n:
        body += bytes([1, n - 2]) + bytes(n - 2)
    return body


def zero_v6_tlvs(b, start, end):
    """Zero, in place, the data of the options with the may-change bit."""
    i = start
    while i < end:
        t = b[i]
        if t == 0:
            i += 1
            continue
        n = b[i + 1]
        if t & 0x20:
            b[i + 2:i + 2 + n] = bytes(n)
        i += 2 + n


BROKEN = ("bits flipped", "cut", "bytes added", "outer protocol changed",
          "a payload byte changed")


def broken(rnd, pkt, kind):
    """A sealed packet damaged anywhere in its outer IP packet, in the
    way BROKEN[kind] says."""
    b = bytearray(pkt)
    if kind == 0:
        for _ in range(rnd.randrange(1, 6)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        return "bits flipped", bytes(b)
    if kind == 1:
        return "cut", bytes(b[:rnd.randrange(0, len(b))])
    if kind == 2:
        return "bytes added", bytes(b) + rnd.randbytes(rnd.randrange(1, 64))
    if kind == 3:
        v6 = b[0] >> 4 == 6
        b[6 if v6 else 9] = rnd.choice((IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP,
                                        IPPROTO_IPIP, IPPROTO_IPV6))
        if not v6:
            struct.pack_into(">H", b, 10, 0)
            struct.pack_into(">H", b, 10, csum(b[:20]))
        return "outer protocol changed", bytes(b)
    # A byte changed after the outer header, checksum and lengths fixed.
    v6 = b[0] >> 4 == 6
    hlen = 40 if v6 else 20
    if len(b) > hlen:
        i = rnd.randrange(hlen, len(b))
        b[i] = rnd.randrange(256)
    return "a payload byte changed", bytes(b)


def counters():
    """gwB's In* counters and ipsec0's received packets."""
    c = {}
    with open("/proc/net/ipsec/stats") as f:
        for line in f:
            name, value = line.split()
            if name.startswith("In"):
                c[name] = int(value)
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("ipsec0:"):
                c["delivered"] = int(line.split(":", 1)[1].split()[1])
    return c


def moved(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] != a.get(k, 0)}


def main(argv):
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    safile, count, seed, gwb_mac, router_mac = argv
    with open(safile) as f:
        groups = [Group(line) for line in f if line.strip()]
    rnd = random.Random(int(seed))
    eth = {False: bytes.fromhex(gwb_mac.replace(":", "")) +
           bytes.fromhex(router_mac.replace(":", "")) + b"\x08\x00"}
    eth[True] = eth[False][:12] + b"\x86\xdd"
    setns("router")
    tx = packet_socket("eth1", False)
    setns("hostB")
    rx = packet_socket("eth0", True)
    setns("gwB")

    def send(pkt, v6):
        tx.send(eth[v6] + pkt)

    def fenced(g, n, before):
        """gwB's counters once the fence sent after case @n reached hostB
        (then every count of the case has shown: gwB handles the frames of
        its eth0 in order, on the guest's one CPU, with synchronous
        crypto), minus the fence's own delivery; and whether it came."""
        marker, pkt = g.fence(n)
        send(pkt, g.v6)
        end = time.monotonic() + 2.0
        came = False
        while not came:
            left = end - time.monotonic()
            if left <= 0 or not select.select([rx], [], [], left)[0]:
                break
            data, addr = rx.recvfrom(65535)
            came = addr[2] != PACKET_OUTGOING and marker in data
        d = moved(before, counters())
        if came:
            d["delivered"] = d.get("delivered", 0) - 1
            if not d["delivered"]:
                del d["delivered"]
        return d, came

    # Every class of every group comes once first (in an order of the
    # seed), then classes at random: each class's check sees packets.
    names = sorted({c for g in groups for c in g.classes()})
    first = [(g, c) for g in groups for c in dict.fromkeys(g.classes())]
    rnd.shuffle(first)
    seen = {c: 0 for c in names}          # sealed packets per class
    outcome = {c: {} for c in names}      # class -> what moved -> times
    wrong = {c: [] for c in names}        # not exactly once
    hurt = {k: 0 for k in BROKEN}         # broken packets per kind
    hurt_wrong = {k: [] for k in BROKEN}  # counted more than once
    dead, dead_run = [], 0
    cases = int(count)
    for i in range(cases):
        # Sealed and broken packets in turn, the broken kinds in turn.
        if i % 2 == 0:
            g, what = first.pop() if first else (rnd.choice(groups), None)
            what, pkt = g.sealed(rnd, what)
            how = None
        else:
            g = rnd.choice(groups)
            what, pkt = g.sealed(rnd)
            how, pkt = broken(rnd, pkt, (i // 2) % len(BROKEN))
        before = counters()
        send(pkt, g.v6)
        d, came = fenced(g, i, before)
        if not came:
            dead.append("the fence after case %d (%s %s%s): not delivered; "
                        "moved: %s" % (i + 1, g.label, what,
                                       ", " + how if how else "", d))
            dead_run += 1
            if dead_run == 20:
                dead.append("20 fences in a row lost: the run stops at case "
                            "%d of %d" % (i + 1, cases))
                break
            continue
        dead_run = 0
        if how is None:
            seen[what] += 1
            for k in d:
                outcome[what][k] = outcome[what].get(k, 0) + 1
            if sum(d.values()) != 1:
                wrong[what].append("%s: %s\n  %s" % (g.label, d or "nothing moved",
                                                     pkt[:96].hex()))
        else:
            hurt[how] += 1
            if sum(d.values()) > 1:
                hurt_wrong[how].append("%s %s: %s\n  %s" % (g.label, what, d,
                                                            pkt[:96].hex()))

    def shown(lines):
        return "\n".join(lines[:8]) + ("\n... %d in all" % len(lines)
                                       if len(lines) > 8 else "")

    print("# seed %s, %d cases" % (seed, cases))
    # A layer skipped, doubled or foreign, a stream that does not end or
    # inflates past the cap, an inner packet cut or of the wrong family:
    # never delivered. Valid packets, with options before AH or without:
    # always delivered (the crypto here is right: the fuzz reaches past
    # the ICVs; klips's ICV agrees with RFC 4302's mutable fields as
    # computed here).
    never = ("AH skipped", "AH inside AH", "AH around random bytes",
             "ESP inside ESP", "IPComp inside IPComp", "IPComp: another CPI",
             "IPComp: decompression bomb", "IPComp: DEFLATE cut",
             "inner cut", "inner of the other family")
    always = ("valid inner packet", "options before AH")
    for what in names:
        out = outcome[what]
        print("# %s: %d packets: %s" % (what, seen[what], ", ".join(
            "%s %d" % kv for kv in sorted(out.items()))))
        errs = list(wrong[what])
        rule = "delivered or counted in one In* counter, exactly once"
        if what in never:
            rule = "never delivered, counted in one In* counter exactly once"
            if out.get("delivered"):
                errs.append("%d delivered" % out["delivered"])
        if what in always:
            rule = "all delivered, nothing counted"
            if set(out) - {"delivered"}:
                errs.append("moved: %s" % out)
        if not seen[what]:
            errs.append("no packet of this class: too few cases")
        tap(not errs, "fuzz: sealed, %s: %s" % (what, rule), shown(errs))
    for how in BROKEN:
        errs = list(hurt_wrong[how])
        print("# broken, %s: %d packets" % (how, hurt[how]))
        if not hurt[how]:
            errs.append("no packet of this kind: too few cases")
        tap(not errs, "fuzz: broken (%s): counted at most once" % how,
            shown(errs))
    tap(not dead, "fuzz: the valid packet after each case is delivered",
        shown(dead))
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
