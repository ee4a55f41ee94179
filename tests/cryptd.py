#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Make the kernel's crypto asynchronous for the next transforms allocated.

Instantiates templates such as cryptd(...) or pcrypt(...) through the
crypto user API (NETLINK_CRYPTO, CRYPTO_MSG_NEWALG: what `crconf add` does).
Those instances carry a higher priority than the synchronous implementations
they wrap, so every later crypto_alloc_aead() of the same algorithm name,
klips's and XFRM's, gets the asynchronous one.

    cryptd.py 'cryptd(gcm_base(ctr(aes-generic),ghash-generic))' aead ...

Each argument is a driver name and its type (aead, skcipher or ahash). Exit status
0 when every instance exists afterwards (created now or before).
"""
import errno
import os
import socket
import struct
import sys

NETLINK_CRYPTO = 21
CRYPTO_MSG_NEWALG = 0x10
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
# type, mask: crypto.h's CRYPTO_ALG_TYPE_*, and the ahash mask for hashes
TYPES = {"aead": (0x3, 0xF), "skcipher": (0x5, 0xF), "ahash": (0xF, 0xE)}


def newalg(sock, seq, driver, typ):
    # struct crypto_user_alg: cru_name[64], cru_driver_name[64],
    # cru_module_name[64], cru_type, cru_mask, cru_refcnt, cru_flags
    body = struct.pack("64s64s64sIIII", b"", driver.encode(), b"",
                       TYPES[typ][0], TYPES[typ][1], 0, 0)
    msg = struct.pack("IHHII", 16 + len(body), CRYPTO_MSG_NEWALG,
                      NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
    sock.send(msg)
    reply = sock.recv(65536)
    _, mtype, _, _, _ = struct.unpack("IHHII", reply[:16])
    if mtype != NLMSG_ERROR:
        raise OSError(errno.EPROTO, "unexpected reply type %d" % mtype)
    (err,) = struct.unpack("i", reply[16:20])
    return -err


def main(argv):
    if len(argv) < 3 or len(argv) % 2 == 0:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_CRYPTO)
    sock.bind((0, 0))
    status = 0
    for i in range(1, len(argv), 2):
        driver, typ = argv[i], argv[i + 1]
        err = newalg(sock, i, driver, typ)
        if err and err != errno.EEXIST:
            print("cryptd.py: %s: %s" % (driver, os.strerror(err)),
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
