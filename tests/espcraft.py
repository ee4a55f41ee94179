#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ESP on the wire, judged from outside the module (tests/wire.sh).

  espcraft.py decode <pcap> <sa file> <ping pattern hex>
      Decrypt every ESP packet of a capture with scapy's own
      SecurityAssociation (same keys and SPIs as the gateways), check the
      ICV, sequence numbers, IVs and padding, and that the inner packets
      are the pings and the TCP payload wire.sh sent.

  espcraft.py inject <sa file> <gwB eth0 MAC> <router eth1 MAC>
                     <gwB eth1 MAC> <hostB eth0 MAC>
      Build ESP packets by hand (fixed IVs, known plaintext), send them
      from the router namespace's eth1 towards gwB, and check what hostB
      receives and what gwB counts (/proc/net/ipsec/stats, ipsec_spi).

  espcraft.py tcpsink <port> <dir>
      A TCP server for wire.sh (run in hostB): each connection's data goes
      to <dir>/<first word of the data>.tcp.

SA file, one SA per line, fields separated by blanks:
  label spi(hex) outer-src outer-dst inner-src inner-dst crypt key auth key
with scapy's algorithm names (CRYPT_ALGOS, AUTH_ALGOS) and "-" for no key.

Output is TAP without numbers ("ok - ...", "not ok - ...", "# ...") for
lib.sh's helper_run, and as the last line "# checks: <n>", printed only
when the run got to its end; the exit status is 0 when every check
passed, 1 when one failed. The number of checks depends on the arguments
only, never on what happened: decode makes 1 + 3 per SA of the SA file,
inject 142 (its fixed list of cases).
"""
import ctypes
import os
import select
import socket
import struct
import sys
import time

PATTERN_TCP_PORT = 5001


# [checks made, checks failed]: what finish() reports.
CHECKS = [0, 0]


def tap(good, what, diag=None):
    good = bool(good)
    CHECKS[0] += 1
    CHECKS[1] += not good
    print(("ok - " if good else "not ok - ") + what)
    if not good and diag:
        for line in str(diag).splitlines():
            print("#   " + line)
    return good


def finish():
    """The run's last line, and its exit status: 1 if a check failed."""
    print("# checks: %d" % CHECKS[0])
    return 1 if CHECKS[1] else 0


def tcp_payload(label):
    """What wire.sh sends over TCP for a suite: the same rule in bash."""
    return "".join("%s tcp payload %d\n" % (label, i)
                   for i in range(1, 9)).encode()


class SA:
    """One line of the SA file, and scapy's SecurityAssociation for it."""

    def __init__(self, line):
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6
        f = line.split()
        (self.label, spi, self.src, self.dst, self.isrc, self.idst,
         self.crypt, ckey, self.auth, akey) = f[:10]
        self.spi = int(spi, 16)
        self.ckey = bytes.fromhex(ckey) if ckey != "-" else None
        self.akey = bytes.fromhex(akey) if akey != "-" else None
        self.v6 = ":" in self.dst
        self.hdr = (IPv6(src=self.src, dst=self.dst) if self.v6
                    else IP(src=self.src, dst=self.dst))
        self.sa = self.make(self.ckey, self.akey)

    def make(self, ckey, akey):
        from scapy.layers.ipsec import SecurityAssociation, ESP
        return SecurityAssociation(
            ESP, spi=self.spi, crypt_algo=self.crypt, crypt_key=ckey,
            auth_algo=self.auth if self.auth != "-" else None,
            auth_key=akey, tunnel_header=self.hdr)

    def said(self):
        return "esp%s%x@%s" % (":" if self.v6 else ".", self.spi, self.dst)

    def icv_len(self):
        algo = self.sa.crypt_algo
        return algo.icv_size if algo.is_aead else self.sa.auth_algo.icv_size

    def align(self):
        bs = self.sa.crypt_algo.block_size
        return bs * 4 // _gcd(bs, 4)

    def wrong_key(self):
        """The same SA with one bit of its integrity key flipped."""
        if self.akey:
            akey = bytes([self.akey[0] ^ 1]) + self.akey[1:]
            return self.make(self.ckey, akey)
        ckey = bytes([self.ckey[0] ^ 1]) + self.ckey[1:]
        return self.make(ckey, self.akey)


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def read_sas(path):
    with open(path) as f:
        return [SA(line) for line in f if line.strip()]


