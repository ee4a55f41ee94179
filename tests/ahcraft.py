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
"""
import hashlib
import hmac
import logging
import re
import struct
import subprocess
import sys
import time

# scapy warns on stderr (the guest's console) when it picks the MAC of an
# IPv6 multicast destination without a route: not a kernel report, but
# make check's log scan would take its "WARNING:" for one.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AH, ESP, IP, ICMP, IPv6, ICMPv6EchoRequest,
                       ICMPv6EchoReply, AsyncSniffer, Raw, raw, send, conf)
from scapy.layers.ipsec import SecurityAssociation, IPSecIntegrityError

conf.verb = 0


def tap(good, what, diag=None):
    print(("ok - " if good else "not ok - ") + what)
    if not good and diag:
        for line in str(diag).splitlines():
            print("#   " + line)
    return good


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


def answer(p, spi_out, timeout=2.0):
    """Send @p out of eth1 and wait for gwB's AH with @spi_out."""
    sn = AsyncSniffer(iface="eth1", count=1, timeout=timeout,
                      lfilter=lambda q: AH in q and q[AH].spi == spi_out)
    sn.start()
    time.sleep(0.3)          # (scapy 2.5 has no "started" event)
    send(p, iface="eth1")
    sn.join()
    got = sn.results or []
    return got[0] if got else None


def suite(line, ns):
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

    # A good packet, changed in transit as routers may.
    p = transit(sa_in.encrypt(request(v6, ia, ib, 7, seq), seq_num=seq), v6)
    before = gw_counters(ns, said)
    r = answer(p, spi_out)
    if not tap(r is not None,
               "%s: AH whose %s changed in transit is answered by gwB"
               % (label, "hop limit, traffic class, flow label" if v6 else
                  "TTL, TOS, flags, checksum"),
               "nothing came back; gwB moved: %s" % moved(before, gw_counters(ns, said))):
        return
    # (scapy's decrypt() takes the packet apart: it gets copies)
    outer = r[L3].copy()
    try:
        sa_out.decrypt(outer.copy())
        tap(True, "%s: gwB's answer (AH spi 0x%x, seq %d) verifies with scapy %s"
            % (label, spi_out, r[AH].seq, auth))
    except IPSecIntegrityError as e:
        tap(False, "%s: gwB's answer verifies with scapy %s" % (label, auth), e)
        return
    # What AH carries, as it came: an inner IP packet, or ICMP.
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
    tap(reply is not None and reply.id == 7 and reply.seq == seq and
        (v6 or reply.type == 0) and nh == ({"tunnel": 41 if v6 else 4}.get(
            mode, 58 if v6 else 1)),
        "%s: inside it the echo reply to the request" % label,
        "next header %d: %s" % (nh, inner.summary()))
    alen = len(r[AH]) - len(r[AH].payload)
    tap(alen % (8 if v6 else 4) == 0,
        "%s: gwB's AH header (%d bytes) padded to %d bits" % (label, alen, 64 if v6 else 32))
    try:
        sa_bad.decrypt(outer)
        tap(False, "%s: with one key bit flipped scapy refuses the answer" % label)
    except IPSecIntegrityError:
        tap(True, "%s: with one key bit flipped scapy refuses the answer (the check can fail)"
            % label)

    # The same packet again: a replay.
    before = gw_counters(ns, said)
    r = answer(p, spi_out, 1.0)
    m = moved(before, gw_counters(ns, said))
    tap(r is None and m == {"sa.ooo_errs": 1, "InReplay": 1},
        "%s: the same packet again: not answered, ooo_errs and InReplay" % label,
        "answered: %s, moved: %s" % (r is not None, m))

    # Immutable bytes changed after the ICV.
    cases = [("the ICMP payload's last byte", -1)]
    ah_off = len(raw(p)) - len(raw(p[AH]))
    cases.append(("a byte of the ICV", ah_off + 12))
    if not v6:
        cases.append(("the identification", 4))
    for what, off in cases:
        seq += 1
        q = transit(sa_in.encrypt(request(v6, ia, ib, 7, seq), seq_num=seq), v6)
        bq = bytearray(raw(q))
        bq[off] ^= 0x01
        q = L3(bytes(bq))
        if not v6:
            q.chksum = None     # (a router's would be right again)
        before = gw_counters(ns, said)
        r = answer(q, spi_out, 1.0)
        m = moved(before, gw_counters(ns, said))
        tap(r is None and m == {"sa.auth_errs": 1, "InAuthError": 1},
            "%s: %s changed: not answered, auth_errs and InAuthError" % (label, what),
            "answered: %s, moved: %s" % (r is not None, m))

    # Cut inside the AH header.
    seq += 1
    q = sa_in.encrypt(request(v6, ia, ib, 7, seq), seq_num=seq)
    bq = raw(q)[:ah_off + 10]
    cut = L3(bq)
    if v6:
        cut.plen = len(bq) - 40
    else:
        cut.len = len(bq)
        cut.chksum = None
    before = gw_counters(ns, said)
    r = answer(cut, spi_out, 1.0)
    m = moved(before, gw_counters(ns, said))
    tap(r is None and m == {"InHdrError": 1},
        "%s: cut inside the AH header: not answered, InHdrError" % label,
        "answered: %s, moved: %s" % (r is not None, m))

    # And a good packet still passes after all that.
    seq += 1
    p = transit(sa_in.encrypt(request(v6, ia, ib, 8, seq), seq_num=seq), v6)
    tap(answer(p, spi_out) is not None, "%s: a good packet after them is answered" % label)


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


def group_suite(line, ns):
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

    r = answer(nested(seq), spi_out)
    if not tap(r is not None, "%s: AH(ESP(IP)) through tun+esp+ah is answered" % label):
        return
    good, spi, nh, rest = ah_open(raw(r[L3]), k_out)
    tap(good and spi == spi_out and nh == 50,
        "%s: the answer is AH 0x%x (ICV verified) around ESP" % (label, spi_out),
        "ICV good: %s, spi 0x%x, next header %d" % (good, spi, nh))
    try:
        inner = esp_out.decrypt(L3(rest))
        reply = inner[ICMPv6EchoReply] if ICMPv6EchoReply in inner else \
            (inner[ICMP] if ICMP in inner else None)
        tap(reply is not None and reply.id == 9,
            "%s: inside ESP (decrypted by scapy) the echo reply" % label,
            inner.summary())
    except Exception as e:  # IPSecIntegrityError, or a decryption that fails
        tap(False, "%s: scapy decrypts the ESP inside" % label, repr(e))

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
        before = gw_counters(ns, said)
        r = answer(L3(q), spi_out, 1.0)
        m = moved(before, gw_counters(ns, said))
        tap(r is None and m.get("InPolicyError") == 1 and
            not [k for k in m if k.startswith("In") and k != "InPolicyError"],
            "%s: %s: not answered, InPolicyError" % (label, what),
            "answered: %s, moved: %s" % (r is not None, m))
    seq += 1
    tap(answer(nested(seq), spi_out) is not None,
        "%s: a good packet after them is answered" % label)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        for line in f:
            if line.split()[1:2] == ["group"]:
                group_suite(line, argv[2])
            elif line.strip():
                suite(line, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
