#!/usr/bin/env python3
"""A TCP transfer over IPv6 for the namespace tests (netcat is not in the CI image).

usage: tcp_transfer.py receive ADDRESS PORT OUTFILE   accept one connection, store what it sends
       tcp_transfer.py send SOURCE ADDRESS PORT INFILE send the file from SOURCE, then close
The receiver prints "listening" once it accepts connections; the sender retries for 10 s while
the connection is refused. Both time out after 60 s of silence.
"""
import socket
import sys
import time


def receive(address, port, path):
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(1)
    server.settimeout(60)
    print("listening", flush=True)
    conn, peer = server.accept()
    conn.settimeout(60)
    total = 0
    with open(path, "wb") as out:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            out.write(chunk)
            total += len(chunk)
    print(f"received={total} from={peer[0]}", flush=True)


def send(source, address, port, path):
    data = open(path, "rb").read()
    deadline = time.monotonic() + 10
    while True:
        conn = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        conn.bind((source, 0))
        conn.settimeout(60)
        try:
            conn.connect((address, port))
            break
        except ConnectionRefusedError:
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)  # wait for the receiver's close: every byte was read
    conn.close()
    print(f"sent={len(data)}", flush=True)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "receive":
        receive(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
