#!/usr/bin/env bash
# Builds the plugin of docs/plugins.md's walkthrough (ExportLimit) out of tree
# against the SDK package (SDK/) alone, the way a plugin author does, and
# checks what an author relies on:
#   - the SDK package has no dependencies: the plugin's graph is the SDK alone
#     (a dependency creeping into SDK/Package.swift fails here);
#   - the plugin exports switchyard_plugin_entry_v1 and nothing else;
#   - SDK/VERSION carries the header's ABI (SY_ABI_MAJOR.SY_ABI_MINOR.patch).
# The walkthrough's files are taken from docs/plugins.md itself, so the page
# and what CI builds cannot drift apart. The build also writes the kit's symbol
# graphs, which scripts/sdk-reference.py turns into docs/reference/.
#
# Usage: scripts/sdk-check.sh [--build-only]
# Scratch: .build/sdk-check (incremental: seconds when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
swift="${SWIFT:-swift}"
out="$root/.build/sdk-check"
plugin="$out/ExportLimit"
fail() { echo "sdk-check: $*" >&2; exit 1; }

# The walkthrough's three files, as the page shows them, with the SDK path
# pointed at this checkout.
python3 - "$root/docs/plugins.md" "$plugin" "$root/SDK" <<'PY'
import os, re, sys
doc, dest, sdk = sys.argv[1:]
text = open(doc, encoding="utf-8").read()
files = {"Package.swift": None, "exports.map": None, "Sources/ExportLimit/ExportLimit.swift": None}
for name in files:
    m = re.search(r"^### `" + re.escape(name) + r"`\n.*?^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit(f"sdk-check: {doc}: no code block under the heading \"### `{name}`\" (the walkthrough this check builds)")
    files[name] = m.group(1)
placeholder = '"/path/to/switchyard/SDK"'
if placeholder not in files["Package.swift"]:
    sys.exit(f"sdk-check: {doc}: the walkthrough's Package.swift must depend on {placeholder} by path")
files["Package.swift"] = files["Package.swift"].replace(placeholder, '"' + sdk + '"')
for name, body in files.items():
    path = os.path.join(dest, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Unchanged files keep their time stamps.
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != body:
        open(path, "w", encoding="utf-8").write(body)
PY

# From a clean scratch each time: an incremental build does not always write
# the symbol graphs again (the kit's extensions of standard types went
# missing), and the reference must not depend on what was built before.
rm -rf "$out/symbolgraph" "$out/build"
mkdir -p "$out/symbolgraph"
"$swift" build --package-path "$plugin" --scratch-path "$out/build" \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$out/symbolgraph" \
    || fail "the walkthrough plugin (docs/plugins.md §2) does not build against SDK/ alone"
[[ "${1:-}" == "--build-only" ]] && exit 0

# The graph: the plugin and the SDK, nothing else.
deps="$("$swift" package --package-path "$plugin" --scratch-path "$out/build" show-dependencies --format json)"
python3 - "$deps" <<'PY' || exit 1
import json, sys
root = json.loads(sys.argv[1])
sdk = root["dependencies"]
if [d["identity"] for d in sdk] != ["sdk"]:
    sys.exit(f"sdk-check: the walkthrough plugin should depend on the SDK alone, found {[d['identity'] for d in sdk]}")
extra = sorted({d["identity"] for d in sdk[0]["dependencies"]})
if extra:
    sys.exit(f"sdk-check: SDK/Package.swift: dependencies: the SDK must have none (a plugin author would fetch them), found {extra}")
PY

lib="$out/build/debug/libExportLimit.so"
exported="$(nm -D --defined-only --extern-only "$lib" | awk '{print $3}')"
[[ "$exported" == "switchyard_plugin_entry_v1" ]] \
    || fail "$lib: exports.map: expected only switchyard_plugin_entry_v1 exported, found: $(echo $exported)"

header="$root/SDK/Sources/CSwitchyardPlugin/include/switchyard_plugin.h"
major="$(awk '$2 == "SY_ABI_MAJOR" {print $3}' "$header")"
minor="$(awk '$2 == "SY_ABI_MINOR" {print $3}' "$header")"
version="$(cat "$root/SDK/VERSION")"
[[ "$version" =~ ^$major\.$minor\.[0-9]+$ ]] \
    || fail "SDK/VERSION: expected $major.$minor.<patch> (the header's ABI $major.$minor), found \"$version\""
echo "sdk-check: ok — the walkthrough plugin builds against SDK $version alone and exports only its entry"
