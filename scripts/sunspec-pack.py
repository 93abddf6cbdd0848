#!/usr/bin/env python3
"""Builds the SunSpec profile pack (DeviceProfiles/sunspec/) from the SunSpec
model definitions that ship in the PyPI package pysunspec2.

How to run it:

    python3 -m pip install pysunspec2          # add --break-system-packages if pip refuses
    python3 scripts/sunspec-pack.py            # writes DeviceProfiles/sunspec/
    python3 scripts/sunspec-pack.py --check    # exit 1 if the files on disk differ

Options:

    --pysunspec2-dir DIR   the installed `sunspec2` package folder, or its
                           `models/json` folder (default: found with import)
    --version V            the pysunspec2 version to record (default: read
                           from the installed package's metadata)
    --license-file FILE    the Apache-2.0 text to ship (default: the LICENSE
                           of the installed pysunspec2 distribution)
    --out DIR              default DeviceProfiles/sunspec

The output is deterministic: the same pysunspec2 gives byte-identical files
(no dates, sorted maps, models in id order, points in register order), so a
regenerated pack shows up in `git diff` only when the models changed.

What it writes (format: docs/profiles.md):

    sunspec_inverter.json  models 1, 101-103, 111-113, 120-123
    sunspec_meter.json     models 1, 201-204, 211-214
    sunspec_battery.json   models 1, 120, 124, 802, 803
    pack.json              the pack manifest (docs/packs.md): id, version, vendor, license,
                           profiles, files with SHA-256 and size; unsigned (the
                           vendor's key signs at `switchyard pack build --key`)
    LICENSE-sunspec-models.txt   Apache-2.0 attribution for the model definitions

Only the fixed (non-repeating) part of each model is converted. Repeating
groups (803's strings, 160's modules, ...) are skipped: the offsets of the
fixed part do not depend on them, so the fixed points stay correct on devices
that have repeating blocks after them.
"""

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import struct
import sys
import tempfile

CONVERTER_REVISION = 2

# ---------------------------------------------------------------------------
# What goes into each profile. `group` is the channel prefix: the alternative
# models of one kind (101/102/103/111/112/113) share "inverter", so a device
# that offers int+SF or float models ends up with the same channel names.

MODEL_SETTINGS = {
    # id: (group, poll group)
    1: ("common", "info"),
    101: ("inverter", "fast"),
    102: ("inverter", "fast"),
    103: ("inverter", "fast"),
    111: ("inverter", "fast"),
    112: ("inverter", "fast"),
    113: ("inverter", "fast"),
    120: ("nameplate", "slow"),
    121: ("settings", "slow"),
    122: ("status", "slow"),
    123: ("controls", "slow"),
    124: ("storage", "fast"),
    201: ("meter", "fast"),
    202: ("meter", "fast"),
    203: ("meter", "fast"),
    204: ("meter", "fast"),
    # The float variants of 201-204 (a Fronius Datamanager in "float" mode
    # serves its Smart Meter as 211-213).
    211: ("meter", "fast"),
    212: ("meter", "fast"),
    213: ("meter", "fast"),
    214: ("meter", "fast"),
    802: ("battery", "fast"),
    # Lithium-ion bank: carries the bank's module temperatures, which 802
    # does not have. Temperatures change slowly.
    803: ("lithium_ion_bank", "slow"),
}

POLL_GROUPS = {
    "fast": {"interval_ms": 1000},
    "slow": {"interval_ms": 30000},
    "info": {"interval_ms": "once"},
}

# ---------------------------------------------------------------------------
# Standard channels. Keyed by (profile, group, point). One point per standard
# channel per profile (the alternatives of "inverter" and "meter" are one
# channel name, so they count once). Signs: the standard conventions are
# pv.ActivePower positive = production, meter.ActivePower positive = import
# at the grid connection, ess.ActivePower positive = discharge.

