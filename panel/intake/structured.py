"""Structured data on a vendor page, read with extruct: JSON-LD, microdata and OpenGraph.

Each JSON-LD block is parsed on its own, so a broken block is named and skipped while the rest
are read. What matters to claims (schema.org SoftwareApplication and Product: name, version,
license, offers with their price and currency) is stated as plain sentences, which the claims
machinery checks against like any other text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from extruct.w3cmicrodata import LxmlMicrodataExtractor
from lxml import etree

from panel.core.text import one_paragraph

_APPS = frozenset(
    {"softwareapplication", "webapplication", "mobileapplication", "softwaresourcecode", "product"}
)
_LD_SCRIPTS = etree.XPath('//script[@type="application/ld+json"]')
MAX_ITEMS = 50  # structured items read per page: a catalogue page has hundreds, a tool page a few


@dataclass(frozen=True)
class Structured:
    """What a page's structured data says, and the blocks that could not be read."""

    sentences: tuple[str, ...]
    opengraph: Mapping[str, str]  # og:title -> value, first one wins
    problems: tuple[str, ...]


def read_structured(tree: Any, url: str) -> Structured:
    """JSON-LD (block by block), microdata and OpenGraph of a parsed page (an lxml tree)."""
    items: list[Any] = []
    problems: list[str] = []
    for number, script in enumerate(_LD_SCRIPTS(tree), start=1):
        try:
            items.extend(JsonLdExtractor().extract_items(script, base_url=url))
        except (ValueError, RecursionError) as exc:
            problems.append(
                f"JSON-LD block {number} is not valid JSON ({one_paragraph(str(exc))[:120]}); skipped"
            )
    try:
        items.extend(_from_microdata(LxmlMicrodataExtractor().extract_items(tree, url)))
    except Exception as exc:  # noqa: BLE001 - extruct on hostile markup: keep the rest of the page
        problems.append(f"microdata could not be read ({type(exc).__name__}); skipped")
    opengraph: dict[str, str] = {}
    try:
        for item in OpenGraphExtractor().extract_items(tree, url):
            for key, value in item.get("properties", []):
                opengraph.setdefault(str(key), one_paragraph(str(value)))
    except Exception as exc:  # noqa: BLE001 - as above
        problems.append(f"OpenGraph tags could not be read ({type(exc).__name__}); skipped")
    sentences = list(dict.fromkeys(s for item in _flatten(items) for s in _sentences(item)))
    return Structured(tuple(sentences[:MAX_ITEMS]), opengraph, tuple(problems))


def _from_microdata(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Microdata items in JSON-LD's shape: {"@type": ..., property: value}."""
    for item in items:
        if isinstance(item, dict):
            kind = item.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            found = item.get("properties")
            props = found if isinstance(found, dict) else {}
            yield {"@type": [str(k).rsplit("/", 1)[-1] for k in kinds if k], **_plain(props)}


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, dict) and "properties" in value:
            out[key] = next(_from_microdata([value]))
        elif isinstance(value, list):
            out[key] = [
                next(_from_microdata([v])) if isinstance(v, dict) and "properties" in v else v for v in value
            ]
        else:
            out[key] = value
    return out


def _flatten(items: Iterable[Any], depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object, including those inside an @graph, in document order."""
    for item in items:
        if not isinstance(item, dict) or depth > 4:
            continue
        yield item
        graph = item.get("@graph")
        if isinstance(graph, list):
            yield from _flatten(graph, depth + 1)


def _types(item: Mapping[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds if k}


def _text(value: Any) -> str:
    """A property's text: a string, a number, or the name / url / @id of an object."""
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value[:5]) if t)
    if isinstance(value, dict):
        for key in ("name", "url", "@id", "value"):
            if value.get(key):
                return _text(value[key])
        return ""
    if isinstance(value, bool) or value is None:
        return ""
    return one_paragraph(str(value))[:300]


def _license(value: Any) -> str:
    """'https://spdx.org/licenses/MIT' and 'https://opensource.org/licenses/MIT' name MIT."""
    text = _text(value)
    match = re.search(r"(?:spdx\.org/licenses|opensource\.org/licenses?)/([\w.+-]+?)(?:\.html)?/?$", text)
    return match.group(1) if match else text


def _offer(offer: Any) -> str:
    if not isinstance(offer, dict):
        return ""
    name = _text(offer.get("name"))
    price = _text(offer.get("price") or offer.get("lowPrice"))
    currency = _text(offer.get("priceCurrency"))
    spec = offer.get("priceSpecification")
    if not price and isinstance(spec, dict):
        price, currency = _text(spec.get("price")), _text(spec.get("priceCurrency")) or currency
    if not price:
        return ""
    unit = ""
    if isinstance(spec, dict) and spec.get("unitText"):
        unit = f" per {_text(spec['unitText'])}"
    amount = "free" if price in ("0", "0.0", "0.00") else f"{currency} {price}".strip() + unit
    return f"{name}: {amount}" if name else amount


def _sentences(item: Mapping[str, Any]) -> Iterator[str]:
    if not _types(item) & _APPS:
        return
    name = _text(item.get("name")) or "The product"
    if item.get("softwareVersion"):
        yield f"{name} version (structured data): {_text(item['softwareVersion'])}."
    if item.get("license"):
        yield f"License of {name} (structured data): {_license(item['license'])}."
    offers = item.get("offers")
    for offer in offers if isinstance(offers, list) else [offers]:
        said = _offer(offer)
        if said:
            yield f"Offer for {name} (structured data): {said}."
    if item.get("operatingSystem"):
        yield f"{name} runs on (structured data): {_text(item['operatingSystem'])}."
