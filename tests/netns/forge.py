#!/usr/bin/env python3
"""Forges tunnel packets for the spoofing checks (python3 only, no scapy).

usage: forge.py proto41 OUTER_SRC OUTER_DST INNER_SRC INNER_DST PORT COUNT TAG
       forge.py udp OUTER_SRC OUTER_SPORT OUTER_DST OUTER_DPORT INNER_SRC INNER_DST PORT COUNT TAG
Each packet carries an IPv6/UDP datagram to INNER_DST:PORT with payload TAG and a correct
checksum, so that it WOULD be delivered if the broker let it through. The outer IPv4 header is
written by hand (any source address) and sent on a raw IPPROTO_RAW socket. Prints "forged=N".
"""
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def inner_ipv6_udp(src, dst, port, payload):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    length = 8 + len(payload)
    pseudo = s + d + struct.pack("!IxxxB", length, 17)
    udp = struct.pack("!HHHH", 40000, port, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    return struct.pack("!IHBB", 0x60000000, length, 17, 64) + s + d + udp


def ipv4(src, dst, protocol, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64, protocol, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def outer_udp(src, sport, dst, dport, payload):
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 17, length)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    return ipv4(src, dst, 17, udp)


def main():
    args = sys.argv[1:]
    if len(args) == 8 and args[0] == "proto41":
        _, osrc, odst, isrc, idst, port, count, tag = args
        packet = ipv4(osrc, odst, 41, inner_ipv6_udp(isrc, idst, int(port), tag.encode()))
    elif len(args) == 10 and args[0] == "udp":
        _, osrc, osport, odst, odport, isrc, idst, port, count, tag = args
        inner = inner_ipv6_udp(isrc, idst, int(port), tag.encode())
        packet = outer_udp(osrc, int(osport), odst, int(odport), inner)
    else:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(int(count)):
        sock.sendto(packet, (odst, 0))
    print(f"forged={count}")


if __name__ == "__main__":
    main()