STANDARD_CHANNELS = {
    # Inverter W is the AC output of the inverter ("AC Power"); SunSpec
    # inverters report power delivered to the grid as positive, which is
    # production: no inversion. (For a hybrid inverter this includes battery
    # discharge; use the battery profile for the battery side.)
    ("sunspec_inverter", "inverter", "W"): ("pv.ActivePower", None),
    # WH: "AC Energy", the lifetime energy delivered by the inverter.
    ("sunspec_inverter", "inverter", "WH"): ("pv.Energy", None),
    # Not mapped on purpose:
    # - inverter Hz / PhV*: they would put meter.* channels on an inverter,
    #   and a device with meter.* channels is taken for a meter.
    # - pv.SetActivePowerLimit: no model here has a writable limit in W.
    #   123 WMaxLimPct is a percentage of WMax (121), with its own enable
    #   point (WMaxLim_Ena) and revert timer; 121 WMax is a setting
    #   (default WRtg), not a curtailment control, and many devices keep it
    #   in non-volatile memory. Both stay available as controls.WMaxLimPct
    #   and settings.WMax.

    # Meter W: "Total Real Power". The model text gives no sign; the SunSpec
    # meter models follow the utility (load) convention where real power
    # delivered from the grid to the premises (import) is positive and
    # export negative — which is our meter.ActivePower convention, so no
    # inversion. A meter installed the other way round (or a vendor that
    # reports generator sign) needs a profile that extends sunspec_meter and
    # sets "sign": "inverted" on meter.W.
    ("sunspec_meter", "meter", "W"): ("meter.ActivePower", None),
    ("sunspec_meter", "meter", "TotWhImp"): ("meter.ImportEnergy", None),
    ("sunspec_meter", "meter", "TotWhExp"): ("meter.ExportEnergy", None),
    ("sunspec_meter", "meter", "Hz"): ("meter.Frequency", None),
    # PhV: "Line to Neutral AC Voltage (average of active phases)" — exactly
    # meter.Voltage ("phase voltage (average)").
    ("sunspec_meter", "meter", "PhV"): ("meter.Voltage", None),

    # Battery (802) W: "Total power flowing to/from the battery bank". The
    # model text gives no sign; the SunSpec storage models count discharge
    # (power out of the battery) as positive, as a generator would, which is
    # our ess.ActivePower convention: no inversion. Check it on the device
    # (switchyard profile discover, then watch the value while charging).
    ("sunspec_battery", "battery", "W"): ("ess.ActivePower", None),
    # 802 SoC (% of WHRtg) rather than 124 ChaState (% of AhrRtg): 802 is the
    # battery's own model, 124 is the inverter's storage control view. A
    # standard channel may be implemented once, so 124 ChaState stays
    # storage.ChaState without a standard channel.
    ("sunspec_battery", "battery", "SoC"): ("ess.Soc", None),
    ("sunspec_battery", "battery", "NCyc"): ("ess.Cycles", None),
    # WHRtg: nameplate energy capacity in Wh.
    ("sunspec_battery", "battery", "WHRtg"): ("ess.Capacity", None),
    # 802 has no temperature; 803 (lithium-ion bank) has the average module
    # temperature of the bank.
    ("sunspec_battery", "lithium_ion_bank", "ModTmpAvg"): ("ess.Temperature", None),
    # Not mapped on purpose:
    # - ess.SetActivePower: no model here has a writable power setpoint in W.
    #   124 offers OutWRte / InWRte (percent of the maximum rates, with
    #   StorCtl_Mod and revert timers) and 802 only SetOp / SetInvState.
    # - ess.MaxChargePower / MaxDischargePower ("now allowed"): 802
    #   WChaRteMax / WDisChaRteMax are nameplate values and 124 WChaMax is a
    #   writable setting, not a measurement.
}

PROFILES = {
    "sunspec_inverter": {
        "models": [1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123],
        "model": "Any SunSpec inverter",
        "description": (
            "Generic SunSpec inverter: the common model (1), inverter monitoring "
            "in int+SF (101 single phase, 102 split phase, 103 three phase) or float "
            "(111, 112, 113) form, nameplate (120), settings (121), status (122) and "
            "immediate controls (123). The driver finds the SunS marker (40000, 0 or "
            "50000) and the model chain on the device and places the points of the "
            "models it finds; the alternatives 101-103/111-113 share the channel "
            "prefix \"inverter\". Only the fixed part of each model is included "
            "(repeating groups are skipped). No pv.SetActivePowerLimit: SunSpec has "
            "no power limit in W here (123 WMaxLimPct is a percentage)."
        ),
    },
    "sunspec_meter": {
        "models": [1, 201, 202, 203, 204, 211, 212, 213, 214],
        "model": "Any SunSpec meter",
        "description": (
            "Generic SunSpec AC meter: the common model (1) and the meter models "
            "201 (single phase), 202 (split phase), 203 (three phase wye), "
            "204 (three phase delta) in int+SF form, or their float forms 211-214, "
            "all sharing the channel prefix \"meter\". "
            "meter.W positive = import (SunSpec meter convention); a meter "
            "mounted or configured the other way round needs a profile that "
            "extends this one with \"sign\": \"inverted\" on W."
        ),
    },
    "sunspec_battery": {
        "models": [1, 120, 124, 802, 803],
        "model": "Any SunSpec battery or hybrid inverter's storage",
        "description": (
            "Generic SunSpec storage: the common model (1), nameplate (120, which "
            "carries the storage ratings of a hybrid inverter), basic storage "
            "controls (124), battery base model (802) and the fixed part of the "
            "lithium-ion bank model (803, for the module temperatures; its "
            "repeating string blocks are skipped). Standard channels come from "
            "802 (W, SoC, NCyc, WHRtg) and 803 (ModTmpAvg); 124 ChaState is "
            "kept as storage.ChaState without a standard channel. No "
            "ess.SetActivePower: none of these models has a power setpoint in W."
        ),
    },
}

