#!/usr/bin/python3
"""AH (RFC 4302) packets made with scapy, sent from the router to gwB, and
gwB's answers judged by scapy (tests/wire.sh, part 4).

    ahcraft.py <sa file> <gwB namespace>

Run in the router's namespace. Each line of the SA file is one suite:

    label mode spi-in spi-out A B inner-A inner-B scapy-auth key-in key-out

mode is tunnel or transport; A, B the gateways (B is gwB), inner-A/-B the
hosts (transport: A and B). gwB holds the AH SAs (spi-in from A, spi-out
to A, keys in hex) as a group with an IPIP SA in tunnel mode. Mode
"group" adds three fields, "AES-GCM enckey-in enckey-out": gwB's group is
tun+esp+ah (aes-gcm-16, the same SPIs). Per suite, on stdout as
"ok - ..." / "not ok - ..." lines:

  - an ICMP echo request in AH, its TTL/hop limit, TOS/traffic class,
    flags and flow label changed after the ICV was computed (as routers
    change them), is answered: the answer is AH from gwB with spi-out,
    its ICV verifies with scapy (and fails with one key bit flipped), its
    inner packet the echo reply;
  - the same request with an immutable byte changed (the ICMP payload, the
    IPv4 identification, the ICV) is not answered and counts auth_errs
    and InAuthError once each; replayed: ooo_errs and InReplay; cut
    inside the AH header: InHdrError; nothing else moved.
  - group: AH(ESP(IP)) is answered with the same, AH's ICV and ESP's
    decryption checked by scapy; a layer skipped (bare ESP, AH over bare
    IPIP, bare IPIP) or reordered (ESP outside AH) is not answered and
    counts InPolicyError once.

Every refused packet is followed by a good one: gwB handles the frames of
its eth0 in order, so when the good one's answer is back the refused one
has been dropped and counted, or answered before it; no fixed wait.

The last line, printed when the run got to its end, is "# checks: <n>",
and the exit status 1 if a check failed, else 0. n depends on the SA file
only: 10 checks per IPv4 suite, 9 per IPv6 one (one immutable field
fewer), 7 per group suite.
"""
import hashlib
import hmac
import logging
import re
import select
import socket
import struct
import subprocess
import sys
import time

# scapy warns on stderr (the guest's console) when it picks the MAC of an
# IPv6 multicast destination without a route: not a kernel report, but
# make check's log scan would take its "WARNING:" for one.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AH, ESP, IP, ICMP, IPv6, ICMPv6EchoRequest,
                       ICMPv6EchoReply, Ether, Raw, raw, send, conf)
from scapy.layers.ipsec import SecurityAssociation, IPSecIntegrityError

conf.verb = 0
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

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


def gw_counters(ns, said):
    """gwB's stats (name -> value) and the error fields of one SA."""
    stats = {}
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/ipsec/stats"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, value = line.split()
        stats[name] = int(value)
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/ipsec_spi"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(said + " "):
            for f in ("ooo_errs", "auth_errs", "encr_size_errs", "encr_pad_errs"):
                m = re.search(r" %s=(\d+)" % f, line)
                stats["sa." + f] = int(m.group(1)) if m else 0
    return stats


def moved(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0)}


def request(v6, src, dst, ident, seq):
    data = b"klips-ah %d %d" % (ident, seq) + bytes(range(64))
    if v6:
        return IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=ident, seq=seq, data=data)
    return IP(src=src, dst=dst, id=0x4242, flags="DF") / ICMP(id=ident, seq=seq) / Raw(data)


def transit(p, v6):
    """What routers may change: the mutable fields, after the ICV."""
    if v6:
        p.hlim = 9
        p.tc = 0x20
        p.fl = 0x54321
    else:
        p.ttl = 17
        p.tos = 0x20
        p.flags = 0
        p.chksum = None
    return IPv6(raw(p)) if v6 else IP(raw(p))


class Wire:
    """The router's eth1, read by a packet socket that is open (bound)
    before anything is sent: nothing gwB answers can come before it
    listens."""

    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        self.s.bind(("eth1", 0))

    def exchange(self, pkts, spi_out, last, timeout=3.0):
        """Send @pkts out of eth1, in order, and collect gwB's AH with
        @spi_out until @last(answer) holds for one (the answer to the last
        packet sent), or the timeout. Returns (that answer or None, the
        answers before it)."""
        while select.select([self.s], [], [], 0)[0]:
            self.s.recv(65535)
        for p in pkts:
            send(p, iface="eth1")
        before = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None, before
            data, addr = self.s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            r = Ether(data)
            if AH not in r or r[AH].spi != spi_out:
                continue
            if last(r):
                return r, before
            before.append(r)


