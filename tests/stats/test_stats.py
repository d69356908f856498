"""`panel stats`: every figure checked against numbers worked out by hand from a known folder.

The folder holds 24 tools reviewed by four personas whose scores follow simple rules, so each
expected value below can be derived on paper (the derivation sits next to the assertion).
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from panel.errors import InputError
from panel.grounding import similarity
from panel.records import (
    CommunityVotes,
    Comparison,
    Draft,
    ReviewEntry,
    ReviewFailure,
    Tool,
    ToolPanel,
)
from panel.records.store import Outputs, write_record
from panel.stats.compute import Stats, collect, fleiss_kappa
from panel.stats.figures import ALIKE
from panel.stats.report import stats_html, stats_table
from panel.stats.rows import overview_rows

from factory import model_claim, provenance

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
    # Ship panels: i >= 14 (at least 3 of 4 ship): 10. Even i < 14 (builder + futurist: 2 of 4,
    # 0, 2, ..., 12) are split, not ship: a panel ships on a strict majority.
    assert stats.ship_panels == 10
    assert stats.panels_with_verdict == N
    assert stats.ship_panel_share == pytest.approx(10 / 24)
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
    # Names are text, never markup: persona, changes and agreement rows, the matrix header, the
    # warning, and the personas' drafts against the editors (two tools are published).
    assert text.count("[red]Bob[/red]") == 6
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


def test_tables_read_at_80_columns(stats: Stats) -> None:
    """rich cuts headers ("Perso…") when a table is wider than the output, as in a pipe or a log."""
    buffer = StringIO()
    Console(width=80, file=buffer).print(stats_table(stats, {"builder": "The Builder"}))
    text = buffer.getvalue()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for header in ("The Builder", "Skeptic", "Futurist", "Founder", "All", "Claims per review"):
        assert header in text
    for label in ("Reviews", "Ship rate", "Mean score", "Scores 80-100", "Similarity to others", "skip→ship"):
        assert label in text


# ---------------------------------------------------------------------------------------------
# Claims, distinctness and community (figures from the record index)

# Opinion only: no price, license, figure, date, version or name for the rules to find, so the
# only claims are the ones a test attaches (as a model pass would).
PLAIN = (
    "the team would keep reference pages beside the code they describe and read them during "
    "review, which is the habit this tool is built around. it installs as one binary that runs in "
    "the build and writes pages a developer can search, and nothing else in the workflow moves."
)
SPANS = ("one binary that runs in the build", "writes pages a developer can search")


def test_claims_per_persona(tmp_path: Path) -> None:
    """Ten tools: the builder's review states two claims (one unsupported, one contradicted and
    checked by a person on even tools), the skeptic's none."""
    out = Outputs(tmp_path)
    for i in range(10):
        tool = Tool(name=f"tool-{i}", description="Reads an API description and writes reference pages.")
        claims = [
            model_claim(tool, SPANS[0], "unsupported"),
            model_claim(tool, SPANS[1], "contradicted", i % 2 == 0),
        ]
        builder = entry("builder", 70, text=PLAIN).model_copy(update={"review": PLAIN, "claims": claims})
        skeptic = entry("skeptic", 40).model_copy(update={"review": PLAIN})
        write_record(out.panel_path(tool.name), ToolPanel(tool=tool, reviews=[builder, skeptic]))
    stats = collect(tmp_path)
    b, s = stats.persona("builder"), stats.persona("skeptic")
    assert b and s and b.grounding and s.grounding
    assert (b.grounding.claims, b.grounding.unsupported, b.grounding.contradicted, b.grounding.checked) == (
        20,
        10,
        10,
        5,
    )
    assert b.grounding.per_review == 2.0
    assert (b.grounding.unsupported_share, b.grounding.contradicted_share, b.grounding.checked_share) == (
        0.5,
        0.5,
        0.25,
    )
    assert (s.grounding.claims, s.grounding.per_review, s.grounding.unsupported_share) == (0, 0.0, None)
    assert stats.grounding and stats.grounding.claims == 20 and stats.grounding.per_review == 1.0
    claims = dict(overview_rows(stats))["Claims"]
    assert claims == "1.0 per review · 50% unsupported · 50% contradicted · 25% checked by people"
    html = stats_html(stats)
    assert "<td>2.0</td><td>50%</td><td>50%</td><td>25%</td>" in html


