"""`panel stats`: every figure checked against numbers worked out by hand from a known folder.

The folder holds 24 tools reviewed by four personas whose scores follow simple rules, so each
expected value below can be derived on paper (the derivation sits next to the assertion).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from panel.errors import InputError
from panel.records import Comparison, Draft, ReviewEntry, ReviewFailure, Tool, ToolPanel
from panel.stats import Stats, collect, fleiss_kappa
from panel.stats_report import stats_html, stats_table
from panel.store import Outputs, write_record

from factory import provenance

TEXT = "A considered paragraph about the tool and what it is for. " * 8
N = 24
FUTURIST_FAILED = {3, 7}
PUBLISHED = {15, 20}
PROVENANCE = provenance()


def entry(persona: str, score: int, original: tuple[int, str] | None = None, text: str = TEXT) -> ReviewEntry:
    """A review; `original` (score, verdict) makes it one a person edited."""
    verdict = "ship" if score >= 60 else "skip"
    draft = None if original is None else Draft(score=original[0], verdict=original[1], review=text)
    return ReviewEntry(
        persona=persona, score=score, verdict=verdict, review=TEXT, provenance=PROVENANCE, original=draft
    )


def designed_panel(i: int) -> ToolPanel:
    """Tool i: builder 60+i (always ship), skeptic 4i (ship from i=15), futurist 70/30 on even/odd
    i (failed on 3 and 7), founder 4i+4 (ship from i=14); plus a few edited drafts."""
    edits: dict[tuple[str, int], tuple[int, str]] = {
        ("skeptic", 0): (5, "skip"),  # score -5, no flip
        ("skeptic", 14): (64, "ship"),  # 56 skip now: -8, ship->skip
        ("skeptic", 15): (50, "skip"),  # 60 ship now: +10, skip->ship (in the published copy)
        ("founder", 10): (74, "ship"),  # 44 skip now: -30, ship->skip
        ("builder", 5): (61, "ship"),  # 65 now: +4
    }
    scores = {"builder": 60 + i, "skeptic": 4 * i, "futurist": 70 if i % 2 == 0 else 30, "founder": 4 * i + 4}
    reviews = []
    for persona, score in scores.items():
        if persona == "futurist" and i in FUTURIST_FAILED:
            continue
        if (persona, i) == ("builder", 23):  # text edited, score and verdict kept
            reviews.append(entry(persona, score, original=(score, "ship"), text="Draft. " * 40))
        else:
            reviews.append(entry(persona, score, original=edits.get((persona, i))))
    failures = (
        [ReviewFailure(persona="futurist", reason="cut off at max_tokens")] if i in FUTURIST_FAILED else []
    )
    status = "published" if i in PUBLISHED else "draft"
    return ToolPanel(
        tool=Tool(name=f"tool-{i:02d}", description="d"), reviews=reviews, failures=failures, status=status
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outputs")
    out = Outputs(root)
    for i in range(N):
        panel = designed_panel(i)
        if i in PUBLISHED:
            write_record(root / "published" / f"tool-{i:02d}.json", panel)
            # The draft being reworked: a newer revision where everyone skips. Must not count.
            rework = [entry(p, 0) for p in ("builder", "skeptic", "futurist", "founder")]
            draft = ToolPanel(tool=panel.tool, reviews=rework, revision=2)
            write_record(out.panel_path(panel.tool.name), draft)
        else:
            write_record(out.panel_path(panel.tool.name), panel)
    # A comparison embeds two panels of tools found nowhere else: counting them would give 26 tools.
    others = [
        ToolPanel(tool=Tool(name=n, description="d"), reviews=[entry("builder", 90)])
        for n in ("Other A", "Other B")
    ]
    write_record(out.comparison_path(["Other A", "Other B"]), Comparison(panels=others))
    # A batch run folder holds copies; it must be left out.
    write_record(root / "runs" / "r1" / "panels" / "run-tool.json", others[0])
    (root / "panels" / "broken.json").write_text("{not json")
    (root / "panels" / "bad-panel.json").write_text(json.dumps({"kind": "panel", "tool": {"name": "x"}}))
    (root / "panels" / "notes.json").write_text(json.dumps({"note": "not a record"}))
    return root


@pytest.fixture(scope="module")
def stats(outputs: Path) -> Stats:
    return collect(outputs)


def test_one_record_per_tool_and_files_that_do_not_count(stats: Stats) -> None:
    assert stats.tools == N
    assert stats.from_published == 2
    assert stats.superseded == 2  # the two reworked drafts
    assert stats.ignored == 2  # the comparison and notes.json
    reasons = {s.path: s.reason for s in stats.skipped}
    assert set(reasons) == {"panels/broken.json", "panels/bad-panel.json"}
    assert "invalid JSON" in reasons["panels/broken.json"]
    assert "description" in reasons["panels/bad-panel.json"]
    assert [p.persona for p in stats.personas] == ["builder", "skeptic", "futurist", "founder"]


def test_which_copy_counts(tmp_path: Path) -> None:
    """Published beats draft whatever the revision; between drafts, the higher revision wins."""

    def write(path: str, name: str, score: int, **lifecycle: object) -> None:
        record = ToolPanel(
            tool=Tool(name=name, description="d"), reviews=[entry("builder", score)], **lifecycle
        )
        write_record(tmp_path / path, record)

    write("panels/a.json", "a", 10, revision=3)
    write("published/a.json", "a", 70)  # published by its folder
    write("panels/b.json", "b", 20, revision=2)
    write("archive/b.json", "b", 30)
    write("archive/c.json", "c", 40, revision=2)
    write("panels/c.json", "c", 50, status="published")  # published by its status
    # `panel publish` keeps earlier revisions under published/revisions/: the current one counts.
    write("published/revisions/d.r1.json", "d", 0, status="published")
    write("published/d.json", "d", 60, status="published", revision=2)
    stats = collect(tmp_path)
    assert (stats.tools, stats.superseded, stats.from_published) == (4, 4, 3)
    builder = stats.persona("builder")
    assert builder and builder.mean_score == pytest.approx((70 + 20 + 50 + 60) / 4)


def test_panel_level(stats: Stats) -> None:
    # Ship panels: even i < 14 (builder + futurist = 2 of 4 = 50%): 0,2,...,12 = 7; i >= 14: 10.
    assert stats.ship_panels == 17
    assert stats.panels_with_verdict == N
    assert stats.ship_panel_share == pytest.approx(17 / 24)
    assert stats.failed_reviews == 2


def test_persona_figures(stats: Stats) -> None:
    b, s, fu, fo = (stats.persona(p) for p in ("builder", "skeptic", "futurist", "founder"))
    assert b and s and fu and fo
    # builder 60..83: 60-79 holds 60..79 (20), 80-100 holds 80..83 (4).
    assert (b.reviews, b.ship, b.ship_rate) == (24, 24, 1.0)
    assert (b.min_score, b.median_score, b.max_score) == (60, 71.5, 83)
    assert b.mean_score == pytest.approx(71.5)
    assert b.buckets == [0, 0, 0, 20, 4]
    # skeptic 0,4,...,92: five per bucket except 80-100 (80,84,88,92); ships 60..92 = 9.
    assert (s.ship, s.ship_rate) == (9, pytest.approx(9 / 24))
    assert (s.min_score, s.median_score, s.max_score, s.mean_score) == (0, 46, 92, pytest.approx(46))
    assert s.buckets == [5, 5, 5, 5, 4]
    # founder 4,8,...,96: 0-19 holds 4..16 (4); ships 60..96 = 10.
    assert (fo.ship, fo.mean_score, fo.buckets) == (10, pytest.approx(50), [4, 5, 5, 5, 5])
    # futurist: 22 reviews (two failed, both odd), 12 x 70 and 10 x 30.
    assert (fu.reviews, fu.ship, fu.ship_rate) == (22, 12, pytest.approx(12 / 22))
    assert fu.mean_score == pytest.approx((12 * 70 + 10 * 30) / 22)
    assert fu.median_score == 70
    assert fu.buckets == [0, 10, 0, 12, 0]


def test_agreement(stats: Stats) -> None:
    pair = stats.pair("founder", "skeptic")  # either order
    assert pair and (pair.tools, pair.agree) == (24, 23)  # they differ on i=14 only
    assert pair.rate == pytest.approx(23 / 24)
    bs = stats.pair("builder", "skeptic")
    assert bs and (bs.tools, bs.agree) == (24, 9)
    # skeptic/futurist on the 22 shared tools: both ship on 16,18,20,22; both skip on 1,5,9,11,13.
    sf = stats.pair("skeptic", "futurist")
    assert sf and (sf.tools, sf.agree) == (22, 9)
    assert len(stats.agreement) == 6
    # The six rates: b-s 9/24, b-fu 12/22, b-fo 10/24, s-fu 9/22, s-fo 23/24, fu-fo 10/22.
    expected = (9 / 24 + 12 / 22 + 10 / 24 + 9 / 22 + 23 / 24 + 10 / 22) / 6
    assert stats.mean_agreement == pytest.approx(expected)


def test_fleiss_kappa_hand_worked() -> None:
    # Four tools, four raters, (ship, skip): P_i = 1, 1/3, 1/2, 1 so P = 17/24; p_ship = 9/16,
    # Pe = (81 + 49) / 256 = 65/128; kappa = (17/24 - 65/128) / (63/128) = 77/189 = 11/27.
    assert fleiss_kappa([(4, 0), (2, 2), (3, 1), (0, 4)]) == pytest.approx(11 / 27)
    assert fleiss_kappa([(4, 0), (0, 4)]) == pytest.approx(1.0)
    assert fleiss_kappa([(2, 0), (0, 2), (1, 1), (1, 1)]) == pytest.approx(0.0)  # P = Pe = 1/2
    assert fleiss_kappa([(4, 0), (3, 0)]) is None  # no variation: undefined
    assert fleiss_kappa([(1, 0)]) is None  # one rater agrees with nobody


def test_fleiss_kappa_from_records(tmp_path: Path) -> None:
    out = Outputs(tmp_path)
    personas = ("builder", "skeptic", "futurist", "founder")
    for i, ships in enumerate((4, 2, 3, 0)):
        reviews = [entry(p, 80 if k < ships else 20) for k, p in enumerate(personas)]
        write_record(
            out.panel_path(f"tool-{i}"),
            ToolPanel(tool=Tool(name=f"tool-{i}", description="d"), reviews=reviews),
        )
    assert collect(tmp_path).fleiss_kappa == pytest.approx(11 / 27)


def test_reviewer_changes(stats: Stats) -> None:
    sk = stats.changes_for("skeptic")
    assert sk and (sk.reviews, sk.score_changed, sk.edited) == (24, 3, 3)
    assert sk.score_changed_share == pytest.approx(3 / 24)
    assert sk.max_abs_change == 10
    assert sk.mean_abs_change == pytest.approx((5 + 8 + 10) / 24)
    assert sk.mean_abs_change_when_changed == pytest.approx(23 / 3)
    assert (sk.ship_to_skip, sk.skip_to_ship) == (1, 1)
    b = stats.changes_for("builder")
    assert b and (b.score_changed, b.edited, b.max_abs_change) == (1, 2, 4)  # i=23: text only
    fu = stats.changes_for("futurist")
    assert fu and (fu.score_changed, fu.max_abs_change, fu.mean_abs_change_when_changed) == (0, 0, None)
    total = stats.overall_changes
    assert total and total.reviews == 24 + 24 + 22 + 24
    assert total.score_changed == 5
    assert total.score_changed_share == pytest.approx(5 / 94)
    assert total.max_abs_change == 30
    assert total.mean_abs_change == pytest.approx((5 + 8 + 10 + 30 + 4) / 94)
    assert (total.ship_to_skip, total.skip_to_ship) == (2, 1)
    assert total.ship_to_skip_share == pytest.approx(2 / 94)
    assert total.skip_to_ship_share == pytest.approx(1 / 94)


def test_warnings(stats: Stats) -> None:
    kinds = sorted((w.kind, w.personas) for w in stats.warnings)
    assert kinds == [("redundant", ("skeptic", "founder")), ("rubber-stamp", ("builder",))]
    sentences = stats.warning_sentences({"builder": "The Builder"})
    assert any(s.startswith("The Builder ships 24 of 24 tools (100%)") for s in sentences)
    assert any("Skeptic and Founder give the same verdict on 23 of 24 tools (96%)" in s for s in sentences)
    assert not any("Futurist" in s for s in sentences)  # ships 12 of 22


def _all_ship(root: Path, tools: int) -> Stats:
    out = Outputs(root)
    for i in range(tools):
        reviews = [entry(p, 90) for p in ("builder", "skeptic")]
        write_record(
            out.panel_path(f"t{i}"), ToolPanel(tool=Tool(name=f"t{i}", description="d"), reviews=reviews)
        )
    return collect(root)


def test_panel_rubber_stamp_needs_ten_tools(tmp_path: Path) -> None:
    ten = _all_ship(tmp_path / "ten", 10)
    assert {w.kind for w in ten.warnings} == {"rubber-stamp", "panel-rubber-stamp", "redundant"}
    assert any(s.startswith("The panel verdict is ship for 10 of 10 tools") for s in ten.warning_sentences())
    assert _all_ship(tmp_path / "nine", 9).warnings == []


def test_table_renders(stats: Stats) -> None:
    console = Console(record=True, width=120)
    console.print(stats_table(stats, {"builder": "[red]Bob[/red]"}))
    text = console.export_text()
    for expected in ("Personas", "Verdict agreement", "Changes to the model's drafts", "Skeptic", "Founder"):
        assert expected in text
    # Names are text, never markup: persona, changes and agreement rows, the matrix header, the warning.
    assert text.count("[red]Bob[/red]") == 5
    assert "96% (24)" in text  # skeptic vs founder
    assert "ships 24 of 24 tools" in text
    assert "skipped panels/broken.json" in text


class _Checker(HTMLParser):
    """Fails on any end tag that does not close the innermost open element."""

    VOID = frozenset({"meta", "link", "br", "hr", "img", "input", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_html_report(stats: Stats) -> None:
    html = stats_html(stats, {"builder": "<b>x</b>", "skeptic": 'Sk "&" eptic'})
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert html.startswith("<!DOCTYPE html>")
    assert "script" not in checker.tags and "<script" not in html.lower()
    for fetch in ("src=", "href=", "url(", "@import", "<link"):
        assert fetch not in html.lower()
    # One histogram per persona, the ship-rate chart and the heatmap.
    assert checker.tags.count("svg") == 4 + 2
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "Sk &quot;&amp;&quot; eptic" in html
    assert "ships 24 of 24 tools" in html


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    empty = collect(tmp_path)
    assert (empty.tools, empty.warnings, empty.mean_agreement, empty.fleiss_kappa) == (0, [], None, None)
    console = Console(record=True, width=120)
    console.print(stats_table(empty))
    assert "No panel records found." in console.export_text()
    assert "<svg" not in stats_html(empty)
    with pytest.raises(InputError):
        collect(tmp_path / "missing")