# ---------------------------------------------------------------------------
# Plausibility ranges (docs/profiles.md section 7). A value outside its
# point's range is published with quality fault, so that garbage (a float of
# 4.25e+37 W, a raw value times a scale factor of 10^10, a Hz of 6.5e14) never
# reaches a controller as good. These profiles are generic: they know no
# device's ratings, so the limits are those of the largest device a SunSpec
# interface of the kind serves (central inverters, battery PCS, low-voltage
# grid connections), with headroom. They catch glitches, not operating
# limits. A profile for a known device extends these and narrows the ranges
# to its nameplate (fronius_symo, tesla_powerwall_2); a device beyond them
# (a medium-voltage meter reporting primary values) needs wider ones the
# same way. Only read-only points that are values get a range: settings
# (RW) have write limits, enums, bitfields, strings, scale factors and
# counters without a unit (events, timers) have none.

POWER_MAX = 10_000_000        # W, VA, var: 10 MW, above any single inverter or battery PCS
CURRENT_MAX = 20_000          # A: 10 MW at 400 V three-phase is 14.4 kA per phase
AC_VOLTAGE_MAX = 1_000        # V: low voltage (IEC 60038: up to 1000 V AC line to line)
DC_VOLTAGE_MAX = 2_000        # V: PV strings and battery buses stay within 1500 V DC
CELL_VOLTAGE_MAX = 6          # V: one battery cell (lithium-ion ends near 4.3 V)
ENERGY_MAX = 10 ** 12         # Wh, VAh, varh counters: 1 TWh, 10 MW for 11 years without a break
CAPACITY_MAX = 10 ** 9        # Wh of a battery's rating: 1 GWh
CHARGE_MAX = 10 ** 6          # Ah
FREQUENCY = (45, 65)          # Hz: a 50 or 60 Hz grid outside this is a measuring error
TEMPERATURE = (-50, 150)      # degC: cabinet, heat sink, transformer, battery modules
PERCENT = (0, 100)            # SoC, SoH, DoD, charge state
POWER_FACTOR = (-100, 100)    # PF: devices give it as -1...1 or as percent; both fit

# By point name first (these need something other than their unit's range).
RANGE_BY_NAME = {
    "NCyc": (0, 1_000_000),   # full cycles: no battery reaches a million
    "WHRtg": (0, CAPACITY_MAX),
    # 802 DisChaRte is the discharge rate in % of WHRtg per hour: a 5C
    # battery gives 500.
    "DisChaRte": (0, 1_000),
}

# DC voltages, by name (everything else in V is an AC voltage, or a
# battery's and its strings' by group).
DC_VOLTAGE_NAMES = {"DCV", "InBatV"}
DC_VOLTAGE_GROUPS = {"battery", "lithium_ion_bank"}

UNSIGNED_TYPES = {"uint16", "uint32", "uint64", "acc16", "acc32", "acc64", "count"}


def plausible_range(group, name, unit, sunspec_type):
    """[min, max] for a read-only value point, or None."""
    if name in RANGE_BY_NAME:
        lo, hi = RANGE_BY_NAME[name]
    elif unit in ("W", "VA", "var"):
        lo, hi = -POWER_MAX, POWER_MAX
    elif unit == "A":
        lo, hi = -CURRENT_MAX, CURRENT_MAX
    elif unit == "V":
        if name.startswith("CellV"):
            lo, hi = 0, CELL_VOLTAGE_MAX
        elif name in DC_VOLTAGE_NAMES or group in DC_VOLTAGE_GROUPS:
            lo, hi = 0, DC_VOLTAGE_MAX
        else:
            lo, hi = 0, AC_VOLTAGE_MAX
    elif unit == "Hz":
        lo, hi = FREQUENCY
    elif unit in ("Wh", "VAh", "varh"):
        lo, hi = 0, ENERGY_MAX
    elif unit in ("Ah", "AH"):
        lo, hi = 0, CHARGE_MAX
    elif unit == "degC":
        lo, hi = TEMPERATURE
    elif unit in ("Pct", "PF", "cos()"):
        lo, hi = POWER_FACTOR
    elif unit is not None and unit.startswith("%"):
        lo, hi = PERCENT
    else:
        return None
    if sunspec_type in UNSIGNED_TYPES:
        lo = max(lo, 0)
    return [lo, hi]


