"""Benchmark `panel batch` against a minimal direct client on a real vLLM CPU server.

    python bench/batch_throughput.py [--tools 50] [--concurrency 32] [--rerun-tools 200]
                                     [--rss-small 1000] [--rss-large 10000]

What it prints (and nothing here is a timed test assertion; figures are for the results table):

1. Throughput. The same review requests (the same prompts, decoding schema, max_tokens and
   concurrency, built by panel's own prompt and payload code) are sent twice to a tiny-model
   vLLM CPU server: once by a minimal async client, once through `panel batch`. Each side's
   generated tokens/s is counted by the server itself (/metrics, vllm:generation_tokens_total)
   over that side's time from its first model request to its last reply: the direct client's
   own clock, and panel's `generation_s` from its manifest (rendering prompts, parsing replies
   and writing every panel happen inside it). Panel's whole run (which adds reading the feed,
   starting the engine, the structured-output check and importing outlines, about a second) and
   its process time are shown too. Rounds alternate which side goes first; ratios are of the
   medians.
2. Re-run of a finished batch: wall time of the whole `panel batch` process over N done tools.
3. Peak RSS of `panel batch` on feeds whose tools are all done, small and large. The done panels
   are made by panel's own planner (same cache keys) with review text from a real reply, so the
   run takes the same path as a nightly re-run; no model is needed for this part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from panel.config import Profile  # noqa: E402
from panel.engines import GenRequest  # noqa: E402
from panel.engines.server import build_payload  # noqa: E402
from panel.personas import load_personas  # noqa: E402
from panel.prompts import Prompts  # noqa: E402
from panel.records import Provenance, ReviewEntry, Tool, ToolPanel, review_decoding_schema, utcnow  # noqa: E402
from panel.session import Session  # noqa: E402
from panel.store import write_record  # noqa: E402

import tinymodel  # noqa: E402
from vllmserver import SERVER_NAME, start_vllm_server, stop_vllm_server  # noqa: E402

MAX_TOKENS = 1024


def tools(n: int, prefix: str) -> list[dict]:
    return [
        {
            "name": f"{prefix} {i:05d}",
            "description": f"{prefix} tool {i}: keeps API schemas, docs and client SDKs in step.",
            "tagline": "Schemas that never drift",
            "category": "Developer Tools",
            "pricing": {"entry": "freemium", "detail": "free for one project"},
        }
        for i in range(n)
    ]


def write_feed(path: Path, rows: list[dict]) -> Path:
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def models_file(path: Path, base_url: str, model: Path, concurrency: int) -> Path:
    import yaml

    profile = {
        "engine": "vllm-server",
        "base_url": base_url,
        "model": str(model),
        "served_model_name": SERVER_NAME,
        "prompt_format": "completion",
        "max_tokens": MAX_TOKENS,
        "temperature": 0.8,
        "concurrency": concurrency,
        "timeout": 300,
    }
    path.write_text(yaml.safe_dump({"default": "bench", "models": {"bench": profile}}))
    return path


def payloads(rows: list[dict], profile: Profile) -> list[tuple[str, dict]]:
    """The exact requests panel sends: its prompts, its schema per persona, its token budget."""
    prompts = Prompts()
    out = []
    for row in rows:
        tool = Tool.model_validate(row)
        for persona in load_personas():
            request = GenRequest(
                key=persona.id,
                prompt=prompts.render(profile.prompt_format, persona, tool),
                schema=review_decoding_schema(persona.id, persona.ship_threshold),
                max_tokens=profile.max_tokens,
            )
            out.append(build_payload(profile, request))
    return out


async def direct(base_url: str, requests: list[tuple[str, dict]], concurrency: int) -> float:
    """A minimal async OpenAI-style client: a semaphore and POSTs. Returns wall seconds."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=concurrency + 4)) as client:

        async def one(path: str, body: dict) -> None:
            async with limit:
                for attempt in range(3):  # the server closes idle keep-alive connections
                    try:
                        reply = await client.post(base_url + path, json=body)
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                reply.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(p, b) for p, b in requests))
        return time.perf_counter() - started


def generated_tokens(base_url: str) -> float:
    text = httpx.get(base_url.removesuffix("/v1") + "/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vllm:generation_tokens_total")
    )


