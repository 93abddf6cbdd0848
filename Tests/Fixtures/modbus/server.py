"""A Modbus server from pymodbus, for Switchyard's tests: a peer nobody here
wrote. Serves the tables given in a JSON file named on the command line:

    {"port": 15020,                       # TCP port, or
     "serial": "/tmp/x/ttyB",             # a serial device (RTU), e.g. one end of a socat pty pair
     "baud": 19200, "parity": "E",
     "units": {"1": {"holding": {"40000": [17235, 28243]},   # start address -> values
                     "input": {"0": [1, 2, 3]},
                     "coils": {"0": [1, 0, 1]},
                     "discrete": {"0": [0, 1]},
                     "delay_ms": 0}},                        # pause before every answer of this unit
     "trace": "/tmp/x/requests.log"}      # optional: one line per request: "unit fc address count"

A single-unit shorthand is accepted too: {"port": P, "unit": 1, "holding": ..., "input": ...}.
Addresses not given answer "illegal data address"; a unit not given never answers.
Prints "ready" on stdout once it serves; runs until killed.
"""
import asyncio
import json
import signal
import sys
import time

from pymodbus.datastore import ModbusDeviceContext, ModbusServerContext, ModbusSparseDataBlock
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.framer import FramerType


def block(spec):
    values = {}
    for start, regs in spec.items():
        for i, v in enumerate(regs):
            values[int(start) + i] = v
    # Sparse blocks answer "illegal data address" outside the given addresses.
    return ModbusSparseDataBlock(values or {65535: 0})


def devices(spec):
    units = spec.get("units")
    if units is None:
        units = {str(spec.get("unit", 1)): spec}
    out = {}
    for unit, u in units.items():
        out[int(unit)] = ModbusDeviceContext(
            co=block(u.get("coils", {})), di=block(u.get("discrete", {})),
            hr=block(u.get("holding", {})), ir=block(u.get("input", {})))
    return out


def delays(spec):
    units = spec.get("units") or {str(spec.get("unit", 1)): spec}
    return {int(unit): u.get("delay_ms", 0) / 1000.0 for unit, u in units.items()}


async def main(path):
    with open(path) as f:
        spec = json.load(f)
    context = ModbusServerContext(devices=devices(spec), single=False)
    trace_file = open(spec["trace"], "a", buffering=1) if spec.get("trace") else None
    pause = delays(spec)

    def trace_pdu(sending, pdu):
        if not sending and pause.get(pdu.dev_id):
            # A slow device: the whole server waits, as a single-threaded device would.
            time.sleep(pause[pdu.dev_id])
        if trace_file and not sending:
            address = getattr(pdu, "address", -1)
            count = getattr(pdu, "count", 1)
            trace_file.write(f"{pdu.dev_id} {pdu.function_code} {address} {count}\n")
        return pdu

    if "serial" in spec:
        server = StartAsyncSerialServer(context=context, port=spec["serial"], framer=FramerType.RTU,
                                        baudrate=spec.get("baud", 9600), parity=spec.get("parity", "N"),
                                        bytesize=8, stopbits=spec.get("stopbits", 1), trace_pdu=trace_pdu)
    else:
        server = StartAsyncTcpServer(context=context, address=("127.0.0.1", spec["port"]), trace_pdu=trace_pdu)
    task = asyncio.create_task(server)
    await asyncio.sleep(0.5)
    print("ready", flush=True)
    await task


# A test runner may start us with SIGTERM blocked; we must still stop on it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
asyncio.run(main(sys.argv[1]))
