"""Launch intake, measured: what it extracts, what that material does for claims, how fast it
goes, how its memory grows with a feed, and what a re-run costs.

    python bench/intake.py [--sizes 1000,10000] [--pages-entries 200] [--skip-rss]

Everything is served by tests/vendorsite.py on a loopback port (politeness off: no delay between
requests; robots.txt is still read), and taken in by panel's own code (panel.intake.run).

1. Extraction recall: the labelled facts of the fixture sites (tests/data/intake/labels.yaml:
   prices, licenses, versions) found in the sources intake wrote. Target >= 0.95.
2. Claims decided: the labelled review set of tests/data/claims (every case, its review text),
   checked by the rules against each tool's blurb only (its tool file without sources) and
   against the material intake fetched from a site made of the same tool's own fields and
   source files (home, pricing and one page per source). The share of claims that come out
   supported or contradicted rather than unsupported, both ways.
3. Throughput: pages per second through the whole pipeline (fetch, snapshot, extract, links,
   passages, tool file) for a feed of --pages-entries made-up tools (3 pages each); extraction
   time per page (read_page, median and p95) over every HTML page of the run and of parts 1, 2
   and 6. Target: median < 50 ms.
4. Peak RSS of a whole intake process (a child, ru_maxrss) taking in a generated feed of each
   size in --sizes, one page per tool. Target: the largest at most 1.2x the smallest.
5. A re-run of the same feed in a new process: bodies the server sent. Target 0.
6. With ../shared/intake-corpus present: its Atom feed of eleven real projects' pages taken in
   (tools, pages, registry documents, license pages found, seconds). Skipped with a note when the
   folder is absent; its text is read at run time, never copied.

Exit status 1 when a target is missed. Figures only: nothing here is a test assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import yaml  # noqa: E402

from panel.grounding.material import material_for  # noqa: E402
from panel.grounding.rules import rules_claims  # noqa: E402
from panel.inputs.toolfiles import load_tool  # noqa: E402
from panel.intake.addresses import AllowedHost  # noqa: E402
from panel.intake.extract import read_page  # noqa: E402
from panel.intake.fetcher import Fetcher, FetchSettings, decode  # noqa: E402
from panel.intake.run import Intake, Tally  # noqa: E402
from panel.records import Tool  # noqa: E402

from vendorsite import DATA, VendorSite  # noqa: E402

CLAIMS = REPO / "tests" / "data" / "claims"
CORPUS = REPO.parent / "shared" / "intake-corpus"
RECALL_TARGET = 0.95
EXTRACT_MS_TARGET = 50.0
RSS_RATIO_TARGET = 1.2
_MARKS = re.compile(r"[*_`|#>]+")


def normal(text: str) -> str:
    return " ".join(_MARKS.sub(" ", text).split()).lower()


def take_in(site: VendorSite, out: Path, feed: str = "", urls: list[str] | None = None) -> Tally:
    """panel intake, in-process, against the site (registries on it too), delay 0."""
    os.environ.update(site.env())
    settings = FetchSettings(allow=(AllowedHost.parse(site.host),), delay=0.0, timeout=10.0)
    with Fetcher(settings) as fetcher:
        run = Intake(fetcher, out / "outputs", out / "tools", lambda event: None, lambda tool: [])
        if feed:
            parsed, key = run.open(feed)
            return run.feed(parsed, key)
        return run.urls(urls or [])


def page_bodies(outputs: Path) -> list[tuple[str, bytes]]:
    """Every HTML body stored under an evidence folder, with its address."""
    found = []
    for meta in (outputs / "evidence").glob("??/*.json"):
        data = json.loads(meta.read_text())
        if data["content_type"] == "text/html":
            found.append((data["final_url"], meta.with_suffix("").read_bytes()))
    return found


# --- 1. extraction recall ----------------------------------------------------------------------------


def recall(work: Path) -> tuple[float, list[str], list[str]]:
    site = VendorSite().start()
    try:
        take_in(site, work, f"{site.url}/feed.atom")
        take_in(site, work, f"{site.url}/feed.rss")
    finally:
        site.stop()
    labels = yaml.safe_load((DATA / "labels.yaml").read_text())
    found, missed, lines = 0, [], []
    for slug, kinds in labels.items():
        tool = load_tool(work / "tools" / f"{slug}.yaml")
        text = normal(" ".join(s.text for s in tool.sources))
        for kind, facts in kinds.items():
            hits = [f for f in facts if normal(f) in text]
            found += len(hits)
            missed += [f"{slug} {kind}: {f!r}" for f in facts if f not in hits]
            lines.append(f"| {slug} | {kind} | {len(hits)} / {len(facts)} |")
    total = found + len(missed)
    return found / total, lines, missed


# --- 2. claims decided: blurb only against fetched material -----------------------------------------


def _page(title: str, body_html: str, links: str = "") -> bytes:
    from markupsafe import escape

    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><nav>{links}</nav><main>{body_html}</main></body></html>"
    ).encode()


def _purpose(title: str) -> str:
    low = title.lower()
    for key, path in (
        ("pric", "pricing"),
        ("licen", "license"),
        ("change", "changelog"),
        ("release", "releases"),
    ):
        if key in low:
            return path
    return "docs"


def corpus_sites(site: VendorSite) -> dict[str, Tool]:
    """Each claims-corpus tool as a small website made of its own fields and source files."""
    from markdown_it import MarkdownIt
    from markupsafe import escape

    markdown = MarkdownIt("commonmark").enable("table")
    tools = {}
    for file in sorted((CLAIMS / "tools").glob("*.yaml")):
        tool = load_tool(file)
        base = f"/corpus/{file.stem}/"
        links = []
        if tool.pricing.entry or tool.pricing.detail:
            links.append(f'<a href="{base}pricing.html">Pricing</a>')
            body = f"<h1>Pricing</h1><p>{escape(tool.pricing.entry)}</p><p>{escape(tool.pricing.detail)}</p>"
            site.overrides[f"{base}pricing.html"] = (_page("Pricing", body), "text/html; charset=utf-8")
        for n, source in enumerate(tool.sources, start=1):
            path = f"{base}{_purpose(source.title)}/{n}.html"
            links.append(f'<a href="{path}">{escape(source.title)} ({_purpose(source.title)})</a>')
            body = f"<h1>{escape(source.title)}</h1>{markdown.render(source.text)}"
            site.overrides[path] = (_page(source.title, body), "text/html; charset=utf-8")
        home = f"<h1>{escape(tool.name)}</h1><p>{escape(tool.tagline)}</p><p>{escape(tool.description)}</p>"
        title = f"{tool.name} – {tool.tagline}" if tool.tagline else tool.name
        site.overrides[base] = (_page(title, home, " ".join(links)), "text/html; charset=utf-8")
        tools[file.stem] = tool
    return tools


def claims_decided(work: Path) -> tuple[dict[str, Counter[str]], int]:
    site = VendorSite().start()
    try:
        tools = corpus_sites(site)
        urls = {slug: f"{site.url}/corpus/{slug}/" for slug in tools}
        take_in(site, work, urls=list(urls.values()))
    finally:
        site.stop()
    by_url = {tool.url: tool for tool in (load_tool(p) for p in (work / "tools").glob("*.yaml"))}
    fetched = {slug: by_url[url] for slug, url in urls.items()}
    counts: dict[str, Counter[str]] = {"blurb only": Counter(), "fetched material": Counter()}
    cases = 0
    for case_file in sorted(CLAIMS.glob("*/*.yaml")):
        if case_file.parent.name == "tools":
            continue
        case = yaml.safe_load(case_file.read_text())
        if not isinstance(case, dict) or case.get("tool") not in tools:
            continue
        cases += 1
        blurb = tools[case["tool"]].model_copy(update={"sources": []})
        for label, tool in (("blurb only", blurb), ("fetched material", fetched[case["tool"]])):
            for claim in rules_claims(case["review"], material_for(tool)):
                counts[label][claim.status] += 1
    return counts, cases


# --- 3. throughput and extraction time --------------------------------------------------------------


def throughput(work: Path, entries: int) -> tuple[int, float, list[tuple[str, bytes]]]:
    site = VendorSite().start()
    try:
        before = site.total_bodies()
        started = time.perf_counter()
        take_in(site, work, f"{site.url}/gen/feed.atom?count={entries}")
        seconds = time.perf_counter() - started
        pages = sum(n for path, n in site.bodies.items() if path.startswith("/gen/") and "feed" not in path)
        assert site.total_bodies() - before >= pages
    finally:
        site.stop()
    return pages, seconds, page_bodies(work / "outputs")


def extraction_ms(pages: list[tuple[str, bytes]]) -> list[float]:
    times = []
    for url, body in pages:
        text = decode(body, "", True)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            read_page(text, url)
            best = min(best, time.perf_counter() - started)
        times.append(best * 1000)
    return times


# --- 4, 5. peak RSS and the re-run, in child processes ---------------------------------------------


def child(url: str, host: str, count: int, out: str) -> None:
    """Run as a child: take in the generated feed of `count` entries, print peak RSS in KiB."""
    site_env = {name: url + path for name, path in __import__("vendorsite").REGISTRY_ENV.items()}
    os.environ.update(site_env)
    settings = FetchSettings(allow=(AllowedHost.parse(host),), delay=0.0, timeout=10.0)
    with Fetcher(settings) as fetcher:
        # One page per tool: what grows with the feed is the feed's part, not the pages'.
        run = Intake(
            fetcher, Path(out) / "outputs", Path(out) / "tools", lambda event: None, lambda tool: [], budget=1
        )
        parsed, key = run.open(f"{url}/gen/feed.atom?count={count}")
        tally = run.feed(parsed, key)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kib": peak, "entries": tally.entries, "written": len(tally.written)}))


def run_child(site: VendorSite, count: int, out: Path) -> dict:
    args = [sys.executable, __file__, "--child", site.url, site.host, str(count), str(out)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- 6. the shared corpus of real pages -------------------------------------------------------------


def real_corpus(work: Path) -> list[str]:
    if not (CORPUS / "site" / "feed.atom").exists():
        return [f"Skipped: {CORPUS} is not here (it is the shared corpus of real pages; see its README)."]
    site = VendorSite(CORPUS / "site", CORPUS / "registry").start()
    try:
        started = time.perf_counter()
        tally = take_in(site, work, f"{site.url}/feed.atom")
        seconds = time.perf_counter() - started
        pages = sum(site.bodies.values())
    finally:
        site.stop()
    tools = [load_tool(p) for p in sorted((work / "tools").glob("*.yaml"))]
    with_license = sum(any(s.title == "License page" for s in t.sources) for t in tools)
    with_registry = sum(any(s.reader not in (None, "page") for s in t.sources) for t in tools)
    left_out = sum(bool(s.left_out) for t in tools for s in t.sources)
    return [
        f"{len(tools)} tools from {tally.entries} entries in {seconds:.1f} s ({pages} bodies served, "
        f"{tally.failures} failures)",
        f"license page found: {with_license} of {len(tools)}; registry facts: {with_registry} of "
        f"{len(tools)}; sources cut to fit with a note of what was left out: {left_out}",
    ]


# --- the report -------------------------------------------------------------------------------------


def share(counts: Counter[str]) -> str:
    total = sum(counts.values())
    decided = counts["supported"] + counts["contradicted"]
    return (
        f"{decided / total:.3f} ({decided} of {total}: {counts['supported']} supported, "
        f"{counts['contradicted']} contradicted, {counts['unsupported']} unsupported)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="feed sizes for peak RSS, smallest first")
    parser.add_argument("--pages-entries", type=int, default=200, help="entries of the throughput feed")
    parser.add_argument("--skip-rss", action="store_true", help="skip parts 4 and 5")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, host, count, out = args.child
        child(url, host, int(count), out)
        return 0
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("## 1. Extraction recall of labelled facts (tests/data/intake/labels.yaml)\n")
        value, lines, misses = recall(work / "recall")
        print("| tool | kind | found |\n|---|---|---|\n" + "\n".join(lines))
        print(f"\nrecall {value:.3f} (target >= {RECALL_TARGET})" + (f"; missed: {misses}" if misses else ""))
        if value < RECALL_TARGET:
            missed.append("extraction recall")

        print("\n## 2. Claims decided on tests/data/claims: blurb only against fetched material\n")
        counts, cases = claims_decided(work / "claims")
        for label, counted in counts.items():
            print(f"- {label}: {share(counted)}")
        print(f"({cases} labelled reviews)")

        print("\n## 3. Throughput on loopback, politeness off\n")
        pages, seconds, bodies = throughput(work / "pages", args.pages_entries)
        print(
            f"{pages} pages of {args.pages_entries} tools in {seconds:.1f} s: {pages / seconds:.1f} pages/s"
        )
        for part in ("recall", "claims"):
            bodies += page_bodies(work / part / "outputs")
        times = extraction_ms(bodies)
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"extraction (read_page) over {len(times)} pages: median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(target: median < {EXTRACT_MS_TARGET:g} ms)"
        )
        if median >= EXTRACT_MS_TARGET:
            missed.append("extraction time")

        if not args.skip_rss:
            sizes = [int(s) for s in args.sizes.split(",")]
            print("\n## 4. Peak RSS of a whole intake process, by feed size\n")
            site = VendorSite().start()
            try:
                peaks = {}
                for size in sizes:
                    started = time.perf_counter()
                    result = run_child(site, size, work / f"rss-{size}")
                    peaks[size] = result["peak_kib"]
                    print(
                        f"- {size:,} entries: peak RSS {result['peak_kib'] / 1024:.1f} MiB, "
                        f"{result['written']:,} files in {time.perf_counter() - started:.0f} s"
                    )
                ratio = peaks[sizes[-1]] / peaks[sizes[0]]
                print(f"ratio {ratio:.2f} (target <= {RSS_RATIO_TARGET})")
                if ratio > RSS_RATIO_TARGET:
                    missed.append("peak RSS ratio")
                print("\n## 5. A re-run of the same feed\n")
                before = site.total_bodies()
                run_child(site, sizes[0], work / f"rss-{sizes[0]}")
                sent = site.total_bodies() - before
                print(f"bodies transferred: {sent} (target 0)")
                if sent:
                    missed.append("re-run bodies")
            finally:
                site.stop()

        print("\n## 6. The shared corpus of real pages\n")
        for line in real_corpus(work / "corpus"):
            print(line)
    print("\nAll targets met." if not missed else f"\nTargets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
