"""Draft-quality flags on the labelled set: precision and recall per flag, the margin of each
threshold, and the time per review.

    python bench/quality.py [--figures]

The labelled set is tests/data/quality/ (its README gives the format); the examples to copy from
are the built-in personas' worked examples. `measure()` and `timing()` are importable with no side
effects (tests/grounding/test_quality.py asserts on `measure()`; bench/claims.py prints it beside its own).
`--figures` lists every case with the figures the flags are decided on, to see how close each
one sits to its threshold.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from panel.grounding import quality
from panel.grounding.ground import examples_of
from panel.inputs.personas import load_personas
from panel.records import Tool

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "quality"
KINDS = ("copies-example", "degenerate")
THIN = "thin-material"


@dataclass(frozen=True)
class ReviewCase:
    id: str
    voice: str
    flags: frozenset[str]
    text: str
    note: str = ""


@dataclass(frozen=True)
class ToolCase:
    id: str
    thin: bool
    tool: Tool
    note: str = ""


@dataclass(frozen=True)
class Score:
    """Precision and recall of one flag over the labelled set."""

    flag: str
    labelled: int  # cases labelled with the flag
    total: int  # cases in the set
    tp: int
    fp: int
    fn: int
    missed: tuple[str, ...] = ()  # ids of false negatives
    wrong: tuple[str, ...] = ()  # ids of false positives

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def row(self) -> tuple[str, ...]:
        return (
            self.flag,
            f"{self.labelled}/{self.total}",
            f"{self.precision:.2f}",
            f"{self.recall:.2f}",
            " ".join([*(f"-{i}" for i in self.missed), *(f"+{i}" for i in self.wrong)]) or "-",
        )


def load_reviews(data: Path = DATA) -> list[ReviewCase]:
    cases = []
    for name in ("reviews.yaml", "tinymodel.yaml"):
        for item in yaml.safe_load((data / name).read_text(encoding="utf-8")):
            cases.append(
                ReviewCase(
                    id=item["id"],
                    voice=item["voice"],
                    flags=frozenset(item["flags"]),
                    text=item["text"],
                    note=item.get("note", ""),
                )
            )
    return cases


def load_tools(data: Path = DATA) -> list[ToolCase]:
    return [
        ToolCase(
            id=item["id"],
            thin=item["thin"],
            tool=Tool.model_validate(item["tool"]),
            note=item.get("note", ""),
        )
        for item in yaml.safe_load((data / "tools.yaml").read_text(encoding="utf-8"))
    ]


def persona_examples() -> dict[str, str]:
    """The examples a draft must not copy: the built-in personas' worked examples."""
    return examples_of(load_personas())


def _score(flag: str, cases: Sequence[tuple[str, bool, bool]]) -> Score:
    """cases: (id, labelled, flagged)."""
    return Score(
        flag=flag,
        labelled=sum(labelled for _, labelled, _ in cases),
        total=len(cases),
        tp=sum(labelled and flagged for _, labelled, flagged in cases),
        fp=sum(flagged and not labelled for _, labelled, flagged in cases),
        fn=sum(labelled and not flagged for _, labelled, flagged in cases),
        missed=tuple(i for i, labelled, flagged in cases if labelled and not flagged),
        wrong=tuple(i for i, labelled, flagged in cases if flagged and not labelled),
    )


def measure(data: Path = DATA) -> list[Score]:
    """Precision and recall of each flag, and of thin_material, on the labelled set."""
    examples = persona_examples()
    reviews = load_reviews(data)
    found = {c.id: {f.kind for f in quality.quality_flags(c.text, examples)} for c in reviews}
    scores = [_score(kind, [(c.id, kind in c.flags, kind in found[c.id]) for c in reviews]) for kind in KINDS]
    tools = load_tools(data)
    scores.append(_score(THIN, [(c.id, c.thin, quality.thin_material(c.tool) is not None) for c in tools]))
    return scores


