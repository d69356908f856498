"""The published comparison page, as one self-contained HTML file or GitHub Markdown.

Every tool field and review is untrusted (vendor- or model-written), so it reaches the page only
as data: the templates run in Jinja's sandbox, HTML is autoescaped, and Markdown goes through the
`md` filter, which a `finalize` hook applies to any value a template forgets to filter.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Literal, TypeGuard

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from panel.core.text import without_control
from panel.records import (
    Claim,
    Comparison,
    Jury,
    ReviewEntry,
    Tool,
    ToolPanel,
    checked_on,
    conflict,
    decide,
)

TEMPLATES = Path(__file__).parent / "templates"
# The page's stylesheet: inlined into the published page, served as a file by the desk.
PAGE_CSS = TEMPLATES / "page.css"
Format = Literal["md", "html"]

# Lone surrogates cannot be encoded as UTF-8: they become the replacement character.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# What GitHub Markdown needs escaped, and no more. Anywhere in a value: emphasis, code, links and
# images, table cells, strikethrough and math. At the start of a value, which may start a line:
# headings, lists, quotes, setext underlines. And the two ways text becomes an autolink.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]()|~$])")
_MD_LINE_START = re.compile(r"^(\d*)([#+\-=.)])")
_MD_AUTOLINK = re.compile(r"(?i)(:)(?=//)|\b(www)(\.)")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class _Escaped(str):
    """Text the `md` filter already escaped; `finalize` passes it through untouched."""


def clean(text: object) -> str:
    """Drop characters that are invisible or unencodable, so what a reader sees is what is there."""
    return _SURROGATES.sub("\ufffd", without_control(str(text)))


def md(value: object) -> _Escaped:
    """Markdown-escape one value: it renders as the literal text on GitHub, never as markup.

    Whitespace (newlines included) collapses to single spaces so that text cannot start a new
    block or break out of a table cell; `& < >` become entities so no HTML can form.
    """
    if isinstance(value, _Escaped):
        return value
    text = " ".join(clean(value).split())
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(r"\1\\\2", text)  # "# x", "- x", "1. x": literal, not a block
    text = _MD_AUTOLINK.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\.", text)
    return _Escaped(re.sub(r"[&<>]", lambda m: _MD_ENTITIES[m.group(0)], text))


def marked_md(segments: tuple[Segment, ...]) -> _Escaped:
    """The editor's Markdown: each claim's span in bold with its status after it."""

    def piece(segment: Segment) -> str:
        text = md(segment.text)  # collapses the spaces at its ends: put them back
        lead = " " if segment.text[:1].isspace() else ""
        trail = " " if segment.text[-1:].isspace() and segment.text.strip() else ""
        body = f"**{text}** *\\[{segment.status}\\]*" if segment.status else text
        return lead + body + trail

    return _Escaped("".join(piece(s) for s in segments))


def _finalize(value: Any) -> str:
    """Markdown's stand-in for autoescaping: whatever a template prints is escaped once."""
    return md("" if value is None else value)


def html_templates(own: Path) -> SandboxedEnvironment:
    """A sandboxed, autoescaped environment over `own` templates and these, so a desk or site page
    can include the published page's parts: every value a template shows is data."""
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(own)), jinja2.FileSystemLoader(str(TEMPLATES))]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _env(fmt: Format) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=fmt == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize if fmt == "md" else None,
    )
    env.filters["md"] = md
    env.filters["marked"] = marked_md
    return env


@dataclass(frozen=True)
class ToolView:
    """One tool's card and decision-table column, already worded."""

    name: str
    tagline: str
    category: str
    pricing_entry: str
    pricing_detail: str
    url: str
    description: str
    ship_pct: str
    verdict: str
    panel_line: str
    community: str
    # Links to the tool's and the category's own pages, on the published site only ("": plain text).
    href: str = ""
    category_href: str = ""
    notes: tuple[str, ...] = ()  # judges recused from this tool, or of its own vendor, and why
    sources_checked: str = ""  # "Sources checked on 2026-10-03": the oldest check of a fetched source


@dataclass(frozen=True)
class Segment:
    """A piece of a review's text; `status` is a claim's ("" for plain text), `note` its evidence."""

    text: str
    status: str = ""
    note: str = ""