# ---------------------------------------------------------------------------
# Type mapping (SunSpec type → our type, extra fields) and the SunSpec
# "not implemented" values.

TYPE_MAP = {
    "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
    "int64": "int64", "uint64": "uint64", "float32": "float32", "float64": "float64",
    "acc16": "uint16", "acc32": "uint32", "acc64": "uint64",
    "enum16": "enum", "enum32": "uint32",
    "bitfield16": "bitfield", "bitfield32": "uint32",
    "sunssf": "int16", "string": "string", "count": "uint16",
    "ipaddr": "uint32", "ipv6addr": "string", "eui48": "string",
}

INTERNAL_TYPES = {"sunssf", "ipaddr", "ipv6addr", "eui48"}

NOT_AVAILABLE = {
    "int16": 0x8000, "uint16": 0xFFFF, "acc16": 0, "count": 0xFFFF,
    "enum16": 0xFFFF, "bitfield16": 0xFFFF, "sunssf": 0x8000,
    "int32": 0x80000000, "uint32": 0xFFFFFFFF, "acc32": 0,
    "enum32": 0xFFFFFFFF, "bitfield32": 0xFFFFFFFF,
    "int64": 0x8000000000000000, "acc64": 0,
    "float32": 0x7FC00000,
    "ipaddr": 0,
    # uint64 (0xFFFFFFFFFFFFFFFF) is left out: it does not survive a JSON
    # number round trip through a double; no model converted here has one.
}

UNITS = {"C": "degC"}


# ---------------------------------------------------------------------------

def find_models_dir(arg):
    if arg:
        for candidate in (os.path.join(arg, "models", "json"), arg):
            if os.path.isfile(os.path.join(candidate, "model_1.json")):
                return os.path.abspath(candidate)
        sys.exit(f"sunspec-pack: no model_1.json in {arg} or {arg}/models/json")
    spec = importlib.util.find_spec("sunspec2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("sunspec-pack: pysunspec2 is not installed (python3 -m pip install pysunspec2), "
                 "or pass --pysunspec2-dir")
    d = os.path.join(list(spec.submodule_search_locations)[0], "models", "json")
    if not os.path.isfile(os.path.join(d, "model_1.json")):
        sys.exit(f"sunspec-pack: {d} has no model_1.json")
    return d


def installed_distribution():
    try:
        return importlib.metadata.distribution("pysunspec2")
    except importlib.metadata.PackageNotFoundError:
        return None


def load_model(models_dir, mid):
    path = os.path.join(models_dir, f"model_{mid}.json")
    with open(path, "rb") as f:
        raw = f.read()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def description_of(p):
    text = (p.get("desc") or p.get("label") or "").strip()
    return " ".join(text.split())


def convert_point(p, offset, profile_id, group):
    st = p["type"]
    if st not in TYPE_MAP:
        raise SystemExit(f"sunspec-pack: unknown SunSpec type {st!r} (point {p['name']})")
    out = {"name": p["name"]}
    desc = description_of(p)
    if desc:
        out["description"] = desc
    std = STANDARD_CHANNELS.get((profile_id, group, p["name"]))
    if std:
        out["channel"] = std[0]
        if std[1]:
            out["sign"] = std[1]
    out["offset"] = offset
    out["type"] = TYPE_MAP[st]
    if TYPE_MAP[st] == "string":
        out["length"] = p["size"]
    sf = p.get("sf")
    if isinstance(sf, str):
        out["scale"] = {"point": sf}
    elif isinstance(sf, int) and sf != 0:
        out["scale"] = {"power_of_ten": sf}
    units = p.get("units")
    if units:
        out["unit"] = UNITS.get(units, units)
    if st in NOT_AVAILABLE:
        out["not_available"] = [NOT_AVAILABLE[st]]
    if p.get("access") != "RW" and st not in INTERNAL_TYPES and TYPE_MAP[st] not in ("string", "enum") \
            and st not in ("enum32", "bitfield16", "bitfield32"):
        r = plausible_range(group, p["name"], out.get("unit"), st)
        if r:
            out["range"] = r
    if p.get("access") == "RW":
        out["access"] = "read_write"
    if st in INTERNAL_TYPES:
        out["internal"] = True
    symbols = p.get("symbols") or []
    if st in ("enum16", "enum32") and symbols:
        out["values"] = {str(s["value"]): s["name"] for s in sorted(symbols, key=lambda s: s["value"])}
    if st in ("bitfield16", "bitfield32") and symbols:
        out["bits"] = {str(s["value"]): s["name"] for s in sorted(symbols, key=lambda s: s["value"])}
    if p.get("access") == "RW":
        out["write"] = {"function": "single" if p["size"] == 1 else "multiple"}
    return out


