#!/usr/bin/env python3
"""ICMPv6 echo from SOURCE to DESTINATION (a stand-in for iputils ping, which the CI image lacks).

usage: ping6.py SOURCE DESTINATION COUNT [MIN_REPLIES]
Sends COUNT echo requests one every 0.2 s, waits up to 2 s for the last reply, prints
"sent=N received=M" and exits 0 when at least MIN_REPLIES (default COUNT) replies came back.
"""
import os
import select
import socket
import struct
import sys
import time

ECHO_REQUEST, ECHO_REPLY = 128, 129


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    source, destination, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    needed = int(sys.argv[4]) if len(sys.argv) == 5 else count
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.bind((source, 0))  # the kernel fills in the ICMPv6 checksum on this socket
    identifier = os.getpid() & 0xFFFF
    payload = b"tspbroker-netns-ping"
    replies = set()
    want_peer = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, destination))
    sent = 0
    next_send = time.monotonic()
    deadline = None
    while True:
        now = time.monotonic()
        if sent < count and now >= next_send:
            sock.sendto(struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, identifier, sent) + payload, (destination, 0))
            sent += 1
            next_send = now + 0.2
            if sent == count:
                deadline = now + 2.0
        if deadline is not None and (now >= deadline or len(replies) == count):
            break
        wake = next_send if sent < count else deadline
        readable, _, _ = select.select([sock], [], [], max(0.0, wake - now))
        if readable:
            data, peer = sock.recvfrom(2048)
            if len(data) >= 8 and peer[0] == want_peer:
                kind, _, _, ident, seq = struct.unpack("!BBHHH", data[:8])
                if kind == ECHO_REPLY and ident == identifier and data[8:] == payload:
                    replies.add(seq)
    print(f"sent={sent} received={len(replies)}")
    sys.exit(0 if len(replies) >= needed else 1)


if __name__ == "__main__":
    main()