class Occupancy:
    """Samples the server's own count of running requests: is the client keeping it full?"""

    def __init__(self, base_url: str):
        self.url = base_url.removesuffix("/v1") + "/metrics"
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            text = httpx.get(self.url, timeout=10).text
            self.samples.append(
                sum(
                    float(x.rsplit(" ", 1)[1])
                    for x in text.splitlines()
                    if x.startswith("vllm:num_requests_running")
                )
            )
            time.sleep(0.25)

    def __enter__(self) -> Occupancy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def mean(self) -> float:
        return statistics.mean(self.samples) if self.samples else 0.0


def peak_rss_command(cmd: list[str]) -> list[str]:
    """Wrap a command in /usr/bin/time so its peak RSS is its own. (wait4 from this process would
    count the pages the child inherits at fork: this script has torch loaded.)"""
    return ["/usr/bin/time", "-f", "panel-bench-maxrss-kib=%M", *cmd]


def parse_peak_rss(stderr: str) -> int:
    match = re.search(r"panel-bench-maxrss-kib=(\d+)", stderr)
    return int(match.group(1)) if match else 0


def run_panel(args: list[str], cwd: Path, env: dict) -> tuple[int, float, int, str]:
    """Run the real `panel` console script; return exit code, wall seconds, peak RSS (KiB), stderr."""
    exe = str(Path(sys.executable).parent / "panel")
    started = time.perf_counter()
    proc = subprocess.run(
        peak_rss_command([exe, *args]),
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    return proc.returncode, wall, parse_peak_rss(proc.stderr), proc.stderr


def make_done_panels(work: Path, rows: list[dict], template: ToolPanel, models: Path) -> None:
    """Panels exactly as a finished run leaves them: the planner's own cache keys, real text."""
    os.chdir(work)
    session = Session.open(models_file=models)
    runner = session.runner()
    for i, row in enumerate(rows):
        plan = runner.plan(i, Tool.model_validate(row))
        reviews = []
        for job in plan.jobs:
            sample = template.review_for(job.persona.id) or template.reviews[0]
            reviews.append(
                ReviewEntry(
                    persona=job.persona.id,
                    score=sample.score if job.persona.verdict_for(sample.score) == sample.verdict else 60,
                    verdict=sample.verdict
                    if job.persona.verdict_for(sample.score) == sample.verdict
                    else "ship",
                    review=sample.review,
                    provenance=Provenance(**job.provenance, finish_reason="stop", created_at=utcnow()),
                )
            )
        write_record(plan.path, ToolPanel(tool=plan.tool, reviews=reviews))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rerun-tools", type=int, default=200)
    parser.add_argument("--rss-small", type=int, default=1000)
    parser.add_argument("--rss-large", type=int, default=10000)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="panel-bench-"))
    model = tinymodel.build(root / "tiny")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("starting a vLLM CPU server with the tiny random-weight model ...", flush=True)
    server = start_vllm_server(model, root / "server.log")
    try:
        base = server.base_url
        models = models_file(root / "models.yaml", base, model, args.concurrency)
        env = {"PANEL_MODELS_FILE": str(models)}
        profile = Session.open(models_file=models).models.models["bench"]
        # Warm the server (first requests compile grammars and kernels) so neither side pays it.
        asyncio.run(direct(base, payloads(tools(2, "Warmup"), profile), args.concurrency))

        rows = tools(args.tools, "Bench")
        requests = payloads(rows, profile)
        print(
            f"\n## Throughput: {args.tools} tools x 4 personas = {len(requests)} requests, "
            f"concurrency {args.concurrency}, max_tokens {MAX_TOKENS}"
        )
        print("| round | side | requests | generated tokens (server) | s | mean running | tokens/s |")
        print("|---|---|---|---|---|---|---|")
        sides: dict[str, list[float]] = {"direct": [], "panel batch": [], "panel batch, whole run": []}

        def run_direct(r: int) -> None:
            before = generated_tokens(base)
            with Occupancy(base) as busy:
                wall = asyncio.run(direct(base, requests, args.concurrency))
            tokens = generated_tokens(base) - before
            sides["direct"].append(tokens / wall)
            print(
                f"| {r} | direct | {len(requests)} | {tokens:,.0f} | {wall:.1f} | {busy.mean:.1f} "
                f"| {tokens / wall:,.1f} |"
            )

        def run_batch(r: int) -> None:
            work = root / f"batch-{r}"
            work.mkdir()
            write_feed(work / "feed.jsonl", rows)
            before = generated_tokens(base)
            with Occupancy(base) as busy:
                code, proc_wall, _, err = run_panel(
                    ["batch", "feed.jsonl", "-c", str(args.concurrency), "--run-id", "bench"], work, env
                )
            tokens = generated_tokens(base) - before
            assert code == 0, err[-2000:]
            manifest = json.loads((work / "outputs/runs/bench/manifest.json").read_text())
            wall, window = manifest["wall_s"], manifest["generation_s"]
            sides["panel batch"].append(tokens / window)
            sides["panel batch, whole run"].append(tokens / wall)
            print(
                f"| {r} | panel batch | {manifest['requests_sent']} | {tokens:,.0f} | {window:.1f} "
                f"(run {wall:.1f}, process {proc_wall:.1f}) | {busy.mean:.1f} | {tokens / window:,.1f} "
                f"(run {tokens / wall:,.1f}) |"
            )

        for r in range(1, args.rounds + 1):  # alternate which side goes first
            for side in (run_direct, run_batch) if r % 2 else (run_batch, run_direct):
                side(r)
        median = {k: statistics.median(v) for k, v in sides.items()}
        d, p, w = median["direct"], median["panel batch"], median["panel batch, whole run"]
        print(
            f"\nmedian tokens/s: direct {d:,.1f}; panel batch {p:,.1f} (ratio {p / d:.3f}); "
            f"panel batch over its whole run, engine start and check included, {w:,.1f} (ratio {w / d:.3f})"
        )

        print(f"\n## Re-running a finished batch of {args.rerun_tools} tools")
        work = root / "rerun"
        work.mkdir()
        write_feed(work / "feed.jsonl", tools(args.rerun_tools, "Rerun"))
        code, wall, _, err = run_panel(["batch", "feed.jsonl", "-c", str(args.concurrency)], work, env)
        assert code == 0, err[-2000:]
        print(f"first run (generates {args.rerun_tools * 4} reviews): {wall:.1f} s")
        before = server.requests_total()
        walls = []
        for _ in range(3):
            code, wall, _, err = run_panel(["batch", "feed.jsonl"], work, env)
            assert code == 0, err[-2000:]
            walls.append(wall)
        print(
            f"re-run wall (whole process), 3 tries: {', '.join(f'{w:.2f} s' for w in walls)}; "
            f"server requests during re-runs: {server.requests_total() - before:.0f}"
        )
        template = next(
            ToolPanel.model_validate_json(p.read_text()) for p in (work / "outputs/panels").glob("*.json")
        )
    finally:
        stop_vllm_server(server.process)

    print("\n## Peak RSS of `panel batch` over feeds whose tools are all done (no server needed)")
    print("| tools | wall s | peak RSS MiB | requests |")
    print("|---|---|---|---|")
    rss = {}
    for n in (args.rss_small, args.rss_large):
        work = root / f"rss-{n}"
        work.mkdir()
        rows = tools(n, f"Rss{n}")
        write_feed(work / "feed.jsonl", rows)
        make_done_panels(work, rows, template, models)
        code, wall, maxrss, err = run_panel(["batch", "feed.jsonl", "--run-id", "rss"], work, env)
        assert code == 0, err[-2000:]
        manifest = json.loads((work / "outputs/runs/rss/manifest.json").read_text())
        assert manifest["counts"]["panels_unchanged"] == n, manifest["counts"]
        rss[n] = maxrss / 1024
        print(f"| {n:,} | {wall:.1f} | {rss[n]:.1f} | {manifest['requests_sent']} |")
    ratio = rss[args.rss_large] / rss[args.rss_small]
    print(f"\nRSS ratio {args.rss_large:,} / {args.rss_small:,}: {ratio:.3f}")
    print(f"\n(work files in {root})")


if __name__ == "__main__":
    main()
