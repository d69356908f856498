"""The work store: assignments and their soft lock, requests, notes sent back, verdicts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from panel.records import utcnow
from panel.team.work import Held, WorkStore

QUIET = timedelta(minutes=30)
R = "comparisons/a-vs-b.json"


@pytest.fixture
def work(tmp_path: Path):
    store = WorkStore(tmp_path)
    yield store
    store.close()


def test_a_held_draft_cannot_be_taken_until_its_lock_goes_quiet(work: WorkStore):
    start = utcnow()
    work.take(R, "ana", QUIET, now=start)
    with pytest.raises(Held, match="ana has this draft"):
        work.take(R, "bo", QUIET, now=start + timedelta(minutes=10))
    work.touch(R, "ANA", now=start + timedelta(minutes=20))  # ana is active: the lock stays fresh
    with pytest.raises(Held):
        work.take(R, "bo", QUIET, now=start + timedelta(minutes=45))
    taken = work.take(R, "bo", QUIET, now=start + timedelta(minutes=51))  # quiet for 31 minutes
    assert taken.assignee == "bo" and work.assigned_to("bo") == [R] and work.assigned_to("ana") == []
    work.touch(R, "ana")  # a touch by someone who no longer has it changes nothing
    assert work.state(R).assignment.assignee == "bo"  # type: ignore[union-attr]


def test_assign_hand_back_request_send_back_publish(work: WorkStore):
    work.assign(R, "ana", "pat")
    state = work.state(R)
    assert (state.assignment.assignee, state.assignment.by) == ("ana", "pat")  # type: ignore[union-attr]
    work.request(R, "ana", 3)
    assert work.awaiting() == [R] and work.counts("ana") == (1, 1)
    sent = work.send_back(R, "pat", "Cite the pricing page.")
    assert sent is not None and sent.to == "ana" and work.awaiting() == []
    assert work.state(R).sent_back.note == "Cite the pricing page."  # type: ignore[union-attr]
    assert work.send_back(R, "pat", "again") is None  # nothing to send back
    work.request(R, "ana", 4)
    assert work.state(R).sent_back is None  # a new request clears the old note
    work.published(R)
    assert work.state(R) == work.state("nothing/else.json")
    assert work.hand_back(R) is None


def test_a_blind_verdict_stands_when_the_same_person_saves_later(work: WorkStore, tmp_path: Path):
    work.record_verdicts(R, "ana", {"A: builder": "ship", "A: skeptic": "skip"}, "save")
    work.record_verdicts(R, "bo", {"A: builder": "skip", "A: skeptic": "skip"}, "blind")
    work.record_verdicts(R, "bo", {"A: builder": "ship", "A: skeptic": "skip"}, "save")  # after seeing ana's
    work.record_verdicts(
        R, "ana", {"A: builder": "skip", "A: skeptic": "skip"}, "save"
    )  # ana changes her mind
    assert work.verdicts_for(R) == {
        "ana": {"A: builder": "skip", "A: skeptic": "skip"},
        "bo": {"A: builder": "skip", "A: skeptic": "skip"},
    }
    reader = WorkStore.existing(tmp_path)
    assert reader is not None and len(list(reader.all_verdicts())) == 4
    reader.close()
    assert WorkStore.existing(tmp_path / "elsewhere") is None