def test_tfidf_similarity_worked_by_hand() -> None:
    # "apple" in both texts: idf log(3/3) + 1 = 1; "banana", "cherry" in one: log(3/2) + 1.
    # Each vector is (1, w) with w = 1 + ln 1.5; the cosine is 1 / (1 + w^2).
    w = 1 + math.log(1.5)
    [(a, b, value)] = similarity.pairwise({"x": "The apple and a banana.", "y": "An apple, then cherry!"})
    assert (a, b) == ("x", "y") and value == pytest.approx(1 / (1 + w * w), abs=1e-4)
    assert similarity.pairwise({"x": PLAIN, "y": PLAIN})[0][2] == 1.0
    assert similarity.pairwise({"x": "alpha beta", "y": "gamma delta"})[0][2] == 0.0
    assert similarity.pairwise({"x": "the and of", "y": "the and of"})[0][2] == 0.0  # no words left


DISTINCT = {
    "builder": (
        "The primitive is a parser for commit trailers, and the first hour is adding one binary to "
        "continuous integration and reading the draft changelog it leaves in the release branch. "
        "Setup needs no server, which keeps adoption cheap."
    ),
    "skeptic": (
        "Incumbent release tooling already groups merged work, and monorepos with twenty packages "
        "shipping on different days are where grouping falls apart; nobody explains that case. "
        "Expect a bigger vendor to copy whatever survives."
    ),
    "futurist": (
        "If agents open most pull requests, release notes stop being a chore and become the only "
        "human readable account of what shipped, queried directly by support staff and customers "
        "long after anybody remembers why."
    ),
    "founder": (
        "The buyer is an engineering manager tired of writing release notes on Friday evenings; "
        "distribution through a marketplace listing is cheap, retention depends on rivals staying "
        "clumsy, and pricing per repository caps expansion."
    ),
}


def test_distinct_voices_and_one_voice_twice(tmp_path: Path) -> None:
    """Twelve tools with four distinct paragraphs, except that the skeptic repeats the builder."""
    out = Outputs(tmp_path)
    for i in range(12):
        texts = dict(DISTINCT, skeptic=DISTINCT["builder"])
        reviews = [entry(p, 50 + i).model_copy(update={"review": t}) for p, t in texts.items()]
        write_record(
            out.panel_path(f"tool-{i}"),
            ToolPanel(tool=Tool(name=f"tool-{i}", description="d"), reviews=reviews),
        )
    stats = collect(tmp_path)
    twin = stats.similarity_of("skeptic", "builder")
    assert twin and (twin.tools, twin.mean) == (12, 1.0)
    others = [x for x in stats.similarity if {x.a, x.b} != {"builder", "skeptic"}]
    assert len(others) == 5 and all(x.mean is not None and x.mean < 0.2 for x in others)
    # Per persona: the builder's five similarities to others are 1 (skeptic) and two low ones.
    b, fu = stats.persona("builder"), stats.persona("futurist")
    assert b and fu and b.similarity_pairs == 36 and b.similarity and b.similarity > 1 / 3
    assert fu.similarity is not None and fu.similarity < 0.2
    # Overall: each tool's mean over its six pairs (one at 1.0), well under the threshold.
    assert stats.mean_similarity is not None and 1 / 6 <= stats.mean_similarity < ALIKE
    assert stats.text_warnings == []
    html = stats_html(stats)
    assert '<td class="loud">1.00</td>' in html  # the builder-skeptic pair is marked