def timing(repeat: int = 100) -> dict[str, float]:
    """Time per review of `quality_flags` over the labelled reviews, with the examples already
    indexed (as on every save after the first), and the first call, which builds the index.
    CPU time of this process beside wall time: on a shared machine the wall clock also counts
    other people's work."""
    examples = persona_examples()
    texts = [c.text for c in load_reviews()]
    quality._index.cache_clear()
    started = time.perf_counter()
    quality.quality_flags(texts[0], examples)
    first = time.perf_counter() - started
    wall, cpu = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(repeat // 5):
            for text in texts:
                quality.quality_flags(text, examples)
        calls = repeat // 5 * len(texts)
        wall.append((time.perf_counter() - w) / calls)
        cpu.append((time.process_time() - c) / calls)
    longest = max(texts, key=len)
    c = time.process_time()
    for _ in range(repeat):
        quality.quality_flags(longest, examples)
    return {
        "reviews": len(texts),
        "cpu_us": statistics.median(cpu) * 1e6,
        "wall_us": statistics.median(wall) * 1e6,
        "longest_chars": len(longest),
        "longest_cpu_us": (time.process_time() - c) / repeat * 1e6,
        "first_call_us": first * 1e6,
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _fmt(value: float | None, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if pct else str(value)


def margins() -> list[tuple[str, ...]]:
    """For each threshold: the worst value among the clean cases, the threshold, and among the
    cases it is there to catch, the nearest one it catches and how many it catches."""
    examples = persona_examples()
    reviews = load_reviews()
    figs = {c.id: quality.figures(c.text, examples) for c in reviews}
    clean = [figs[c.id] for c in reviews if not c.flags]
    copies = [figs[c.id] for c in reviews if "copies-example" in c.flags]
    degenerate = [figs[c.id] for c in reviews if "degenerate" in c.flags]
    rows = []

    def add(
        name: str,
        get: Callable[[quality.Figures], float | None],
        targets: list[quality.Figures],
        threshold: float,
        high: bool,
        pct: bool = False,
    ) -> None:
        def fmt(v: float) -> str:
            return f"{v:.0%}" if pct else f"{v:g}"

        ok = [v for f in clean if (v := get(f)) is not None]
        caught = [
            v for f in targets if (v := get(f)) is not None and (v >= threshold if high else v < threshold)
        ]
        nearest = (min(caught) if high else max(caught)) if caught else None
        rows.append(
            (
                name,
                fmt(max(ok) if high else min(ok)),
                f"{'>=' if high else '<'} {fmt(threshold)}",
                fmt(nearest) if nearest is not None else "-",
                f"{len(caught)} of {len(targets)}",
            )
        )

    add("copy: longest shared run, words", lambda f: f.longest_run, copies, quality.COPY_RUN_WORDS, True)
    add("copy: words in shared runs", lambda f: f.copied_share, copies, quality.COPY_SHARE, True, True)
    add(
        "repeats: zlib size / size",
        lambda f: f.compression,
        degenerate,
        quality.REPEAT_COMPRESSION,
        False,
        True,
    )
    add(
        "structure: plain tokens",
        lambda f: f.plain_share,
        degenerate,
        quality.STRUCTURE_WORD_SHARE,
        False,
        True,
    )
    add(
        "structure: function words",
        lambda f: f.function_share,
        degenerate,
        quality.STRUCTURE_FUNCTION_SHARE,
        False,
        True,
    )
    add(
        "structure: longest sentence, words",
        lambda f: f.longest_sentence,
        degenerate,
        quality.STRUCTURE_SENTENCE_WORDS + 1,
        True,
    )
    tools = load_tools()
    ok = [len(quality.content_words(c.tool)) for c in tools if not c.thin]
    thin = [len(quality.content_words(c.tool)) for c in tools if c.thin]
    rows.append(
        (
            "thin: distinct content words",
            str(min(ok)),
            f"< {quality.MATERIAL_MIN_WORDS}",
            str(max(thin)),
            f"{sum(n < quality.MATERIAL_MIN_WORDS for n in thin)} of {len(thin)}",
        )
    )
    return rows


def figures_rows() -> list[tuple[str, ...]]:
    examples = persona_examples()
    rows = []
    for c in load_reviews():
        f = quality.figures(c.text, examples)
        flags = quality.quality_flags(c.text, examples)
        rows.append(
            (
                c.id,
                ",".join(sorted(c.flags)) or "-",
                ",".join(q.kind for q in flags) or "-",
                f"{f.longest_run} {f.longest_run_example}".strip(),
                f"{f.copied_share:.0%}",
                _fmt(f.compression),
                _fmt(f.plain_share),
                _fmt(f.function_share),
                str(f.longest_sentence),
                f.ending[:12] or "-",
            )
        )
    for t in load_tools():
        rows.append(
            (
                t.id,
                "thin" if t.thin else "-",
                "thin" if quality.thin_material(t.tool) else "-",
                f"{len(quality.content_words(t.tool))} words",
                *("",) * 6,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--figures", action="store_true", help="list every case with its figures")
    args = parser.parse_args(argv)
    print(f"labelled set: {DATA}")
    print(
        _table(
            ("flag", "labelled", "precision", "recall", "misses (-) and false alarms (+)"),
            [s.row() for s in measure()],
        )
    )
    print()
    print(_table(("figure", "worst clean case", "flags at", "nearest caught", "caught"), margins()))
    t = timing()
    print()
    print(
        f"time per review: {t['cpu_us']:.0f} µs CPU, {t['wall_us']:.0f} µs wall (median of 5 rounds over "
        f"{t['reviews']} labelled reviews); the longest ({t['longest_chars']} characters): "
        f"{t['longest_cpu_us']:.0f} µs CPU; the first call, which indexes the examples: "
        f"{t['first_call_us']:.0f} µs"
    )
    if args.figures:
        print()
        print(
            _table(
                ("case", "label", "flags", "run", "share", "zlib", "plain", "function", "sentence", "ending"),
                figures_rows(),
            )
        )


if __name__ == "__main__":
    main()
