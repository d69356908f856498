"""The four-eyes rule: who changed a score, verdict or review text does not publish it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from panel.errors import ConfigError
from panel.records import Change
from panel.team.policy import four_eyes_refusal, judgement_changes, read_policy, write_policy

from factory import WHEN, panel


def _edited(by: str, *fields: str, minutes: int = 1) -> Change:
    return Change(at=WHEN + timedelta(minutes=minutes), by=by, action="edited", fields=list(fields))


def test_whoever_changed_the_judgement_may_not_publish_it():
    record = panel("Quillstack").model_copy(
        update={
            "history": [
                _edited("ana", "reviews.builder.verdict", "reviews.builder.score"),
                _edited("bo", "tool.tagline"),  # not a judgement
                Change(by="cy", action="checked", fields=["Quillstack: reviews.skeptic.claims"]),
            ]
        }
    )
    assert judgement_changes(record) == {"ana": ["reviews.builder.verdict", "reviews.builder.score"]}
    refusal = four_eyes_refusal(record, "Ana")  # the same person, whatever the case
    assert refusal is not None and "ana changed reviews.builder.verdict" in refusal.lower()
    assert "someone else must publish it" in refusal
    assert four_eyes_refusal(record, "bo") is None and four_eyes_refusal(record, "cy") is None
    # Changes before the last publication were approved then: they no longer count.
    assert four_eyes_refusal(record, "ana", since=WHEN + timedelta(minutes=5)) is None


def test_comparison_fields_and_unattributed_changes():
    record = panel("Quillstack").model_copy(
        update={"history": [_edited("ana", "Quillstack: reviews.futurist.review")]}
    )
    assert "Quillstack: reviews.futurist.review" in (four_eyes_refusal(record, "ana") or "")
    hand = four_eyes_refusal(panel("Ledgerlight"), "pat", unattributed=["reviews.founder.score"])
    assert hand is not None and "changed outside panel" in hand
    assert four_eyes_refusal(panel("Ledgerlight"), "pat") is None  # nobody changed anything


def test_policy_is_kept_in_the_outputs_folder(tmp_path: Path):
    assert read_policy(tmp_path).four_eyes is False  # no file: every rule off
    write_policy(tmp_path, four_eyes=True)
    write_policy(tmp_path, lock_minutes=5)  # the others are kept
    policy = read_policy(tmp_path)
    assert (policy.four_eyes, policy.blind_review, policy.lock_minutes) == (True, False, 5)
    assert policy.lock_window == timedelta(minutes=5)
    with pytest.raises(ConfigError):
        write_policy(tmp_path, lock_minutes=0)
    assert read_policy(tmp_path).lock_minutes == 5
    (tmp_path / ".team/policy.json").write_text('{"four_eyes": "yes please"}')
    with pytest.raises(ConfigError, match=r"policy\.json"):
        read_policy(tmp_path)
