#!/usr/bin/env python3
"""Floods DESTINATION:PORT with COUNT small UDP datagrams from a plain socket.

usage: udp_flood.py DESTINATION PORT COUNT [PER_SECOND [PAYLOAD_HEX]]
For the exception path's policer: datagrams to the broker's own IPv4 address and a closed port
go to its kernel. With PER_SECOND they leave in batches of 50 on that schedule (the receiver's
ring holds a few hundred frames: paced, a worker that loses its CPU for a while loses none of
them); without, as fast as the loop goes. The socket is not connected, so the kernel's port
unreachable answers raise no error here. The payload is "flood" unless PAYLOAD_HEX gives one
(a payload whose first nibble is 6 looks like tunnelled IPv6 to a broker's UDP port). Prints "sent=N" (datagrams the kernel accepted) and
"seconds=S" (the loop's time), also when stopped early by SIGTERM (a flood that runs until the
test has done something under it).
"""
import signal
import socket
import sys
import time

BATCH = 50

if len(sys.argv) not in (4, 5, 6):
    sys.exit(__doc__)
destination = (sys.argv[1], int(sys.argv[2]))
count = int(sys.argv[3])
per_second = float(sys.argv[4]) if len(sys.argv) >= 5 else 0.0
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = bytes.fromhex(sys.argv[5]) if len(sys.argv) == 6 else b"flood"
sent = 0
start = time.monotonic()


def stop(_signum, _frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, stop)
try:
    for i in range(count):
        if per_second and i % BATCH == 0:
            delay = start + i / per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        try:
            sock.sendto(payload, destination)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass
except KeyboardInterrupt:
    pass
print(f"sent={sent}")
print(f"seconds={time.monotonic() - start:.6f}")
