"""The rules layer of grounding: each kind of claim, negation, currencies, numbers in words, the
issue's case, evidence that points at real material sentences, and the labelled corpus
(tests/data/claims) held to the accuracy targets that bench/claims.py reports."""

from __future__ import annotations

import claims as corpus  # bench/claims.py: the corpus loader and scorer
import pytest

from panel.errors import InputError
from panel.grounding.material import material_for
from panel.grounding.rules import rules_claims
from panel.records import Claim, Pricing, Source, Tool

BURROW = Tool(
    name="Burrow",
    description=(
        "Burrow keeps a team's environment secrets encrypted inside the Git repository. It is written "
        "in Rust and has been developed in the open since 2021; version 1.4 added key rotation."
    ),
    pricing=Pricing(
        entry="free",
        detail="Free and open source under the BSD 3-Clause license. There is no paid tier.",
    ),
)
PAID = Tool(
    name="Tallyho",
    description="Tallyho meters usage and sends invoices through Stripe. It was founded in 2022.",
    pricing=Pricing(entry="paid", detail="Starter is $49 per month; Growth is $199 per month."),
    sources=[Source(title="Pricing page", text="There is no free tier. Every plan has a 14-day free trial.")],
)
BARE = Tool(name="Quillpost", description="Quillpost turns markdown notes into a newsletter.")


def claims_for(review: str, tool: Tool) -> list[Claim]:
    return rules_claims(review, material_for(tool))


def claim(claims: list[Claim], text: str, kind: str | None = None) -> Claim:
    """The claim whose span is `text`, or lies inside it or around it ('5 ms' in 'under 5 ms')."""
    found = [c for c in claims if (c.text in text or text in c.text) and (kind is None or c.kind == kind)]
    assert found, f"no claim {text!r} in {[(c.kind, c.text) for c in claims]}"
    return found[0]


def status(review: str, tool: Tool, text: str, kind: str | None = None) -> str:
    return claim(claims_for(review, tool), text, kind).status


# --- the issue's case -----------------------------------------------------------------------------


def test_the_issue_case_license_and_price_contradicted_competitors_unsupported():
    review = (
        "Doppler and Infisical already do this for teams that want a dashboard. The license is the "
        "catch: a GPL-3.0 tool in every pipeline worries legal, and at $30 per seat the savings over "
        "Doppler vanish. Skip."
    )
    got = claims_for(review, BURROW)
    lic, price = claim(got, "GPL-3.0", "license"), claim(got, "$30 per seat", "price")
    assert (lic.status, price.status) == ("contradicted", "contradicted")
    assert lic.evidence.sentence == "Free and open source under the BSD 3-Clause license."
    assert price.evidence.sentence in (
        "Free and open source under the BSD 3-Clause license.",
        "There is no paid tier.",
    )
    assert claim(got, "Doppler").status == claim(got, "Infisical").status == "unsupported"
    assert claim(got, "Doppler").evidence is None
    assert all(c.origin == "rules" for c in got)


def test_evidence_ids_point_at_real_material_sentences():
    m = material_for(BURROW)
    review = "Burrow is BSD licensed, free, written in Rust and public since 2021; v1.4 added rotation."
    got = rules_claims(review, m)
    assert {c.kind for c in got} >= {"name", "license", "price", "date", "version"}
    for c in got:
        assert c.status == "supported", c
        sentence = m.get(c.evidence.id)
        assert sentence is not None and (sentence.text, sentence.source) == (
            c.evidence.sentence,
            c.evidence.source,
        )
        assert c.text in review


# --- prices ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "text", "expected"),
    [
        ("Starter at $49 per month is fair.", "$49 per month", "supported"),
        ("Growth at $299 a month is steep.", "$299 a month", "contradicted"),
        ("Starter at $49 a year is a steal.", "$49 a year", "contradicted"),  # the period counts
        ("It costs forty-nine dollars a month.", "forty-nine dollars a month", "supported"),
        ("It costs EUR 49 a month.", "EUR 49 a month", "contradicted"),  # the currency counts
        ("Five seats on Starter cost $588 a year.", "$588 a year", "supported"),  # 49 x 12
    ],
)
def test_prices_against_a_tool_that_states_prices(review, text, expected):
    assert status(review, PAID, text, "price") == expected


