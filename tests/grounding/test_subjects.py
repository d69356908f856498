"""Contradiction needs the same subject (issue 15, section 5): on rich material, a specific is
refuted only by a value the material gives for the same thing (the same plan and unit for a
price, the same release for a version, the same measurement for a figure, the same part of the
product for a license); otherwise it is unsupported. Negation still counts.

The material here is written like the pages intake gathers: a README, a pricing page and a
changelog in Markdown, with headings, tables and code blocks."""

from __future__ import annotations

import pytest

from panel.grounding.material import material_for
from panel.grounding.rules import rules_claims
from panel.records import Claim, Pricing, Source, Tool

PRICING = """# Pricing

## Community

Free, forever. Self-host the server on your own machines.

## Starter

$29 a month on Gullwing Cloud, with 50 GB of logs included.

## Team

$0.45 per GB ingested on Gullwing Cloud, with a minimum of $199 a month.

## Enterprise

Custom pricing, with a support agreement.

**Is there a free plan on Cloud?** No, but every Cloud plan has a 14-day free trial.
"""

PLAN_TABLE = """| | Starter | Growth | Scale |
|---|---|---|---|
| Price per seat per month | $19 | $45 | $89 |
| Channels | Email | All | All |
"""

CHANGELOG = """# Changelog

## 2.1.0 (2025-09-16)

- Query results cache for cold data.

## 1.6.0 (2024-11-19)

- Alerting: saved searches notify Slack or a webhook.

## 1.4.0 (2024-06-03)

- OpenTelemetry input over gRPC.
"""

README = """# Gullwing

Gullwing stores logs in compressed segments. The project started in 2021.

## Performance

On one 8-core server, Gullwing used 60% less disk than Elasticsearch. Version 2.0 made
aggregations 3x faster than 1.6.

```bash
$ gullwing search 'level:error' --since 1h
1 hit in 12 ms, 40% of segments skipped, version 0.9.1
```

## License

The Gullwing server is licensed under the Business Source License 1.1, which is not open source.
Each release converts to the Apache License 2.0 four years after it is published. The client
libraries are MIT licensed.
"""

GULLWING = Tool(
    name="Gullwing",
    description="Gullwing is log search you run on one server.",
    pricing=Pricing(entry="freemium", detail="Free to self-host. Gullwing Cloud starts at $29 a month."),
    sources=[
        Source(title="README", text=README),
        Source(title="Pricing", text=PRICING),
        Source(title="Changelog", text=CHANGELOG),
    ],
)


def claim_in(review: str, tool: Tool, kind: str) -> Claim:
    found = [c for c in rules_claims(review, material_for(tool)) if c.kind == kind]
    assert len(found) == 1, found
    return found[0]


def assert_claim(review: str, kind: str, status: str, evidence: str | None) -> None:
    """The one claim of `kind` in the review, checked against Gullwing's material."""
    c = claim_in(review, GULLWING, kind)
    assert c.status == status, c
    if evidence:
        assert evidence in c.evidence.sentence


# --- prices: the same plan or edition, in the same unit --------------------------------------------


@pytest.mark.parametrize(
    ("review", "status", "evidence"),
    [
        ("Starter at $39 a month is fair.", "contradicted", "$29 a month on Gullwing Cloud"),  # same plan
        ("Starter at $29 a month is fair.", "supported", "$29 a month"),
        ("The hosted Pro plan at $149 a month adds little.", "unsupported", None),  # a plan never priced
        ("A premium support contract runs about $5,000 a year.", "unsupported", None),
        ("Team bills $0.60 per GB ingested.", "contradicted", "$0.45 per GB"),  # the same plan and unit
        ("It costs $15 a month.", "contradicted", None),  # no plan named: every plan's price
    ],
)
def test_a_price_is_refuted_only_by_the_same_plan(review, status, evidence):
    assert_claim(review, "price", status, evidence)


def test_a_plan_priced_in_a_table_column_is_that_plan():
    tool = Tool(
        name="Hushline", description="A shared inbox.", sources=[Source(title="Pricing", text=PLAN_TABLE)]
    )
    c = claim_in("Growth costs $55 per seat per month.", tool, "price")
    assert c.status == "contradicted" and "$45" in c.evidence.sentence
    assert claim_in("Scale costs $89 per seat per month.", tool, "price").status == "supported"
    assert (
        claim_in("Growth costs $19 per seat per month.", tool, "price").status == "contradicted"
    )  # Starter's


def test_what_is_free_is_a_subject_too():
    """'Free to self-host' does not refute a hosted plan's price; 'no hosted service' does
    (negation still counts), and so does a free tool's price when no plan is named."""
    cinder = Tool(
        name="Cinder",
        description="Feature flags.",
        pricing=Pricing(entry="open-source", detail="MIT licensed and free to self-host."),
    )
    assert claim_in("The hosted plan costs $25 a month.", cinder, "price").status == "unsupported"
    assert claim_in("It costs $25 a month.", cinder, "price").status == "contradicted"
    burrow = Tool(
        name="Burrow",
        description="Secrets in Git.",
        pricing=Pricing(entry="free", detail="There is no paid tier and no hosted service."),
    )
    hosted = claim_in("Its hosted edition costs $8 per seat.", burrow, "price")
    assert hosted.status == "contradicted" and "no hosted service" in hosted.evidence.sentence