def convert_model(models_dir, mid, profile_id):
    doc, digest = load_model(models_dir, mid)
    g = doc["group"]
    pts = g["points"]
    if [pts[0]["name"], pts[1]["name"]] != ["ID", "L"]:
        raise SystemExit(f"sunspec-pack: model {mid} does not start with ID, L")
    group, poll = MODEL_SETTINGS[mid]
    offset = 0
    points = []
    for p in pts[2:]:
        if p["type"] != "pad":
            points.append(convert_point(p, offset, profile_id, group))
        offset += p["size"]
    model = {
        "id": mid,
        "group": group,
        "label": g.get("label", g.get("name", "")),
        "length": offset,
        "poll_group": poll,
        "points": points,
    }
    repeating = [sg["name"] for sg in g.get("groups", [])]
    return model, digest, repeating, doc


# ---------------------------------------------------------------------------
# Golden vectors. The register images are built from the model definitions
# (every point not given below holds its "not implemented" value), the raw
# words and the expected values are written by hand.

FILL = {
    "int16": [0x8000], "uint16": [0xFFFF], "acc16": [0], "count": [0xFFFF],
    "enum16": [0xFFFF], "bitfield16": [0xFFFF], "sunssf": [0x8000], "pad": [0x8000],
    "int32": [0x8000, 0], "uint32": [0xFFFF, 0xFFFF], "acc32": [0, 0],
    "enum32": [0xFFFF, 0xFFFF], "bitfield32": [0xFFFF, 0xFFFF], "ipaddr": [0, 0],
    "int64": [0x8000, 0, 0, 0], "uint64": [0xFFFF] * 4, "acc64": [0, 0, 0, 0],
    "float32": [0x7FC0, 0], "float64": [0x7FF8, 0, 0, 0],
}


def s16(v):
    """An int16 as its raw word (hand values: -2 → 65534)."""
    return [v & 0xFFFF]


def f32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">f", v))
    return [hi, lo]


def u32(v):
    return [(v >> 16) & 0xFFFF, v & 0xFFFF]


def text(s, registers):
    b = s.encode("ascii").ljust(registers * 2, b"\0")
    return [b[i] << 8 | b[i + 1] for i in range(0, len(b), 2)]


def model_words(doc, values, repeats=0):
    """The data words of a model (after ID and L): `values` maps point name
    → raw words; `repeats` appends that many repeating blocks (fill only)."""
    words = []
    for p in doc["group"]["points"][2:]:
        size = p["size"]
        if p["name"] in values:
            w = values[p["name"]]
            assert len(w) == size, (p["name"], w)
        elif p["type"] == "string":
            w = [0] * size
        else:
            w = FILL[p["type"]]
            assert len(w) == size, (p["name"], p["type"], size)
        words += w
    for sg in doc["group"].get("groups", []):
        for _ in range(repeats):
            for p in sg["points"]:
                w = [0] * p["size"] if p["type"] == "string" else FILL[p["type"]]
                words += w
    return words


def image(models_dir, chain, base=40000):
    """A whole SunSpec register map: SunS, the models, the end marker.
    `chain`: [(model id, {point: words}, repeats)] or (id, raw data words)."""
    words = [0x5375, 0x6E53]
    for entry in chain:
        if isinstance(entry[1], list):
            mid, data = entry
        else:
            mid, values, repeats = entry
            doc, _ = load_model(models_dir, mid)
            data = model_words(doc, values, repeats)
        words += [mid, len(data)] + data
    words += [0xFFFF, 0]
    return {"holding_register": {str(base): words}}


COMMON = {"Mn": text("SunSpecTest", 16), "Md": text("Generic", 16), "Vr": text("1.0.0", 8),
          "SN": text("SN-0001", 16), "DA": [1]}


