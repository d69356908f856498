"""A jury: several model profiles behind one persona, and the rules that make their votes one
review.

The rules, in one place:

- only valid votes count: a member that failed or was recused has no vote;
- the verdict is a strict majority of the valid votes; a tie, or fewer valid votes than the
  quorum, is `split` (never broken by the order the members are listed in);
- the score is the median of the valid scores (the mean of the middle two for an even count,
  rounded half up);
- the paragraph is that of the member whose score is closest to the exact median; among equally
  close members, one whose verdict is the jury's, then the paragraph with the smallest SHA-256
  digest. The digest depends on the text alone, so renaming or reordering members changes nothing.

The jury's definition (from models.yaml) goes into each review's provenance with its digest.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

from panel.records.base import JuryVerdict, Record, Verdict

JuryName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
RECUSED = "recused: same vendor as the tool"


class JuryDefinition(Record):
    """A jury as models.yaml defines it (and checks it: engines/profiles.py JurySpec), kept in
    the provenance of every review it wrote."""

    name: JuryName
    members: Annotated[list[str], Field(min_length=1)] = Field(description="Model profiles, in order.")
    quorum: Annotated[int, Field(ge=1)] = Field(
        description="At least this many valid votes (recused and failed members have none), or the "
        "verdict is split."
    )
    verdict: Literal["majority"] = Field(default="majority", description="A strict majority of valid votes.")
    score: Literal["median"] = Field(default="median", description="The median of the valid scores.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def digest(self) -> str:
        """Of the definition itself: two reviews with the same digest had the same jury."""
        body = self.model_dump(mode="json", exclude={"digest"})
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


class Ballot(Protocol):
    """What the rules read of a valid vote."""

    @property
    def score(self) -> int | None: ...
    @property
    def verdict(self) -> Verdict | None: ...
    @property
    def review(self) -> str: ...


class Tally(BaseModel):
    """How a jury's members voted."""

    model_config = ConfigDict(extra="forbid")

    ship: int = 0
    skip: int = 0
    failed: int = 0
    recused: int = 0

    @property
    def valid(self) -> int:
        return self.ship + self.skip

    def line(self) -> str:
        """'1 ship / 1 skip / 1 failed': what the pages show beside a split."""
        parts = [f"{self.ship} ship", f"{self.skip} skip"]
        parts += [f"{n} {what}" for n, what in ((self.failed, "failed"), (self.recused, "recused")) if n]
        return " / ".join(parts)


def median_score(scores: Sequence[int]) -> int:
    """The median of whole-number scores as a whole number (the middle two's mean rounded half up)."""
    return math.floor(statistics.median(scores) + 0.5)


def jury_verdict(ship: int, skip: int, quorum: int) -> JuryVerdict:
    """A strict majority of the valid votes, or split (a tie, or fewer valid votes than the quorum)."""
    valid = ship + skip
    if valid < quorum or ship == skip:
        return "split"
    return "ship" if ship > skip else "skip"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What the jury's valid votes make: the review's score, verdict and chosen paragraph."""

    score: int
    verdict: JuryVerdict
    chosen: int  # index (in the list given) of the vote whose paragraph is the review's


def combine(votes: Sequence[Ballot | None], quorum: int) -> Outcome | None:
    """The jury's review from its members' votes (None for a member without a valid vote); None
    when no vote is valid. Independent of the order the votes come in, but for `chosen`'s index."""
    valid = [(i, v) for i, v in enumerate(votes) if v is not None and v.score is not None]
    if not valid:
        return None
    scores = [v.score for _, v in valid if v.score is not None]
    exact = statistics.median(scores)
    ship = sum(v.verdict == "ship" for _, v in valid)
    verdict = jury_verdict(ship, len(valid) - ship, quorum)
    chosen, _ = min(
        valid,
        key=lambda iv: (
            abs((iv[1].score or 0) - exact),
            iv[1].verdict != verdict,  # False first: a paragraph that argues the jury's verdict
            _digest(iv[1].review),
        ),
    )
    return Outcome(score=median_score(scores), verdict=verdict, chosen=chosen)
