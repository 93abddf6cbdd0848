"""A Modbus TCP 'device' that answers every request wrongly, for the driver's
robustness tests. Usage: misbehaving.py PORT MODE, MODE one of:
  truncated          the header promises more bytes than follow, then silence
  bad_count          a read answer whose byte count disagrees with the request
  wrong_transaction  a well-formed answer for another transaction id
  garbage            random bytes
  close              closes the connection on every request
Prints "ready" once it listens.
"""
import os
import signal
import socket
import struct
import sys
import threading

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
port, mode = int(sys.argv[1]), sys.argv[2]


def serve(conn):
    with conn:
        while True:
            head = conn.recv(7)
            if len(head) < 7:
                return
            tid, _, length, unit = struct.unpack(">HHHB", head)
            pdu = conn.recv(length - 1)
            if mode == "close":
                return
            fc = pdu[0]
            count = struct.unpack(">H", pdu[3:5])[0] if len(pdu) >= 5 else 1
            if mode == "truncated":
                conn.sendall(struct.pack(">HHHBBB", tid, 0, 3 + 2 * count, unit, fc, 2 * count) + b"\x00")
            elif mode == "bad_count":
                body = bytes([fc, 2 * count + 2]) + b"\x00\x01" * (count + 1)
                conn.sendall(struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body)
            elif mode == "wrong_transaction":
                body = bytes([fc, 2 * count]) + b"\x00\x01" * count
                conn.sendall(struct.pack(">HHHB", (tid + 1) & 0xFFFF, 0, len(body) + 1, unit) + body)
            else:
                conn.sendall(os.urandom(11))


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(8)
print("ready", flush=True)
while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
