#!/usr/bin/env python3
"""Records every UDP datagram that reaches ADDRESS:PORT, one line each, until killed.

usage: udp_listener.py ADDRESS PORT
Prints "listening", then "from=<source> bytes=<n> payload=<text>" per datagram, flushed at once,
so the test can count what got through (forged packets must not).
"""
import signal
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind((sys.argv[1], int(sys.argv[2])))
    print("listening", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        print(f"from={peer[0]} bytes={len(data)} payload={data[:64].decode('ascii', 'replace')}", flush=True)


if __name__ == "__main__":
    main()
