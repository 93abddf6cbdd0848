"""Hostile Modbus TCP devices for the driver's field tests: one process, one
listening port per device, each misbehaving in its own way. Raw sockets, so
that every byte of every answer is under the test's control.

Usage: hostile.py SPEC.json, where SPEC is

    {"devices": [{"mode": "hang"}, {"mode": "exception:6", "fill": "random"}, ...],
     "trace": "/tmp/x/trace.log"}

and prints "ready PORT PORT ..." (one port per device, in order) once all listen.

A device's registers ("fill"): "table" (the "holding"/"input" maps, start
address -> values, like server.py; other addresses answer exception 2),
"random" (every address exists, random words on every read), "sentinel"
(every address holds 0xFFFF, 0x8000, 0x7FFF or 0xFFFE by turns), "zero".

Modes (how it answers a request):
  ok                  correctly
  exception:N         always exception N
  boot:N:K            exception N for the first K requests, then correctly
  flaky:N             exception N on every other request
  hang                accepts the connection and never answers
  wrong_tid           a correct answer with another transaction id
  wrong_unit          a correct answer from another unit id
  wrong_protocol      a correct answer with protocol id 1
  truncated           the header promises the whole answer, half follows, then silence
  overlong            the header counts two bytes more than the answer needs, and they follow
  trailing            a correct answer followed by three stray bytes
  bad_count           a byte count that disagrees with the request
  slow:MS             correctly, MS ms late
  trickle:MS          correctly, one byte every MS ms
  close_mid           half the answer, then the connection is closed
  garbage             eleven random bytes
  close               closes the connection on every request

The trace has one line per event: "PORT connect" and "PORT req FC ADDRESS COUNT",
each prefixed with a monotonic time in seconds.
"""
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

spec = json.load(open(sys.argv[1]))
trace_lock = threading.Lock()
trace = open(spec["trace"], "a", buffering=1) if spec.get("trace") else None


def log(port, text):
    if trace:
        with trace_lock:
            trace.write(f"{time.monotonic():.3f} {port} {text}\n")


def table(spec_part):
    values = {}
    for start, regs in (spec_part or {}).items():
        for i, v in enumerate(regs):
            values[int(start) + i] = v
    return values


class Device:
    def __init__(self, d):
        self.mode = d.get("mode", "ok")
        self.fill = d.get("fill", "table" if ("holding" in d or "input" in d) else "random")
        self.tables = {3: table(d.get("holding")), 4: table(d.get("input")), 1: table(d.get("coils")), 2: table(d.get("discrete"))}
        self.requests = 0
        self.lock = threading.Lock()
        self.sentinels = [0xFFFF, 0x8000, 0x7FFF, 0xFFFE]

    def word(self, fc, address, i):
        if self.fill == "random":
            return random.getrandbits(16)
        if self.fill == "sentinel":
            return self.sentinels[i % 4]
        if self.fill == "zero":
            return 0
        return self.tables[fc].get(address)

    def pdu(self, fc, body):
        """The correct answer PDU, or an exception PDU."""
        if fc in (3, 4, 1, 2):
            address, count = struct.unpack(">HH", body[:4])
            words = [self.word(fc, address + i, i) for i in range(count)]
            if any(w is None for w in words):
                return bytes([fc | 0x80, 2])
            if fc in (3, 4):
                data = b"".join(struct.pack(">H", w & 0xFFFF) for w in words)
            else:
                packed = bytearray((count + 7) // 8)
                for i, w in enumerate(words):
                    if w & 1:
                        packed[i // 8] |= 1 << (i % 8)
                data = bytes(packed)
            return bytes([fc, len(data)]) + data
        if fc in (5, 6):
            if self.fill == "table" and fc == 6:
                address, value = struct.unpack(">HH", body[:4])
                self.tables[3][address] = value
            return bytes([fc]) + body[:4]
        if fc in (15, 16):
            if self.fill == "table" and fc == 16:
                address, count = struct.unpack(">HH", body[:4])
                for i in range(count):
                    self.tables[3][address + i] = struct.unpack(">H", body[5 + 2 * i:7 + 2 * i])[0]
            return bytes([fc]) + body[:4]
        return bytes([fc | 0x80, 1])


def receive(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(conn, port, device):
    try:
        answer_requests(conn, port, device)
    except OSError:
        # The client gave up (a timeout closes its connection): nothing to do.
        pass


def answer_requests(conn, port, device):
    mode, _, arg = device.mode.partition(":")
    with conn:
        while True:
            head = receive(conn, 7)
            if head is None:
                return
            tid, _, length, unit = struct.unpack(">HHHB", head)
            pdu = receive(conn, length - 1)
            if pdu is None:
                return
            fc = pdu[0]
            address, count = struct.unpack(">HH", pdu[1:5]) if len(pdu) >= 5 else (0, 1)
            log(port, f"req {fc} {address} {count}")
            with device.lock:
                device.requests += 1
                n = device.requests
            answer = device.pdu(fc, pdu[1:])
            protocol = 0
            if mode == "hang":
                continue
            if mode == "close":
                return
            if mode == "garbage":
                conn.sendall(os.urandom(11))
                continue
            if mode == "exception":
                answer = bytes([fc | 0x80, int(arg)])
            elif mode == "boot":
                code, k = arg.split(":")
                if n <= int(k):
                    answer = bytes([fc | 0x80, int(code)])
            elif mode == "flaky":
                if n % 2 == 0:
                    answer = bytes([fc | 0x80, int(arg)])
            elif mode == "wrong_tid":
                tid = (tid + 1) & 0xFFFF
            elif mode == "wrong_unit":
                unit = (unit + 1) & 0xFF
            elif mode == "wrong_protocol":
                protocol = 1
            elif mode == "bad_count" and answer[0] == fc and fc in (1, 2, 3, 4):
                answer = bytes([fc, answer[1] + 2]) + answer[2:] + b"\x00\x01"
            frame = struct.pack(">HHHB", tid, protocol, len(answer) + 1, unit) + answer
            if mode == "truncated":
                conn.sendall(frame[: max(8, len(frame) // 2)])
                continue
            if mode == "overlong":
                frame = struct.pack(">HHHB", tid, protocol, len(answer) + 3, unit) + answer + b"\x00\x00"
            if mode == "trailing":
                frame += b"\x01\x02\x03"
            if mode == "close_mid":
                conn.sendall(frame[: len(frame) // 2])
                return
            if mode == "slow":
                time.sleep(int(arg) / 1000.0)
            if mode == "trickle":
                for b in frame:
                    conn.sendall(bytes([b]))
                    time.sleep(int(arg) / 1000.0)
                continue
            conn.sendall(frame)


def listen(device):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]

    def accept():
        while True:
            c, _ = server.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            log(port, "connect")
            threading.Thread(target=serve, args=(c, port, device), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return port


ports = [listen(Device(d)) for d in spec["devices"]]
print("ready " + " ".join(str(p) for p in ports), flush=True)
while True:
    time.sleep(3600)
