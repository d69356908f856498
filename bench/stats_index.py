"""Bench: `panel stats` and the record index over 10,000 and 100,000 panels.

    python bench/stats_index.py                    # 10,000 and 100,000 panels
    python bench/stats_index.py --sizes 2000       # a quick run
    python bench/stats_index.py --keep /tmp/bench  # keep the folders (e.g. for the desk bench)

For each size it writes N panel records and N/5 comparisons into a fresh outputs folder, then
runs the real `panel stats DIR` three times under /usr/bin/time -v:

1. cold: no index yet, so it builds `DIR/.index.sqlite3` (reads, validates and grounds every file);
2. current: the index is up to date (the case the targets are about: under 3 s and under
   150 MB peak RSS at 10,000 panels; at 100,000, peak RSS within 1.2x of the 10,000 figure);
3. after one file changed and one was deleted (sync re-reads one file, drops one).

It also times the review desk's queue queries through RecordIndex.query (median of 20).

Records are made with panel's own models: a few dozen real ToolPanel/Comparison records are built
and dumped by panel.records.store, and each file on disk is one of them with its tool name changed
(in the reviews too: every review names its tool, so no two files share a review text and no
cache keyed on the text flatters the first build) and its checksum recomputed, so every file is a
valid, unedited record and writing 100,000 takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from panel.index.database import RecordIndex
from panel.records import CommunityVotes, Comparison, Provenance, ReviewEntry, Sampling, Tool, ToolPanel
from panel.records.store import checksum, dump_record, slugify

PERSONAS = ("builder", "skeptic", "futurist", "founder")
TEXTS = {
    "builder": (
        "The core of {name} is a {word} that reads the service definition and writes pages a developer can "
        "search, and the first hour is installing one binary and pointing it at a single service. "
        "A weekend script could render the same pages, but it would not notice an endpoint that "
        "lost its description, and that check is what a team would keep it for. Adoption rests on "
        "whether it fits the build without a new server."
    ),
    "skeptic": (
        "Three incumbents already do this job, and most teams have one of them wired in. The "
        "{word} in {name} is the only new idea, and a larger vendor can copy it in one release. It breaks on "
        "a repository with many services released on different days, which the material does not "
        "address. The likely cause of death is that copy; to survive it needs a format auditors "
        "ask for by name."
    ),
    "futurist": (
        "If agents write most of the code, the reference pages stop being a chore and become the "
        "contract other agents read. This {word} from {name} is early to that shift because it treats the "
        "definition as the source and the pages as output. In three years the question is whether "
        "documentation becomes data that tools query directly, and a product that owns the "
        "structured source is well placed."
    ),
    "founder": (
        "The buyer is a platform lead tired of stale pages, and the price is an easy card swipe "
        "for a team. The wedge is small companies with a handful of services; the expansion path "
        "is compliance reporting, where budgets are larger. Distribution of {name} through the {word} "
        "listing is cheap, but retention depends on free alternatives staying clumsy. A side bet, "
        "not yet a company."
    ),
}
WORDS = ("generator", "compiler", "checker", "renderer", "indexer", "linter", "watcher", "builder")
SCORES = [(s, (s * 7 + 13) % 101, (s * 3 + 41) % 101, (s * 11 + 5) % 101) for s in range(35, 99, 2)]
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEMPLATE = "Template"  # the tool name in the templates, replaced by each file's own


def _review(persona: str, score: int, word: str) -> ReviewEntry:
    return ReviewEntry(
        persona=persona,
        score=score,
        verdict="ship" if score >= 60 else "skip",
        review=TEXTS[persona].format(word=word, name=TEMPLATE),
        provenance=Provenance(
            profile="bench",
            model="bench",
            engine="vllm-server",
            persona_digest="p",
            prompt_digest="q",
            schema_digest="s",
            cache_key=f"bench-{persona}",
            sampling=Sampling(temperature=0.7, top_p=0.9, max_tokens=512),
        ),
    )


def templates() -> list[ToolPanel]:
    """Real panels, one per score pattern, each with a different word in its reviews."""
    return [
        ToolPanel(
            tool=Tool(name=TEMPLATE, description=f"{TEMPLATE} turns an API definition into reference pages."),
            reviews=[
                _review(p, s, WORDS[(i + k) % len(WORDS)])
                for k, (p, s) in enumerate(zip(PERSONAS, scores, strict=True))
            ],
            created_at=WHEN,
            updated_at=WHEN,
        )
        for i, scores in enumerate(SCORES)
    ]


def _with_name(data: dict, name: str, day: int) -> bytes:
    """A template's JSON with another tool name (in its reviews too, so no two files share a review
    text, as no two real tools do) and date; the checksum recomputed, so the file is a valid record
    that nobody edited."""
    data["tool"]["name"] = name
    for review in data["reviews"]:
        review["review"] = review["review"].replace(TEMPLATE, name)
    data["tool"]["description"] = f"{name} turns an API definition into reference pages."
    data["updated_at"] = (WHEN + timedelta(days=day % 300)).isoformat().replace("+00:00", "Z")
    data["checksum"] = checksum(data)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _renamed(template: ToolPanel, name: str) -> ToolPanel:
    reviews = [r.model_copy(update={"review": r.review.replace(TEMPLATE, name)}) for r in template.reviews]
    return template.model_copy(update={"tool": Tool(name=name, description="d"), "reviews": reviews})


def generate(root: Path, panels: int, comparisons: int) -> float:
    started = time.perf_counter()
    made = [json.loads(dump_record(t)) for t in templates()]
    (root / "panels").mkdir(parents=True)
    (root / "comparisons").mkdir()
    for i in range(panels):
        name = f"tool-{i:06d}"
        (root / "panels" / f"{slugify(name)}.json").write_bytes(_with_name(made[i % len(made)], name, i))
    base = [templates()[k].model_copy(update={"checksum": None}) for k in range(2)]
    for i in range(comparisons):
        a, b = f"tool-{2 * i:06d}", f"tool-{2 * i + 1:06d}"
        pair = [_renamed(base[0], a), _renamed(base[1], b)]
        votes = {a: CommunityVotes(ship=i % 7, skip=i % 5), b: CommunityVotes(ship=i % 3, skip=i % 4)}
        record = Comparison(panels=pair, community=votes, created_at=WHEN, updated_at=WHEN)
        (root / "comparisons" / f"{slugify(a)}-vs-{slugify(b)}.json").write_bytes(dump_record(record))
    return time.perf_counter() - started


def timed_stats(root: Path, cwd: Path) -> dict:
    """Run the real `panel stats DIR` under /usr/bin/time -v: wall seconds and peak RSS."""
    exe = shutil.which("panel", path=str(Path(sys.executable).parent)) or "panel"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    proc = subprocess.run(
        ["/usr/bin/time", "-v", exe, "stats", str(root)], cwd=cwd, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"panel stats failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr).group(1)
    seconds = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.split(":"))))
    tools = re.search(r"│ Tools\s+│ (\d+)", proc.stdout)
    return {"seconds": seconds, "rss_mb": rss / 1024, "tools": int(tools.group(1)) if tools else None}


def query_times(root: Path) -> dict[str, float]:
    """Median milliseconds of the desk's queue queries (20 runs each)."""
    cases = {
        "first page": {},
        "drafts by last change": {"status": "draft"},
        "flag failed": {"flag": "failed"},
        "flag unsupported": {"flag": "unsupported"},
        "search 'tool 0004'": {"search": "tool 0004"},
        "comparisons, page 30": {"kind": "comparison", "offset": 1500},
        "title order": {"sort": "title"},
    }
    out = {}
    with RecordIndex(root) as index:
        index.sync()
        for label, kwargs in cases.items():
            runs = []
            for _ in range(20):
                t = time.perf_counter()
                index.query(**kwargs)
                runs.append(time.perf_counter() - t)
            out[label] = 1000 * statistics.median(runs)
        t = time.perf_counter()
        for _ in range(20):
            index.get("panels~tool-000123")
        out["get by id"] = 1000 * (time.perf_counter() - t) / 20
    return out


