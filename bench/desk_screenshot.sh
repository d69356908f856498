#!/usr/bin/env bash
# Screenshots of the review desk: the queue and a record, at desktop (1280) and phone (390) width.
#
#   bench/desk_screenshot.sh OUT_DIR
#
# Builds a small outputs folder (the invented comparison tests/editorial/test_render.py uses, with a claim,
# an edit and community votes, plus a few panels with flags), starts the real desk server on a
# free port, signs in with headless chromium (Playwright driving Debian's /usr/bin/chromium) and
# writes OUT_DIR/{queue,record}-{1280,390}.png (the top of the page) and *-full.png (all of it).
# Python: $PYTHON, else the repository's .venv, else python3.
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then python=$repo/.venv/bin/python; else python=python3; fi
fi
[ -x /usr/bin/chromium ] || { echo "$0: /usr/bin/chromium not found (apt-get install chromium)" >&2; exit 1; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$repo" "$work/outputs" "$out" <<'PY'
import json
import sys
from pathlib import Path

repo, root, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(repo / "tests"))

from playwright.sync_api import sync_playwright

from conftest import start_desk
from panel.grounding.material import material_for
from panel.records import Claim, Evidence, ReviewFailure
from panel.records.store import Outputs, write_record
from test_render import CHROMIUM_FLAGS, comparison

record = comparison()
cron = record.panels[0]
sentence = material_for(cron.tool).sentences[0]
builder = cron.reviews[0]
claims = [
    Claim(text=builder.review.split(".")[0][:60].strip(), kind="feature", status="supported",
          evidence=Evidence(id=sentence.id, sentence=sentence.text, source=sentence.source), origin="model"),
    Claim(text=builder.review.split(".")[1][:50].strip(), kind="feature", status="unsupported", origin="model"),
]
cron = cron.model_copy(update={"reviews": [builder.model_copy(update={"claims": claims}), *cron.reviews[1:]]})
record = record.model_copy(update={"panels": [cron, record.panels[1]]})
outputs = Outputs(root)
for p in record.panels:
    write_record(outputs.panel_path(p.tool.name), p)
path = outputs.comparison_path([p.tool.name for p in record.panels])
write_record(path, record)
failed = record.panels[1].model_copy(update={
    "tool": record.panels[1].tool.model_copy(update={"name": "Pendulum Jobs"}),
    "reviews": record.panels[1].reviews[:3],
    "failures": [ReviewFailure(persona="founder", reason="the server answered HTTP 503")],
})
write_record(outputs.panel_path("Pendulum Jobs"), failed)
hand = outputs.panel_path("Cronwright")
data = json.loads(hand.read_text())
data["tool"]["tagline"] = "Cron with a console, self-hosted"  # edited by hand: the checksum no longer matches
hand.write_text(json.dumps(data, indent=2))

desk = start_desk(root, editor="Dana")
try:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=[f for f in CHROMIUM_FLAGS if f != "--headless"]
        )
        for width, height in ((1280, 800), (390, 844)):
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{desk.url}/login?token={desk.token}")
            page.click("button:has-text('Sign in')")
            page.wait_for_url(f"{desk.url}/")
            page.screenshot(path=str(out / f"queue-{width}.png"))
            page.screenshot(path=str(out / f"queue-{width}-full.png"), full_page=True)
            page.click("text=Cronwright vs Ticklane")
            page.screenshot(path=str(out / f"record-{width}.png"))
            page.screenshot(path=str(out / f"record-{width}-full.png"), full_page=True)
            for name in ("queue", "record"):
                print(out / f"{name}-{width}.png")
            context.close()
        browser.close()
finally:
    desk.stop()
PY
