#!/usr/bin/env python3
"""Validates device profiles against docs/schema/device-profile.schema.json.

    python3 -m pip install jsonschema        # add --break-system-packages if pip refuses
    python3 scripts/check-profile-schema.py [FILE_OR_DIR ...]

Without arguments it checks every *.json under DeviceProfiles/ except pack
manifests (pack.json) and JSON Schemas (*.schema.json), as the profile
catalog loads them. Prints one line per problem (FILE: PATH: MESSAGE) and
exits 1 if any profile is invalid, 2 if the checker itself cannot run.

The schema covers the shape of a profile. `switchyard profile lint FILE`
adds what a schema cannot check (overlapping registers, readable ranges,
scale factors read with their values, extends resolved) and
`switchyard profile test FILE` runs the golden vectors.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "docs", "schema", "device-profile.schema.json")


def profile_files(args):
    targets = args or [os.path.join(ROOT, "DeviceProfiles")]
    out = []
    for t in targets:
        if os.path.isdir(t):
            for dirpath, dirnames, filenames in os.walk(t):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.endswith(".json") and name != "pack.json" and not name.endswith(".schema.json"):
                        out.append(os.path.join(dirpath, name))
        else:
            out.append(t)
    return out


def json_path(parts):
    s = ""
    for p in parts:
        s += f"[{p}]" if isinstance(p, int) else (f".{p}" if s else str(p))
    return s or "(root)"


def main():
    try:
        import jsonschema
    except ImportError:
        print("check-profile-schema: needs the Python package jsonschema "
              "(python3 -m pip install jsonschema, with --break-system-packages if pip refuses)", file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    files = profile_files(sys.argv[1:])
    if not files:
        print("check-profile-schema: no profiles found", file=sys.stderr)
        return 2
    bad = 0
    for path in files:
        rel = os.path.relpath(path)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{rel}: {e}")
            bad += 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        # A failing subschema also makes its properties "unevaluated" one
        # level up; that report only repeats the deeper one.
        paths = [list(e.absolute_path) for e in errors if e.validator != "unevaluatedProperties"]
        errors = [e for e in errors if e.validator != "unevaluatedProperties"
                  or not any(q[:len(e.absolute_path)] == list(e.absolute_path) and len(q) > len(e.absolute_path) for q in paths)]
        for e in errors:
            # The deepest, most specific causes of a oneOf / anyOf / if failure.
            leaves = [e]
            while leaves and all(x.context for x in leaves):
                leaves = [c for x in leaves for c in x.context]
            for leaf in (leaves or [e])[:3]:
                print(f"{rel}: {json_path(list(leaf.absolute_path))}: {leaf.message}")
        if errors:
            bad += 1
    print(f"check-profile-schema: {len(files) - bad} of {len(files)} profiles valid", file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
