"""Agreement between reviewers in `panel stats`: Krippendorff's alpha on verdicts, for reviews
two or more people judged, checked on a fixture whose alpha is worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from panel.records import Comparison
from panel.records.store import load_record
from panel.stats.compute import collect
from panel.stats.reviewers import reviewer_alpha
from panel.team.work import WorkStore, verdicts_of

from conftest import run_panel
from factory import panel, write_comparison

# Two reviewers, ten reviews (Krippendorff's own two-coder example, ship = 1, skip = 0).
ANA = ["skip", "ship", "skip", "skip", "skip", "skip", "skip", "skip", "ship", "skip"]
BO = ["ship", "ship", "ship", "skip", "skip", "ship", "skip", "skip", "skip", "skip"]
# By hand: 20 pairable values; 14 skip, 6 ship; 4 reviews disagree, so the ship/skip cell of the
# coincidence matrix holds 4. Nominal alpha = 1 - (n - 1) * o(ship,skip) / (n_ship * n_skip)
#                                           = 1 - 19 * 4 / (6 * 14) = 1 - 76/84 = 0.0952...
KNOWN = 1 - 76 / 84


def test_alpha_on_the_hand_worked_fixture():
    rows = [("r", "ana", f"unit {i}", v) for i, v in enumerate(ANA)]
    rows += [("r", "bo", f"unit {i}", v) for i, v in enumerate(BO)]
    rows += [("r", "cy", "unit 0", "ship"), ("other", "cy", "unit 0", "skip")]  # cy agrees with bo on one
    two = reviewer_alpha(rows[:20])
    assert two.alpha == pytest.approx(KNOWN) and (two.records, two.reviews, two.reviewers) == (1, 10, 2)
    # A third reviewer on one review, and a review only one person judged (left out).
    three = reviewer_alpha(rows)
    assert (three.reviews, three.reviewers) == (10, 3)
    assert three.alpha is not None and three.alpha > KNOWN  # one more agreeing pair
    assert reviewer_alpha(rows[:10]).alpha is None  # one reviewer: nothing to agree on
    same = reviewer_alpha([("r", p, "u", "ship") for p in ("ana", "bo")])
    assert same.alpha is None and same.reviews == 1  # undefined when every verdict is the same


def _fixture(root: Path) -> None:
    """Two comparisons (8 + 8 reviews); ana and bo judge ten of them as above, through the work
    store the desk writes to."""
    first = write_comparison(root, panel("Quillstack"), panel("Ledgerlight", (40, 45, 62, 30)))
    second = write_comparison(root, panel("Mosswick"), panel("Fernpath", (40, 45, 62, 30)))
    units = [(first, u) for u in verdicts_of(load_record(first, Comparison).record)]
    units += [(second, u) for u in verdicts_of(load_record(second, Comparison).record)][:2]
    work = WorkStore(root)
    for person, verdicts in (("ana", ANA), ("bo", BO)):
        for path in (first, second):
            given = {u: v for (p, u), v in zip(units, verdicts, strict=True) if p == path}
            work.record_verdicts(path.relative_to(root).as_posix(), person, given, "save")
    work.record_verdicts(second.relative_to(root).as_posix(), "cy", {"Fernpath: builder": "ship"}, "blind")
    work.close()


def test_panel_stats_shows_the_reviewers_alpha(tmp_path: Path):
    root = tmp_path / "outputs"
    _fixture(root)
    stats = collect(root)
    assert stats.reviewers is not None
    assert math.isclose(stats.reviewers.alpha or 0, KNOWN) and stats.reviewers.records == 2
    shown = run_panel("stats", str(root), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "Reviewer agreement" in x)
    assert "Krippendorff's α 0.10 over 10 reviews on 2 records, 2 reviewers" in line


def test_no_team_no_figure_and_nothing_created(tmp_path: Path):
    root = tmp_path / "outputs"
    write_comparison(root, panel("Quillstack"), panel("Ledgerlight"))
    assert collect(root).reviewers is None
    assert not (root / ".team").exists()