def tests_for(profile_id, models_dir):
    if profile_id == "sunspec_inverter":
        return [
            {
                "name": "three-phase int+SF (103): scale factors, sentinels, a scale factor that is not implemented",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (103, {"A": [1234], "AphA": [411], "A_SF": s16(-2),
                           "PhVphA": [2301], "PhVphC": [0xFFFF], "V_SF": s16(-1),
                           "W": [1234], "W_SF": [1], "Hz": [5001], "Hz_SF": s16(-2),
                           "WH": u32(100000), "WH_SF": [0],
                           "TmpCab": [452],  # Tmp_SF stays 0x8000: no temperature
                           "St": [4], "Evt1": [0, 0]}, 0),
                    (120, {"WRtg": [1000], "WRtg_SF": [1]}, 0),
                    (123, {"WMaxLimPct": [7500], "WMaxLimPct_SF": s16(-2), "WMaxLim_Ena": [1]}, 0),
                ]),
                "expect": {
                    "common.Mn": "SunSpecTest", "common.SN": "SN-0001",
                    "inverter.A": 12.34, "inverter.AphA": 4.11, "inverter.A_SF": -2,
                    "inverter.PhVphA": 230.1, "inverter.PhVphC": None,
                    "inverter.W": 12340, "inverter.Hz": 50.01, "inverter.WH": 100000,
                    "inverter.VA": None, "inverter.TmpCab": None,
                    "inverter.St": "MPPT", "inverter.Evt1": 0, "inverter.Evt2": None,
                    "nameplate.WRtg": 10000,
                    "controls.WMaxLimPct": 75, "controls.WMaxLim_Ena": "ENABLED",
                },
            },
            {
                "name": "three-phase float (113): NaN is not available, no scale factors",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (113, {"W": f32(1234.5), "Hz": f32(50.0), "WH": f32(123456.0),
                           "PhVphA": f32(230.5), "St": [2]}, 0),
                ]),
                "expect": {
                    "inverter.W": 1234.5, "inverter.Hz": 50, "inverter.WH": 123456,
                    "inverter.PhVphA": 230.5, "inverter.TmpCab": None, "inverter.St": "SLEEPING",
                },
            },
        ]
    if profile_id == "sunspec_meter":
        return [
            {
                "name": "three-phase wye (203) exporting: negative W, energy scale factor, accumulator 0 is not available",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (203, {"A": [523], "A_SF": s16(-2), "PhV": [2305], "V_SF": s16(-1),
                           "Hz": [4998], "Hz_SF": s16(-2), "W": s16(-1520), "W_SF": [0],
                           "TotWhExp": u32(12345), "TotWhImp": u32(123456), "TotWh_SF": [1],
                           "Evt": [0, 0]}, 0),
                ]),
                "expect": {
                    "meter.A": 5.23, "meter.PhV": 230.5, "meter.Hz": 49.98, "meter.W": -1520,
                    "meter.TotWhExp": 123450, "meter.TotWhImp": 1234560,
                    "meter.VA": None, "meter.TotVAhExp": None, "meter.Evt": 0,
                },
            },
            {
                "name": "single phase (201) importing, negative power scale factor",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (201, {"W": [23000], "W_SF": s16(-1), "PhV": [2298], "V_SF": s16(-1)}, 0),
                ]),
                "expect": {"meter.W": 2300, "meter.PhV": 229.8, "meter.Hz": None},
            },
            {
                "name": "three-phase wye float (213): NaN is not available",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (213, {"W": f32(-2750.5), "PhV": f32(231.25), "Hz": f32(50.0),
                           "TotWhImp": f32(4567890.0), "Evt": [0, 0]}, 0),
                ]),
                "expect": {"meter.W": -2750.5, "meter.PhV": 231.25, "meter.Hz": 50, "meter.TotWhImp": 4567890,
                           "meter.TotWhExp": None, "meter.Evt": 0},
            },
        ]
    if profile_id == "sunspec_battery":
        return [
            {
                "name": "battery (802) discharging, bank (803) with one string block, storage (124)",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (124, {"WChaMax": [5000], "WChaMax_SF": [0], "ChaState": [870], "ChaState_SF": s16(-1)}, 0),
                    (802, {"AHRtg": [280], "AHRtg_SF": [0], "WHRtg": [1350], "WHRtg_SF": [1],
                           "SoC": [875], "SoC_SF": s16(-1), "SoH": [98], "SoH_SF": [0],
                           "NCyc": u32(123), "ChaSt": [3], "LocRemCtl": [0], "Typ": [4], "State": [3],
                           "Evt1": [0, 0], "V": [5120], "V_SF": s16(-2), "A": [391], "A_SF": s16(-1),
                           "W": [2000], "W_SF": [0]}, 0),
                    (803, {"NStr": [1], "NStrCon": [1], "ModTmpMax": [281], "ModTmpMin": [243],
                           "ModTmpAvg": [262], "ModTmp_SF": s16(-1)}, 1),
                ]),
                "expect": {
                    "battery.W": 2000, "battery.SoC": 87.5, "battery.NCyc": 123, "battery.WHRtg": 13500,
                    "battery.AHRtg": 280, "battery.DoD": None, "battery.SoH": 98, "battery.ChaSt": "DISCHARGING",
                    "battery.Typ": "LITHIUM_ION", "battery.State": "CONNECTED", "battery.V": 51.2, "battery.A": 39.1,
                    "lithium_ion_bank.ModTmpAvg": 26.2, "lithium_ion_bank.ModTmpMax": 28.1,
                    "storage.ChaState": 87, "storage.WChaMax": 5000,
                },
            },
            {
                "name": "battery (802) charging; SoC scale factor not implemented",
                "registers": image(models_dir, [
                    (1, COMMON, 0),
                    (802, {"SoC": [500], "W": s16(-2500), "W_SF": [0], "NCyc": [0xFFFF, 0xFFFF]}, 0),
                ]),
                "expect": {"battery.W": -2500, "battery.SoC": None, "battery.NCyc": None},
            },
        ]
    raise KeyError(profile_id)


