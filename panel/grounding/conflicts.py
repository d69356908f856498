"""Registry facts against the vendor's pages: where PyPI, npm, crates.io, GitHub or the Hub state
a license that the pages contradict ("the page says MIT, PyPI says BUSL-1.1").

Registry facts outrank vendor copy, so `panel intake` names each conflict in its output and in
the tool file. The check is the claims machinery itself: each registry source's sentences are
read as claims against a material made of everything but the registry sources. Licenses only:
versions on real pages (install commands, code samples, other products' versions) contradict a
registry's latest version too often to be worth a person's attention.
"""

from __future__ import annotations

from panel.grounding.material import material_for
from panel.grounding.rules import rules_claims
from panel.records import Tool

REGISTRY_KINDS = ("license",)


def registry_conflicts(tool: Tool) -> list[str]:
    """One line per license a registry states that one of the tool's pages contradicts. Each
    page is checked on its own: a license page that agrees does not excuse a home page that says
    otherwise, since a reader (and a review) may rely on either."""
    registry = [s for s in tool.sources if s.reader not in (None, "page")]
    pages = [s for s in tool.sources if s.reader in (None, "page")]
    if not registry:
        return []
    found: list[str] = []
    for sources in [[page] for page in pages] or [[]]:
        material = material_for(tool.model_copy(update={"sources": sources}))
        for source in registry:
            for claim in rules_claims(source.text, material):
                if claim.kind in REGISTRY_KINDS and claim.status == "contradicted" and claim.evidence:
                    said = claim.evidence.source.removeprefix("source: ")
                    found.append(
                        f"{source.title} says {claim.kind} {claim.text!r}, but the {said} says "
                        f"{claim.evidence.sentence!r}; registry facts outrank vendor copy"
                    )
    return list(dict.fromkeys(found))
