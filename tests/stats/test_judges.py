"""`panel stats`: each judge against the editors, checked against figures worked out by hand.

Four published tools. The skeptic is judged by the jury trio (members a, b, c), the builder by
one profile, solo; the editors' published scores and verdicts are the labels. A fifth tool is a
draft and must not count. Each member's error (original score minus published score) is chosen:

    tool   published   a      b      c      solo (original -> published)
    0      60 ship     +10    +5     -10    70 ship -> 70 ship
    1      70 ship     -20    -10    -20    40 skip -> 65 ship
    2      40 skip     +30    +15    +20    75 ship -> 50 skip
    3      80 ship      0     +10    +10    80 ship -> 80 ship

so a votes 70 ship, 50 skip, 70 ship, 80 ship; b 65 ship, 60 ship, 55 skip, 90 ship; c 50 skip,
50 skip, 60 ship, 90 ship. The jury's own drafts (median, majority): 65 ship, 50 skip, 60 ship,
90 ship. The derivations sit next to the assertions.
"""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from panel.generation.juries import verdict_of
from panel.records import JuryDefinition, ReviewEntry, Tool, ToolPanel
from panel.records.store import Outputs, write_record
from panel.stats.compute import Stats, collect
from panel.stats.judges import cohen_kappa, effective_judges, krippendorff_alpha
from panel.stats.report import stats_html, stats_table

from factory import PARAGRAPH, provenance, vote

PUBLISHED = [(60, "ship"), (70, "ship"), (40, "skip"), (80, "ship")]
ERRORS = {"a": [10, -20, 30, 0], "b": [5, -10, 15, 10], "c": [-10, -20, 20, 10]}
SOLO = [
    ((70, "ship"), (70, "ship")),
    ((40, "skip"), (65, "ship")),
    ((75, "ship"), (50, "skip")),
    ((80, "ship"), (80, "ship")),
]
TRIO = JuryDefinition(name="trio", members=["a", "b", "c"], quorum=2)


def skeptic(i: int, errors: dict[str, list[int]] = ERRORS) -> ReviewEntry:
    score, verdict = PUBLISHED[i]
    votes = [vote(m, score + errors[m][i]) for m in TRIO.members]
    drafted = verdict_of("skeptic", TRIO, votes)
    assert isinstance(drafted, ReviewEntry)
    return drafted.model_copy(update={"score": score, "verdict": verdict})  # the editor's decision


def builder(i: int) -> ReviewEntry:
    (orig, orig_verdict), (score, verdict) = SOLO[i]
    draft = ReviewEntry(
        persona="builder",
        score=orig,
        verdict=orig_verdict,
        review=PARAGRAPH,
        provenance=provenance(profile="solo", cache_key=f"solo-{i}"),
    )
    return draft.model_copy(update={"score": score, "verdict": verdict})


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> Stats:
    root = tmp_path_factory.mktemp("judges")
    out = Outputs(root)
    for i in range(4):
        panel = ToolPanel(tool=Tool(name=f"tool-{i}", description="d"), reviews=[builder(i), skeptic(i)])
        write_record(out.panel_path(panel.tool.name), panel.model_copy(update={"status": "published"}))
    # A draft nobody published: far-off votes that would change every figure if they counted.
    wild = {"a": [-60], "b": [-60], "c": [-60]}
    draft = ToolPanel(tool=Tool(name="tool-draft", description="d"), reviews=[skeptic(0, wild)])
    write_record(out.panel_path("tool-draft"), draft)
    return collect(root, [])


def by_key(items, key: str):
    return next(x for x in items if x.key == key)


def test_kappa_mae_bias_and_majority_per_judge(stats: Stats) -> None:
    assert [j.key for j in stats.judges] == ["a", "b", "c", "jury:trio", "solo"]
    a, b, c = (by_key(stats.judges, m) for m in "abc")
    # a: errors 10, -20, 30, 0. Verdicts (orig/published): ship/ship, skip/ship, ship/skip,
    # ship/ship: observed 2/4; both sides 3 ship 1 skip, chance (3*3 + 1*1)/16 = 0.625;
    # kappa (0.5 - 0.625) / 0.375 = -1/3. With the jury's majority (ship, skip, ship, ship): 4 of 4.
    assert (a.reviews, a.mae, a.bias) == (4, 15.0, 5.0)
    assert a.kappa == pytest.approx(-1 / 3) and (a.majority, a.majority_votes) == (1.0, 4)
    # b: errors 5, -10, 15, 10; every verdict stands: observed 1, chance 0.625, kappa 1.
    # With the majority: ship, ship, skip, ship against ship, skip, ship, ship: 2 of 4.
    assert (b.mae, b.bias, b.kappa, b.majority) == (10.0, 5.0, pytest.approx(1.0), 0.5)
    # c: errors -10, -20, 20, 10: mean |error| 15, mean 0. skip/ship, skip/ship, ship/skip,
    # ship/ship: observed 1/4; c 2 ship 2 skip, published 3 ship 1 skip: chance (6 + 2)/16 = 0.5;
    # kappa (0.25 - 0.5) / 0.5 = -0.5. With the majority: 3 of 4.
    assert (c.mae, c.bias, c.kappa, c.majority) == (15.0, 0.0, pytest.approx(-0.5), 0.75)
    # The jury as a whole: drafts 65, 50, 60, 90 against 60, 70, 40, 80: errors 5, -20, 20, 10.
    trio = by_key(stats.judges, "jury:trio")
    assert (trio.mae, trio.bias, trio.kappa, trio.majority_votes) == (13.75, 3.75, pytest.approx(-1 / 3), 0)
    # solo: errors 0, -25, 25, 0.
    solo = by_key(stats.judges, "solo")
    assert (solo.mae, solo.bias, solo.kappa) == (12.5, 0.0, pytest.approx(-1 / 3))


