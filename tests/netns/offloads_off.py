#!/usr/bin/env python3
"""Turns off checksum and segmentation offloads of the given interfaces (legacy ethtool ioctls).

usage: offloads_off.py IFACE...
Why: DPDK's af_packet port reads frames as the kernel hands them over. On veth, a frame the
kernel sent with checksum offload still carries a partial checksum, and with TSO or GRO a
"frame" can be a 64 KiB super-packet. Both would reach the broker as garbage. With these off,
the kernel finishes checksums and segments before the veth. (ethtool -K does the same; it is
not in the CI image's package list.)
"""
import array
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
SETTINGS = {  # ethtool_value commands
    "tx-checksumming": 0x17,      # ETHTOOL_STXCSUM
    "scatter-gather": 0x19,       # ETHTOOL_SSG
    "tcp-segmentation": 0x1F,     # ETHTOOL_STSO
    "generic-segmentation": 0x24,  # ETHTOOL_SGSO
    "generic-receive": 0x2C,      # ETHTOOL_SGRO
}


def turn_off(sock, iface, command):
    value = array.array("I", [command, 0])  # struct ethtool_value {cmd, data}
    address, _ = value.buffer_info()
    request = struct.pack("16sP", iface.encode(), address) + b"\0" * 16
    fcntl.ioctl(sock, SIOCETHTOOL, request)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for iface in sys.argv[1:]:
        for name, command in SETTINGS.items():
            try:
                turn_off(sock, iface, command)
            except OSError as e:
                sys.exit(f"offloads_off: {iface} {name}: {e}")


if __name__ == "__main__":
    main()
