"""`panel stats`: figures across every panel record in a folder.

They answer an editor's questions: does a persona still tell good tools from weak ones, do two
personas say the same thing, how much do people change what the model drafted. `collect` returns
plain data; panel/stats_report.py and panel/stats_html.py only render it. docs/stats.md explains each figure.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from panel.errors import InputError
from panel.loading import describe_validation_error, read_text
from panel.records import ReviewEntry, ToolPanel
from panel.store import slugify

BUCKETS: tuple[tuple[int, int], ...] = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
BUCKET_LABELS: tuple[str, ...] = tuple(f"{lo}-{hi}" for lo, hi in BUCKETS)
MIN_TOOLS = 10  # fewer tools than this and a share is too noisy to warn about
RUBBER_STAMP = 0.90  # a ship share above this no longer separates tools
REDUNDANT = 0.95  # two personas agreeing above this are one voice
MAX_RECORD_BYTES = 20_000_000  # the limit store.load_record uses
SKIP_DIRS = frozenset({"runs"})  # batch run folders: manifests and copies, not records


@dataclass(frozen=True)
class Skipped:
    """A file that looked like a record but could not be read; the rest still counts."""

    path: str
    reason: str


@dataclass
class PersonaStats:
    persona: str
    reviews: int
    ship: int
    ship_rate: float | None
    mean_score: float | None
    min_score: int | None
    median_score: float | None
    max_score: int | None
    buckets: list[int]  # review counts per BUCKETS entry


@dataclass
class Agreement:
    """How often two personas gave the same verdict on the tools both of them reviewed."""

    a: str
    b: str
    tools: int
    agree: int
    rate: float | None


@dataclass
class Changes:
    """What people changed in the model's drafts (`original` vs the current fields)."""

    persona: str | None  # None: every persona together
    reviews: int
    edited: int  # score, verdict or text changed
    score_changed: int
    score_changed_share: float | None
    mean_abs_change: float | None  # over every review, unchanged ones count as 0
    mean_abs_change_when_changed: float | None  # over the reviews whose score changed
    max_abs_change: int | None
    ship_to_skip: int
    ship_to_skip_share: float | None
    skip_to_ship: int
    skip_to_ship_share: float | None


@dataclass(frozen=True)
class Alert:
    """A pattern an editor should act on; `sentence` says what and what to do."""

    kind: Literal["rubber-stamp", "panel-rubber-stamp", "redundant"]
    personas: tuple[str, ...]
    count: int
    total: int

    def sentence(self, names: dict[str, str] | None = None) -> str:
        who = [display_name(p, names) for p in self.personas]
        share = f"{self.count} of {self.total} tools ({pct(self.count / self.total)})"
        if self.kind == "rubber-stamp":
            return (
                f"{who[0]} ships {share}: the verdict no longer separates strong tools from weak "
                "ones. Review the persona's score anchors and ship threshold, and read its recent "
                "reviews for a stock answer."
            )
        if self.kind == "panel-rubber-stamp":
            return (
                f"The panel verdict is ship for {share}: readers learn little from it. Add a more "
                "critical persona or raise the personas' ship thresholds."
            )
        return (
            f"{who[0]} and {who[1]} give the same verdict on {share}: one of them is a redundant "
            "voice. Sharpen one persona's lens so it asks a different question, or drop it."
        )


@dataclass
class Stats:
    root: str
    tools: int = 0
    from_published: int = 0  # tools counted from their published copy
    superseded: int = 0  # other copies of a counted tool, set aside
    ignored: int = 0  # JSON files that are not panel records (comparisons, manifests, ...)
    panels_with_verdict: int = 0
    ship_panels: int = 0
    ship_panel_share: float | None = None
    failed_reviews: int = 0
    personas: list[PersonaStats] = field(default_factory=list)
    agreement: list[Agreement] = field(default_factory=list)
    mean_agreement: float | None = None
    fleiss_kappa: float | None = None
    changes: list[Changes] = field(default_factory=list)
    overall_changes: Changes | None = None
    warnings: list[Alert] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def persona(self, persona: str) -> PersonaStats | None:
        return next((p for p in self.personas if p.persona == persona), None)

    def pair(self, a: str, b: str) -> Agreement | None:
        """The agreement of two personas, in either order."""
        return next((x for x in self.agreement if {x.a, x.b} == {a, b}), None)

    def changes_for(self, persona: str) -> Changes | None:
        return next((c for c in self.changes if c.persona == persona), None)

    def warning_sentences(self, names: dict[str, str] | None = None) -> list[str]:
        return [w.sentence(names) for w in self.warnings]


