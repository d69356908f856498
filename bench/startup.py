"""Bench: how long the command line takes to start.

    python bench/startup.py            # 10 fresh processes per figure
    python bench/startup.py --runs 20

Prints three figures, each the median of fresh processes:

1. the wall time of `panel --help` (and of `panel compare --help`, which must not load the
   stages either);
2. the wall time of `--help` of a minimal typer app with two commands (bench/startup/minimal_app.py),
   the baseline on the same machine: the target is panel at most 2x this;
3. `import panel.cli.app` as `python -X importtime` reports it (cumulative microseconds), with
   the five slowest imports under it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_time(module: str, runs: int) -> tuple[int, list[tuple[int, str]]]:
    """Median cumulative import time of `module` (µs), and the slowest imports of the last run."""
    totals = []
    rows: list[tuple[int, str]] = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        )
        rows = []
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                rows.append((int(m.group(2)), m.group(3) + m.group(4)))
        totals.append(next(t for t, name in rows if name.strip() == module))
    slow = sorted((r for r in rows if r[1].strip() != module), reverse=True)[:5]
    return int(statistics.median(totals)), slow


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    panel = shutil.which("panel", path=str(Path(sys.executable).parent)) or "panel"
    wall([panel, "--help"], 2)  # warm the page cache and the .pyc files
    help_s = wall([panel, "--help"], args.runs)
    compare_s = wall([panel, "compare", "--help"], args.runs)
    minimal_s = wall([sys.executable, str(HERE / "startup" / "minimal_app.py"), "--help"], args.runs)
    total_us, slow = import_time("panel.cli.app", args.runs)
    print(f"runs per figure: {args.runs} (median)")
    print(f"panel --help:                 {help_s * 1000:7.0f} ms")
    print(f"panel compare --help:         {compare_s * 1000:7.0f} ms")
    print(f"minimal typer app --help:     {minimal_s * 1000:7.0f} ms")
    print(f"ratio panel / minimal:        {help_s / minimal_s:7.2f}  (target <= 2.00)")
    print(f"import panel.cli.app:         {total_us / 1000:7.1f} ms  (-X importtime, cumulative)")
    for us, name in slow:
        print(f"    {us / 1000:7.1f} ms  {name.strip()}")


if __name__ == "__main__":
    main()