def bench(size: int, keep: Path | None) -> dict:
    base = Path(tempfile.mkdtemp(prefix=f"panel-bench-{size}-", dir=keep))
    root, cwd = base / "outputs", base / "work"
    cwd.mkdir()
    comparisons = size // 5
    print(f"\n== {size:,} panels, {comparisons:,} comparisons in {root}", flush=True)
    made = generate(root, size, comparisons)
    print(f"generated in {made:.1f} s", flush=True)
    results = {"size": size, "generate_s": made}
    for label in ("cold", "current"):
        r = timed_stats(root, cwd)
        results[label] = r
        print(f"panel stats ({label}): {r['seconds']:.2f} s, peak RSS {r['rss_mb']:.0f} MB", flush=True)
    (root / "panels" / "tool-000001.json").unlink()
    touched = root / "panels" / "tool-000002.json"
    touched.write_text(touched.read_text().replace("reference pages.", "reference pages and guides.", 1))
    r = timed_stats(root, cwd)
    results["after-change"] = r
    print(f"panel stats (1 changed, 1 deleted): {r['seconds']:.2f} s, peak RSS {r['rss_mb']:.0f} MB")
    results["index_mb"] = (root / ".index.sqlite3").stat().st_size / 2**20
    results["queries_ms"] = query_times(root)
    for label, ms in results["queries_ms"].items():
        print(f"query {label}: {ms:.2f} ms")
    if keep is None:
        shutil.rmtree(base)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="write the folders under this directory and keep them")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = [bench(n, args.keep) for n in args.sizes]
    print("\nsize      cold s  cold MB  current s  current MB  changed s  index MB")
    for r in results:
        c, w, a = r["cold"], r["current"], r["after-change"]
        print(
            f"{r['size']:<9,} {c['seconds']:>6.1f}  {c['rss_mb']:>7.0f}  {w['seconds']:>9.2f}  "
            f"{w['rss_mb']:>10.0f}  {a['seconds']:>9.2f}  {r['index_mb']:>8.1f}"
        )
    if len(results) > 1:
        low, high = results[0], results[-1]
        ratio = high["current"]["rss_mb"] / low["current"]["rss_mb"]
        print(f"peak RSS (index current), {high['size']:,} vs {low['size']:,} panels: x{ratio:.2f}")


if __name__ == "__main__":
    main()