def test_prices_need_the_material_to_state_prices():
    assert status("At $30 per seat it is cheap.", BARE, "$30 per seat") == "unsupported"
    assert (
        status("At $30 per seat it is cheap.", BURROW, "$30 per seat") == "contradicted"
    )  # free states a price


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("€12 per seat per month", "12", "EUR"),
        ("£8 per user", "8", "GBP"),
        ("¥1,200 per user per month", "1200", "JPY"),
        ("EUR 9 per pipeline", "9", "EUR"),
        ("eur 9 per pipeline", "9", "EUR"),
        ("USD 0.02 per GB", "0.02", "USD"),
        ("US$12", "12", "USD"),
        ("thirty dollars a month", "30", "USD"),
        ("twenty-nine euros", "29", "EUR"),
    ],
)
def test_currencies_and_amounts(text, amount, currency):
    from decimal import Decimal

    from panel.grounding.prices import prices

    (money,) = prices(f"It costs {text}, which is fine.")
    assert (money.amount, money.currency) == (Decimal(amount), currency)


def test_a_price_per_seat_and_per_million():
    from panel.grounding.prices import prices

    seat, million = prices("It is €12 per seat per month, then $0.30 per million requests.")
    assert (seat.per, seat.period) == ("person", "month")
    assert (million.per, million.per_qty) == ("request", 1e6)


def test_free_and_negated_free():
    assert status("There is a free tier for hobby projects.", PAID, "free tier") == "contradicted"
    assert status("There is no free tier, which is fine.", PAID, "no free tier") == "supported"
    assert status("The 14-day free trial is generous.", PAID, "free trial") == "supported"
    assert status("There is no free trial at all.", PAID, "free trial") == "contradicted"
    assert status("It is free, and there is no paid tier.", BURROW, "no paid tier") == "supported"
    assert status("The best part: it costs nothing.", BURROW, "costs nothing") == "supported"
    assert status("It is not free, sadly.", BURROW, "is not free") == "contradicted"
    assert status("There is a free tier.", BARE, "free tier") == "unsupported"


def test_a_competitor_price_is_unsupported_not_contradicted():
    got = claims_for("Doppler's team plan runs about $21 per user a month; Burrow costs nothing.", BURROW)
    assert claim(got, "$21 per user a month").status == "unsupported"
    assert claim(got, "costs nothing").status == "supported"


# --- licenses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "text", "expected"),
    [
        ("It is BSD 3-clause licensed.", "BSD 3-clause", "supported"),
        ("It is BSD licensed.", "BSD", "supported"),  # a family matches its versions
        ("It ships under GPLv3.", "GPLv3", "contradicted"),
        ("It ships under Apache 2.", "Apache 2", "contradicted"),
        ("It is open source.", "open source", "supported"),
        ("It is proprietary.", "proprietary", "contradicted"),
        ("It is not MIT licensed.", "MIT", "supported"),  # negation counts
    ],
)
def test_licenses_against_a_tool_that_states_one(review, text, expected):
    assert status(review, BURROW, text, "license") == expected


def test_licenses_need_the_material_to_state_one():
    assert status("It ships under GPLv3.", BARE, "GPLv3") == "unsupported"


# --- figures, dates, versions ---------------------------------------------------------------------

SPEEDY = Tool(
    name="Kelpie",
    description=(
        "Kelpie runs functions in 35 locations. Cold starts take under 5 ms. SDKs exist for 7 languages, "
        "and a team of seven maintains it. The runtime converts to Apache 2.0 four years after each release."
    ),
)


@pytest.mark.parametrize(
    ("review", "text", "expected"),
    [
        ("Cold starts stay under 5 ms in my tests.", "under 5 ms", "supported"),
        ("Cold starts take about 50 ms here.", "about 50 ms", "contradicted"),
        ("It runs in 12 locations.", "12 locations", "contradicted"),
        ("SDKs cover nine languages.", "nine languages", "contradicted"),  # numbers in words
        ("A team of seven maintainers runs it.", "seven maintainers", "supported"),
        ("It already has a dozen integrations.", "a dozen integrations", "unsupported"),
        ("It cuts bills by 30%.", "30%", "unsupported"),  # no percentage in the material
        ("Two competitors do this already.", "Two competitors", "unsupported"),
    ],
)
def test_figures_compare_only_the_same_quantity(review, text, expected):
    assert status(review, SPEEDY, text, "figure") == expected


