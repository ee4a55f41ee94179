#!/usr/bin/python3
"""A byte-checked TCP transfer for the tunnel tests (stdlib only).

    xfer.py serve <addr> <port> [<connections>]   answer that many connections, then exit
    xfer.py put <addr> <port> <bytes>             send random bytes; the server hashes them
    xfer.py get <addr> <port> <bytes>             the server sends random bytes and their hash

One request per connection: the client writes "put <n>\\n" or "get <n>\\n".
put: the client sends n bytes and shuts its side down; the server answers
"<count> <sha256>\\n" of what it received; the client compares with its own.
get: the server answers "<sha256>\\n", then n bytes, then closes; the client
hashes what it received. The client exits 0 when count and digest agree,
1 otherwise (with the evidence on stdout), after at most --timeout seconds.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 65536
# A SYN and two retransmissions (after 1 and 3 s): a lost SYN fails the
# transfer soon, a slow host's late SYN-ACK does not.
CONNECT_TIMEOUT = 5.0
# XFER_FLIP=1 (for the server): corrupt what it hashes or sends, to show
# that a client notices (tunnel.sh's TUNNEL_BREAK=xfer).
FLIP = os.environ.get("XFER_FLIP") == "1"


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_line(sock, limit=200):
    buf = b""
    while not buf.endswith(b"\n"):
        b = sock.recv(1)
        if not b or len(buf) > limit:
            raise ValueError("short or overlong header %r" % buf)
        buf += b
    return buf.decode().strip()


def serve(addr, port, conns):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    srv.settimeout(120)  # never outlive the test by much
    print("listening", flush=True)
    for _ in range(conns):
        conn, _peer = srv.accept()
        conn.settimeout(30)
        try:
            op, n = read_line(conn).split()
            n = int(n)
            if op == "put":
                h, got = hashlib.sha256(), 0
                while True:
                    b = conn.recv(CHUNK)
                    if not b:
                        break
                    h.update(b)
                    got += len(b)
                if FLIP:
                    h.update(b"x")
                conn.sendall(b"%d %s\n" % (got, h.hexdigest().encode()))
            elif op == "get":
                data = os.urandom(n)
                conn.sendall(hashlib.sha256(data).hexdigest().encode() + b"\n")
                if FLIP:
                    data = bytes([data[0] ^ 1]) + data[1:]
                conn.sendall(data)
        except (OSError, ValueError) as e:
            print("serve: %s" % e, flush=True)
        finally:
            conn.close()
    return 0


def connect(addr, port, deadline):
    # The server may still be starting: retry refused connections, but a
    # lost SYN (a broken tunnel) is a failure after CONNECT_TIMEOUT.
    while True:
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.settimeout(max(0.1, min(CONNECT_TIMEOUT, deadline - time.monotonic())))
        try:
            s.connect((addr, port))
            return s
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def client(op, addr, port, n, timeout):
    start = time.monotonic()
    deadline = start + timeout
    s = connect(addr, port, deadline)
    s.sendall(b"%s %d\n" % (op.encode(), n))
    if op == "put":
        data = os.urandom(n)
        want = hashlib.sha256(data).hexdigest()
        view, sent = memoryview(data), 0
        while sent < n:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            sent += s.send(view[sent:sent + CHUNK])
        s.shutdown(socket.SHUT_WR)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        reply = read_line(s)
        got, digest = reply.split()
        got = int(got)
    else:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        want = read_line(s)
        h, got = hashlib.sha256(), 0
        while True:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            b = s.recv(CHUNK)
            if not b:
                break
            h.update(b)
            got += len(b)
        digest = h.hexdigest()
    s.close()
    secs = time.monotonic() - start
    if got == n and digest == want:
        print("%s %d bytes in %.2f s, sha256 %s" % (op, n, secs, digest[:16]))
        return 0
    print("%s: %d of %d bytes arrived; sha256 %s, sender's %s"
          % (op, got, n, digest, want))
    return 1


def main(argv):
    timeout = 30.0
    if len(argv) > 2 and argv[1] == "--timeout":
        timeout = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) >= 4 and argv[1] == "serve":
        return serve(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 1)
    if len(argv) == 5 and argv[1] in ("put", "get"):
        try:
            return client(argv[1], argv[2], int(argv[3]), int(argv[4]), timeout)
        except (OSError, ValueError) as e:
            print("%s %s:%s: %s" % (argv[1], argv[2], argv[3], str(e) or type(e).__name__))
            return 1
    print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
