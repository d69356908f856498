"""The claims rules on real projects' own pages: ../shared/intake-corpus (eleven projects' README,
license and docs pages), read at run time and never copied into the project.

    python bench/claims_real.py

Each project's pages become one tool's sources, as intake would gather them: the README and docs
page as Markdown (trafilatura, tables kept), the license page as whole-page text (inscriptis),
each cut to the 20,000-character limit of a source at a line break. Against that material the
rules check sentences written here, per project:

- its license named correctly, which must come out supported;
- a wrong license, which must come out contradicted (the plausible wrong ones: Terraform's old
  MPL-2.0, the MIT that GitButler's license converts to, Apache 2.0 for k6);
- three specifics the pages never mention: a monthly price for a hosted plan, the version in
  which an invented feature arrived, a speed-up against a competitor the pages never measure.
  None may come out contradicted: the pages state other prices, versions and percentages, but
  not of the same subject.

Targets: every correct license supported, at least 10 of the 11 wrong ones contradicted, no
false contradiction. The licenses are the corpus README's own table (read at run time).
Without ../shared/intake-corpus the measurement is skipped with a note.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from panel.grounding.material import material_for  # noqa: E402
from panel.grounding.rules import rules_claims  # noqa: E402
from panel.records import MAX_SOURCE_CHARS, Claim, Source, Tool  # noqa: E402

CORPUS = REPO.parent / "shared" / "intake-corpus"
WRONG_FLAGGED = 10  # of 11: the measurement in issue 15 flagged 10, and that must stay right


@dataclass(frozen=True)
class Project:
    """One real project and the sentences checked against its pages (written for this bench)."""

    slug: str
    name: str
    right: str  # its license, as a reviewer would name it
    wrong: str  # a wrong license
    price: str  # specifics its pages never mention
    version: str
    figure: str

    def license_sentence(self, license: str) -> str:
        return f"{self.name} is released under the {license}."


PROJECTS = (
    Project("marimo", "marimo", "Apache 2.0 license", "GPL-3.0 license",
            "marimo's hosted Pro plan costs $20 per month.",
            "Offline collaboration arrived in version 0.6.",
            "It runs notebooks 35% faster than Hex."),
    Project("uv", "uv", "MIT license", "GPL-3.0 license",
            "uv's hosted Team plan costs $12 per seat per month.",
            "Plugin hooks arrived in version 0.3.",
            "It resolves dependencies 40% faster than Poetry."),
    Project("llm", "LLM", "Apache 2.0 license", "MIT license",
            "LLM's hosted Pro plan costs $10 per month.",
            "Voice input arrived in version 0.9.",
            "It answers prompts 25% faster than LangChain."),
    Project("ollama", "Ollama", "MIT license", "Apache 2.0 license",
            "Ollama's hosted Turbo plan costs $20 per month.",
            "Image generation arrived in version 0.4.",
            "It runs models 30% faster than LM Studio."),
    Project("smolagents", "smolagents", "Apache 2.0 license", "AGPL-3.0 license",
            "The hosted Pro plan for smolagents costs $9 per month.",
            "Memory snapshots arrived in version 1.2.",
            "Its agents use 45% fewer tokens than CrewAI."),
    Project("meilisearch", "Meilisearch", "MIT license", "GPL-3.0 license",
            "Meilisearch Cloud's Pro plan costs $30 per month.",
            "Geo clustering arrived in version 1.3.",
            "It indexes documents 50% faster than Typesense."),
    Project("terraform", "Terraform", "Business Source License", "MPL-2.0 license",
            "The hosted Plus tier costs $20 per user per month.",
            "Stack previews arrived in version 1.4.",
            "It plans changes 25% faster than OpenTofu."),
    Project("gitbutler", "GitButler", "Functional Source License", "MIT license",
            "GitButler's hosted Team plan costs $8 per seat per month.",
            "Interactive rebase arrived in version 0.9.",
            "It merges branches 40% faster than Tower."),
    Project("apollo-router", "Apollo Router", "Elastic License 2.0", "Apache 2.0 license",
            "The router's hosted Enterprise plan costs $500 per month.",
            "Query batching arrived in version 1.10.",
            "It serves 45% more requests than Apollo Gateway."),
    Project("k6", "k6", "AGPL-3.0 license", "Apache 2.0 license",
            "The hosted Pro plan for k6 costs $29 per month.",
            "Browser testing arrived in version 0.38.",
            "It generates 35% more load than JMeter."),
    Project("helix", "Helix", "MPL-2.0 license", "MIT license",
            "Helix's hosted sync plan costs $5 per month.",
            "Plugin support arrived in version 23.10.",
            "It starts 60% faster than Neovim."),
)  # fmt: skip
KIND_OF = {"price": "price", "version": "version", "figure": "figure"}


def _fit(text: str) -> str:
    """The text within one source's limit, cut at a line break (intake keeps what fits)."""
    if len(text) <= MAX_SOURCE_CHARS:
        return text
    return text[: text.rfind("\n", 0, MAX_SOURCE_CHARS) + 1 or MAX_SOURCE_CHARS]


