"""The tool a panel reviews, as its vendor describes it, and the sources it is checked against."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from panel.records.base import (
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_LEFT_OUT,
    MAX_NAME,
    MAX_PRICING_DETAIL,
    MAX_SOURCE_CHARS,
    MAX_SOURCE_TITLE,
    MAX_SOURCES,
    MAX_SOURCES_CHARS,
    MAX_TAGLINE,
    MAX_URL,
    Record,
    text_limits,
)


class Pricing(Record):
    entry: Annotated[str, text_limits(40)] = Field(
        default="", description="free, freemium, paid, open-source, ..."
    )
    detail: Annotated[str, text_limits(MAX_PRICING_DETAIL)] = ""

    @field_validator("entry")
    @classmethod
    def _normalize_entry(cls, value: str) -> str:
        """'Open Source' and 'open-source' are the same entry."""
        value = "-".join(value.lower().split())
        if value and not re.fullmatch(r"[a-z0-9][a-z0-9_/+.-]*", value):
            raise ValueError("use a short word such as free, freemium, paid or open-source")
        return value


def _http_url(value: str) -> str:
    if value and not re.match(r"^https?://[^\s]+$", value):
        raise ValueError("must be an http:// or https:// address with no spaces")
    return value


Url = Annotated[str, text_limits(MAX_URL), AfterValidator(_http_url)]
# How `panel intake` turned a fetched body into a source's text; `panel recheck` reads a new body
# of the same address the same way.
SourceReader = Literal["page", "pypi", "npm", "crates", "github", "github-release", "hub"]
SNAPSHOT_PATTERN = r"^(?:sha256:[0-9a-f]{64})?$"


class Source(Record):
    """An excerpt of the tool's own material: what its claims are checked against.

    A tool file may name a `path` instead of `text`; the loader reads it (inside the tool file's
    folder only) and keeps the path for display. In a record, `text` is always there.

    A source `panel intake` fetched also names where and when: its address, the address after
    redirects, the stored body (`snapshot`, under outputs/evidence/) and the time it was read, so
    a claim's evidence can say which page said so and when. A person's own sources have none of
    these, and intake never replaces them.
    """

    title: Annotated[str, text_limits(MAX_SOURCE_TITLE, required=True)]
    text: Annotated[str, text_limits(MAX_SOURCE_CHARS)] = ""
    path: Annotated[str, text_limits(500)] = Field(
        default="", description="The file the text was read from, beside the tool file."
    )
    url: Url = Field(
        default="", description="Where the text was read from (only `panel intake` and `recheck` fetch it)."
    )
    final_url: Url = Field(default="", description="The address after redirects, when it differs.")
    snapshot: Annotated[str, Field(pattern=SNAPSHOT_PATTERN)] = Field(
        default="", description="sha256:HEX of the stored body under outputs/evidence/."
    )
    fetched_at: datetime | None = Field(default=None, description="When the body was read.")
    checked_at: datetime | None = Field(
        default=None, description="When the address last served the same body (panel recheck)."
    )
    reader: SourceReader | None = Field(
        default=None, description="How the body became this text: a web page or a registry's API."
    )
    left_out: Annotated[str, text_limits(MAX_LEFT_OUT)] = Field(
        default="", description="What was left out of a long page to keep within the limits."
    )

    @property
    def checked(self) -> datetime | None:
        """The last time the source's address was read or confirmed unchanged."""
        return self.checked_at or self.fetched_at

    @model_validator(mode="after")
    def _has_text(self) -> Source:
        if not self.text:
            raise ValueError(
                "a source needs its text (in a tool file: `text`, or a `path` to a .txt or .md file)"
            )
        return self


def checked_on(sources: Iterable[Source]) -> datetime | None:
    """When the material was last known to be current: the oldest time any fetched source was
    read or confirmed unchanged (a page is no fresher than its stalest source); None when no
    source was fetched. What "Sources checked on DATE" shows, never the time of rendering."""
    times = [t if t.tzinfo else t.replace(tzinfo=UTC) for s in sources if (t := s.checked) is not None]
    return min(times) if times else None


class Tool(Record):
    """One newly launched tool, as its vendor describes it. Every field is untrusted text."""

    name: Annotated[str, text_limits(MAX_NAME, required=True)]
    description: Annotated[str, text_limits(MAX_DESCRIPTION, required=True)]
    tagline: Annotated[str, text_limits(MAX_TAGLINE)] = Field(default="", description='The "best for" line.')
    category: Annotated[str, text_limits(MAX_CATEGORY)] = ""
    vendor: Annotated[str, text_limits(MAX_NAME)] = Field(
        default="", description="Who makes it, e.g. Mistral AI: judges of the same vendor are recused."
    )
    pricing: Pricing = Field(default_factory=Pricing)
    url: Url = ""
    sources: Annotated[list[Source], Field(max_length=MAX_SOURCES)] = Field(
        default_factory=list, description="Excerpts of the tool's docs, README or pricing page."
    )

    @field_validator("sources")
    @classmethod
    def _sources_total(cls, sources: list[Source]) -> list[Source]:
        total = sum(len(s.text) for s in sources)
        if total > MAX_SOURCES_CHARS:
            raise ValueError(
                f"{total:,} characters in all, over the {MAX_SOURCES_CHARS:,} limit "
                "(keep the excerpts that matter)"
            )
        return sources