def test_forecasts_and_hypotheticals_are_not_figures():
    got = claims_for(
        "Within twelve months it will be everywhere. For a 25-person company the bill is small. "
        "At fifty agents you outgrow it.",
        SPEEDY,
    )
    assert [c for c in got if c.kind == "figure"] == []


@pytest.mark.parametrize(
    ("review", "text", "expected"),
    [
        ("It has been around since 2021.", "since 2021", "supported"),
        ("It has been around since 2019.", "since 2019", "contradicted"),
        ("It was founded in March 2022.", "March 2022", "unsupported"),  # the material gives the year only
    ],
)
def test_dates(review, text, expected):
    material_tool = BURROW if "around" in review else PAID
    assert status(review, material_tool, text, "date") == expected


def test_forecast_years_are_not_dates():
    assert [c for c in claims_for("By 2028 every team will work this way.", BURROW) if c.kind == "date"] == []


@pytest.mark.parametrize(
    ("review", "text", "expected"),
    [
        ("Rotation arrived in v1.4.", "v1.4", "supported"),
        ("Rotation arrived in version 2.4.", "version 2.4", "contradicted"),
        ("Version 3.0 is on the roadmap.", "Version 3.0", "unsupported"),
    ],
)
def test_versions_of_the_tool(review, text, expected):
    assert status(review, BURROW, text, "version") == expected


def test_versions_of_a_named_product_and_ranges():
    t = Tool(name="Driftwood", description="It understands Postgres 13 and later. It needs Python 3.10+.")
    assert status("Our Postgres 15 cluster is covered.", t, "Postgres 15", "version") == "supported"
    assert status("It supports Postgres 12.", t, "Postgres 12", "version") == "contradicted"
    assert status("Our box on Python 3.8 could not run it.", t, "Python 3.8", "version") == "supported"


# --- names ----------------------------------------------------------------------------------------


def test_names_supported_by_the_tool_or_the_material_unsupported_otherwise():
    got = claims_for(
        "Burrow keeps secrets in Git, unlike Doppler. It is written in Rust. LaunchDarkly is unrelated.",
        BURROW,
    )
    assert {c.text: c.status for c in got if c.kind == "name"} == {
        "Burrow": "supported",
        "Git": "supported",
        "Doppler": "unsupported",
        "Rust": "supported",
        "LaunchDarkly": "unsupported",
    }
    assert claim(got, "Burrow").evidence.source == "name"


def test_names_differing_in_case_or_spelling_are_the_same_name():
    t = Tool(name="Quayside", description="It mirrors images from GitHub Container Registry and Docker Hub.")
    got = claims_for("quayside mirrors Github Container Registry and DockerHub images.", t)
    assert {c.text: c.status for c in got if c.kind == "name"} == {
        "quayside": "supported",
        "Github Container Registry": "supported",
        "DockerHub": "supported",
    }


def test_generic_terms_and_sentence_starts_are_not_names_but_standards_are():
    got = claims_for(
        "Setup took an afternoon. The CLI, the API and the SQL output are fine. Pricing is clear. "
        "It supports OpenAPI, OAuth, SAML, GDPR and SOC 2 workflows, hosted in Frankfurt on the Team plan.",
        BARE,
    )
    assert [c.text for c in got if c.kind == "name"] == ["OpenAPI", "OAuth", "SAML", "GDPR", "SOC 2"]


def test_pieces_of_names_and_generic_runs_are_not_names():
    """Three bugs the held-out corpus found: a word of the tool's name standing alone, an
    ordinary word plus a generic term at a sentence start, and '3x' not read as a number."""
    t = Tool(
        name="Marlin Forms", description="Marlin Forms writes responses into Postgres. Builds are 3x faster."
    )
    got = claims_for(
        "Forms are old. Generated SDKs were clean. Marlin Forms writes to Postgres, 3x faster.", t
    )
    assert [c.text for c in got if c.kind == "name"] == ["Marlin Forms", "Postgres"]
    assert claim(got, "3x", "figure").status == "supported"


