"""Evidence that names its page and when it was read, and registry facts checked against the
vendor's pages with the claims machinery."""

from __future__ import annotations

from datetime import UTC, datetime

from panel.grounding.conflicts import registry_conflicts
from panel.grounding.material import material_for
from panel.grounding.rules import rules_claims
from panel.records import Evidence, Source, Tool

READ = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)


def fetched(title: str, text: str, reader: str = "page", url: str = "https://vendor.example/") -> Source:
    return Source(title=title, text=text, url=url, fetched_at=READ, reader=reader)  # type: ignore[arg-type]


TOOL = Tool(
    name="Fernwick",
    description="Fernwick reads database migrations before they run.",
    sources=[
        fetched("Home page", "Fernwick is released under the MIT license."),
        fetched(
            "License page",
            "Fernwick is licensed under the Business Source License 1.1.",
            url="https://vendor.example/license",
        ),
        fetched("PyPI: fernwick", "PyPI package fernwick. License (PyPI metadata): BUSL-1.1.", "pypi"),
        Source(title="Notes", text="Typed by an editor."),
    ],
)


def test_evidence_names_the_page_and_when_it_was_read():
    tool = TOOL.model_copy(update={"sources": TOOL.sources[1:]})
    claim = next(c for c in rules_claims("It is MIT licensed.", material_for(tool)) if c.kind == "license")
    assert claim.status == "contradicted" and claim.evidence is not None
    assert (claim.evidence.source, claim.evidence.url, claim.evidence.fetched_at) == (
        "source: License page",
        "https://vendor.example/license",
        READ,
    )
    assert (
        claim.evidence.origin()
        == "source: License page, https://vendor.example/license, read 2026-10-03 09:00 UTC"
    )


def test_evidence_from_a_field_or_a_persons_source_has_no_address():
    material = material_for(TOOL)
    sentence = next(s for s in material.sentences if s.source == "source: Notes")
    assert material.evidence(sentence) == Evidence(
        id=sentence.id, sentence=sentence.text, source="source: Notes"
    )
    assert Evidence(id="s1", sentence="x", source="description").origin() == "description"


def test_the_same_text_read_at_another_time_is_other_evidence():
    later = TOOL.model_copy(
        update={
            "sources": [
                s.model_copy(update={"fetched_at": datetime(2026, 11, 1, tzinfo=UTC)}) for s in TOOL.sources
            ]
        }
    )
    first, second = material_for(TOOL), material_for(later)
    assert first is not second
    assert second.evidence(second.sentences[-3]).fetched_at != first.evidence(first.sentences[-3]).fetched_at


def test_a_registry_license_the_pages_contradict_is_a_conflict():
    found = registry_conflicts(TOOL)
    assert found == [
        "PyPI: fernwick says license 'BUSL-1.1', but the Home page says 'Fernwick is released under the MIT "
        "license.'; registry facts outrank vendor copy"
    ]


def test_no_registry_or_agreeing_registry_means_no_conflict():
    assert registry_conflicts(TOOL.model_copy(update={"sources": TOOL.sources[:2]})) == []
    agreeing = TOOL.model_copy(update={"sources": [TOOL.sources[1], TOOL.sources[2]]})
    assert registry_conflicts(agreeing) == []