# ---------------------------------------------------------------------------
# Output: stable, readable JSON. Objects and arrays that fit on one line of
# 120 characters stay on one line; long arrays of numbers are wrapped.

WIDTH = 120


def dumps(v, indent=0):
    one = json.dumps(v, ensure_ascii=False)
    if not isinstance(v, (dict, list)) or len(one) + indent <= WIDTH:
        return one
    pad = " " * (indent + 2)
    if isinstance(v, list):
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            lines, line = [], ""
            for x in v:
                item = json.dumps(x) + ","
                if line and len(pad) + len(line) + 1 + len(item) > WIDTH:
                    lines.append(line)
                    line = item
                else:
                    line = f"{line} {item}" if line else item
            lines.append(line)
            lines[-1] = lines[-1][:-1]
            return "[\n" + "\n".join(pad + line for line in lines) + "\n" + " " * indent + "]"
        return "[\n" + ",\n".join(pad + dumps(x, indent + 2) for x in v) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k, ensure_ascii=False) + ": " + dumps(x, indent + 2) for k, x in v.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def write(path, content, check, stale):
    data = content.encode("utf-8")
    if check:
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    return data
        except FileNotFoundError:
            pass
        stale.append(path)
        return data
    with open(path, "wb") as f:
        f.write(data)
    return data


