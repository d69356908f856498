"""The published site at scale: `panel site build` over 10,000 comparisons of 5,000 tools.

    python bench/site.py                                  # 10,000 comparisons / 5,000 tools, and 1,000 / 500
    python bench/site.py --comparisons 1000 --tools 500 --small 100   # a quick run
    python bench/site.py --keep DIR                       # keep the outputs and sites in DIR

Writes the published records with the project's own builders (tests/factory.py: `panel` and
`write_published`, as `panel publish` leaves them), then runs the real `panel site build` in fresh
processes and prints:

- the full build: wall time, the build's own time, and peak RSS;
- a rebuild after one comparison is republished (a review edited, revision 2): wall time, the
  build's own time (target under 2 s, and under 5% of the full build), and the files it
  rewrote (those with a new inode: its page and JSON, its tools' pages and JSON, its category's
  page, JSON and feed, and the index, feeds, sitemap and api/index.json);
- the bytes of the largest HTML page;
- peak RSS of a full build at the small size against the large one (target at most 1.3x):
  records are streamed, never all held.

The wall times include starting Python and importing panel (a second or so); the build's own
time is what `panel site build` reports ("in N s").
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from panel.records import Comparison  # noqa: E402
from panel.records.store import load_record  # noqa: E402

from factory import SITE_AT, panel, write_published  # noqa: E402 - the tests' builders

CATEGORIES = 25
SCORES = ((82, 55, 71, 64), (40, 45, 62, 30), (90, 88, 75, 70), (58, 61, 33, 47), (66, 72, 59, 81))


def write_outputs(root: Path, comparisons: int, tools: int) -> list[Path]:
    """`comparisons` published comparisons over `tools` tools, each tool in about the same number,
    published one a minute apart. Returns the files."""
    panels = [
        panel(
            f"Tool {i:05d}",
            SCORES[i % len(SCORES)],
            category=f"Category {i % CATEGORIES:02d}",
            tagline=f"The tagline of tool {i}",
        )
        for i in range(tools)
    ]
    paths: list[Path] = []
    seen: set[tuple[int, int]] = set()
    step = 0
    while len(paths) < comparisons:
        a = len(paths) % tools
        b = (a + 1 + step + len(paths) // tools) % tools
        step = step + 1 if (a, b) in seen or a == b else 0
        if (a, b) in seen or (b, a) in seen or a == b:
            continue
        seen.add((a, b))
        at = SITE_AT + timedelta(minutes=len(paths))
        paths.append(write_published(root, Comparison(panels=[panels[a], panels[b]]), at=at))
    return paths


# Runs one command and reports its peak RSS: RUSAGE_CHILDREN of a process with one child.
_MEASURED = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def run_build(root: Path, site: Path) -> tuple[float, float, int]:
    """(wall seconds, the build's own seconds, peak RSS in bytes) of one `panel site build`."""
    exe = shutil.which("panel", path=str(Path(sys.executable).parent)) or "panel"
    command = [exe, "site", "build", str(site), "-o", str(root), "--base-url", "https://reviews.example/"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"panel site build failed:\n{proc.stderr}")
    own = float(re.search(r" in ([\d.]+) s", proc.stdout).group(1))  # type: ignore[union-attr]
    rss = int(re.search(r"peak-rss-kib (\d+)", proc.stderr).group(1)) * 1024  # type: ignore[union-attr]
    return wall, own, rss


def inodes(site: Path) -> dict[str, int]:
    out = {}
    for folder, _, files in os.walk(site, followlinks=True):
        for name in files:
            path = Path(folder) / name
            out[str(path.relative_to(site))] = path.stat().st_ino
    return out


def republish_one(root: Path, path: Path) -> None:
    """An editor changes one review of one comparison and publishes it again."""
    record = load_record(path, Comparison).record
    first = record.panels[0]
    review = first.reviews[1].model_copy(
        update={"review": first.reviews[1].review + " Edited for the bench."}
    )
    edited = first.model_copy(update={"reviews": [first.reviews[0], review, *first.reviews[2:]]})
    later = (record.published_at or SITE_AT) + timedelta(days=30)
    write_published(root, record.model_copy(update={"panels": [edited, record.panels[1]]}), at=later)


def measure(folder: Path, comparisons: int, tools: int, incremental: bool) -> dict[str, float]:
    root, site = folder / "outputs", folder / "site"
    started = time.perf_counter()
    paths = write_outputs(root, comparisons, tools)
    took = time.perf_counter() - started
    print(f"  wrote {comparisons:,} published comparisons over {tools:,} tools in {took:.0f} s")
    wall, own, rss = run_build(root, site)
    result = {"wall": wall, "own": own, "rss": rss, "files": float(len(inodes(site)))}
    print(
        f"  full build: {wall:.1f} s wall, {own:.1f} s in the build, peak RSS {rss / 2**20:.0f} MiB, "
        f"{int(result['files']):,} files"
    )
    if not incremental:
        return result
    before = inodes(site)
    republish_one(root, paths[len(paths) // 2])
    wall2, own2, _ = run_build(root, site)
    after = inodes(site)
    rewritten = sorted(p for p, ino in after.items() if before.get(p) != ino)
    largest = max((p.stat().st_size, p) for p in site.rglob("*.html"))
    result |= {
        "rewall": wall2,
        "reown": own2,
        "rewritten": float(len(rewritten)),
        "largest": float(largest[0]),
    }
    print(
        f"  rebuild after one republished comparison: {wall2:.2f} s wall, {own2:.2f} s in the build "
        f"({100 * own2 / own:.1f}% of the full build; target under 2 s and under 5%)"
    )
    print(f"  files rewritten by it: {len(rewritten)}: {', '.join(rewritten)}")
    print(f"  largest HTML page: {largest[0]:,} bytes ({largest[1].relative_to(site)})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--tools", type=int, default=5_000)
    parser.add_argument("--small", type=int, default=1_000, help="comparisons of the small run (tools: half)")
    parser.add_argument("--keep", type=Path, help="write everything here and keep it")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    base = args.keep or Path(tempfile.mkdtemp(prefix="panel-site-bench-"))
    try:
        print(f"Small: {args.small:,} comparisons over {args.small // 2:,} tools")
        small = measure(base / "small", args.small, max(2, args.small // 2), incremental=False)
        print(f"Large: {args.comparisons:,} comparisons over {args.tools:,} tools")
        large = measure(base / "large", args.comparisons, args.tools, incremental=True)
        ratio = large["rss"] / small["rss"]
        print(
            f"Peak RSS: {small['rss'] / 2**20:.0f} MiB at {args.small:,} comparisons, "
            f"{large['rss'] / 2**20:.0f} MiB at {args.comparisons:,}: {ratio:.2f}x (target at most 1.3x)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