def test_alike_paragraphs_warn(stats: Stats) -> None:
    """The designed folder gives every persona the same paragraph: one voice, four times."""
    assert stats.mean_similarity == 1.0 and stats.similarity_tools == 24
    assert [(w.kind, w.total) for w in stats.text_warnings] == [("alike", 24)]
    sentence = stats.text_warnings[0].sentence()
    assert "mean similarity 1.00 over 24 tools (above 0.40)" in sentence
    assert all(x.mean == 1.0 for x in stats.similarity)


def test_alike_needs_ten_tools(tmp_path: Path) -> None:
    out = Outputs(tmp_path)
    for i in range(9):
        reviews = [entry(p, 70) for p in ("builder", "skeptic")]
        write_record(
            out.panel_path(f"t{i}"), ToolPanel(tool=Tool(name=f"t{i}", description="d"), reviews=reviews)
        )
    assert collect(tmp_path).text_warnings == []


def _compared(
    out: Outputs, a: str, b: str, votes: dict[str, tuple[int, int]], **lifecycle: object
) -> Comparison:
    """A comparison where tool `a` gets a ship panel and tool `b` a skip panel."""
    panels = [
        ToolPanel(tool=Tool(name=a, description="d"), reviews=[entry("builder", 80), entry("skeptic", 70)]),
        ToolPanel(tool=Tool(name=b, description="d"), reviews=[entry("builder", 30), entry("skeptic", 20)]),
    ]
    community = {k: CommunityVotes(ship=s, skip=k_) for k, (s, k_) in votes.items()}
    return Comparison(panels=panels, community=community, **lifecycle)


def test_community_against_the_panel(tmp_path: Path) -> None:
    out = Outputs(tmp_path)
    # Agrees on A (ship, 10 to 2), disagrees on B (panel skip, readers ship 8 to 1).
    write_record(out.comparison_path(["A", "B"]), _compared(out, "A", "B", {"A": (10, 2), "B": (8, 1)}))
    # C's readers tie: no majority. D has no votes at all (0 and 0 is no vote).
    write_record(out.comparison_path(["C", "D"]), _compared(out, "C", "D", {"C": (3, 3), "D": (0, 0)}))
    # E vs F: the published copy counts (readers skip E: disagree), the draft does not.
    published = _compared(out, "E", "F", {"E": (1, 9)}, status="published")
    write_record(tmp_path / "published" / "e-vs-f.json", published)
    write_record(
        out.comparison_path(["E", "F"]), _compared(out, "E", "F", {"E": (9, 1), "F": (9, 1)}, revision=2)
    )
    # No votes at all: not counted.
    write_record(out.comparison_path(["G", "H"]), _compared(out, "G", "H", {}))
    c = collect(tmp_path).community
    assert (c.comparisons, c.tools, c.compared, c.disagree) == (3, 4, 3, 2)
    assert c.disagree_share == pytest.approx(2 / 3)
    stats = collect(tmp_path)
    text = "\n".join(v for k, v in overview_rows(stats) if k == "Community vs panel")
    assert text == "disagree on 2 of 3 tools (67%), in 3 comparisons with votes"


def test_many_personas_split_at_80_columns(tmp_path: Path) -> None:
    ids = [f"persona-{n}" for n in "abcdefg"]
    out = Outputs(tmp_path)
    for i in range(3):
        reviews = [entry(p, 40 + 10 * k) for k, p in enumerate(ids)]
        write_record(
            out.panel_path(f"t{i}"), ToolPanel(tool=Tool(name=f"t{i}", description="d"), reviews=reviews)
        )
    names = {p: f"The {p.title()} Reviewer" for p in ids}
    buffer = StringIO()
    Console(width=80, file=buffer).print(stats_table(collect(tmp_path), names))
    text = buffer.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "Personas (continued)" in text and "Changes to the model's drafts (continued)" in text
    for name in names.values():
        assert name in text