def claim_segments(text: str, claims: list[Claim]) -> tuple[Segment, ...]:
    """The text cut at each claim's first occurrence (overlapping spans keep the first found);
    a claim a person checked shows as "checked"."""
    spans: list[tuple[int, int, Claim]] = []
    for claim in claims:
        at = text.find(claim.text)
        if at >= 0 and not any(a < at + len(claim.text) and at < b for a, b, _ in spans):
            spans.append((at, at + len(claim.text), claim))
    pieces: list[Segment] = []
    cursor = 0
    for start, end, claim in sorted(spans, key=lambda span: span[0]):
        if start > cursor:
            pieces.append(Segment(clean(text[cursor:start])))
        status = "checked" if claim.checked is not None else claim.status
        note = f"{claim.kind}, {claim.status}"
        if claim.evidence is not None:
            note += f": the material says {claim.evidence.sentence!r} ({claim.evidence.origin()})"
        if claim.checked is not None:
            note += f"; checked by {claim.checked.by}"
        pieces.append(Segment(clean(text[start:end]), status, clean(note)))
        cursor = end
    if cursor < len(text):
        pieces.append(Segment(clean(text[cursor:])))
    return tuple(pieces)


@dataclass(frozen=True)
class Cell:
    """One persona's review of one tool: state is "review", "failed" or "missing"."""

    tool: str
    state: str
    verdict: str = ""
    score_line: str = ""
    text: str = ""
    warning: str = ""
    edited: bool = False
    reason: str = ""
    index: int = 0  # the tool's position in the record, for the desk's editor
    # Editor view only: the text in pieces, each claim's span marked with its status.
    segments: tuple[Segment, ...] = ()
    judges: str = ""  # a jury's review: "3 judges"
    split: str = ""  # "Split: 1 ship / 1 skip / 1 failed"
    notes: tuple[str, ...] = ()  # recusals, or a single judge of the tool's own vendor


@dataclass(frozen=True)
class PersonaView:
    name: str
    cells: list[Cell]
    id: str = ""


@dataclass(frozen=True)
class DecisionView:
    outcome: str
    label: str
    reason: str


@dataclass(frozen=True)
class Page:
    title: str
    question: str
    decision: DecisionView
    tools: list[ToolView]
    personas: list[PersonaView]
    editor: bool = False  # the editor's view: claims marked in the text; never published


def _or_dash(text: str) -> str:
    return clean(text) or "—"


def judges_line(jury: Jury) -> str:
    """'3 judges': the members of a jury that were not recused."""
    n = jury.summary.judges
    return f"{n} judge{'s' if n != 1 else ''}"


def split_line(review: ReviewEntry) -> str:
    """'Split: 1 ship / 1 skip / 1 failed' for a jury without a majority, else ''."""
    return f"Split: {review.tally}" if review.verdict == "split" else ""


def recused_lines(jury: Jury | None) -> list[str]:
    """'Recused: NAME, same vendor as the tool (the tool's name says Mistral)', one per member."""
    if jury is None:
        return []
    return [
        f"Recused: {v.profile}, {v.reason.removeprefix('recused: ')}"
        for v in jury.votes
        if v.status == "recused"
    ]


def review_notes(review: ReviewEntry, panel: ToolPanel) -> list[str]:
    """What a reader must know about who judged: recusals, or a judge of the tool's own vendor."""
    found = conflict(review, panel.tool)
    return [*recused_lines(review.jury), *([f"Conflict: {found}"] if found else [])]


def panel_verdict(panel: ToolPanel) -> str:
    """'Ship', 'Skip' or 'Split', or '—' while the panel has no verdict."""
    verdict = panel.summary.verdict
    return verdict.capitalize() if verdict else "—"


def panel_line(panel: ToolPanel) -> str:
    """'Ship · 3 ship / 1 skip' (plus split personas and failures), as the pages and the desk show."""
    s = panel.summary
    line = f"{panel_verdict(panel)} · {s.ship} ship / {s.skip} skip"
    return line + (f" · {s.split} split" if s.split else "") + (f" · {s.failed} failed" if s.failed else "")


def sources_checked(tool: Tool) -> str:
    """'Sources checked on DATE' (records.checked_on), or "" when no source was fetched."""
    checked = checked_on(tool.sources)
    return f"Sources checked on {checked.astimezone(UTC):%Y-%m-%d}" if checked else ""


