"""The other reference of `make bench`: the pymodbus client reading COUNT
registers in requests of 125 as fast as it can for SECONDS.
Usage: pymodbus-loop.py HOST PORT COUNT SECONDS; prints registers per second."""
import sys
import time

from pymodbus.client import ModbusTcpClient

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
client = ModbusTcpClient(host, port=port)
client.connect()
registers = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    for a in range(0, count, 125):
        n = min(125, count - a)
        r = client.read_holding_registers(a, count=n, device_id=1)
        if r.isError():
            sys.exit(f"read: {r}")
        registers += n
print(round(registers / (time.monotonic() - start)))
