"""A Modbus TCP server from pymodbus, for Switchyard's tests: a peer nobody
here wrote. Serves holding and input registers from a JSON file given on the
command line:

    {"port": 15020, "unit": 1,
     "holding": {"40000": [17235, 28243], ...},   # start address -> register values
     "input": {"0": [1, 2, 3]}}
Addresses not given answer "illegal data address".
Prints "ready" on stdout once it listens; runs until killed.
"""
import asyncio
import json
import signal
import sys

from pymodbus.datastore import ModbusDeviceContext, ModbusServerContext, ModbusSparseDataBlock
from pymodbus.server import StartAsyncTcpServer


def block(spec):
    values = {}
    for start, regs in spec.items():
        for i, v in enumerate(regs):
            values[int(start) + i] = v
    # Sparse blocks answer "illegal data address" outside the given addresses.
    return ModbusSparseDataBlock(values or {0: 0})


async def main(path):
    with open(path) as f:
        spec = json.load(f)
    device = ModbusDeviceContext(hr=block(spec.get("holding", {})), ir=block(spec.get("input", {})))
    context = ModbusServerContext(devices={spec.get("unit", 1): device}, single=False)
    server = StartAsyncTcpServer(context=context, address=("127.0.0.1", spec["port"]))
    task = asyncio.create_task(server)
    await asyncio.sleep(0.3)
    print("ready", flush=True)
    await task


# A test runner may start us with SIGTERM blocked; we must still stop on it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
asyncio.run(main(sys.argv[1]))