# --- opinions, determinism, robustness ------------------------------------------------------------


def test_an_opinion_only_paragraph_has_no_claims():
    review = (
        "This is the kind of tool that earns its place quietly. It does one job without ceremony, and a "
        "workaround that is free and familiar is its only real rival. Ship, and revisit in a year."
    )
    assert claims_for(review, PAID) == []


def test_same_input_same_claims():
    review = "Doppler charges $21 a seat; Burrow is BSD licensed and free since 2021, v1.4 and all."
    assert claims_for(review, BURROW) == claims_for(review, BURROW)


@pytest.mark.parametrize(
    "review",
    [
        "",
        "   \n\n  ",
        "$$$ €€ 1,2,3 v. version. 2025-13-45 `$30 per seat` ~~ — …",
        "- Starter: $49/mo\n- Growth: $199/mo\n\nVerdict: SHIP. 🙂 Ünïcödé names like Ærø Cloud.",
        "x" * 1600,
        " ".join(["Alpha", "Beta", "Gamma", "Delta"] * 60),
    ],
)
def test_any_text_is_read_without_error(review):
    for c in claims_for(review, PAID):
        assert c.text and c.text in review


def test_inline_code_is_not_read_as_claims():
    assert claims_for("Run `burrow init --price $30 GPL-3.0` once and forget it exists.", BURROW) == []


# --- the labelled corpus --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes() -> list[corpus.Outcome]:
    return corpus.run(corpus.load_corpus())


def test_the_corpus_is_large_and_covers_every_kind(outcomes):
    assert len(outcomes) >= 60
    kinds = {e.kind for o in outcomes for e in o.case.claims}
    statuses = {e.status for o in outcomes for e in o.case.claims}
    assert kinds == set(corpus.KINDS) and statuses == set(corpus.STATUSES)
    assert {o.case.persona for o in outcomes} == {"builder", "skeptic", "futurist", "founder"}
    assert sum(o.case.opinion_only for o in outcomes) >= 4


def test_the_corpus_meets_the_accuracy_targets(outcomes):
    figures = corpus.target_figures(outcomes)
    for name, goal in corpus.TARGETS.items():
        assert figures[name] is not None and figures[name] >= goal, (
            name,
            figures[name],
            corpus.problems(outcomes, name),
        )


def test_opinion_only_paragraphs_give_no_contradicted_claims(outcomes):
    assert corpus.opinion_contradictions(outcomes) == []


def test_rich_material_gives_no_false_contradictions(outcomes):
    """Whole READMEs, pricing pages and changelogs state many prices, versions and figures; a
    claim is contradicted only by one about the same subject (issue 15, section 5)."""
    rich = [o for o in outcomes if o.case.rich]
    assert len(rich) >= 16 and {o.case.split for o in rich} == {"dev", "holdout"}
    assert corpus.false_contradictions(outcomes) == []
    assert corpus.rich_contradicted_recall(outcomes) >= corpus.TARGETS["contradicted recall"]


def test_every_corpus_evidence_is_a_sentence_of_its_material(outcomes):
    for o in outcomes:
        m = material_for(o.case.tool)
        for c in o.predicted:
            assert (c.evidence is None) == (c.status == "unsupported")
            if c.evidence:
                assert m.get(c.evidence.id).text == c.evidence.sentence


def test_a_malformed_case_is_one_line_naming_the_file_and_field(tmp_path):
    tools = {"burrow": BURROW}
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "tool: burrow\npersona: skeptic\nreview: "
        + "word " * 70
        + "\nclaims:\n  - {text: nope, kind: name, status: unsupported}\n"
    )
    with pytest.raises(InputError, match=r"claims\[0\]\.text: 'nope' is not in the review") as err:
        corpus.load_case(bad, "dev", tools)
    assert "bad.yaml" in str(err.value) and "\n" not in str(err.value)