def _tool_view(panel: ToolPanel, votes: tuple[int, int] | None) -> ToolView:
    tool, s = panel.tool, panel.summary
    community = f"{votes[0]} ship / {votes[1]} skip" if votes and sum(votes) else "No community votes yet"
    return ToolView(
        name=clean(tool.name),
        tagline=_or_dash(tool.tagline),
        category=_or_dash(tool.category),
        pricing_entry=_or_dash(tool.pricing.entry),
        pricing_detail=clean(tool.pricing.detail),
        url=clean(tool.url),
        description=clean(tool.description),
        ship_pct="—" if s.ship_pct is None else f"{s.ship_pct}% panel ship",
        verdict=panel_verdict(panel),
        panel_line=panel_line(panel),
        community=community,
        notes=tuple(
            clean(n) for n in dict.fromkeys(n for r in panel.reviews for n in review_notes(r, panel))
        ),
        sources_checked=sources_checked(tool),
    )


def _cell(panel: ToolPanel, persona: str, index: int = 0, editor: bool = False) -> Cell:
    tool = clean(panel.tool.name)
    review, failure = panel.review_for(persona), panel.failure_for(persona)
    if review is not None:
        warning = next((f for f in review.flags if f.startswith("verdict-disagrees")), "")
        return Cell(
            segments=claim_segments(review.review, review.claims) if editor else (),
            tool=tool,
            state="review",
            verdict=review.verdict,
            score_line=f"{review.score}/100 · {review.verdict}",
            text=clean(review.review),
            warning=clean(warning),
            edited=review.edited,
            index=index,
            judges=judges_line(review.jury) if review.jury is not None else "",
            split=clean(split_line(review)),
            notes=tuple(clean(n) for n in review_notes(review, panel)),
        )
    if failure is not None:
        return Cell(tool=tool, state="failed", reason=f"Review failed: {clean(failure.reason)}", index=index)
    return Cell(tool=tool, state="missing", reason="Not reviewed by this persona.", index=index)


def _persona_ids(panels: list[ToolPanel]) -> list[str]:
    """Every persona in order of first appearance: reviews first, then personas that only failed."""
    ids = [r.persona for p in panels for r in p.reviews] + [f.persona for p in panels for f in p.failures]
    return list(dict.fromkeys(ids))


def decision_view(panels: list[ToolPanel]) -> DecisionView:
    """The decision as a page words it: "Ship with X.", "Split decision.", "Neither." or "Skip."."""
    d = decide(panels)
    if d.outcome == "ship-with":
        label = f"Ship with {clean(d.winner or '')}."
    elif d.outcome == "split":
        label = "Split decision."
    elif len(panels) == 1:
        label = "Split." if panels[0].summary.verdict == "split" else "Skip."
    else:
        label = "Neither."
    return DecisionView(outcome=d.outcome, label=label, reason=clean(d.reason))


def build_page(
    record: Comparison | ToolPanel, names: dict[str, str] | None = None, editor: bool = False
) -> Page:
    """Word everything the page shows, so the templates only lay it out."""
    names = names or {}
    if isinstance(record, Comparison):
        panels, title, question = record.panels, record.title, record.question
        community = {k: (v.ship, v.skip) for k, v in record.community.items()}
    else:
        panels, title = [record], record.tool.name
        question, community = f"Should you ship with {record.tool.name}?", {}
    personas = []
    for pid in _persona_ids(panels):
        cells = [_cell(p, pid, i, editor) for i, p in enumerate(panels)]
        personas.append(PersonaView(name=clean(names.get(pid) or pid.capitalize()), cells=cells, id=pid))
    return Page(
        title=clean(title),
        question=clean(question),
        decision=decision_view(panels),
        tools=[_tool_view(p, community.get(p.tool.name)) for p in panels],
        personas=personas,
        editor=editor,
    )


def is_format(value: str) -> TypeGuard[Format]:
    """Whether `value` names a page format: md or html."""
    return value in ("md", "html")


def render_page(
    record: Comparison | ToolPanel,
    fmt: Format,
    names: dict[str, str] | None = None,
    editor: bool = False,
) -> str:
    """The comparison (or single panel) page as HTML or Markdown; `names` maps persona id to name.
    `editor`: claims marked in the text by status, for editors, never for publishing."""
    if fmt not in ("md", "html"):
        raise ValueError(f"unknown page format {fmt!r}: use 'md' or 'html'")
    page = build_page(record, names, editor)
    return _env(fmt).get_template(f"page.{fmt}.jinja").render(page=page)