def echo_reply(r, v6, a, b):
    """(next header, the inner packet, its echo reply or None) of a
    plain AH answer from gwB (b) to a."""
    body, nh = raw(r[AH].payload), r[AH].nh
    if nh == 4:
        inner = IP(body)
    elif nh == 41:
        inner = IPv6(body)
    elif nh == 58:      # ICMPv6 needs its IPv6 header to be dissected
        inner = IPv6(raw(IPv6(src=b, dst=a, nh=58) / Raw(body)))
    else:
        inner = ICMP(body)
    reply = inner[ICMPv6EchoReply] if ICMPv6EchoReply in inner else \
        (inner[ICMP] if ICMP in inner else None)
    return nh, inner, reply


def suite(line, ns, wire):
    (label, mode, spi_in, spi_out, a, b, ia, ib, auth, key_in,
     key_out) = line.split()
    spi_in, spi_out = int(spi_in, 16), int(spi_out, 16)
    v6 = ":" in a
    L3 = IPv6 if v6 else IP
    k_in, k_out = bytes.fromhex(key_in), bytes.fromhex(key_out)
    tun_in = L3(src=a, dst=b) if mode == "tunnel" else None
    tun_out = L3(src=b, dst=a) if mode == "tunnel" else None
    sa_in = SecurityAssociation(AH, spi=spi_in, auth_algo=auth, auth_key=k_in,
                                tunnel_header=tun_in)
    sa_out = SecurityAssociation(AH, spi=spi_out, auth_algo=auth, auth_key=k_out,
                                 tunnel_header=tun_out)
    bad_key = bytes([k_out[0] ^ 1]) + k_out[1:]
    sa_bad = SecurityAssociation(AH, spi=spi_out, auth_algo=auth, auth_key=bad_key,
                                 tunnel_header=tun_out)
    said = "ah%s%x@%s" % (":" if v6 else ".", spi_in, b)
    seq = 1

    def good(ident, s):
        """A good request, changed in transit as routers may."""
        return transit(sa_in.encrypt(request(v6, ia, ib, ident, s), seq_num=s), v6)

    def reply_to(ident, s):
        def match(r):
            reply = echo_reply(r, v6, a, b)[2]
            return reply is not None and reply.id == ident and reply.seq == s
        return match

    def refused(what, q, want):
        """@q is not answered and moves exactly @want; a good packet after
        it is answered (and tells when to look)."""
        nonlocal seq
        seq += 1
        before = gw_counters(ns, said)
        r, early = wire.exchange([q, good(8, seq)], spi_out, reply_to(8, seq))
        m = moved(before, gw_counters(ns, said))
        tap(r is not None and not early and m == want,
            "%s: %s: not answered, %s; a good packet after it is" %
            (label, what, " and ".join(k.replace("sa.", "") for k in sorted(want))),
            "answered: %d, the good packet after it: %s, moved: %s" %
            (len(early), "answered" if r is not None else "not answered", m))

    # A good packet, changed in transit as routers may.
    p = good(7, seq)
    before = gw_counters(ns, said)
    r, _ = wire.exchange([p], spi_out, reply_to(7, seq))
    none = "nothing came back; gwB moved: %s" % moved(before, gw_counters(ns, said))
    tap(r is not None,
        "%s: AH whose %s changed in transit is answered by gwB"
        % (label, "hop limit, traffic class, flow label" if v6 else
           "TTL, TOS, flags, checksum"), none)
    # (scapy's decrypt() takes the packet apart: it gets copies)
    outer = r[L3].copy() if r is not None else None
    try:
        if outer is None:
            raise IPSecIntegrityError("no answer")
        sa_out.decrypt(outer.copy())
        tap(True, "%s: gwB's answer (AH spi 0x%x) verifies with scapy %s"
            % (label, spi_out, auth))
    except IPSecIntegrityError as e:
        tap(False, "%s: gwB's answer (AH spi 0x%x) verifies with scapy %s"
            % (label, spi_out, auth), e)
    # What AH carries, as it came: an inner IP packet, or ICMP.
    if r is not None:
        nh, inner, reply = echo_reply(r, v6, a, b)
        diag = "next header %d: %s" % (nh, inner.summary())
    else:
        nh, reply, diag = None, None, none
    tap(reply is not None and reply.id == 7 and reply.seq == seq and
        (v6 or reply.type == 0) and nh == ({"tunnel": 41 if v6 else 4}.get(
            mode, 58 if v6 else 1)),
        "%s: inside it the echo reply to the request" % label, diag)
    alen = len(r[AH]) - len(r[AH].payload) if r is not None else 1
    tap(alen % (8 if v6 else 4) == 0,
        "%s: gwB's AH header padded to %d bits" % (label, 64 if v6 else 32),
        "%d bytes" % alen if r is not None else none)
    try:
        if outer is None:
            raise ValueError("no answer")
        sa_bad.decrypt(outer)
        tap(False, "%s: with one key bit flipped scapy refuses the answer "
            "(the check can fail)" % label, "it verifies")
    except IPSecIntegrityError:
        tap(True, "%s: with one key bit flipped scapy refuses the answer "
            "(the check can fail)" % label)
    except ValueError as e:
        tap(False, "%s: with one key bit flipped scapy refuses the answer "
            "(the check can fail)" % label, e)

    # The same packet again: a replay.
    refused("the same packet again", p, {"sa.ooo_errs": 1, "InReplay": 1})

    # Immutable bytes changed after the ICV.
    cases = [("the ICMP payload's last byte", -1)]
    ah_off = len(raw(p)) - len(raw(p[AH]))
    cases.append(("a byte of the ICV", ah_off + 12))
    if not v6:
        cases.append(("the identification", 4))
    for what, off in cases:
        seq += 1
        bq = bytearray(raw(good(7, seq)))
        bq[off] ^= 0x01
        q = L3(bytes(bq))
        if not v6:
            q.chksum = None     # (a router's would be right again)
        refused("%s changed" % what, q, {"sa.auth_errs": 1, "InAuthError": 1})

    # Cut inside the AH header.
    seq += 1
    bq = raw(sa_in.encrypt(request(v6, ia, ib, 7, seq), seq_num=seq))[:ah_off + 10]
    cut = L3(bq)
    if v6:
        cut.plen = len(bq) - 40
    else:
        cut.len = len(bq)
        cut.chksum = None
    refused("cut inside the AH header", cut, {"InHdrError": 1})


