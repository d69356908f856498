"""Load: a 1,000-tool feed through `panel batch` at concurrency 64 on a tiny-model vLLM CPU server.

    python bench/load.py [--tools 1000] [--concurrency 64]

Prints tools done / total, lost (a feed row with no panel file), failed reviews, requests, wall
time, completion tokens/s and the peak RSS of the `panel batch` process (from /usr/bin/time),
plus its RSS sampled through the run, so a leak would show as a climbing curve.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

import psutil  # noqa: E402

from panel.records import ToolPanel  # noqa: E402
from panel.records.store import load_record, slugify  # noqa: E402

import tinymodel  # noqa: E402
from batch_throughput import models_file, parse_peak_rss, peak_rss_command, tools, write_feed  # noqa: E402
from vllmserver import start_vllm_server, stop_vllm_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="panel-load-"))
    model = tinymodel.build(root / "tiny")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    server = start_vllm_server(model, root / "server.log")
    try:
        models = models_file(root / "models.yaml", server.base_url, model, args.concurrency)
        work = root / "work"
        work.mkdir()
        rows = tools(args.tools, "Load")
        write_feed(work / "feed.jsonl", rows)
        before = server.requests_total()
        exe = str(Path(sys.executable).parent / "panel")
        started = time.perf_counter()
        proc = subprocess.Popen(
            peak_rss_command([exe, "batch", "feed.jsonl", "-c", str(args.concurrency), "--run-id", "load"]),
            cwd=work,
            env={**os.environ, "PANEL_MODELS_FILE": str(models)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        samples: list[tuple[float, float]] = []

        def sample() -> None:
            time.sleep(1)  # /usr/bin/time has started panel by then
            try:
                (child,) = psutil.Process(proc.pid).children()
            except (psutil.Error, ValueError):
                return
            while proc.poll() is None:
                try:
                    samples.append((time.perf_counter() - started, child.memory_info().rss / 2**20))
                except psutil.Error:
                    return
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stderr = proc.communicate()[1]
        wall = time.perf_counter() - started
        sampler.join(2)
        code = proc.returncode
        peak_mib = parse_peak_rss(stderr) / 1024
        requests = server.requests_total() - before
    finally:
        stop_vllm_server(server.process)

    manifest = json.loads((work / "outputs/runs/load/manifest.json").read_text())
    done = failed = 0
    lost = []
    for row in rows:
        path = work / "outputs/panels" / f"{slugify(row['name'])}.json"
        if not path.exists():
            lost.append(row["name"])
            continue
        panel = load_record(path, ToolPanel).record
        done += panel.summary.complete
        failed += len(panel.failures)
    print(f"\n## Load: {args.tools:,} tools x 4 personas at concurrency {args.concurrency}")
    print("| tools done | lost | failed reviews | exit | requests | wall s | tokens/s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {done:,}/{args.tools:,} | {len(lost)} | {failed} | {code} | {requests:,.0f} | {wall:,.0f} "
        f"| {manifest['completion_tokens_per_s']:,.0f} | {peak_mib:.0f} |"
    )
    if samples:
        quarter = max(len(samples) // 4, 1)
        marks = [samples[min(i * quarter, len(samples) - 1)] for i in range(4)] + [samples[-1]]
        print("\nRSS over the run (s: MiB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in marks))
    print(f"\n(work files in {root})")


if __name__ == "__main__":
    main()
