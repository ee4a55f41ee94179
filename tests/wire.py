#!/usr/bin/python3
"""What a capture taken between the gateways shows (stdlib only: scapy
takes seconds to import in the test guest).

    wire.py <pcap> <marker>

Reads a pcap (Ethernet, Linux cooked v1 or v2: tcpdump -i any) and prints:

    esp <src> <dst> <spi-hex> <packets> <max-seq>   one line per ESP flow; packets
                                                    counts distinct sequence numbers
                                                    (-i any sees each packet twice)
    ah <src> <dst> <spi-hex> <packets> <max-seq>    the same per AH flow; ESP right
                                                    inside AH counts as an ESP flow
    clear <n> [<first few, summarized>]            IP packets that are neither ESP
                                                    nor AH nor ARP/ND/MLD housekeeping
    marker <n>                                      ESP or AH packets whose bytes
                                                    contain <marker> (a ping -p pattern)

IPv6 extension headers (hop-by-hop, routing, destination options,
fragment) are walked; fragments after the first carry no ESP header and
count only as ESP (AH) traffic (not as clear).
"""
import ipaddress
import struct
import sys

ESP, AH, FRAG = 50, 51, 44
V6_EXT = {0, 43, 60}
ICMP6 = 58
ND_TYPES = range(130, 144)   # MLD, RS, RA, NS, NA, redirect, MLDv2


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise SystemExit("wire.py: %s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:            # Ethernet
            etype, l3 = struct.unpack(">H", pkt[12:14])[0], pkt[14:]
        elif linktype == 113:        # Linux cooked v1
            etype, l3 = struct.unpack(">H", pkt[14:16])[0], pkt[16:]
        elif linktype == 276:        # Linux cooked v2
            etype, l3 = struct.unpack(">H", pkt[0:2])[0], pkt[20:]
        else:
            raise SystemExit("wire.py: link type %d not handled" % linktype)
        yield etype, l3


def parse(etype, p):
    """(src, dst, proto, first fragment?, offset of the next header) or None."""
    if etype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 15) * 4
        first = (struct.unpack(">H", p[6:8])[0] & 0x1FFF) == 0
        return (ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20]),
                p[9], first, ihl)
    if etype == 0x86DD and len(p) >= 40:
        nh, off, first = p[6], 40, True
        while off + 8 <= len(p):
            if nh in V6_EXT:
                nh, off = p[off], off + (p[off + 1] + 1) * 8
            elif nh == FRAG:
                first = (struct.unpack(">H", p[off + 2:off + 4])[0] & 0xFFF8) == 0
                nh, off = p[off], off + 8
            else:
                break
        return (ipaddress.ip_address(p[8:24]), ipaddress.ip_address(p[24:40]),
                nh, first, off)
    return None


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    marker = argv[2].encode()
    flows = {}       # (proto, src, dst, spi) -> set of sequence numbers
    clear, marked = [], 0
    for etype, p in frames(argv[1]):
        if etype == 0x0806:          # ARP
            continue
        h = parse(etype, p)
        if h is None:
            continue
        src, dst, proto, first, off = h
        if proto in (ESP, AH):
            if first and proto == AH and off + 12 <= len(p):
                spi, seq = struct.unpack(">II", p[off + 4:off + 12])
                flows.setdefault(("ah", src, dst, spi), set()).add(seq)
                if p[off] == ESP:
                    proto, off = ESP, off + (p[off + 1] + 2) * 4
            if first and proto == ESP and off + 8 <= len(p):
                spi, seq = struct.unpack(">II", p[off:off + 8])
                flows.setdefault(("esp", src, dst, spi), set()).add(seq)
            if marker and marker in p:
                marked += 1
            continue
        if src.version == 6 and (dst.is_multicast or
                                 (proto == ICMP6 and off < len(p) and p[off] in ND_TYPES)):
            continue
        clear.append("%s>%s proto %d len %d" % (src, dst, proto, len(p)))
    for (proto, src, dst, spi), seqs in sorted(flows.items(), key=str):
        print("%s %s %s %x %d %d" % (proto, src, dst, spi, len(seqs), max(seqs)))
    print(" ".join(["clear", str(len(clear))] + sorted(set(clear))[:5]))
    print("marker %d" % marked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