def ah_wrap(pkt, spi, seq, key):
    """AH (HMAC-SHA1-96) right after the IP header of @pkt, made by this
    file: scapy 2.5 builds AH around an ESP payload with a zero ICV."""
    b = bytearray(pkt)
    v6 = b[0] >> 4 == 6
    hlen = 40 if v6 else (b[0] & 15) * 4
    nh = b[6] if v6 else b[9]
    alen = 24                    # 12 + the 12-byte ICV: aligned for both
    ah = bytearray(struct.pack(">BBHII", nh, alen // 4 - 2, 0, spi, seq) + bytes(12))
    hdr, payload = b[:hlen], b[hlen:]
    if v6:
        hdr[6] = 51
        struct.pack_into(">H", hdr, 4, len(payload) + alen)
    else:
        hdr[9] = 51
        struct.pack_into(">H", hdr, 2, hlen + alen + len(payload))
        struct.pack_into(">H", hdr, 10, 0)
        struct.pack_into(">H", hdr, 10, csum(hdr))
    ah[12:] = icv(hdr, ah, payload, v6, key)
    return bytes(hdr + ah + payload)


def csum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), bytes(b)))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icv(hdr, ah, payload, v6, key):
    """HMAC-SHA1-96 over the headers, mutable fields zeroed (RFC 4302)."""
    z = bytearray(hdr)
    if v6:
        z[0:4] = b"\x60\0\0\0"
        z[7] = 0
    else:
        z[1] = 0
        z[6:12] = bytes([0, 0, 0, z[9], 0, 0])
    a = bytearray(ah)
    a[12:24] = bytes(12)
    return hmac.new(key, bytes(z + a + payload), hashlib.sha1).digest()[:12]


def ah_open(pkt, key):
    """(ICV good?, spi, next header, the IP header with AH's next header
    and length, the bytes AH carries) of a packet with AH after the IP
    header (HMAC-SHA1-96)."""
    b = bytearray(pkt)
    v6 = b[0] >> 4 == 6
    hlen = 40 if v6 else (b[0] & 15) * 4
    ah = b[hlen:hlen + 24]
    nh, spi = ah[0], struct.unpack(">I", ah[4:8])[0]
    good = hmac.compare_digest(icv(b[:hlen], ah, b[hlen + 24:], v6, key),
                               bytes(ah[12:24]))
    hdr = b[:hlen]
    rest = b[hlen + 24:]
    if v6:
        hdr[6] = nh
        struct.pack_into(">H", hdr, 4, len(rest))
    else:
        hdr[9] = nh
        struct.pack_into(">H", hdr, 2, hlen + len(rest))
        struct.pack_into(">H", hdr, 10, 0)
        struct.pack_into(">H", hdr, 10, csum(hdr))
    return good, spi, nh, bytes(hdr + rest)


