"""Accuracy and speed of the grounding rules layer on the labelled corpus in tests/data/claims.

    python bench/claims.py [--split dev|holdout|all] [--all-errors] [--repeat 20]

Matching. A predicted claim matches an expected one when their kinds are equal and their spans
overlap: some occurrence of the predicted text in the review overlaps some occurrence of the
expected text (character intervals; a claim's text is its verbatim span). Matching is one to
one, greedy in the order the expected claims are listed, preferring a candidate with the same
status. A matched pair is correct when the statuses are equal and, for supported and
contradicted claims whose label names evidence, the predicted evidence sentence contains one of
the labelled evidence strings.

Figures. Per status S: precision = correct pairs with status S / predicted claims with status S;
recall = correct pairs with status S / expected claims with status S. Per kind likewise. The
targets count the kinds the rules layer checks (price, license, figure, date, version, name);
feature claims are the model pass's work (grounding.merge_claims), so their row is reported for
information and kept out of the targets. Timing: rules_claims per review with the material
already built (it is cached per tool), every review run --repeat times; median and p95 over all
calls, wall-clock and CPU time (the CPU figure is what a review costs when the machine is
shared with other work). Material build time is reported apart (first build of each tool,
cache cleared).

Targets: contradicted precision >= 0.9 and recall >= 0.85; recall of unsupported names >= 0.9;
supported precision >= 0.9; no contradicted claim in an opinion-only paragraph; no false
contradiction on rich material (a tool whose sources are whole pages: a README, a pricing page, a
changelog; a claim predicted contradicted that the labels do not call contradicted); median < 5 ms.
Where one is missed the bench lists the claims behind it, case by case, with the reason.
Exit status 1 when a target is missed on the split shown.

Then, when ../shared/intake-corpus is here, the same rules on eleven real projects' own pages
(bench/claims_real.py): correct and wrong licenses, and specifics the pages never mention.

The same run then measures the draft-quality flags (copies-example, degenerate, thin material)
on their labelled set, tests/data/quality, as precision and recall (bench/quality.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import claims_real  # noqa: E402  (bench/claims_real.py: the rules on real projects' pages)
import quality as quality_bench  # noqa: E402  (bench/quality.py: the flags, on their labelled set)

from panel.core.loading import load_mapping  # noqa: E402
from panel.errors import InputError  # noqa: E402
from panel.grounding.material import Material, material_for  # noqa: E402
from panel.grounding.rules import rules_claims  # noqa: E402
from panel.grounding.spans import numbers  # noqa: E402
from panel.inputs.toolfiles import load_tool  # noqa: E402
from panel.records import REVIEW_MAX_WORDS, REVIEW_MIN_WORDS, Claim, ClaimKind, ClaimStatus, Tool  # noqa: E402

CORPUS = REPO / "tests" / "data" / "claims"
SPLITS = ("dev", "holdout")
KINDS: tuple[ClaimKind, ...] = ("price", "license", "figure", "date", "version", "name", "feature")
RULE_KINDS = frozenset(KINDS) - {"feature"}
STATUSES: tuple[ClaimStatus, ...] = ("supported", "contradicted", "unsupported")
TARGETS = {
    "contradicted precision": 0.9,
    "contradicted recall": 0.85,
    "unsupported name recall": 0.9,
    "supported precision": 0.9,
}
MEDIAN_MS = 5.0
# A tool whose sources hold whole pages (a README, a pricing page, a changelog), as intake gathers
# them, rather than a blurb: there a claim is contradicted only by the same subject, and a false
# contradiction (a claim the labels do not call contradicted) is a target miss.
RICH_CHARS = 3000
TITLES = {
    "dev": "cases the rules were tuned on",
    "holdout": "held out from tuning; run blind once, see tests/data/claims/README.md",
    "all": "dev + holdout",
}


@dataclass(frozen=True)
class Expected:
    text: str
    kind: ClaimKind
    status: ClaimStatus
    evidence: tuple[str, ...]  # any of these in the evidence sentence; empty: any evidence


@dataclass
class Case:
    path: Path
    split: str
    tool: Tool
    persona: str
    review: str
    claims: list[Expected]

    @property
    def name(self) -> str:
        return f"{self.split}/{self.path.stem}"

    @property
    def opinion_only(self) -> bool:
        return not self.claims

    @property
    def rich(self) -> bool:
        return sum(len(s.text) for s in self.tool.sources) >= RICH_CHARS


def _fail(path: Path, where: str, problem: str) -> InputError:
    return InputError(f"{where}: {problem}", where=path)


def load_case(path: Path, split: str, tools: dict[str, Tool]) -> Case:
    """One labelled case; InputError naming the file and field when it is malformed."""
    data = load_mapping(path)
    for key in ("tool", "persona", "review", "claims"):
        if key not in data:
            raise _fail(path, key, "required field is missing")
    if data["tool"] not in tools:
        raise _fail(path, "tool", f"no tools/{data['tool']}.yaml")
    review = data["review"]
    words = len(str(review).split())
    if not REVIEW_MIN_WORDS <= words <= REVIEW_MAX_WORDS:
        raise _fail(path, "review", f"{words} words, outside {REVIEW_MIN_WORDS}-{REVIEW_MAX_WORDS}")
    material = material_for(tools[data["tool"]])
    claims = []
    for i, raw in enumerate(data["claims"] or []):
        where = f"claims[{i}]"
        if not isinstance(raw, dict) or set(raw) - {"text", "kind", "status", "evidence"}:
            raise _fail(path, where, "expected a mapping of text, kind, status and evidence")
        text, kind, status = str(raw.get("text", "")), raw.get("kind"), raw.get("status")
        if not text or text not in review:
            raise _fail(path, f"{where}.text", f"{text!r} is not in the review")
        if kind not in KINDS or status not in STATUSES:
            raise _fail(path, where, f"kind must be one of {KINDS}, status one of {STATUSES}")
        evidence = raw.get("evidence") or []
        evidence = tuple([evidence] if isinstance(evidence, str) else evidence)
        if status == "unsupported" and evidence:
            raise _fail(path, f"{where}.evidence", "an unsupported claim has no evidence")
        for piece in evidence:
            if not any(piece in s.text for s in material.sentences):
                raise _fail(path, f"{where}.evidence", f"{piece!r} is in no sentence of the material")
        claims.append(Expected(text, kind, status, evidence))
    return Case(path, split, tools[data["tool"]], str(data["persona"]), review, claims)


def load_corpus(splits: tuple[str, ...] = SPLITS) -> list[Case]:
    tools = {p.stem: load_tool(p) for p in sorted((CORPUS / "tools").glob("*.yaml"))}
    return [load_case(p, split, tools) for split in splits for p in sorted((CORPUS / split).glob("*.yaml"))]


# --- matching and scoring ----------------------------------------------------------------------


def _spans(review: str, text: str) -> list[tuple[int, int]]:
    out, start = [], review.find(text)
    while start >= 0:
        out.append((start, start + len(text)))
        start = review.find(text, start + 1)
    if not out:  # a predicted span trimmed or re-cased: fall back to a case-blind search
        low, needle = review.lower(), text.lower()
        start = low.find(needle)
        while start >= 0:
            out.append((start, start + len(needle)))
            start = low.find(needle, start + 1)
    return out


def _overlap(review: str, a: str, b: str) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in _spans(review, a) for s2, e2 in _spans(review, b))


def _evidence_ok(expected: Expected, claim: Claim) -> bool:
    if expected.status == "unsupported" or not expected.evidence:
        return True
    return claim.evidence is not None and any(p in claim.evidence.sentence for p in expected.evidence)


@dataclass
class Outcome:
    """One case scored: matched pairs, misses and spurious predictions."""

    case: Case
    predicted: list[Claim]
    pairs: list[tuple[Expected, Claim]] = field(default_factory=list)
    missed: list[Expected] = field(default_factory=list)
    spurious: list[Claim] = field(default_factory=list)

    def correct(self, e: Expected, c: Claim) -> bool:
        return e.status == c.status and _evidence_ok(e, c)


def score_case(case: Case, predicted: list[Claim]) -> Outcome:
    out = Outcome(case, predicted)
    free = list(predicted)
    for e in case.claims:
        cands = [c for c in free if c.kind == e.kind and _overlap(case.review, c.text, e.text)]
        if not cands:
            out.missed.append(e)
            continue
        best = max(cands, key=lambda c: (c.status == e.status, _evidence_ok(e, c), c.text == e.text))
        free.remove(best)
        out.pairs.append((e, best))
    out.spurious = free
    return out


@dataclass
class Tally:
    correct: int = 0
    predicted: int = 0
    expected: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.expected if self.expected else None


def tallies(outcomes: list[Outcome], key: str) -> dict[str, Tally]:
    """Precision/recall tallies by 'status' or 'kind', over the rules layer's kinds (and, by
    kind, the feature row too)."""
    out: dict[str, Tally] = {}
    for o in outcomes:
        for c in o.predicted:
            if key == "kind" or c.kind in RULE_KINDS:
                out.setdefault(getattr(c, key), Tally()).predicted += 1
        for e in o.case.claims:
            if key == "kind" or e.kind in RULE_KINDS:
                out.setdefault(getattr(e, key), Tally()).expected += 1
        for e, c in o.pairs:
            if (key == "kind" or e.kind in RULE_KINDS) and o.correct(e, c):
                out[getattr(e, key)].correct += 1
    return out


def unsupported_name_recall(outcomes: list[Outcome]) -> float | None:
    expected = [
        (o, e) for o in outcomes for e in o.case.claims if (e.kind, e.status) == ("name", "unsupported")
    ]
    hits = sum(1 for o, e in expected for e2, c in o.pairs if e2 is e and o.correct(e, c))
    return hits / len(expected) if expected else None


def target_figures(outcomes: list[Outcome]) -> dict[str, float | None]:
    by_status = tallies(outcomes, "status")
    return {
        "contradicted precision": by_status.get("contradicted", Tally()).precision,
        "contradicted recall": by_status.get("contradicted", Tally()).recall,
        "unsupported name recall": unsupported_name_recall(outcomes),
        "supported precision": by_status.get("supported", Tally()).precision,
    }


def opinion_contradictions(outcomes: list[Outcome]) -> list[tuple[Case, Claim]]:
    return [
        (o.case, c)
        for o in outcomes
        if o.case.opinion_only
        for c in o.predicted
        if c.status == "contradicted"
    ]


def false_contradictions(outcomes: list[Outcome]) -> list[tuple[Case, Expected | None, Claim]]:
    """Claims predicted contradicted on rich material that the labels do not call contradicted
    (with the label, or None for a claim the labels do not list)."""
    out: list[tuple[Case, Expected | None, Claim]] = []
    for o in outcomes:
        if o.case.rich:
            out += [(o.case, e, c) for e, c in o.pairs if c.status == "contradicted" != e.status]
            out += [(o.case, None, c) for c in o.spurious if c.status == "contradicted"]
    return out


def rich_contradicted_recall(outcomes: list[Outcome]) -> float | None:
    rich = [o for o in outcomes if o.case.rich]
    return tallies(rich, "status").get("contradicted", Tally()).recall


def missed_targets(outcomes: list[Outcome]) -> list[str]:
    figures = target_figures(outcomes)
    missed = [name for name, goal in TARGETS.items() if figures[name] is not None and figures[name] < goal]
    if opinion_contradictions(outcomes):
        missed.append("opinion-only paragraphs without contradicted claims")
    if false_contradictions(outcomes):
        missed.append("no false contradictions on rich material")
    return missed


def run(cases: list[Case]) -> list[Outcome]:
    return [score_case(c, rules_claims(c.review, material_for(c.tool))) for c in cases]


# --- reporting ---------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def _describe(e: Expected | None, c: Claim | None) -> str:
    if c is None:
        return f"missed   {e.kind}/{e.status} {e.text!r}"  # type: ignore[union-attr]
    got = f"{c.kind}/{c.status} {c.text!r}" + (
        f" [{c.evidence.id}: {c.evidence.sentence[:70]}]" if c.evidence else ""
    )
    if e is None:
        return f"spurious {got}"
    want = f"{e.status}" + (
        f" with evidence {' | '.join(e.evidence)}" if e.evidence and e.status == c.status else ""
    )
    return f"wrong    {got}; expected {want}"


def problems(outcomes: list[Outcome], which: str) -> list[tuple[str, str]]:
    """(case, what went wrong) behind one target, or every discrepancy for which='all'."""
    rows = []
    for o in outcomes:
        for e, c in o.pairs:
            if o.correct(e, c):
                continue
            relevant = {
                "contradicted precision": c.status == "contradicted",
                "contradicted recall": e.status == "contradicted",
                "unsupported name recall": (e.kind, e.status) == ("name", "unsupported"),
                "supported precision": c.status == "supported",
            }.get(which, e.kind in RULE_KINDS or which == "all")
            if relevant and (e.kind in RULE_KINDS or which == "all"):
                rows.append((o.case.name, _describe(e, c)))
        for e in o.missed:
            relevant = {
                "contradicted recall": e.status == "contradicted",
                "unsupported name recall": (e.kind, e.status) == ("name", "unsupported"),
            }.get(which, which == "all" and e.kind in RULE_KINDS)
            if relevant:
                rows.append((o.case.name, _describe(e, None)))
        for c in o.spurious:
            relevant = {
                "contradicted precision": c.status == "contradicted",
                "supported precision": c.status == "supported",
            }.get(which, which == "all")
            if relevant:
                rows.append((o.case.name, _describe(None, c)))
    return rows


def report(title: str, outcomes: list[Outcome], all_errors: bool) -> list[str]:
    cases = len(outcomes)
    expected = sum(len(o.case.claims) for o in outcomes)
    print(f"\n== {title}: {cases} cases, {expected} labelled claims")
    print(f"{'':14}{'precision':>10}{'recall':>8}{'correct':>9}{'predicted':>10}{'expected':>9}")
    for key, names in (("status", STATUSES), ("kind", KINDS)):
        t = tallies(outcomes, key)
        for n in names:
            x = t.get(n, Tally())
            note = "  (model pass; not targeted)" if n == "feature" else ""
            print(
                f"{n:14}{_pct(x.precision):>10}{_pct(x.recall):>8}{x.correct:9}{x.predicted:10}{x.expected:9}{note}"
            )
        print()
    figures = target_figures(outcomes)
    for name, goal in TARGETS.items():
        mark = "ok" if figures[name] is None or figures[name] >= goal else "MISSED"
        print(f"target {name:26} {_pct(figures[name])} (>= {goal})  {mark}")
    bad = opinion_contradictions(outcomes)
    opinion = sum(o.case.opinion_only for o in outcomes)
    clean = opinion - len({c.name for c, _ in bad})
    print(
        f"target opinion-only paragraphs  {clean}/{opinion} without contradicted claims  "
        f"{'ok' if not bad else 'MISSED'}"
    )
    rich = [o for o in outcomes if o.case.rich]
    false = false_contradictions(outcomes)
    rich_claims = sum(1 for o in rich for c in o.predicted if c.kind in RULE_KINDS)
    print(
        f"target false contradictions on rich material  {len(false)} of {rich_claims} claims in "
        f"{len(rich)} cases (= 0)  {'ok' if not false else 'MISSED'}"
    )
    recall = _pct(rich_contradicted_recall(outcomes))
    print(f"       contradicted recall on rich material {recall} (information)")
    missed = missed_targets(outcomes)
    for name in missed:
        print(f"\n-- why {name} is missed:")
        if name.startswith("opinion"):
            for case, c in bad:
                print(f"  {case.name}: {_describe(None, c)}")
            continue
        if name.startswith("no false"):
            for case, e, c in false:
                print(f"  {case.name}: {_describe(e, c)}")
            continue
        for case, why in problems(outcomes, name):
            print(f"  {case}: {why}")
    if all_errors:
        print("\n-- every discrepancy:")
        for case, why in problems(outcomes, "all"):
            print(f"  {case}: {why}")
    return missed


def timing(cases: list[Case], repeat: int) -> dict[str, Any]:
    """Per review, with its material built: wall-clock and CPU milliseconds of rules_claims
    (CPU time is what the review costs on a machine shared with other work). And milliseconds per
    first build of a material (cache cleared)."""
    from panel.grounding import material as material_module

    material_module._build.cache_clear()
    material_module._split.cache_clear()
    builds = []
    materials: dict[int, Material] = {}
    for c in cases:
        if id(c.tool) not in materials:
            t0 = time.perf_counter()
            materials[id(c.tool)] = material_for(c.tool)
            builds.append((time.perf_counter() - t0) * 1000)
    wall, cpu = [], []
    for _ in range(repeat):
        for c in cases:
            m = materials[id(c.tool)]
            numbers.cache_clear()  # each call pays for reading its review, as a first check does
            t0, c0 = time.perf_counter(), time.thread_time()
            rules_claims(c.review, m)
            cpu.append((time.thread_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)

    def p95(xs: list[float]) -> float:
        return sorted(xs)[int(0.95 * (len(xs) - 1))]

    return {
        "median": statistics.median(wall),
        "p95": p95(wall),
        "cpu_median": statistics.median(cpu),
        "cpu_p95": p95(cpu),
        "calls": len(wall),
        "build_median": statistics.median(builds),
        "build_max": max(builds),
        "load": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split", choices=["dev", "holdout", "all"], default=None, help="default: each, then all"
    )
    parser.add_argument(
        "--all-errors",
        action="store_true",
        help="list every discrepancy, not only those behind a missed target",
    )
    parser.add_argument("--repeat", type=int, default=20, help="timing runs per review")
    args = parser.parse_args()
    try:
        cases = load_corpus()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    outcomes = run(cases)
    splits = [args.split] if args.split else ["dev", "holdout", "all"]
    missed: list[str] = []
    for split in splits:
        chosen = [o for o in outcomes if split == "all" or o.case.split == split]
        missed = report(f"{split} ({TITLES[split]})", chosen, args.all_errors)
    t = timing(cases, args.repeat)
    print(
        f"\nrules_claims per review (material built), {t['calls']} calls, "
        f"load average {t['load']:.1f} on {t['cpus']} CPUs:\n"
        f"  wall median {t['median']:.2f} ms, p95 {t['p95']:.2f} ms  "
        f"{'ok' if t['median'] < MEDIAN_MS else 'MISSED'} (median < {MEDIAN_MS} ms)\n"
        f"  CPU  median {t['cpu_median']:.2f} ms, p95 {t['cpu_p95']:.2f} ms"
    )
    print(
        f"material_for, first build per tool: median {t['build_median']:.1f} ms, "
        f"max {t['build_max']:.1f} ms (cached afterwards)"
    )
    print()
    missed += claims_real.report()
    print("\nDraft-quality flags on tests/data/quality (bench/quality.py):")
    quality_bench.main([])
    return 1 if missed or t["median"] >= MEDIAN_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
