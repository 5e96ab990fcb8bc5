#!/usr/bin/env python3
"""Sends one UDP datagram over IPv6: the honest counterpart of forge.py.

usage: udp_send.py SOURCE DESTINATION PORT PAYLOAD
"""
import socket
import sys

if len(sys.argv) != 5:
    sys.exit(__doc__)
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 0))
sock.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))