def group_suite(line, ns, wire):
    (label, _, spi_in, spi_out, a, b, ia, ib, auth, key_in, key_out, crypt,
     ek_in, ek_out) = line.split()
    assert auth == "HMAC-SHA1-96", "group suites use this file's HMAC-SHA1-96"
    spi_in, spi_out = int(spi_in, 16), int(spi_out, 16)
    k_in, k_out = bytes.fromhex(key_in), bytes.fromhex(key_out)
    v6 = ":" in a
    L3 = IPv6 if v6 else IP
    esp_in = SecurityAssociation(ESP, spi=spi_in, crypt_algo=crypt,
                                 crypt_key=bytes.fromhex(ek_in),
                                 tunnel_header=L3(src=a, dst=b))
    esp_tr = SecurityAssociation(ESP, spi=spi_in, crypt_algo=crypt,
                                 crypt_key=bytes.fromhex(ek_in))
    esp_out = SecurityAssociation(ESP, spi=spi_out, crypt_algo=crypt,
                                  crypt_key=bytes.fromhex(ek_out),
                                  tunnel_header=L3(src=b, dst=a))
    said = "ah%s%x@%s" % (":" if v6 else ".", spi_in, b)
    seq = 1

    def tunnel(s):               # IPIP: the outer header around the request
        return raw(L3(src=a, dst=b) / request(v6, ia, ib, 9, s))

    def nested(s):
        e = raw(esp_in.encrypt(request(v6, ia, ib, 9, s), seq_num=s))
        return transit(L3(ah_wrap(e, spi_in, s, k_in)), v6)

    def opened(r):
        """(AH's ICV good, its spi, next header, the ESP packet inside,
        the echo reply ESP carries or None, what went wrong)."""
        good, spi, nh, rest = ah_open(raw(r[L3]), k_out)
        try:
            inner = esp_out.decrypt(L3(rest))
        except Exception as e:  # IPSecIntegrityError, or a decryption that fails
            return good, spi, nh, None, "scapy cannot decrypt the ESP: %r" % e
        reply = inner[ICMPv6EchoReply] if ICMPv6EchoReply in inner else \
            (inner[ICMP] if ICMP in inner else None)
        return good, spi, nh, reply, inner.summary()

    def reply_to(s):
        def match(r):
            reply = opened(r)[3]
            return reply is not None and reply.id == 9 and reply.seq == s
        return match

    r, _ = wire.exchange([nested(seq)], spi_out, reply_to(seq))
    tap(r is not None, "%s: AH(ESP(IP)) through tun+esp+ah is answered" % label)
    if r is not None:
        good, spi, nh, reply, diag = opened(r)
        diag_ah = "ICV good: %s, spi 0x%x, next header %d" % (good, spi, nh)
    else:
        good, reply, diag_ah = False, None, "no answer"
        diag = diag_ah
    tap(good and spi == spi_out and nh == 50,
        "%s: the answer is AH 0x%x (ICV verified) around ESP" % (label, spi_out),
        diag_ah)
    tap(reply is not None and reply.id == 9,
        "%s: inside ESP (decrypted by scapy) the echo reply" % label, diag)

    cases = []
    seq += 1
    cases.append(("bare ESP (AH skipped)", raw(esp_in.encrypt(
        request(v6, ia, ib, 9, seq), seq_num=seq))))
    seq += 1
    cases.append(("AH over bare IPIP (ESP skipped)",
                  ah_wrap(tunnel(seq), spi_in, seq, k_in)))
    seq += 1
    cases.append(("ESP outside AH (reordered)", raw(esp_tr.encrypt(
        L3(ah_wrap(tunnel(seq), spi_in, seq, k_in)), seq_num=seq))))
    cases.append(("bare IPIP (AH and ESP skipped)", tunnel(seq)))
    for what, q in cases:
        # A good packet after it: when its answer is back, the one before
        # was answered or dropped and counted.
        seq += 1
        before = gw_counters(ns, said)
        r, early = wire.exchange([L3(q), nested(seq)], spi_out, reply_to(seq))
        m = moved(before, gw_counters(ns, said))
        tap(r is not None and not early and m.get("InPolicyError") == 1 and
            not [k for k in m if k.startswith("In") and k != "InPolicyError"],
            "%s: %s: not answered, InPolicyError; a good packet after it is"
            % (label, what),
            "answered: %d, the good packet after it: %s, moved: %s" %
            (len(early), "answered" if r is not None else "not answered", m))


def main(argv):
    # Each line as it is made: what a helper that dies printed is evidence.
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    wire = Wire()
    with open(argv[1]) as f:
        for line in f:
            if line.split()[1:2] == ["group"]:
                group_suite(line, argv[2], wire)
            elif line.strip():
                suite(line, argv[2], wire)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
