#!/usr/bin/env python3
"""Real measured series for `make bench`'s telemetry figures.

Takes the TMY3 sample file that ships with pvlib (Greensboro, NC: hourly
global horizontal irradiance and dry-bulb temperature), picks one day,
resamples it to 1 s by linear interpolation, adds noise of the kind a logger
sees (an AR(1) flicker of 1 % of the irradiance, 0.05 degC on the temperature)
and rounds each value to its sensor's resolution (0.1 W/m2, 0.01 degC).

Usage: scripts/telemetry-series.py OUT.csv [DAY_OF_YEAR]
Writes lines `name,time_ms,value`.
"""
import os
import random
import sys

import pvlib

out = sys.argv[1]
day = int(sys.argv[2]) if len(sys.argv) > 2 else 172
path = os.path.join(os.path.dirname(pvlib.__file__), "data", "723170TYA.CSV")
data, _ = pvlib.iotools.read_tmy3(path, map_variables=True)
hours = data.iloc[(day - 1) * 24:(day - 1) * 24 + 25]
ghi = [float(v) for v in hours["ghi"]]
temp = [float(v) for v in hours["temp_air"]]
start_ms = 1_767_225_600_000 + (day - 1) * 86_400_000
rng = random.Random(day)

with open(out, "w") as f:
    flicker = 0.0
    for second in range(86_400):
        h, frac = divmod(second, 3600)
        x = frac / 3600
        g = ghi[h] * (1 - x) + ghi[h + 1] * x
        t = temp[h] * (1 - x) + temp[h + 1] * x
        flicker = 0.98 * flicker + rng.gauss(0, 0.002)
        g = max(0.0, g * (1 + flicker))
        t = t + rng.gauss(0, 0.05)
        ms = start_ms + second * 1000
        f.write(f"pvlib/ghi,{ms},{round(g, 1)}\n")
        f.write(f"pvlib/temp_air,{ms},{round(t, 2)}\n")
