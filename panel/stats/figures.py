"""The figures of `panel stats` as plain data, and the thresholds they are judged by.

panel/stats/compute.py computes them; panel/stats/rows.py, stats_report.py and stats_html.py show them.
docs/stats.md explains each figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BUCKETS: tuple[tuple[int, int], ...] = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
BUCKET_LABELS: tuple[str, ...] = tuple(f"{lo}-{hi}" for lo, hi in BUCKETS)
MIN_TOOLS = 10  # fewer tools than this and a share is too noisy to warn about
RUBBER_STAMP = 0.90  # a ship share above this no longer separates tools
REDUNDANT = 0.95  # two personas agreeing above this are one voice
# Mean TF-IDF cosine of two personas' paragraphs about the same tool above which they say the
# same thing in other words. Distinct voices on one tool measure about 0.05 in our test texts,
# paraphrases of one paragraph about 0.6; 0.4 leaves room for the tool's own vocabulary.
ALIKE = 0.40


def rubber_stamp(ships: int, total: int) -> bool:
    """A ship share too high to separate tools, over enough of them to mean something."""
    return total >= MIN_TOOLS and ships > RUBBER_STAMP * total


def redundant(agree: int, tools: int) -> bool:
    """Two personas who agree so often that they are one voice."""
    return tools >= MIN_TOOLS and agree > REDUNDANT * tools


def alike(value: float | None, count: int) -> bool:
    """A similarity worth marking: above ALIKE, over enough tools to mean something."""
    return value is not None and count >= MIN_TOOLS and value > ALIKE


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
    grounding: Grounding | None = None
    similarity: float | None = None  # mean similarity of its paragraphs to the other personas'
    similarity_pairs: int = 0  # (tool, other persona) pairs that mean is over


@dataclass
class Grounding:
    """The specifics reviews state, checked against the tool's material (panel/grounding/ground.py)."""

    reviews: int
    claims: int
    unsupported: int
    contradicted: int
    checked: int  # claims a person marked as verified

    @property
    def per_review(self) -> float | None:
        return self.claims / self.reviews if self.reviews else None

    @property
    def unsupported_share(self) -> float | None:
        return share(self.unsupported, self.claims)

    @property
    def contradicted_share(self) -> float | None:
        return share(self.contradicted, self.claims)

    @property
    def checked_share(self) -> float | None:
        return share(self.checked, self.claims)


@dataclass
class Agreement:
    """How often two personas gave the same verdict on the tools both of them reviewed."""

    a: str
    b: str
    tools: int
    agree: int
    rate: float | None


@dataclass
class Similarity:
    """How alike two personas' paragraphs about the same tool are, over the tools both reviewed."""

    a: str
    b: str
    tools: int
    mean: float | None


@dataclass
class Community:
    """Reader votes against the panel: per tool of a comparison with votes, the community
    majority (more ship than skip votes, or fewer) against the panel's verdict on that tool."""

    comparisons: int = 0  # comparisons with at least one vote
    tools: int = 0  # tools with votes
    compared: int = 0  # of those, with a community majority (no tie) and a panel verdict
    disagree: int = 0

    @property
    def disagree_share(self) -> float | None:
        return share(self.disagree, self.compared)


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


@dataclass
class JudgeStats:
    """One judge (a profile, or a jury as a whole) or one persona, against the editors' published
    decisions: how often its original verdict stands, how far its scores are from theirs."""

    key: str  # the profile, "jury:NAME", or the persona
    reviews: int
    kappa: float | None  # Cohen's kappa, original verdict vs published verdict
    alpha: float | None  # Krippendorff's alpha of every judge and the editor (per persona only)
    mae: float | None  # mean |original score - published score|
    bias: float | None  # mean (original - published): above 0 lenient, below 0 harsh
    majority: float | None  # share of its jury votes that went with the jury's majority
    majority_votes: int  # the votes that share is over


@dataclass
class ErrorCorrelation:
    """How alike two jury members' errors against the editors are (Pearson's r)."""

    a: str
    b: str
    reviews: int
    r: float | None


@dataclass
class JuryStats:
    """Whether a jury is worth its cost: its members' errors, and how many independent judges
    they amount to."""

    jury: str
    members: list[str]
    pairs: list[ErrorCorrelation]
    mean_r: float | None
    effective: float | None  # n / (1 + (n - 1) * mean_r), for n members


EFFECTIVE_JUDGES = (
    "Effective judges = n / (1 + (n − 1)ρ), with n members and ρ the mean correlation of their errors "
    "against the editors' scores: 3 judges whose errors correlate at 0.5 count as 1.5 independent ones; "
    "at 0 they count as 3 (a negative ρ counts as 0)."
)


@dataclass(frozen=True)
class ReviewerAgreement:
    """People against people: Krippendorff's alpha on the verdicts two or more reviewers gave on
    the same review (panel/stats/reviewers.py)."""

    alpha: float | None
    records: int  # records with a review two or more people judged
    reviews: int  # such reviews
    reviewers: int  # the people who judged them


@dataclass(frozen=True)
class Alert:
    """A pattern an editor should act on; `sentence` says what and what to do."""

    kind: Literal["rubber-stamp", "panel-rubber-stamp", "redundant", "alike"]
    personas: tuple[str, ...]
    count: int
    total: int
    value: float | None = None  # the figure behind the alert, where it is not a share

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
        if self.kind == "alike":
            return (
                f"The personas' paragraphs about the same tool are alike: mean similarity "
                f"{self.value:.2f} over {self.total} tools (above {ALIKE:.2f}). Four voices saying "
                "the same thing are one voice: check that each persona's lens and must-name list "
                "ask a different question, and that the prompt does not hand them one summary."
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
    grounding: Grounding | None = None  # every review together
    similarity: list[Similarity] = field(default_factory=list)
    mean_similarity: float | None = None  # over tools: each tool's mean over its persona pairs
    similarity_tools: int = 0
    community: Community = field(default_factory=Community)
    reviewers: ReviewerAgreement | None = None  # None: no desk kept reviewers' verdicts here
    judges: list[JudgeStats] = field(default_factory=list)  # per profile (and jury), published only
    persona_judges: list[JudgeStats] = field(default_factory=list)  # per persona, published only
    juries: list[JuryStats] = field(default_factory=list)
    alpha: float | None = None  # Krippendorff's alpha: every judge and the editor, every persona
    warnings: list[Alert] = field(default_factory=list)  # what the verdicts show
    text_warnings: list[Alert] = field(default_factory=list)  # what the paragraphs show
    skipped: list[Skipped] = field(default_factory=list)

    def persona(self, persona: str) -> PersonaStats | None:
        return next((p for p in self.personas if p.persona == persona), None)

    def pair(self, a: str, b: str) -> Agreement | None:
        """The agreement of two personas, in either order."""
        return next((x for x in self.agreement if {x.a, x.b} == {a, b}), None)

    def similarity_of(self, a: str, b: str) -> Similarity | None:
        return next((x for x in self.similarity if {x.a, x.b} == {a, b}), None)

    def changes_for(self, persona: str) -> Changes | None:
        return next((c for c in self.changes if c.persona == persona), None)

    def warning_sentences(self, names: dict[str, str] | None = None) -> list[str]:
        return [w.sentence(names) for w in self.warnings]

    @property
    def all_warnings(self) -> list[Alert]:
        return [*self.warnings, *self.text_warnings]


def display_name(persona: str, names: dict[str, str] | None = None) -> str:
    return (names or {}).get(persona) or persona.capitalize()


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def share(count: int, total: int) -> float | None:
    return count / total if total else None


def average(total: float, n: int) -> float | None:
    return total / n if n else None
