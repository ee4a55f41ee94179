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

    cryptd.py --del 'cryptd(gcm_base(ctr(aes-generic),ghash-generic))' aead ...

removes those instances again (CRYPTO_MSG_DELALG), waiting while one is
still in use; exit status 0 when none is left.
"""
import errno
import os
import socket
import struct
import sys
import time

NETLINK_CRYPTO = 21
CRYPTO_MSG_NEWALG = 0x10
CRYPTO_MSG_DELALG = 0x11
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
# type, mask: crypto.h's CRYPTO_ALG_TYPE_*, and the ahash mask for hashes
TYPES = {"aead": (0x3, 0xF), "skcipher": (0x5, 0xF), "ahash": (0xF, 0xE)}
# Deadlines (s) for an instance to appear, and for one in use to come free.
BUILD_DEADLINE = 60
BUSY_DEADLINE = 30


def newalg(sock, seq, driver, typ, cmd=CRYPTO_MSG_NEWALG):
    # struct crypto_user_alg: cru_name[64], cru_driver_name[64],
    # cru_module_name[64], cru_type, cru_mask, cru_refcnt, cru_flags
    body = struct.pack("64s64s64sIIII", b"", driver.encode(), b"",
                       TYPES[typ][0], TYPES[typ][1], 0, 0)
    msg = struct.pack("IHHII", 16 + len(body), cmd,
                      NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
    sock.send(msg)
    reply = sock.recv(65536)
    _, mtype, _, _, _ = struct.unpack("IHHII", reply[:16])
    if mtype != NLMSG_ERROR:
        raise OSError(errno.EPROTO, "unexpected reply type %d" % mtype)
    (err,) = struct.unpack("i", reply[16:20])
    return -err


def instantiated(driver):
    """Is there an instance of this template over this algorithm name?

    The kernel names the instance after the drivers underneath
    (pcrypt(rfc4106(gcm(aes))) becomes pcrypt(rfc4106(gcm_base(...)))),
    so compare the template and the algorithm name, not the driver name.
    """
    template, _, inner = driver.partition("(")
    inner = inner[:-1]
    name = drv = None
    with open("/proc/crypto") as f:
        for line in f:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "name":
                name = value
            elif key == "driver":
                drv = value
                if drv == driver or (drv.startswith(template + "(") and
                                     name == inner):
                    return True
    return False


def delete(argv):
    """Remove each instance; EBUSY while a transform still uses it."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_CRYPTO)
    sock.bind((0, 0))
    status = 0
    for i in range(0, len(argv), 2):
        driver, typ = argv[i], argv[i + 1]
        # EBUSY while a transform (an SA going, an RCU grace period
        # late) still holds it: poll until it is free, up to a deadline.
        deadline = time.monotonic() + BUSY_DEADLINE
        attempt = 0
        while True:
            err = newalg(sock, i * 1000 + attempt, driver, typ,
                         CRYPTO_MSG_DELALG)
            attempt += 1
            if err != errno.EBUSY or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if err not in (0, errno.ENOENT):
            print("cryptd.py: --del %s: %s" % (driver, os.strerror(err)),
                  file=sys.stderr)
            status = 1
    return status


def main(argv):
    if len(argv) > 1 and argv[1] == "--del":
        if len(argv) < 4 or len(argv) % 2 == 1:
            print(__doc__.strip().splitlines()[0], file=sys.stderr)
            return 2
        return delete(argv[2:])
    if len(argv) < 3 or len(argv) % 2 == 0:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_CRYPTO)
    sock.bind((0, 0))
    status = 0
    for i in range(1, len(argv), 2):
        driver, typ = argv[i], argv[i + 1]
        # EAGAIN: the instance was still being built (and self-tested)
        # when the lookup returned; it exists once that is done. Never ask
        # again once it exists: a template over an algorithm name would
        # then wrap its own instance (pcrypt(pcrypt(...))).
        # Building it runs the self-tests, slow under software emulation:
        # poll until it is there, up to a generous deadline.
        err = errno.EAGAIN
        deadline = time.monotonic() + BUILD_DEADLINE
        attempt = 0
        while True:
            if instantiated(driver):
                err = 0
                break
            if attempt == 0 or err == errno.EAGAIN:
                err = newalg(sock, i * 1000 + attempt, driver, typ)
            attempt += 1
            if err not in (0, errno.EAGAIN) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if err and not instantiated(driver):
            print("cryptd.py: %s: %s" % (driver, os.strerror(err)),
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
