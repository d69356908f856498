"""The base of every record: strict parsing, the size limits, and the ship/skip rule.

Derived values are computed fields: written for readers, dropped and recomputed whenever a file
is read back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

SCHEMA_VERSION: Final = 1

# Size limits for vendor text (documented in the README). Longer input is rejected, not cut.
MAX_NAME = 200
MAX_TAGLINE = 300
MAX_CATEGORY = 100
MAX_DESCRIPTION = 6000
MAX_PRICING_DETAIL = 500
MAX_URL = 2000
# Sources: excerpts of the tool's own material (pricing page, README, docs) that reviews are
# checked against. Like every vendor field, longer text is refused, not cut.
MAX_SOURCE_TITLE = 200
MAX_SOURCE_CHARS = 20_000
MAX_SOURCES_CHARS = 60_000
MAX_SOURCES = 20
MAX_LEFT_OUT = 2000  # the note of what passage selection left out of a long fetched page
MAX_CLAIM_CHARS = 1000  # a claim's span of the review

# A review is "about 60-200 words". Validation allows 200-1600 characters; the decoder is held
# to a narrower band because constrained decoders overshoot `maxLength` by a few characters.
REVIEW_MIN_CHARS = 200
REVIEW_MAX_CHARS = 1600
DECODE_MIN_CHARS = 300
DECODE_MAX_CHARS = 1200
REVIEW_MIN_WORDS = 60
REVIEW_MAX_WORDS = 200

DEFAULT_SHIP_THRESHOLD = 60
# A panel ships when more than this share of the personas that voted say ship: a strict
# majority. An even split is a `split` panel, neither ship nor skip.
PANEL_SHIP_PCT = 50
QUESTION = "Which one should you ship with?"

Verdict = Literal["ship", "skip"]
# A persona judged by a jury with no majority (or too few valid votes) has no verdict of its
# own: `split`, until an editor sets one. A panel whose personas tie is `split` too.
JuryVerdict = Literal["ship", "skip", "split"]
PersonaId = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Score = Annotated[int, Strict(), Field(ge=0, le=100)]


def verdict_for(score: int, threshold: int) -> Verdict:
    """The ship/skip rule, in one place: ship at or above the persona's threshold."""
    return "ship" if score >= threshold else "skip"


def text_limits(max_length: int, *, required: bool = False) -> StringConstraints:
    """The rule for a field of vendor text: a string (no coercion), stripped, at most
    `max_length` characters, and not empty when `required`. Use as `Annotated[str, text_limits(n)]`,
    which a type checker reads as `str`."""
    return StringConstraints(
        strict=True, strip_whitespace=True, min_length=1 if required else 0, max_length=max_length
    )


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Record(BaseModel):
    """Strict base: unknown keys are errors; computed fields in input are dropped, not trusted."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        if isinstance(data, dict):
            derived = set(cls.model_computed_fields)
            if derived & data.keys():
                data = {k: v for k, v in data.items() if k not in derived}
        return data