def test_per_persona_and_krippendorffs_alpha(stats: Stats) -> None:
    skeptic_, builder_ = by_key(stats.persona_judges, "skeptic"), by_key(stats.persona_judges, "builder")
    assert (skeptic_.mae, skeptic_.bias) == (13.75, 3.75)  # the persona's drafts: the jury's
    assert skeptic_.majority == 9 / 12  # its members' votes with the majority: 4 + 2 + 3 of 12
    # Alpha, nominal, from the coincidence matrix. Skeptic units (a, b, c, editor):
    # (3 ship, 1 skip), (2, 2), (2, 2), (4, 0). o_ss = 2 + 2/3 + 2/3 + 4 = 22/3,
    # o_kk = 4/3, o_sk = o_ks = 1 + 4/3 + 4/3 = 11/3; n_ship 11, n_skip 5, n 16.
    # D_o = (22/3)/16 = 0.4583; D_e = 2*11*5/(16*15) = 0.4583: alpha 0.
    assert skeptic_.alpha == pytest.approx(0.0, abs=1e-12)
    # Builder units (solo, editor): (2, 0), (1, 1), (1, 1), (2, 0): o_ss 4, o_sk 2;
    # n_ship 6, n_skip 2, n 8. D_o = 4/8, D_e = 2*6*2/(8*7) = 3/7: alpha 1 - 7/6 = -1/6.
    assert builder_.alpha == pytest.approx(-1 / 6)
    assert builder_.kappa == pytest.approx(-1 / 3) and builder_.majority_votes == 0
    # Every unit together: o_ss 34/3, o_kk 4/3, o_sk 17/3; n_ship 17, n_skip 7, n 24.
    # D_o = (34/3)/24, D_e = 2*17*7/(24*23): alpha = 1 - 18768/17136 = -2/21.
    assert stats.alpha == pytest.approx(-2 / 21)


def test_error_correlation_and_effective_judges(stats: Stats) -> None:
    (jury,) = stats.juries
    assert (jury.jury, jury.members) == ("trio", ["a", "b", "c"])
    r = {(x.a, x.b): x.r for x in jury.pairs}
    # Deviations from the mean error: a 5, -25, 25, -5; b 0, -15, 10, 5; c -10, -20, 20, 10.
    # a-b: 600 / sqrt(1300 * 350); a-c: 900 / sqrt(1300 * 1000); b-c: 550 / sqrt(350 * 1000).
    assert r[("a", "b")] == pytest.approx(600 / math.sqrt(1300 * 350))
    assert r[("a", "c")] == pytest.approx(900 / math.sqrt(1300 * 1000))
    assert r[("b", "c")] == pytest.approx(550 / math.sqrt(350 * 1000))
    assert all(x.reviews == 4 for x in jury.pairs)
    rho = (0.889499 + 0.789352 + 0.929670) / 3
    assert jury.mean_r == pytest.approx(rho, abs=1e-6)
    # Three judges whose errors correlate at 0.87 are worth 3 / (1 + 2 * 0.87) = 1.10.
    assert jury.effective == pytest.approx(3 / (1 + 2 * rho), abs=1e-5)
    assert jury.effective == pytest.approx(1.0953, abs=1e-4)


def test_the_formulas_on_their_own():
    assert cohen_kappa({("ship", "ship"): 5}) is None  # one label throughout: undefined
    assert cohen_kappa({("ship", "ship"): 2, ("skip", "skip"): 2}) == 1.0
    assert krippendorff_alpha([(2, 0, 3)]) is None  # every value the same
    assert krippendorff_alpha([(1, 0, 9)]) is None  # no unit with two values
    assert effective_judges(3, 0.0) == 3 and effective_judges(3, 1.0) == 1
    assert effective_judges(3, -0.4) == 3  # negative correlation counts as independent


def test_terminal_and_html_show_the_judge_figures(stats: Stats) -> None:
    out = StringIO()
    Console(file=out, width=100, no_color=True).print(stats_table(stats))
    text = out.getvalue()
    assert "Judges against the editors (published records)" in text
    assert "-0.33" in text and "+5.0" in text and "100% (4)" in text
    assert "Krippendorff's α, judges + editors" in text and "-0.10" in text
    assert "Effective judges = n / (1 + (n − 1)ρ)" in text and "1.1" in text
    assert "a–b 0.89 (4)" in text
    html = stats_html(stats)
    assert "<h2>Judges against the editors</h2>" in html and "<h2>Juries</h2>" in html
    assert "<td>jury:trio</td>" in html and "<td>0.87</td>" in html


def test_no_published_records_means_no_judge_figures(tmp_path: Path) -> None:
    draft = ToolPanel(tool=Tool(name="tool-0", description="d"), reviews=[skeptic(0)])
    write_record(Outputs(tmp_path).panel_path("tool-0"), draft)
    stats = collect(tmp_path, [])
    assert stats.judges == [] and stats.juries == [] and stats.alpha is None
    out = StringIO()
    Console(file=out, width=100).print(stats_table(stats))
    assert "no published records yet" in out.getvalue()
    assert json.dumps([])  # nothing else to show
