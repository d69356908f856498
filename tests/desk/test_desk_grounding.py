"""The desk grounds each review once: its first index build, the record page, a claim check (the
record and the tool's panel file, their index updates) and the pages after it all ask for the same
claims, and only the first asks the claim rules."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path

import httpx

from panel.records import Comparison, ToolPanel
from panel.records.store import Outputs, dump_record

from factory import panel

SKEPTIC = (
    "Two incumbents already sell this job. The license is the first thing I would check: a GPL-3.0 "
    "tool inside every pipeline makes legal teams nervous, and at $30 per seat the savings disappear "
    "fast. Skip until a team outside the vendor has run it for a year. "
)
CHECK = re.compile(
    r'<li class="claim[^"]*">(?:(?!</li>).)*?<q>GPL-3\.0</q>(?:(?!</li>).)*?name="claim" value="([^"]+)"',
    re.S,
)


def _reviewed(name: str, description: str, tag: str) -> ToolPanel:
    made = panel(name, description=description)
    reviews = [r.model_copy(update={"review": f"{SKEPTIC}Case {tag}-{r.persona}."}) for r in made.reviews]
    return made.model_copy(update={"reviews": reviews})


def _form(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def test_a_desk_session_grounds_each_review_once(
    desk_server, tmp_path: Path, grounding_runs: Counter[tuple[str, str]]
) -> None:
    tag = uuid.uuid4().hex[:8]  # texts no earlier test of this process has grounded
    burrow = _reviewed("Burrow", "Burrow is free and open source under the MIT license.", tag)
    keyring = _reviewed("Keyring", "Keyring keeps keys for teams in one vault.", tag)
    outputs = Outputs(tmp_path / "outputs")
    for made in (burrow, keyring):  # written as bytes: nothing grounded in this process yet
        path = outputs.panel_path(made.tool.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dump_record(made))
    comparison = outputs.comparison_path(["Burrow", "Keyring"])
    comparison.parent.mkdir(parents=True)
    comparison.write_bytes(dump_record(Comparison(panels=[burrow, keyring])))

    assert not grounding_runs  # written as bytes: nothing grounded before the desk starts
    desk = desk_server(outputs.root)  # its first sync indexes all three files
    url = "/r/comparisons~burrow-vs-keyring"
    with httpx.Client(base_url=desk.url, headers={"Origin": desk.url}) as client:
        assert client.post("/login", data={"token": desk.token, "name": "ana"}).status_code == 303
        page = client.get(url).text
        (claim,) = {m for m in CHECK.findall(page) if m.startswith("0/skeptic/")}
        done = client.post(f"{url}/check", data={**_form(page), "claim": claim}, follow_redirects=True)
        assert done.status_code == 200 and "Claim marked as checked." in done.text
        client.get(url)
        client.get("/r/panels~burrow")

    reviews = {(p.tool.name, r.review) for p in (burrow, keyring) for r in p.reviews}
    assert dict(grounding_runs) == dict.fromkeys(reviews, 1)
