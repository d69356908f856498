"""The editorial half of `panel recheck`, without a network: claims grounded again against new
sources, flips with both evidences, a stale mark only for published records, the history note,
and the "Sources checked on" date from the real fetch times."""

from __future__ import annotations

from datetime import UTC, datetime

from panel.editorial.freshness import SourcesReport, flips, with_sources
from panel.editorial.render import render_page, sources_checked
from panel.inputs.personas import load_personas
from panel.records import Source, ToolPanel

from factory import PARAGRAPH, panel, review

READ = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def pricing(text: str, at: datetime = READ) -> Source:
    return Source(
        title="Pricing page", text=text, url="https://v.example/pricing", fetched_at=at, reader="page"
    )


def record(status: str = "published") -> ToolPanel:
    base = panel("Orrery")
    tool = base.tool.model_copy(update={"sources": [pricing("The Team plan costs $12 per seat per month.")]})
    reviews = [
        *base.reviews[:1],
        review("skeptic", 55, text=f"{PARAGRAPH} At $12 per seat per month it is fair."),
    ]
    return base.model_copy(update={"tool": tool, "reviews": reviews, "status": status})


def new_tool(old: ToolPanel) -> dict:
    return {
        "Orrery": old.tool.model_copy(
            update={"sources": [pricing("The Team plan costs $15 per seat per month.", NOW)]}
        )
    }


def test_a_changed_source_flips_a_claim_and_a_published_record_goes_stale():
    personas = load_personas()
    old = record()
    updated, found, stale = with_sources(
        old, new_tool(old), personas, "rex", "1 source checked: 1 changed", NOW
    )
    [flip] = found
    assert (flip.persona, flip.before.status, flip.after.status) == ("skeptic", "supported", "contradicted")
    assert flip.before.evidence is not None and flip.before.evidence.fetched_at == READ
    assert flip.after.evidence is not None and "$15" in flip.after.evidence.sentence
    assert stale is not None and updated.stale == stale and "'$12 per seat per month' (price)" in stale.reason
    change = updated.history[-1]
    assert (change.action, change.by, change.fields, change.at) == ("rechecked", "rex", ["tool.sources"], NOW)
    assert updated.tool_edited  # the record's copy of the tool now wins over the tool file


def test_a_draft_is_never_stale_and_an_unchanged_tool_notes_no_field():
    personas = load_personas()
    draft = record("draft")
    _, _, stale = with_sources(draft, new_tool(draft), personas, "rex", "note", NOW)
    assert stale is None
    same, found, stale = with_sources(draft, {}, personas, "rex", "note", NOW)
    assert not found and stale is None and same.history[-1].fields == []


def test_flips_pair_claims_by_tool_persona_text_and_kind():
    old = record()
    assert flips(old, old) == []


def test_sources_checked_is_the_oldest_real_check_never_the_render_time():
    tool = record().tool
    assert sources_checked(tool) == "Sources checked on 2026-10-03"
    later = tool.model_copy(update={"sources": [*tool.sources, pricing("More.", NOW)]})
    assert sources_checked(later) == "Sources checked on 2026-10-03"
    checked = tool.model_copy(update={"sources": [tool.sources[0].model_copy(update={"checked_at": NOW})]})
    assert sources_checked(checked) == "Sources checked on 2026-12-01"
    assert sources_checked(panel("Typed").tool) == ""
    page = render_page(record(), "html")
    assert '<p class="checked">Sources checked on 2026-10-03</p>' in page
    assert "Sources checked on" not in render_page(panel("Typed"), "html")


def test_the_history_note_says_what_the_sources_did():
    assert SourcesReport().note() == "no fetched sources to check"
    report = SourcesReport(3, ("Pricing page",)) + SourcesReport(1, (), ("PyPI: x: HTTP 503",))
    assert (
        report.note()
        == "4 sources checked: 1 changed (Pricing page), 1 could not be fetched (PyPI: x: HTTP 503)"
    )
