"""Recusal: a judge does not review its own vendor's tool.

A judge is a model profile with an optional `family` (mistral, llama, qwen ...) and `vendor`
(Mistral AI, Meta ...). It matches a tool when one of the names below for its family or vendor
is the tool's `vendor`, appears as a word in the tool's name, or is the tool's web address (its
registered domain, by the public suffix list). The table is deliberately small and explicit:
an unknown family still matches by its own name, and models.yaml can always name the vendor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tld import get_fld

from panel.records.tool import Tool


@dataclass(frozen=True)
class Maker:
    """How a vendor and its models are named, and the web domains it publishes from."""

    names: tuple[str, ...]
    domains: tuple[str, ...] = ()


# family -> its vendor's names and domains. Names are matched as whole words (a digit may follow:
# "Qwen3"), so keep them distinctive: "Phi" matches "Phi-4" but not "Phind".
FAMILIES: dict[str, Maker] = {
    "mistral": Maker(
        ("Mistral AI", "Mistral", "Mixtral", "Codestral", "Ministral", "Magistral", "Devstral", "Pixtral"),
        ("mistral.ai",),
    ),
    "llama": Maker(("Meta", "Llama"), ("meta.com", "meta.ai", "llama.com", "facebook.com")),
    "qwen": Maker(
        ("Alibaba", "Qwen", "QwQ"), ("alibaba.com", "alibabacloud.com", "qwen.ai", "qwenlm.github.io")
    ),
    "gemma": Maker(
        ("Google", "Gemma", "Gemini", "DeepMind"), ("google.com", "google.dev", "deepmind.google")
    ),
    "phi": Maker(("Microsoft", "Phi"), ("microsoft.com",)),
    "deepseek": Maker(("DeepSeek",), ("deepseek.com",)),
    "granite": Maker(("IBM", "Granite"), ("ibm.com",)),
    "nemotron": Maker(("NVIDIA", "Nemotron"), ("nvidia.com",)),
    "olmo": Maker(("Ai2", "Allen Institute for AI", "OLMo"), ("allenai.org",)),
    "gpt-oss": Maker(("OpenAI", "gpt-oss"), ("openai.com",)),
    "smollm": Maker(("Hugging Face", "SmolLM"), ("huggingface.co",)),
}


def _key(text: str) -> str:
    """'Mistral AI' and 'mistral-ai' alike: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@cache
def _word(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])", re.IGNORECASE)


def judge_terms(family: str | None, vendor: str | None) -> Maker:
    """Every name and domain that ties a judge to its vendor: its own family and vendor, and the
    table's entries for either."""
    names = [n for n in (family, vendor) if n]
    domains: list[str] = []
    for key, maker in FAMILIES.items():
        mine = {_key(key), *(_key(n) for n in maker.names)}
        if (family and _key(family) == _key(key)) or (vendor and _key(vendor) in mine):
            names += maker.names
            domains += maker.domains
    return Maker(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(domains)))


def registered_domain(url: str) -> str | None:
    """'docs.mistral.ai' -> 'mistral.ai' (public suffix list); None for an address without one."""
    return get_fld(url, fail_silently=True) if url else None


def vendor_match(family: str | None, vendor: str | None, tool: Tool) -> str | None:
    """What ties a judge to the tool's vendor, in words ("the tool's name says Mistral"), or None."""
    terms = judge_terms(family, vendor)
    if not terms.names:
        return None
    for name in terms.names:
        if tool.vendor and _word(name).search(tool.vendor):
            return f"the tool's vendor is {tool.vendor}"
    for name in terms.names:
        found = _word(name).search(tool.name)
        if found is not None:
            return f"the tool's name says {found.group(0)}"
    domain = registered_domain(tool.url)
    if domain is not None:
        label = _key(domain.split(".")[0])
        if domain in terms.domains or label in {_key(n) for n in terms.names}:
            return f"the tool's address is on {domain}"
    return None
