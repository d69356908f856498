"""The published JSON Schema of each record type: the one `panel schema` prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from panel.records.base import SCHEMA_VERSION
from panel.records.panel import Comparison, ToolPanel
from panel.records.review import Review
from panel.records.tool import Tool

SCHEMAS: dict[str, type[BaseModel]] = {
    "tool": Tool,
    "review": Review,
    "panel": ToolPanel,
    "comparison": Comparison,
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(
    name: str, model: type[BaseModel], mode: Literal["validation", "serialization"] = "serialization"
) -> dict:
    """A model's JSON Schema as `panel schema NAME` prints it: the dialect and a stable `$id`
    first. Files panel writes are described as written (serialization, computed fields
    included); what people write (tools, reviews) as it is read."""
    schema = model.model_json_schema(mode=mode)
    return {"$schema": SCHEMA_DIALECT, "$id": f"urn:panel:{name}:v{SCHEMA_VERSION}", **schema}


def json_schema(name: str) -> dict:
    """The published JSON Schema of a record type, describing the files as written."""
    return schema_of(name, SCHEMAS[name], "validation" if name in ("tool", "review") else "serialization")