def build(models_dir, version, license_text, out_dir, check):
    stale = []
    contents = []
    profiles = []
    model_hashes = {}
    repeating_skipped = {}
    for profile_id in sorted(PROFILES):
        spec = PROFILES[profile_id]
        models = []
        for mid in sorted(spec["models"]):
            model, digest, repeating, _ = convert_model(models_dir, mid, profile_id)
            models.append(model)
            model_hashes[mid] = digest
            if repeating:
                repeating_skipped[mid] = repeating
        # One point per standard channel per profile (by channel name).
        seen = {}
        for m in models:
            for p in m["points"]:
                if "channel" in p:
                    name = f"{m['group']}.{p['name']}"
                    if seen.setdefault(p["channel"], name) != name:
                        raise SystemExit(f"sunspec-pack: {profile_id}: {p['channel']} mapped twice")
        model_list = ", ".join(
            f"{m['id']} (sha256 {model_hashes[m['id']][:16]})" for m in models)
        profile = {
            "id": profile_id,
            "schema_version": 1,
            "manufacturer": "SunSpec Alliance (any compliant device)",
            "model": spec["model"],
            "description": spec["description"],
            "source": (
                f"SunSpec Information Model definitions (JSON) from the PyPI package pysunspec2 {version} "
                f"(sunspec2/models/json, Apache-2.0, SunSpec Alliance; https://github.com/sunspec/models). "
                f"The model files carry no version number of their own, so each is identified by the "
                f"SHA-256 of its file: models {model_list}. Converted by scripts/sunspec-pack.py "
                f"(revision {CONVERTER_REVISION}); see LICENSE-sunspec-models.txt."
            ),
            "driver": "modbus",
            "match": [],
            "transport": {"default_unit_id": 1, "max_registers_per_read": 125, "timeout_ms": 1000},
            "poll_groups": POLL_GROUPS,
            "sunspec": {"models": models},
            "tests": tests_for(profile_id, models_dir),
        }
        name = f"{profile_id}.json"
        data = write(os.path.join(out_dir, name), dumps(profile) + "\n", check, stale)
        contents.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        profiles.append({"path": name, "id": profile_id})

    skipped = "; ".join(f"{mid}: {', '.join(groups)}" for mid, groups in sorted(repeating_skipped.items()))
    license_doc = (
        "SunSpec model definitions — attribution\n"
        "=======================================\n\n"
        "The profiles sunspec_inverter.json, sunspec_meter.json and sunspec_battery.json\n"
        "in this folder are derived from the SunSpec Information Model definitions\n"
        "(JSON) published by the SunSpec Alliance (https://sunspec.org,\n"
        "https://github.com/sunspec/models), as shipped in the PyPI package\n"
        f"pysunspec2 {version} under sunspec2/models/json/.\n\n"
        "Copyright SunSpec Alliance. Licensed under the Apache License, Version 2.0\n"
        "(the text follows). Changes made: the definitions were converted by\n"
        "scripts/sunspec-pack.py into the Switchyard profile format — types\n"
        "mapped, \"not implemented\" values added as not_available, pad registers\n"
        "and repeating groups left out, and standard channels assigned to some\n"
        "points." + (f" Repeating groups left out: {skipped}." if skipped else "") + "\n\n"
        "----------------------------------------------------------------------\n\n"
        + license_text.rstrip("\n") + "\n"
    )
    name = "LICENSE-sunspec-models.txt"
    data = write(os.path.join(out_dir, name), license_doc, check, stale)
    contents.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    # The pack manifest, format 1 (docs/packs.md). `switchyard pack build`
    # recomputes files and ids from the folder; they are here so that
    # `switchyard pack inspect DeviceProfiles/sunspec` checks the folder as it is.
    pack = {
        "format": 1,
        "id": "org.switchyard.sunspec",
        "version": f"{CONVERTER_REVISION}.0.0+pysunspec2.{version}",
        "vendor": "Switchyard (converted from the SunSpec Alliance model definitions)",
        "description": (
            "Generic SunSpec profiles: sunspec_inverter (1, 101-103, 111-113, 120-123), "
            "sunspec_meter (1, 201-204, 211-214), sunspec_battery (1, 120, 124, 802, 803). "
            f"Generated by scripts/sunspec-pack.py from pysunspec2 {version}; do not edit by hand."
        ),
        "license": "Apache-2.0",
        "host": {"min_version": "0.9.0"},
        "profiles": profiles,
        "plugins": [],
        "dependencies": [],
        "files": sorted(contents, key=lambda c: c["path"]),
    }
    write(os.path.join(out_dir, "pack.json"), dumps(pack) + "\n", check, stale)
    return stale


def main():
    ap = argparse.ArgumentParser(description="Build DeviceProfiles/sunspec from pysunspec2's model definitions.")
    ap.add_argument("--pysunspec2-dir", help="the sunspec2 package folder, or its models/json folder")
    ap.add_argument("--version", help="pysunspec2 version to record (default: installed package metadata)")
    ap.add_argument("--license-file", help="Apache-2.0 text to ship (default: the installed distribution's LICENSE)")
    ap.add_argument("--out", default=os.path.join("DeviceProfiles", "sunspec"))
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing; exit 1 on a difference")
    args = ap.parse_args()

    models_dir = find_models_dir(args.pysunspec2_dir)
    dist = installed_distribution()
    version = args.version or (dist.version if dist else None)
    if not version:
        sys.exit("sunspec-pack: cannot tell the pysunspec2 version; pass --version")
    if args.license_file:
        with open(args.license_file, encoding="utf-8") as f:
            license_text = f.read()
    else:
        license_text = None
        if dist:
            for name in ("LICENSE", "LICENSE.txt", "licenses/LICENSE"):
                try:
                    license_text = dist.read_text(name)
                except Exception:
                    license_text = None
                if license_text:
                    break
        if not license_text:
            sys.exit("sunspec-pack: cannot find pysunspec2's LICENSE; pass --license-file")

    os.makedirs(args.out, exist_ok=True)
    stale = build(models_dir, version, license_text, args.out, args.check)
    if args.check:
        if stale:
            print("sunspec-pack: out of date: " + ", ".join(stale), file=sys.stderr)
            sys.exit(1)
        print(f"sunspec-pack: {args.out} is up to date (pysunspec2 {version})")
    else:
        print(f"sunspec-pack: wrote {args.out} from pysunspec2 {version} ({models_dir})")


if __name__ == "__main__":
    main()
