"""The tool a panel reviews, as its vendor describes it, and the sources it is checked against."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from panel.records.base import (
    MAX_CATEGORY,
    MAX_DESCRIPTION,
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


class Source(Record):
    """An excerpt of the tool's own material: what its claims are checked against.

    A tool file may name a `path` instead of `text`; the loader reads it (inside the tool file's
    folder only) and keeps the path for display. In a record, `text` is always there.
    """

    title: Annotated[str, text_limits(MAX_SOURCE_TITLE, required=True)]
    text: Annotated[str, text_limits(MAX_SOURCE_CHARS)] = ""
    path: Annotated[str, text_limits(500)] = Field(
        default="", description="The file the text was read from, beside the tool file."
    )
    url: Url = Field(default="", description="Kept for display; never fetched.")

    @model_validator(mode="after")
    def _has_text(self) -> Source:
        if not self.text:
            raise ValueError(
                "a source needs its text (in a tool file: `text`, or a `path` to a .txt or .md file)"
            )
        return self


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
