#!/usr/bin/env bash
# Render a comparison (or panel) record to HTML and screenshot it at phone and desktop width.
#
#   bench/screenshot.sh RECORD.json OUT_DIR
#
# Writes OUT_DIR/page.html, OUT_DIR/phone-390x844.png and OUT_DIR/desktop-1280x800.png.
# Needs Debian's `chromium` (apt-get install chromium). Python: $PYTHON, else the repository's
# .venv, else python3. Each chromium run is given 120 s and a throwaway profile.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 RECORD.json OUT_DIR" >&2
  exit 2
fi
record=$1
out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then python=$repo/.venv/bin/python; else python=python3; fi
fi
command -v chromium >/dev/null || { echo "$0: chromium not found (apt-get install chromium)" >&2; exit 1; }

mkdir -p "$out"
page=$(cd "$out" && pwd)/page.html

"$python" - "$record" "$page" <<'PY'
"""Load the record as panel does (computed fields recomputed) and render it with persona names."""
import json
import sys
from pathlib import Path

from panel.errors import PanelError
from panel.inputs.personas import load_personas
from panel.records import Comparison, ToolPanel
from panel.editorial.render import render_page
from panel.core.files import atomic_write
from panel.records.store import load_record

source, target = Path(sys.argv[1]), Path(sys.argv[2])
kind = json.loads(source.read_text(encoding="utf-8")).get("kind")
record = load_record(source, ToolPanel if kind == "panel" else Comparison).record
try:
    names = {p.id: p.name for p in load_personas()}
except PanelError:
    names = {}
atomic_write(target, render_page(record, "html", names).encode("utf-8"))
PY

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
shoot() {  # WIDTH HEIGHT FILE
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-quic \
    --user-data-dir="$profile" --window-size="$1,$2" \
    --screenshot="$out/$3" "file://$page" >/dev/null 2>&1
  [ -s "$out/$3" ] || { echo "$0: no screenshot written to $out/$3" >&2; exit 1; }
  echo "$out/$3"
}
shoot 390 844 phone-390x844.png
shoot 1280 800 desktop-1280x800.png