def plaintext(sa, esp):
    """Everything ESP encrypted, trailer included (scapy drops the pad).

    Mirrors scapy's CryptAlgo.decrypt, keeping what it throws away; the
    ICV has been checked by scapy's own decrypt before this runs.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher
    from cryptography.hazmat.primitives.ciphers.aead import AESCCM
    s = sa.sa
    algo = s.crypt_algo
    icv = sa.icv_len()
    body = bytes(esp.data)
    iv = body[:algo.iv_size]
    ct = body[algo.iv_size:len(body) - icv]
    tag = body[len(body) - icv:]
    nonce = algo._format_mode_iv(sa=s, iv=iv)
    if algo.is_aead:
        aad = struct.pack("!LL", esp.spi, esp.seq)
        if algo.cipher is AESCCM:
            c = AESCCM(s.crypt_key, tag_length=icv)
        else:
            c = algo.cipher(s.crypt_key)
        return iv, ct, c.decrypt(nonce, ct + tag, aad)
    dec = Cipher(algo.cipher(s.crypt_key), algo.mode(nonce)).decryptor()
    return iv, ct, dec.update(ct) + dec.finalize()


def inner_ok(inner, v6):
    """The inner header is whole and exactly as long as what it carried."""
    if v6:
        return (len(inner) >= 40 and inner[0] >> 4 == 6 and
                40 + struct.unpack("!H", inner[4:6])[0] == len(inner))
    if len(inner) < 20 or inner[0] >> 4 != 4:
        return False
    ihl = (inner[0] & 15) * 4
    return (struct.unpack("!H", inner[2:4])[0] == len(inner) and
            _csum(inner[:ihl]) == 0)


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s ^ 0xffff


# --- decode ------------------------------------------------------------------

def decode(pcap, safile, pattern_hex):
    from scapy.layers.ipsec import ESP, IPSecIntegrityError
    from scapy.layers.inet import IP, ICMP, TCP
    from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest, ICMPv6EchoReply
    from scapy.utils import rdpcap
    pattern = bytes.fromhex(pattern_hex) * 2
    sas = read_sas(safile)
    by_spi = {sa.spi: sa for sa in sas}
    pkts = {sa.spi: [] for sa in sas}
    other = 0
    for p in rdpcap(pcap):
        if ESP in p and p[ESP].spi in by_spi:
            pkts[p[ESP].spi].append(p[IPv6] if IPv6 in p else p[IP])
        elif ESP in p:
            other += 1
    tap(other == 0, "decode: every ESP packet captured has one of the "
        "configured SPIs", "%d packets with another SPI" % other)
    ok = True
    for sa in sas:
        ok &= decode_sa(sa, pkts[sa.spi], pattern, ESP, IPSecIntegrityError,
                        (IP, ICMP, TCP, IPv6, ICMPv6EchoRequest,
                         ICMPv6EchoReply))
    return ok


def decode_sa(sa, pkts, pattern, ESP, IntegrityError, layers):
    IP, ICMP, TCP, IPv6, EchoReq, EchoRep = layers
    name = "scapy %s %s (%s %s)" % (sa.label, sa.said(), sa.crypt,
                                    sa.auth if sa.auth != "-" else "AEAD")
    errs, seqs, ivs, inners = [], [], set(), []
    wrong = sa.wrong_key()
    wrong_passed = 0
    for p in pkts:
        esp = p[ESP]
        seqs.append(esp.seq)
        if p.src != sa.src or p.dst != sa.dst:
            errs.append("seq %d: outer %s -> %s" % (esp.seq, p.src, p.dst))
        try:
            dec = sa.sa.decrypt(p.copy())
        except IntegrityError as e:
            errs.append("seq %d: ICV does not verify (%s)" % (esp.seq, e))
            continue
        except Exception as e:
            errs.append("seq %d: scapy cannot decrypt: %r" % (esp.seq, e))
            continue
        try:
            wrong.decrypt(p.copy())
            wrong_passed += 1
        except Exception:
            pass
        iv, ct, pt = plaintext(sa, esp)
        ivs.add(iv)
        padlen = pt[-2]
        inner = pt[:len(pt) - 2 - padlen]
        if pt[len(pt) - 2 - padlen:-2] != bytes(range(1, padlen + 1)):
            errs.append("seq %d: padding %s" % (esp.seq, pt[-2 - padlen:-2]
                                                .hex()))
        if len(ct) % sa.align() or padlen >= sa.align():
            errs.append("seq %d: %d bytes of ciphertext, pad length %d "
                        "(alignment %d)" % (esp.seq, len(ct), padlen,
                                            sa.align()))
        if pt[-1] != (41 if sa.v6 else 4):
            errs.append("seq %d: next header %d" % (esp.seq, pt[-1]))
        if bytes(dec) != inner:
            errs.append("seq %d: scapy's inner packet differs from the "
                        "plaintext" % esp.seq)
        if not inner_ok(inner, sa.v6):
            errs.append("seq %d: inner header invalid: %s" %
                        (esp.seq, inner[:40].hex()))
        inners.append(dec)
    n = len(pkts)
    if seqs != list(range(1, n + 1)):
        errs.append("sequence numbers %s, not 1..%d" % (seqs, n))
    if len(ivs) != n:
        errs.append("%d distinct IVs in %d packets" % (len(ivs), n))
    good = tap(n >= 3 and not errs,
               "%s: %d packets, every ICV verifies, seq 1..%d, distinct "
               "IVs, padding 1, 2, 3, ..." % (name, n, n),
               "\n".join(errs) or "only %d packets" % n)
    good &= tap(n > 0 and wrong_passed == 0,
                "%s: with one key bit flipped no ICV verifies (the verifier "
                "can fail)" % name, "%d of %d passed" % (wrong_passed, n))

    # The inner packets: hostA's pings and TCP payload, or hostB's answers.
    req = sa.isrc.startswith(("10.1.", "fd01:"))
    wrong_addr = [x for x in inners if (x.src, x.dst) != (sa.isrc, sa.idst)]
    if sa.v6:
        echo = EchoReq if req else EchoRep
        pings = [x for x in inners if echo in x and
                 pattern in bytes(x[echo].data)]
    else:
        pings = [x for x in inners if ICMP in x and
                 x[ICMP].type == (8 if req else 0) and
                 pattern in bytes(x[ICMP].payload)]
    payload = tcp_payload(sa.label.split("/")[0])
    if req:
        # The stream's data in sequence order (a segment a line, or one).
        segs = {x[TCP].seq: bytes(x[TCP].payload) for x in inners
                if TCP in x and x[TCP].dport == PATTERN_TCP_PORT and
                len(x[TCP].payload)}
        stream = b"".join(segs[k] for k in sorted(segs))
        tcp = [stream] if stream == payload else []
    else:
        tcp = [x for x in inners if TCP in x and
               x[TCP].sport == PATTERN_TCP_PORT and x[TCP].flags.S]
    good &= tap(not wrong_addr and len(pings) == 2 and len(tcp) == 1,
                "%s: inner packets %s -> %s: 2 echo %s with the pattern, "
                "%s" % (name, sa.isrc, sa.idst,
                        "requests" if req else "replies",
                        "the TCP payload" if req else "the SYN-ACK"),
                "wrong addresses: %d, pings: %d, TCP: %d\n%s" %
                (len(wrong_addr), len(pings), len(tcp),
                 "\n".join(x.summary() for x in inners)))
    return good


# --- inject ------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
GWB4 = socket.inet_pton(socket.AF_INET, "10.2.0.1")
GWB6 = socket.inet_pton(socket.AF_INET6, "fd02::1")
_libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET):
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (name, os.strerror(e)))
    finally:
        os.close(fd)


def packet_socket(ifname, rx):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL) if rx else 0)
    s.bind((ifname, 0))
    return s


def drain(s):
    while select.select([s], [], [], 0)[0]:
        s.recv(65535)


ERR_FIELDS = ("ooo_errs", "auth_errs", "encr_size_errs", "encr_pad_errs")


def snapshot():
    """gwB's error counters: stats, every SA's error fields, xfrm_stat."""
    snap = {}
    with open("/proc/net/ipsec/stats") as f:
        for line in f:
            name, value = line.split()
            snap[name] = int(value)
    with open("/proc/net/ipsec_spi") as f:
        for line in f:
            words = line.split()
            for w in words:
                k, _, v = w.partition("=")
                if k in ERR_FIELDS:
                    snap["%s %s" % (words[0], k)] = int(v)
    with open("/proc/net/xfrm_stat") as f:
        for line in f:
            name, value = line.split()
            snap[name] = int(value)
    return snap


def delta(before, after):
    keys = set(before) | set(after)
    d = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    return {k: v for k, v in d.items() if v}


class Injector:
    def __init__(self, sas, gwb_mac, router_mac, gwb1_mac, hostb_mac):
        from scapy.layers.l2 import Ether
        self.sas = {sa.label: sa for sa in sas}
        self.seq = {sa.label: 0 for sa in sas}
        self.eth4 = bytes(Ether(dst=gwb_mac, src=router_mac, type=0x800))
        self.eth6 = bytes(Ether(dst=gwb_mac, src=router_mac, type=0x86dd))
        # From hostB's side, into gwB's eth1 (no ipsecN attached there).
        self.eth4_b = bytes(Ether(dst=gwb1_mac, src=hostb_mac, type=0x800))
        self.ident = 0x4000
        setns("router")
        self.tx = packet_socket("eth1", False)
        self.wire = packet_socket("eth1", True)
        setns("hostB")
        self.rx = packet_socket("eth0", True)
        self.tx_b = packet_socket("eth0", False)
        setns("gwB")
        # gwB's own packet socket: its clones share data with the skbs
        # klips decrypts (no mmap ring, so read only afterwards).
        self.clones = packet_socket("eth0", True)
        self.clones.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.clone_errs = []
        self.clone_frames = 0
        self.sent = []
        self.last_good = {}

    # Packets ---------------------------------------------------------------

    def next_seq(self, label):
        self.seq[label] += 1
        return self.seq[label]

    def echo(self, v6=False, size=32, src=None, dst=None, tos=0, ce=False):
        """An inner ICMP echo request from hostA to hostB, and what hostB
        must receive: the same bytes, TTL / hop limit one less (and with
        @ce, ECN marked CE)."""
        from scapy.layers.inet import IP, ICMP
        from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest
        self.ident += 1
        data = (b"klips-wire %d " % self.ident) * (size // 8 + 1)
        data = data[:size]
        if v6:
            p = IPv6(src=src or "fd01::2", dst=dst or "fd02::2", hlim=64) / \
                ICMPv6EchoRequest(id=self.ident, seq=1, data=data)
            q = IPv6(bytes(p))
            q.hlim -= 1
        else:
            p = IP(src=src or "10.1.0.2", dst=dst or "10.2.0.2", ttl=64,
                   tos=tos, id=self.ident) / ICMP(id=self.ident, seq=1) / data
            q = IP(bytes(p))
            q.ttl -= 1
            if ce:
                q.tos |= 3
            del q.chksum
        return bytes(p), bytes(q)

    def udp(self):
        from scapy.layers.inet import IP, UDP
        self.ident += 1
        p = IP(src="10.1.0.2", dst="10.2.0.2", ttl=64, id=self.ident) / \
            UDP(sport=40000, dport=9) / (b"klips-wire udp %d" % self.ident)
        q = IP(bytes(p))
        q.ttl -= 1
        del q.chksum
        return bytes(p), bytes(q)

    def esp(self, label, payload, nh=None, seq=None, padding=None,
            padlen=None, ct_extra=b"", flip_icv=False):
        """ESP header, IV, ciphertext, ICV: built from scapy's pieces so
        that the trailer can be anything."""
        from scapy.layers.ipsec import _ESPPlain
        from scapy.packet import Raw
        sa = self.sas[label]
        s = sa.sa
        algo = s.crypt_algo
        if seq is None:
            seq = self.next_seq(label)
        if nh is None:
            nh = 41 if sa.v6 else 4
        iv = struct.pack("!Q", seq).rjust(algo.iv_size, b"\0")
        e = _ESPPlain(spi=sa.spi, seq=seq, iv=iv, data=Raw(payload), nh=nh)
        e = algo.pad(e)
        if padding is not None:
            e.padding = padding
            e.padlen = len(padding)
        if padlen is not None:
            e.padlen = padlen
        enc = algo.encrypt(s, e, s.crypt_key, s.crypt_icv_size)
        enc.data = bytes(enc.data) + ct_extra
        s.auth_algo.sign(enc, s.auth_key)
        b = bytes(enc)
        if flip_icv:
            b = b[:-1] + bytes([b[-1] ^ 0x80])
        return b

    def frames(self, label, espbytes, src=None, frag=0, reverse=False,
               tos=0, ext=False, proto=50):
        """The outer packet(s) as Ethernet frames from the router; with
        @ext, IPv4 options or an IPv6 destination options header; @proto
        other than ESP (50) sends @espbytes as that protocol."""
        from scapy.layers.inet import IP, IPOption_NOP, fragment
        from scapy.layers.inet6 import (IPv6, IPv6ExtHdrFragment, fragment6,
                                        IPv6ExtHdrDestOpt)
        from scapy.packet import Raw
        sa = self.sas[label]
        self.ident += 1
        if sa.v6:
            if frag:
                p = IPv6(src=src or sa.src, dst=sa.dst, hlim=64) / \
                    IPv6ExtHdrFragment(nh=proto, id=self.ident) / Raw(espbytes)
                out = [bytes(f) for f in fragment6(p, frag)]
            elif ext:
                out = [bytes(IPv6(src=src or sa.src, dst=sa.dst, hlim=64) /
                             IPv6ExtHdrDestOpt(nh=proto) / Raw(espbytes))]
            else:
                out = [bytes(IPv6(src=src or sa.src, dst=sa.dst, nh=proto,
                                  hlim=64) / Raw(espbytes))]
            eth = self.eth6
        else:
            p = IP(src=src or sa.src, dst=sa.dst, proto=proto, ttl=64,
                   tos=tos, id=self.ident,
                   options=[IPOption_NOP()] * 4 if ext else []) / \
                Raw(espbytes)
            if frag:
                out = [bytes(f) for f in fragment(p, fragsize=frag)]
            else:
                out = [bytes(p)]
            eth = self.eth4
        if reverse:
            out.reverse()
        return [eth + b for b in out]

    def good(self, label):
        sa = self.sas[label]
        inner, expect = self.echo(v6=sa.v6)
        f = self.frames(label, self.esp(label, inner))
        self.last_good[label] = f
        return f, expect

    # The wire --------------------------------------------------------------

    def send(self, frames, sock=None):
        for f in frames:
            (sock or self.tx).send(f)
        if not sock:
            self.sent += frames

    def start(self):
        drain(self.rx)
        drain(self.clones)
        self.sent = []

    def check_clones(self, what):
        """Every frame sent reads back unchanged from gwB's packet socket:
        nothing decrypted in place over data the clone shares."""
        seen = []
        while select.select([self.clones], [], [], 0)[0]:
            data, addr = self.clones.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING:
                seen.append(data)
        self.clone_frames += len(self.sent)
        bad = [f for f in self.sent if f not in seen]
        if bad:
            self.clone_errs.append("%s: %d of %d frames differ, e.g. %s" %
                                   (what, len(bad), len(self.sent),
                                    bad[0][:64].hex()))

    def collect(self, n, timeout=3.0, until=None):
        """What hostB received from the tunnel (its own traffic aside),
        once n packets came (with @until: once @until came) or the timeout
        passed."""
        got = []
        end = time.monotonic() + timeout
        while (until not in got) if until is not None else len(got) < n:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.rx], [], [], left)[0]:
                break
            data, addr = self.rx.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            etype, ip = data[12:14], data[14:]
            if etype == b"\x08\x00":
                if ip[12:16] != GWB4:
                    got.append(ip[:struct.unpack("!H", ip[2:4])[0]])
            elif etype == b"\x86\xdd":
                # Not gwB's own (neighbour discovery, link-local).
                if (ip[8:10] == b"\xfe\x80" or ip[8:24] == GWB6 or
                        ip[6] == 58 and 133 <= ip[40] <= 137):
                    continue
                got.append(ip[:40 + struct.unpack("!H", ip[4:6])[0]])
        return got

    # Checks ----------------------------------------------------------------

    def delivered(self, what, label, inner, expect, frames):
        """A valid packet: delivered byte-exact, no error counted."""
        before = snapshot()
        self.start()
        self.send(frames)
        got = self.collect(1)
        d = delta(before, snapshot())
        self.check_clones(what)
        tap(got == [expect], "%s: delivered to hostB byte-exact" % what,
            "expected %s\nreceived %s" % (expect.hex(),
                                           [g.hex() for g in got]))
        tap(not d, "%s: no error counted" % what, d)
        return got == [expect]

    def dropped(self, what, frames, want, good_label, via_b=False):
        """A bad packet: counted exactly as @want says (name -> delta),
        nothing else moves, nothing reaches hostB, a good packet after it
        passes."""
        before = snapshot()
        self.start()
        self.send(frames, self.tx_b if via_b else None)
        gframes, gexpect = self.good(good_label)
        self.send(gframes)
        # Until the good packet comes: gwB handles the frames of one
        # interface in order, so by then the bad one was delivered (before
        # it) or dropped, and counted.
        got = self.collect(1, until=gexpect)
        d = delta(before, snapshot())
        self.check_clones(what)
        tap(d == want, "%s: counted in %s and nothing else" %
            (what, ", ".join("%s +%d" % kv for kv in sorted(want.items()))),
            "counters that moved: %s" % d)
        tap(got == [gexpect], "%s: nothing delivered; a good packet after "
            "it is" % what, "received %s" % [g.hex() for g in got])

    def round_trip(self, inner_echo):
        """hostB's echo reply leaves gwB through its outbound SA: decrypt it
        on the router with scapy."""
        from scapy.layers.l2 import Ether
        from scapy.layers.inet import IP, ICMP
        from scapy.layers.ipsec import ESP
        sa = self.sas["out4"]
        req = IP(inner_echo)
        end = time.monotonic() + 3
        seen = []
        while time.monotonic() < end:
            if not select.select([self.wire], [], [], 0.2)[0]:
                continue
            data, addr = self.wire.recvfrom(65535)
            p = Ether(data)
            if ESP not in p or p[ESP].spi != sa.spi:
                continue
            try:
                rep = sa.sa.decrypt(p[IP].copy())
            except Exception as e:
                seen.append("seq %d: %r" % (p[ESP].seq, e))
                continue
            seen.append(rep.summary())
            if (ICMP in rep and rep[ICMP].type == 0 and
                    rep[ICMP].id == req[ICMP].id and
                    bytes(rep[ICMP].payload) == bytes(req[ICMP].payload)):
                return tap(True, "round trip: hostB's echo reply leaves gwB "
                           "as ESP that scapy decrypts (%s)" % sa.said())
        return tap(False, "round trip: hostB's echo reply leaves gwB as ESP "
                   "that scapy decrypts (%s)" % sa.said(), "\n".join(seen))


def inject(safile, *macs):
    sas = read_sas(safile)
    w = Injector(sas, *macs)
    cbc, gcm, v6 = w.sas["cbc4"], w.sas["gcm4"], w.sas["cbc6"]
    snap = snapshot()
    with open("/proc/net/ipsec_spi") as f:
        spi = f.read()
    if not tap(all(sa.said() in spi for sa in (cbc, gcm, v6)) and
               all(k in snap for k in ("InAuthError", "XfrmInNoStates")),
               "counters are gwB's: its ipsec_spi lists the SAs under test",
               spi):
        return

    # First, while it lives (30 s): the larval SA wire.sh made by getspi.
    e = bytearray(w.esp("cbc4", w.echo()[0]))
    e[0:4] = struct.pack("!L", 0x8000)
    w.dropped("larval SA esp.8000 (getspi, never filled in)",
              w.frames("cbc4", bytes(e)), {"InStateInvalid": 1}, "cbc4")

    # 2. Injected packets, each a different SA and inner protocol.
    drain(w.wire)
    inner, expect = w.echo()
    w.delivered("ICMP echo, AES-CBC/HMAC-SHA1 %s" % cbc.said(), "cbc4",
                inner, expect, w.frames("cbc4", w.esp("cbc4", inner)))
    w.round_trip(inner)
    inner, expect = w.udp()
    w.delivered("UDP datagram, AES-CBC/HMAC-SHA1", "cbc4", inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner)))
    inner, expect = w.echo()
    w.delivered("ICMP echo, AES-GCM-16 %s" % gcm.said(), "gcm4", inner,
                expect, w.frames("gcm4", w.esp("gcm4", inner)))
    inner, expect = w.echo(v6=True)
    w.delivered("ICMPv6 echo over IPv6, AES-CBC/HMAC-SHA2-256 %s" %
                v6.said(), "cbc6", inner, expect,
                w.frames("cbc6", w.esp("cbc6", inner)))

    # Large packets: fragmented outer, reassembled by gwB's stack, so
    # that ESP sees a non-linear skb (frag_list).
    for size, frag, rev in ((3000, 1400, False), (3000, 1400, True),
                            (8000, 1200, False)):
        inner, expect = w.echo(size=size)
        w.delivered("%d-byte ICMP echo, outer in %s fragments%s" %
                    (len(inner), "1400-byte" if frag == 1400 else "1200-byte",
                     ", last first" if rev else ""), "cbc4", inner, expect,
                    w.frames("cbc4", w.esp("cbc4", inner), frag=frag,
                             reverse=rev))
    inner, expect = w.echo(size=64)
    w.delivered("ESP header and IV split across 8-byte outer fragments, "
                "last first", "cbc4", inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner), frag=8, reverse=True))
    inner, expect = w.echo()
    w.delivered("outer IPv4 header with options (IHL 6)", "cbc4", inner,
                expect, w.frames("cbc4", w.esp("cbc4", inner), ext=True))
    inner, expect = w.echo(v6=True)
    w.delivered("outer IPv6 with a destination options header before ESP",
                "cbc6", inner, expect,
                w.frames("cbc6", w.esp("cbc6", inner), ext=True))
    inner, expect = w.echo(size=3000)
    w.delivered("%d-byte ICMP echo, AES-GCM-16, fragmented outer" %
                len(inner), "gcm4", inner, expect,
                w.frames("gcm4", w.esp("gcm4", inner), frag=1000))
    inner, expect = w.echo(v6=True, size=3000)
    w.delivered("%d-byte ICMPv6 echo, fragmented outer IPv6" % len(inner),
                "cbc6", inner, expect,
                w.frames("cbc6", w.esp("cbc6", inner), frag=1400))

    bad_cases(w, cbc, gcm, v6)
    tap(w.clone_frames and not w.clone_errs,
        "all %d frames sent read back unchanged from gwB's own packet "
        "socket (cloned skbs, nothing decrypted in place)" % w.clone_frames,
        "\n".join(w.clone_errs))


def bad_cases(w, cbc, gcm, v6):
    c, g, s6 = cbc.said(), gcm.said(), v6.said()
    inner = w.echo()[0]

    def ok4():
        return w.esp("cbc4", w.echo()[0])

    # ICV.
    w.dropped("bad ICV (AES-CBC/HMAC-SHA1)",
              w.frames("cbc4", w.esp("cbc4", inner, flip_icv=True)),
              {c + " auth_errs": 1, "InAuthError": 1}, "cbc4")
    e = bytearray(ok4())
    e[8 + 16] ^= 1
    w.dropped("flipped ciphertext bit (AES-CBC/HMAC-SHA1)",
              w.frames("cbc4", bytes(e)),
              {c + " auth_errs": 1, "InAuthError": 1}, "cbc4")
    w.dropped("bad ICV (AES-GCM-16)",
              w.frames("gcm4", w.esp("gcm4", inner, flip_icv=True)),
              {g + " auth_errs": 1, "InAuthError": 1}, "gcm4")
    w.dropped("bad ICV (IPv6, AES-CBC/HMAC-SHA2-256)",
              w.frames("cbc6", w.esp("cbc6", w.echo(v6=True)[0],
                                     flip_icv=True)),
              {s6 + " auth_errs": 1, "InAuthError": 1}, "cbc6")

    # A forged packet far ahead must not move the window: the good packet
    # after it, at top + 1, still passes.
    for label, said in (("cbc4", c), ("gcm4", g)):
        w.dropped("bad ICV at seq top + 10000 (%s): the window stays" % label,
                  w.frames(label, w.esp(label, w.echo()[0], flip_icv=True,
                                        seq=w.seq[label] + 10000)),
                  {said + " auth_errs": 1, "InAuthError": 1}, label)

    # Replay: the last good packet again; then behind the window.
    w.dropped("replayed packet (the last good one again)", w.last_good["cbc4"],
              {c + " ooo_errs": 1, "InReplay": 1}, "cbc4")
    top = w.seq["cbc4"] + 100
    w.seq["cbc4"] = top - 1
    inner, expect = w.echo()
    w.delivered("a jump of 100 ahead (seq %d)" % top, "cbc4", inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner)))
    w.dropped("too old: seq %d, 64 behind the top with a window of 64" %
              (top - 64),
              w.frames("cbc4", w.esp("cbc4", w.echo()[0], seq=top - 64)),
              {c + " ooo_errs": 1, "InReplay": 1}, "cbc4")
    # The good packet after it moved the top on: the oldest slot now.
    slot = w.seq["cbc4"] - 63
    inner, expect = w.echo()
    w.delivered("the window's oldest slot: seq %d, 63 behind the top" % slot,
                "cbc4", inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner, seq=slot)))
    with open("/proc/net/ipsec_spi") as f:
        line = [x for x in f if x.startswith(c + " ")]
    tap(line and " max_seq_diff=63 " in line[0],
        "ipsec_spi shows max_seq_diff=63 for %s" % c, line)

    # Truncation at every offset class (a valid packet, cut short).
    full = ok4()
    for what, n, want in (
            ("IP header only", 0, {"InHdrError": 1}),
            ("SPI only", 4, {"InHdrError": 1}),
            ("SPI and half the sequence number", 6, {"InHdrError": 1}),
            ("ESP header only", 8, {c + " encr_size_errs": 1,
                                    "InSizeError": 1}),
            ("ESP header and half the IV", 16, {c + " encr_size_errs": 1,
                                                "InSizeError": 1}),
            ("ESP header and IV, no ciphertext", 24,
             {c + " encr_size_errs": 1, "InSizeError": 1}),
            ("no ICV", len(full) - 12, {c + " encr_size_errs": 1,
                                        "InSizeError": 1}),
            ("ICV 4 bytes short", len(full) - 4,
             {c + " encr_size_errs": 1, "InSizeError": 1})):
        w.dropped("truncated, %s (%d bytes of ESP)" % (what, n),
                  w.frames("cbc4", full[:n]), want, "cbc4")
    short = w.esp("gcm4", b"", nh=59)
    w.dropped("truncated AES-GCM-16: %d bytes of ciphertext, no ICV" %
              (len(short) - 16 - 16), w.frames("gcm4", short[:-16]),
              {g + " encr_size_errs": 1, "InSizeError": 1}, "gcm4")
    w.dropped("truncated over IPv6: SPI only",
              w.frames("cbc6", w.esp("cbc6", w.echo(v6=True)[0])[:4]),
              {"InHdrError": 1}, "cbc6")

    # Ciphertext not a block multiple (its ICV is right).
    w.dropped("AES-CBC ciphertext 4 bytes past a block multiple",
              w.frames("cbc4", w.esp("cbc4", inner, ct_extra=b"\0" * 4)),
              {c + " encr_size_errs": 1, "InSizeError": 1}, "cbc4")

    # Padding (valid ICV): pad length past the payload, wrong pad bytes.
    inner = w.echo(size=20)[0]           # 48 bytes: 14 of padding
    w.dropped("pad length 200 in a 64-byte payload",
              w.frames("cbc4", w.esp("cbc4", inner, padlen=200)),
              {c + " encr_pad_errs": 1, "InPadError": 1}, "cbc4")
    pad = bytearray(range(1, 15))
    pad[6] = 0x42
    w.dropped("pad bytes 1..14 with the 7th 0x42",
              w.frames("cbc4", w.esp("cbc4", inner, padding=bytes(pad))),
              {c + " encr_pad_errs": 1, "InPadError": 1}, "cbc4")
    pad = bytearray(range(1, 31))
    pad[29] = 0
    w.dropped("30 pad bytes (a valid longer pad) with the last 0",
              w.frames("cbc4", w.esp("cbc4", inner, padding=bytes(pad))),
              {c + " encr_pad_errs": 1, "InPadError": 1}, "cbc4")
    w.dropped("AES-GCM-16 pad bytes 1, 2, 7",
              w.frames("gcm4", w.esp("gcm4", w.echo(size=31)[0],
                                     padding=b"\1\2\7")),
              {g + " encr_pad_errs": 1, "InPadError": 1}, "gcm4")
    inner, expect = w.echo(size=20)
    w.delivered("30 pad bytes 1..30 (longer than needed, valid)", "cbc4",
                inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner,
                                       padding=bytes(range(1, 31)))))

    # Valid ESP, invalid inner packet.
    from scapy.layers.inet import IP
    good = IP(w.echo()[0])
    bad_sum = good.copy()
    bad_sum.chksum ^= 0xffff
    ihl4 = bytearray(bytes(good))
    ihl4[0] = 0x44
    v6hdr = bytearray(bytes(good))
    v6hdr[0] = 0x65
    long_ = good.copy()
    long_.len += 8
    del long_.chksum
    for what, b in (("inner IPv4 header checksum wrong", bytes(bad_sum)),
                    ("inner IHL 4", bytes(ihl4)),
                    ("inner total length 8 past the payload", bytes(long_)),
                    ("inner version 6 behind next header 4", bytes(v6hdr))):
        w.dropped(what, w.frames("cbc4", w.esp("cbc4", b)),
                  {"InInnerHeaderError": 1}, "cbc4")
    w.dropped("next header 4 and nothing inside (the pad takes it all)",
              w.frames("cbc4", w.esp("cbc4", b"", padding=bytes(range(1,
                                                                       15)))),
              {"InInnerHeaderError": 1}, "cbc4")
    b6 = bytearray(w.echo(v6=True)[0])
    b6[5] += 8
    w.dropped("inner IPv6 payload length past the payload",
              w.frames("cbc6", w.esp("cbc6", bytes(b6))),
              {"InInnerHeaderError": 1}, "cbc6")

    # Inner addresses outside the SA's policy (eroute --addin), a layer
    # skipped, the wrong outer source.
    w.dropped("inner source 10.9.9.9, outside 10.1.0.0/24",
              w.frames("cbc4", w.esp("cbc4", w.echo(src="10.9.9.9")[0])),
              {"InPolicyError": 1}, "cbc4")
    w.dropped("inner destination 10.3.0.1, outside 10.2.0.0/24",
              w.frames("cbc4", w.esp("cbc4", w.echo(dst="10.3.0.1")[0])),
              {"InPolicyError": 1}, "cbc4")
    w.dropped("inner IPv6 in an SA whose policy is IPv4",
              w.frames("cbc4", w.esp("cbc4", w.echo(v6=True)[0], nh=41)),
              {"InPolicyError": 1}, "cbc4")
    w.dropped("inner IPv6 source fd09::2, outside fd01::/64",
              w.frames("cbc6", w.esp("cbc6",
                                     w.echo(v6=True, src="fd09::2")[0])),
              {"InPolicyError": 1}, "cbc6")
    w.dropped("next header 17 (UDP) in a tunnel group: IPIP skipped",
              w.frames("cbc4", w.esp("cbc4", w.udp()[0][20:], nh=17)),
              {"InPolicyError": 1}, "cbc4")
    # The wrong outer source is refused before the packet is verified: the
    # same packet from the SA's peer afterwards still passes, its sequence
    # number was not taken by the forgery (a later check alone would have
    # counted the same drop but consumed it).
    for label, src, peer, v6 in (("cbc4", "198.51.100.7", "192.0.2.1", False),
                                 ("cbc6", "2001:db8:2::7", "2001:db8:1::1",
                                  True)):
        sent, expect = w.echo(v6=v6)
        forged = w.esp(label, sent)
        w.dropped("outer source %s, not the SA's %s" % (src, peer),
                  w.frames(label, forged, src=src),
                  {"InPolicyError": 1}, label)
        w.delivered("the same packet then from %s: its sequence number "
                    "was not taken" % peer, label, sent, expect,
                    w.frames(label, forged))

    # Bare IPIP (no ESP) from the peer of a tun+esp group: the ESP layer
    # was skipped. Only IPComp may be (Documentation/klips/design.md).
    w.dropped("bare IPIP from the peer of a tun+esp group: ESP skipped",
              w.frames("cbc4", w.echo()[0], proto=4),
              {"InPolicyError": 1}, "cbc4")
    w.dropped("bare IPv6-in-IPv6 from the peer of a tun+esp group",
              w.frames("cbc6", w.echo(v6=True)[0], proto=41),
              {"InPolicyError": 1}, "cbc6")
    w.dropped("bare IPIP from an address with no tun SA: not ours",
              w.frames("cbc4", w.echo()[0], proto=4, src="198.51.100.7"),
              {"InNotOurs": 1}, "cbc4")

    w.dropped("next header 50 (ESP inside ESP) in a tunnel group",
              w.frames("cbc4", w.esp("cbc4", w.esp("gcm4", inner, seq=1),
                                     nh=50)),
              {"InPolicyError": 1}, "cbc4")

    # RFC 6040 on decapsulation: CE onto ECT is copied, onto Not-ECT the
    # packet is dropped.
    inner, expect = w.echo(tos=2, ce=True)
    w.delivered("outer CE onto inner ECT(0): the inner packet marked CE",
                "cbc4", inner, expect,
                w.frames("cbc4", w.esp("cbc4", inner), tos=3))
    w.dropped("outer CE onto inner Not-ECT (RFC 6040: drop)",
              w.frames("cbc4", w.esp("cbc4", w.echo()[0]), tos=3),
              {"InInnerHeaderError": 1}, "cbc4")

    # Sequence number 0: never sent, the counter starts at 1.
    w.dropped("sequence number 0",
              w.frames("cbc4", w.esp("cbc4", w.echo()[0], seq=0)),
              {c + " ooo_errs": 1, "InReplay": 1}, "cbc4")

    # Valid, but in through gwB's eth1, which has no ipsecN attached.
    f = w.frames("cbc4", ok4())[0]
    w.dropped("valid ESP arriving on eth1, which no ipsecN is attached to",
              [w.eth4_b + f[14:]], {"InNoDevice": 1}, "cbc4", via_b=True)

    # Dummy packets (RFC 4303 2.6): dropped quietly.
    w.dropped("next header 59 (dummy)",
              w.frames("cbc4", w.esp("cbc4", b"\0" * 20, nh=59)),
              {"InDummy": 1}, "cbc4")
    w.dropped("next header 59 (dummy), AES-GCM-16",
              w.frames("gcm4", w.esp("gcm4", b"", nh=59)),
              {"InDummy": 1}, "gcm4")

    # An SA keyed outbound (--dir out) although its destination is gwB's
    # own address: it has no replay window and never receives. The same
    # packet three times is counted three times, never delivered.
    wrong = w.frames("wdir4", w.esp("wdir4", w.echo()[0], seq=1))
    w.dropped("valid ESP to an SA added with --dir out, sent three times",
              wrong * 3, {"InWrongDir": 3}, "cbc4")

    # Not ours: passed on, and the kernel's esp4/esp6 drop it (no state).
    for what, label, spi in (
            ("unknown SPI 0xdeadbeef", "cbc4", 0xdeadbeef),
            ("SPI 0x7777 of an SA in gwA's namespace", "cbc4", 0x7777),
            ("SPI 0 (reserved)", "cbc4", 0),
            ("unknown SPI over IPv6", "cbc6", 0xdeadbeef)):
        e = bytearray(ok4() if label == "cbc4" else
                      w.esp("cbc6", w.echo(v6=True)[0]))
        e[0:4] = struct.pack("!L", spi)
        w.dropped(what, w.frames(label, bytes(e)),
                  {"InNotOurs": 1, "XfrmInNoStates": 1}, label)


# --- tcpsink -----------------------------------------------------------------

def tcpsink(port, where):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
        name = data.split(b" ", 1)[0].decode(errors="replace")
        name = "".join(ch for ch in name if ch.isalnum() or ch in "-_")
        tmp = os.path.join(where, ".%s.tmp" % name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(where, name + ".tcp"))


def main(argv):
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) == 4 and argv[0] == "decode":
        decode(*argv[1:])
        return finish()
    if len(argv) == 6 and argv[0] == "inject":
        inject(*argv[1:])
        return finish()
    if len(argv) == 3 and argv[0] == "tcpsink":
        tcpsink(int(argv[1]), argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