def _page_text(path: Path, whole: bool) -> str:
    import trafilatura
    from inscriptis import get_text

    html = path.read_text(encoding="utf-8")
    text = None if whole else trafilatura.extract(html, output_format="markdown", include_tables=True)
    return _fit(text or get_text(html))


def tool_for(project: Project) -> Tool:
    """The project's pages as a tool's sources: README and docs as Markdown, the license whole."""
    site = CORPUS / "site" / project.slug
    sources = [
        Source(title=title, text=_page_text(site / page, whole=page == "license.html"))
        for title, page in (("README", "index.html"), ("License", "license.html"), ("Docs", "docs.html"))
        if (site / page).is_file()
    ]
    return Tool(
        name=project.name, description=f"{project.name}, as its own pages describe it.", sources=sources
    )


def licenses_of() -> dict[str, str]:
    """slug -> SPDX expression, from the corpus README's table."""
    table = (CORPUS / "README.md").read_text(encoding="utf-8")
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `([\w-]+)` \|[^|]+\|[^|]+\| ([^|]+) \|", table, re.M)
    }


def _claim(text: str, tool: Tool, kind: str) -> Claim | None:
    found = [c for c in rules_claims(text, material_for(tool)) if c.kind == kind]
    return found[0] if found else None


@dataclass
class RealResult:
    right: list[tuple[str, Claim | None]]
    wrong: list[tuple[str, Claim | None]]
    unmentioned: list[tuple[str, str, Claim | None]]  # (project, kind, claim)

    @property
    def false_contradictions(self) -> list[tuple[str, str, Claim]]:
        return [(p, k, c) for p, k, c in self.unmentioned if c is not None and c.status == "contradicted"]

    def status_count(self, rows: list[tuple[str, Claim | None]], status: str) -> int:
        return sum(1 for _, c in rows if c is not None and c.status == status)

    def missed(self) -> list[str]:
        out = []
        if self.status_count(self.right, "supported") < len(self.right):
            out.append("every correct license supported")
        if self.status_count(self.wrong, "contradicted") < WRONG_FLAGGED:
            out.append(f"at least {WRONG_FLAGGED} wrong licenses contradicted")
        if self.false_contradictions:
            out.append("no false contradictions on real pages")
        return out


def measure() -> RealResult:
    result = RealResult([], [], [])
    for project in PROJECTS:
        tool = tool_for(project)
        result.right.append((project.slug, _claim(project.license_sentence(project.right), tool, "license")))
        result.wrong.append((project.slug, _claim(project.license_sentence(project.wrong), tool, "license")))
        for kind in ("price", "version", "figure"):
            result.unmentioned.append((project.slug, kind, _claim(getattr(project, kind), tool, kind)))
    return result


def _show(c: Claim | None) -> str:
    if c is None:
        return "no claim found"
    return f"{c.status} {c.text!r}" + (f" [{c.evidence.sentence[:80]}]" if c.evidence else "")


def report(verbose: bool = False) -> list[str]:
    """Print the figures; return the targets missed (empty when the corpus is absent)."""
    if not (CORPUS / "site").is_dir():
        print(f"real pages: skipped, {CORPUS} is not here (the shared intake corpus)")
        return []
    spdx = licenses_of()
    result = measure()
    n = len(PROJECTS)
    right, wrong = (
        result.status_count(result.right, "supported"),
        result.status_count(result.wrong, "contradicted"),
    )
    false = result.false_contradictions
    by_kind = {k: sum(1 for _, kk, _ in false if kk == k) for k in KIND_OF}
    print(f"real pages ({CORPUS}, {n} projects: README, license and docs pages as sources)")
    print(f"  correct licenses supported      {right}/{n}  {'ok' if right == n else 'MISSED'}")
    mark = "ok" if wrong >= WRONG_FLAGGED else "MISSED"
    print(f"  wrong licenses contradicted     {wrong}/{n}  {mark} (>= {WRONG_FLAGGED})")
    print(
        f"  false contradictions            {len(false)}/{len(result.unmentioned)} specifics the pages never "
        f"mention (price {by_kind['price']}, version {by_kind['version']}, figure {by_kind['figure']})  "
        f"{'ok' if not false else 'MISSED'} (= 0)"
    )
    rows = [(p, "right " + spdx.get(p, "?"), c) for p, c in result.right]
    rows += [(p, "wrong", c) for p, c in result.wrong] + list(result.unmentioned)
    for slug, what, c in rows:
        expected = {"right": "supported", "wrong": "contradicted"}.get(what.split()[0])
        bad = (
            (c is None or c.status != expected)
            if expected
            else (c is not None and c.status == "contradicted")
        )
        if verbose or bad:
            print(f"    {slug:14} {what:22} {_show(c)}")
    return result.missed()


if __name__ == "__main__":
    raise SystemExit(1 if report(verbose="-v" in sys.argv) else 0)