def display_name(persona: str, names: dict[str, str] | None = None) -> str:
    return (names or {}).get(persona) or persona.capitalize()


def pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f}%"


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


# ---------------------------------------------------------------------------------------------
# Loading


def _record_files(root: Path) -> list[Path]:
    """Every *.json under root, in a stable order, leaving out runs/ and hidden (temp) entries."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found += [Path(folder) / f for f in sorted(files) if f.endswith(".json") and not f.startswith(".")]
    return found


def _is_published(panel: ToolPanel, path: Path) -> bool:
    return panel.status == "published" or path.parent.name == "published"


def _rank(panel: ToolPanel, published: bool) -> tuple[bool, int, float]:
    return (published, panel.revision, panel.updated_at.timestamp())


def _load(root: Path, stats: Stats) -> list[tuple[ToolPanel, bool]]:
    """One record per tool (same slug of the tool name): a published copy wins over a draft;
    between copies of the same kind, the higher revision, then the later update."""
    chosen: dict[str, tuple[ToolPanel, bool]] = {}
    for path in _record_files(root):
        shown = str(path.relative_to(root))
        try:
            data = json.loads(read_text(path, max_bytes=MAX_RECORD_BYTES))  # as store.load_record reads
            if not isinstance(data, dict) or data.get("kind") != "panel":
                stats.ignored += 1  # comparisons embed panels: counting them would count tools twice
                continue
            panel = ToolPanel.model_validate(data)
        except InputError as exc:
            stats.skipped.append(Skipped(shown, exc.problem))
            continue
        except json.JSONDecodeError as exc:
            stats.skipped.append(
                Skipped(shown, f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}")
            )
            continue
        except RecursionError:
            stats.skipped.append(Skipped(shown, "invalid JSON: nested too deeply"))
            continue
        except ValidationError as exc:
            stats.skipped.append(Skipped(shown, describe_validation_error(exc)))
            continue
        candidate = (panel, _is_published(panel, path))
        key = slugify(panel.tool.name)
        if key in chosen:
            stats.superseded += 1
            if _rank(*candidate) <= _rank(*chosen[key]):
                continue
        chosen[key] = candidate
    return [chosen[k] for k in sorted(chosen)]


# ---------------------------------------------------------------------------------------------
# Figures


def fleiss_kappa(counts: Iterable[tuple[int, int]]) -> float | None:
    """Chance-corrected agreement of ship/skip verdicts; one (ship, skip) count pair per tool.

    Raw agreement is high whenever everyone ships most tools; kappa discounts that. Tools may
    have different numbers of reviewers (failures, extra personas); those with fewer than two
    are left out. None when undefined (no tools, or every verdict the same).
    """
    rows = [(s, k) for s, k in counts if s + k >= 2]
    if not rows:
        return None
    p_bar = statistics.fmean((s * (s - 1) + k * (k - 1)) / ((s + k) * (s + k - 1)) for s, k in rows)
    p_ship = sum(s for s, _ in rows) / sum(s + k for s, k in rows)
    p_chance = p_ship**2 + (1 - p_ship) ** 2
    if p_chance >= 1.0:
        return None
    return (p_bar - p_chance) / (1 - p_chance)


def _persona_stats(persona: str, reviews: list[ReviewEntry]) -> PersonaStats:
    scores = sorted(r.score for r in reviews)
    ship = sum(r.verdict == "ship" for r in reviews)
    buckets = [0] * len(BUCKETS)
    for s in scores:
        buckets[next(i for i, (lo, hi) in enumerate(BUCKETS) if lo <= s <= hi)] += 1
    return PersonaStats(
        persona=persona,
        reviews=len(reviews),
        ship=ship,
        ship_rate=_share(ship, len(reviews)),
        mean_score=statistics.fmean(scores) if scores else None,
        min_score=scores[0] if scores else None,
        median_score=float(statistics.median(scores)) if scores else None,
        max_score=scores[-1] if scores else None,
        buckets=buckets,
    )


def _changes(persona: str | None, reviews: list[ReviewEntry]) -> Changes:
    n = len(reviews)
    deltas = [abs(r.score - r.original.score) for r in reviews if r.original is not None]
    moved = [d for d in deltas if d]
    down = sum(
        r.original is not None and (r.original.verdict, r.verdict) == ("ship", "skip") for r in reviews
    )
    up = sum(r.original is not None and (r.original.verdict, r.verdict) == ("skip", "ship") for r in reviews)
    return Changes(
        persona=persona,
        reviews=n,
        edited=sum(r.edited for r in reviews),
        score_changed=len(moved),
        score_changed_share=_share(len(moved), n),
        mean_abs_change=sum(deltas) / n if n else None,
        mean_abs_change_when_changed=statistics.fmean(moved) if moved else None,
        max_abs_change=max(deltas, default=0) if n else None,
        ship_to_skip=down,
        ship_to_skip_share=_share(down, n),
        skip_to_ship=up,
        skip_to_ship_share=_share(up, n),
    )


def _agreement(order: list[str], panels: list[ToolPanel]) -> list[Agreement]:
    verdicts = [{r.persona: r.verdict for r in p.reviews} for p in panels]
    pairs = []
    for a, b in combinations(order, 2):
        both = [v for v in verdicts if a in v and b in v]
        agree = sum(v[a] == v[b] for v in both)
        pairs.append(Agreement(a=a, b=b, tools=len(both), agree=agree, rate=_share(agree, len(both))))
    return pairs


def _warnings(stats: Stats) -> list[Alert]:
    alerts = [
        Alert("rubber-stamp", (p.persona,), p.ship, p.reviews)
        for p in stats.personas
        if p.reviews >= MIN_TOOLS and p.ship > RUBBER_STAMP * p.reviews
    ]
    n = stats.panels_with_verdict
    if n >= MIN_TOOLS and stats.ship_panels > RUBBER_STAMP * n:
        alerts.append(Alert("panel-rubber-stamp", (), stats.ship_panels, n))
    alerts += [
        Alert("redundant", (x.a, x.b), x.agree, x.tools)
        for x in stats.agreement
        if x.tools >= MIN_TOOLS and x.agree > REDUNDANT * x.tools
    ]
    return alerts


def collect(root: Path) -> Stats:
    """Every figure for the panel records under root (an outputs/ folder or any folder)."""
    if not root.is_dir():
        raise InputError("not a folder", where=root, hint="give an outputs/ folder or a folder of panels")
    stats = Stats(root=str(root))
    loaded = _load(root, stats)
    panels = [p for p, _ in loaded]
    stats.tools = len(panels)
    stats.from_published = sum(published for _, published in loaded)
    order: list[str] = []  # personas in the order records list them
    by_persona: dict[str, list[ReviewEntry]] = {}
    for p in panels:
        for r in p.reviews:
            if r.persona not in by_persona:
                order.append(r.persona)
            by_persona.setdefault(r.persona, []).append(r)
    summaries = [p.summary for p in panels]
    stats.panels_with_verdict = sum(s.verdict is not None for s in summaries)
    stats.ship_panels = sum(s.verdict == "ship" for s in summaries)
    stats.ship_panel_share = _share(stats.ship_panels, stats.panels_with_verdict)
    stats.failed_reviews = sum(len(p.failures) for p in panels)
    stats.personas = [_persona_stats(pid, by_persona[pid]) for pid in order]
    stats.agreement = _agreement(order, panels)
    rates = [x.rate for x in stats.agreement if x.rate is not None]
    stats.mean_agreement = statistics.fmean(rates) if rates else None
    stats.fleiss_kappa = fleiss_kappa((s.ship, s.skip) for s in summaries)
    stats.changes = [_changes(pid, by_persona[pid]) for pid in order]
    stats.overall_changes = _changes(None, [r for p in panels for r in p.reviews])
    stats.warnings = _warnings(stats)
    return stats