def test_a_question_states_nothing():
    got = claim_in("There is no free plan on Cloud.", GULLWING, "price")
    assert "?" not in (got.evidence.sentence if got.evidence else "")


# --- versions: the same release -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "status", "evidence"),
    [
        (
            "Alerting only arrived in version 1.2.",
            "contradicted",
            "1.6.0 (2024-11-19)",
        ),  # the changelog heading
        ("Alerting arrived in 1.6.", "supported", "1.6.0 (2024-11-19)"),
        ("Live tail arrived in 2.2.", "unsupported", None),  # never dated, though others are
        ("Semantic search over logs shipped in 1.8.", "unsupported", None),  # 'search' alone is not the topic
        ("The latest release is 2.3.", "contradicted", "2.1.0"),  # the same release: the current one
        ("The latest release, 2.1, is solid.", "supported", "2.1.0"),
        ("Version 0.9 is the one to run.", "unsupported", None),  # a version only in sample output
    ],
)
def test_a_version_is_refuted_only_by_the_same_release(review, status, evidence):
    assert_claim(review, "version", status, evidence)


def test_a_named_feature_in_prose_dates_its_release():
    tool = Tool(
        name="Pipewren",
        description="Version 2.3, released in March 2025, added column-level lineage for dbt models.",
    )
    assert claim_in("Column-level lineage arrived in version 2.4.", tool, "version").status == "contradicted"
    assert claim_in("Backfills arrived in version 2.4.", tool, "version").status == "unsupported"


# --- figures: the same thing measured, against the same thing -------------------------------------


@pytest.mark.parametrize(
    ("review", "status"),
    [
        ("It used 40% less disk than Loki.", "unsupported"),  # never measured against Loki
        ("It used 50% less disk than Elasticsearch.", "contradicted"),  # the same measurement
        ("It used 60% less disk than Elasticsearch.", "supported"),
        (
            "It skips 30% of segments on a typical search.",
            "unsupported",
        ),  # a percentage only in sample output
    ],
)
def test_a_relative_figure_is_refuted_only_against_the_same_baseline(review, status):
    assert claim_in(review, GULLWING, "figure").status == status


def test_a_count_compared_with_a_rival_is_still_a_count():
    tool = Tool(name="Cinder", description="Cinder has SDKs for 7 languages.")
    assert (
        claim_in("It has SDKs for 9 languages, fewer than Unleash.", tool, "figure").status == "contradicted"
    )


def test_a_scaled_count_after_a_capitalised_word_is_a_figure_not_a_version():
    """Found by the held-out corpus: 'Validating 10 million rows' was read as version 10 of a
    product called 'Validating', which hid the figure."""
    tool = Tool(name="Quarry", description="Validating 10 million rows takes about 1.8 seconds.")
    assert claim_in("It validated 10 million rows in seconds.", tool, "figure").status == "supported"


# --- licenses: the same part of the product, at the same time -------------------------------------


@pytest.mark.parametrize(
    ("review", "status", "evidence"),
    [
        ("The server is not open source.", "supported", "Business Source License"),
        ("The client libraries are GPL-3.0.", "contradicted", "client libraries are MIT"),
        ("The client libraries are MIT.", "supported", "client libraries are MIT"),
        ("The server is MIT licensed.", "contradicted", "Business Source License"),
        ("It becomes Apache 2.0 after four years.", "supported", "converts to the Apache License"),
        ("It is Apache 2.0 licensed.", "contradicted", "Business Source License"),  # only later
    ],
)
def test_a_license_is_refuted_only_by_the_same_part_and_time(review, status, evidence):
    assert_claim(review, "license", status, evidence)


def test_a_license_named_inside_a_license_text_is_not_the_products():
    agpl = (
        "GNU AFFERO GENERAL PUBLIC LICENSE\n\nThis is a different license, not a version of the Affero GPL, "
        "but a later version of the Affero GPL permits relicensing."
    )
    tool = Tool(
        name="Loadline",
        description="Loadline is distributed under the AGPL-3.0 license.",
        sources=[Source(title="License", text=agpl)],
    )
    assert claim_in("It is GPL-3.0 licensed.", tool, "license").status == "contradicted"
    assert claim_in("It is AGPL-3.0 licensed.", tool, "license").status == "supported"


def test_the_functional_source_license_and_what_it_becomes():
    tool = Tool(
        name="Branchly",
        description=(
            "Branchly is released under the FSL-1.1-MIT license. It becomes MIT after 2 years. "
            "In short, MIT with a two-year non-compete."
        ),
    )
    assert (
        claim_in("It is released under the Functional Source License.", tool, "license").status == "supported"
    )
    assert claim_in("It is MIT licensed.", tool, "license").status == "contradicted"
