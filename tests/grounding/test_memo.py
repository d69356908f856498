"""Grounding is memoised on (review text, material, worked examples): a look-up never returns the
claims or flags of another material or another set of examples, and the memo stays bounded."""

from __future__ import annotations

import uuid

import pytest

from panel.grounding import ground
from panel.grounding.material import material_for
from panel.grounding.memo import Memo
from panel.records import Tool

from factory import PARAGRAPH, panel

REVIEW = "It ships under the GPL-3.0 license and costs $30 per seat, which a small team will feel."


def _status(review: str, description: str) -> dict[str, str]:
    material = material_for(Tool(name="Burrow", description=description))
    return {c.text: c.status for c in ground.claims_for(review, material)}


def test_the_same_text_against_another_material_is_checked_again() -> None:
    review = f"{REVIEW} Case {uuid.uuid4().hex[:8]}."
    assert _status(review, "Burrow is released under the MIT license.")["GPL-3.0"] == "contradicted"
    assert _status(review, "Burrow is released under the GPL-3.0 license.")["GPL-3.0"] == "supported"
    assert _status(review, "Burrow is released under the MIT license.")["GPL-3.0"] == "contradicted"


def test_the_same_text_against_other_examples_is_flagged_again() -> None:
    made = panel("Burrow")  # every review is PARAGRAPH
    copied = ground.refresh_panel(made, {"builder": PARAGRAPH})
    assert {f.kind for f in copied.reviews[0].quality} == {"copies-example"}
    assert ground.refresh_panel(made, {"builder": REVIEW}).reviews[0].quality == []
    assert ground.refresh_panel(made, {}).reviews[0].quality == []


def test_a_looked_up_result_is_a_copy_the_caller_may_keep() -> None:
    material = material_for(Tool(name="Burrow", description="Burrow is released under the MIT license."))
    first = ground.claims_for(REVIEW, material)
    again = ground.claims_for(REVIEW, material)
    assert first == again and all(a is not b for a, b in zip(first, again, strict=True))


def test_the_memo_keeps_the_most_recently_used_values() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    memo: Memo[str] = Memo(2)
    for key in ("a", "b", "a", "c", "a", "b"):
        assert memo.get(key, lambda key=key: make(key)) == key.upper()
    assert made == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came
    assert len(memo) == 2
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)
