#!/usr/bin/env python3
"""Demo TSP client: speaks TSP as the legacy gogoc client does (tsp-protocol.md) and prints
the exchange. Only for scripts/demo.sh; the real client is tspc."""
import socket
import struct
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Rudp:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(3)
        self.s.connect((host, port))
        self.seq = 0xF00000F0

    def ask(self, payload):
        hdr = struct.pack(">II", self.seq, 0)
        self.seq += 1
        print("C>", payload)
        self.s.send(hdr + payload)
        reply = self.s.recv(4096)
        assert reply[:8] == hdr, "header not echoed"
        print("S<", reply[8:].decode(errors="replace"))
        return reply[8:]


def request(kind, client_v4, router):
    body = '<tunnel action="create" type="%s" proxy="no">\r\n <client>\r\n' % kind
    body += '  <address type="ipv4">%s</address>\r\n' % client_v4
    body += '  <keepalive interval="30">\r\n    <address type="ipv6">::</address>\r\n  </keepalive>\r\n'
    if router:
        body += '  <router>\r\n   <prefix length="48"/>\r\n  </router>\r\n'
    body += ' </client>\r\n</tunnel>\r\n'
    return b"Content-length: %d\r\n" % len(body) + body.encode()


print("--- anonymous host, v6anyv4 (declares a private address: NAT detected, v6udpv4)")
c = Rudp()
c.ask(b"VERSION=2.0.2\r\n")
c.ask(b"AUTHENTICATE ANONYMOUS\r\n\0")
c.ask(request("v6anyv4", "192.168.1.10", False))
c.ask(b'Content-length: 35\r\n<tunnel action="accept"></tunnel>\r\n')

print("--- registered router asking for a /48, PLAIN, v6v4")
c = Rudp()
c.ask(b"VERSION=2.0.2\r\n")
c.ask(b"AUTHENTICATE PLAIN\r\n\0")
c.ask(b"\0" + user.encode() + b"\0" + password.encode() + b"\r\n")
c.ask(request("v6v4", "127.0.0.1", True))
c.ask(b'Content-length: 35\r\n<tunnel action="accept"></tunnel>\r\n')
