"""Benchmark `panel batch` against a minimal direct client on a real vLLM CPU server.

    python bench/batch_throughput.py [--tools 50] [--concurrency 32] [--rerun-tools 200]
                                     [--rss-small 1000] [--rss-large 10000]
                                     [--constraint profile|json|grammar] [--compare-forms]
                                     [--stock-server] [--throughput-only]

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

The constraint form (panel/engines/decoding.py, grammar.py): `--constraint json|grammar` sends that form on
both sides (the direct client's bodies get that `structured_outputs`; panel gets it through its
profile's `options.constraint`); `profile`, the default, leaves panel's own choice on both.
`--compare-forms` replaces the two-side table by four sides in rotating order (direct json,
direct grammar, panel batch json, panel batch grammar), counts how many replies of each side
parse, and adds the costs of the grammar form: compile time in-process (xgrammar, the tiny
model's tokenizer), first-request latency of a new schema on the server against later ones, and
single-request tokens/s of each form. `--stock-server` starts the server without
`--structured-outputs-config` (free whitespace in the json form), `--throughput-only` skips 2 and 3.
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

from panel.engines import GenRequest  # noqa: E402
from panel.engines.decoding import ConstraintForm, diagnose, structured_outputs  # noqa: E402
from panel.engines.grammar import schema_grammar  # noqa: E402
from panel.engines.profiles import Profile  # noqa: E402
from panel.engines.vllm_server import build_payload  # noqa: E402
from panel.generation.prompts import Prompts  # noqa: E402
from panel.generation.session import Session  # noqa: E402
from panel.inputs.personas import load_personas  # noqa: E402
from panel.records import Provenance, ReviewEntry, Tool, ToolPanel, review_decoding_schema, utcnow  # noqa: E402
from panel.records.store import write_record  # noqa: E402

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


def models_file(
    path: Path, base_url: str, model: Path, concurrency: int, constraint: ConstraintForm | None = None
) -> Path:
    """A models.yaml with one profile, `bench`; with `constraint`, its `options.constraint`. No
    `seed:` (the direct client sends none, and seeded requests under load crash a vLLM CPU server
    with chunked prefill)."""
    import yaml

    options = {"constraint": constraint} if constraint is not None else {}
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
        **({"options": options} if options else {}),
    }
    path.write_text(yaml.safe_dump({"default": "bench", "models": {"bench": profile}}))
    return path


def payloads(
    rows: list[dict], profile: Profile, constraint: ConstraintForm | None = None
) -> list[tuple[str, dict]]:
    """The exact requests panel sends: its prompts, its schema per persona, its token budget;
    with `constraint`, the schema goes in that form whatever the profile says."""
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
            path, body = build_payload(profile, request)
            if constraint is not None:
                body.update(structured_outputs(request.schema, constraint))
            out.append((path, body))
    return out


async def direct(
    base_url: str,
    requests: list[tuple[str, dict]],
    concurrency: int,
    replies: list[bytes] | None = None,
) -> float:
    """A minimal async OpenAI-style client: a semaphore and POSTs. Returns wall seconds. With
    `replies`, each reply's body is appended to it, to be read after the clock stops."""
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
                if replies is not None:
                    replies.append(reply.content)

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


def reply_health(bodies: list[bytes]) -> str:
    """How many replies parse as a JSON object, and what went wrong with the others."""
    kinds: dict[str, int] = {}
    for body in bodies:
        choice = json.loads(body)["choices"][0]
        kind = diagnose(choice.get("text") or "", choice.get("finish_reason")).kind
        kinds[kind] = kinds.get(kind, 0) + 1
    ok = kinds.pop("ok", 0)
    others = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return f"{ok}/{len(bodies)}" + (f" ({others})" if others else "")


def form_costs(base: str, model: Path, profile: Profile) -> None:
    """What the grammar form costs beside the json form: compile time in-process, the first
    request of a new schema on the server, and tokens/s of one request at a time."""
    import xgrammar as xgr
    from transformers import AutoTokenizer

    from panel.engines import grammar as grammar_module
    from panel.engines.base import CHECK_SCHEMA

    print("\n## Constraint forms: compile time in-process (xgrammar 0.2.8, tiny model's tokenizer)")
    tokenizer = AutoTokenizer.from_pretrained(model)
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=len(tokenizer))
    compiler = xgr.GrammarCompiler(info, max_threads=8, cache_enabled=False)
    schemas = {"check": CHECK_SCHEMA} | {
        p.id: review_decoding_schema(p.id, p.ship_threshold) for p in load_personas()
    }

    def ms(fn: object, n: int = 5) -> float:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    print(
        "| schema | write grammar (panel, Python) | compile grammar form | compile json, flag on "
        "| compile json, stock | grammar chars |"
    )
    print("|---|---|---|---|---|---|")
    for name, schema in schemas.items():
        text = json.dumps(schema)
        grammar = schema_grammar(schema)
        write = ms(lambda t=text: grammar_module._grammar_text.__wrapped__(t))
        compact = ms(lambda g=grammar: compiler.compile_grammar(g))
        flag = ms(lambda t=text: compiler.compile_json_schema(t, any_whitespace=False, separators=(",", ":")))
        stock = ms(lambda t=text: compiler.compile_json_schema(t, any_whitespace=True))
        print(
            f"| {name} | {write:.2f} ms | {compact:.1f} ms | {flag:.1f} ms | {stock:.1f} ms "
            f"| {len(grammar):,} |"
        )
    for what, code in (
        (
            "import panel.engines.grammar and write the check grammar",
            "from panel.engines.base import CHECK_SCHEMA; from panel.engines.grammar import schema_grammar; "
            "schema_grammar(CHECK_SCHEMA)",
        ),
        ("import xgrammar (what deriving the grammar with xgrammar would cost)", "import xgrammar"),
    ):
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
            walls.append(time.perf_counter() - started)
        print(
            f"- fresh process, {what}: {statistics.median(walls):.2f} s "
            "(median of 3, interpreter start included)"
        )

    async def timed(client: httpx.AsyncClient, body: dict) -> tuple[float, int]:
        started = time.perf_counter()
        reply = await client.post(base + "/completions", json=body)
        reply.raise_for_status()
        return time.perf_counter() - started, reply.json()["usage"]["completion_tokens"]

    async def server_side() -> None:
        _, body = payloads(tools(1, "Latency"), profile)[0]
        async with httpx.AsyncClient(timeout=300) as client:
            print(
                "\n## Constraint forms on the server: a new schema's first request against later ones "
                "(max_tokens 1)"
            )
            print("| form | first request, ms (5 new schemas) | later requests, ms (median of 15) |")
            print("|---|---|---|")
            firsts: dict[str, list[float]] = {"json": [], "grammar": []}
            later: dict[str, list[float]] = {"json": [], "grammar": []}
            for i in range(10):
                form: ConstraintForm = ("json", "grammar")[i % 2]
                schema = review_decoding_schema(f"fresh{i:02d}{os.getpid()}", 60)
                one = {**body, "max_tokens": 1, **structured_outputs(schema, form)}
                firsts[form].append((await timed(client, one))[0] * 1000)
                for _ in range(3):
                    later[form].append((await timed(client, one))[0] * 1000)
            for form in ("json", "grammar"):
                each = ", ".join(f"{x:.0f}" for x in firsts[form])
                print(
                    f"| {form} | {statistics.median(firsts[form]):.0f} ({each}) "
                    f"| {statistics.median(later[form]):.0f} |"
                )

            print(
                f"\n## Constraint forms: one request at a time, max_tokens {MAX_TOKENS}, alternating, 8 each"
            )
            print("| form | median tokens/s | all tokens / all seconds | median reply tokens |")
            print("|---|---|---|---|")
            runs: dict[str, list[tuple[float, int]]] = {"json": [], "grammar": []}
            schema = review_decoding_schema(load_personas()[0].id, load_personas()[0].ship_threshold)
            for i in range(16):
                form = ("json", "grammar")[(i + i // 2) % 2]
                runs[form].append(await timed(client, {**body, **structured_outputs(schema, form)}))
            for form, values in runs.items():
                rates = [tokens / wall for wall, tokens in values]
                total = sum(t for _, t in values) / sum(w for w, _ in values)
                tokens = statistics.median(t for _, t in values)
                print(f"| {form} | {statistics.median(rates):,.1f} | {total:,.1f} | {tokens:.0f} |")

    asyncio.run(server_side())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rerun-tools", type=int, default=200)
    parser.add_argument("--rss-small", type=int, default=1000)
    parser.add_argument("--rss-large", type=int, default=10000)
    parser.add_argument(
        "--constraint",
        choices=["profile", "json", "grammar"],
        default="profile",
        help="the constraint form on both sides; 'profile' keeps panel's own (default)",
    )
    parser.add_argument(
        "--compare-forms",
        action="store_true",
        help="four sides (direct and panel, json and grammar) and the grammar form's costs",
    )
    parser.add_argument(
        "--stock-server", action="store_true", help="start the server without --structured-outputs-config"
    )
    parser.add_argument("--throughput-only", action="store_true", help="skip the re-run and RSS parts")
    return parser.parse_args()


def print_summary(
    baseline: str,
    rates: dict[str, list[float]],
    whole: dict[str, list[float]],
    by_round: dict[int, dict[str, float]],
) -> None:
    """The median tokens/s of each side, its ratio to `baseline`, and the ratios within each round."""
    median = {k: statistics.median(v) for k, v in rates.items()}
    if baseline in median:
        d = median[baseline]
        parts = [f"{baseline} {d:,.1f}"]
        for label in median:
            if label != baseline:
                parts.append(f"{label} {median[label]:,.1f} (ratio {median[label] / d:.3f})")
        for label, values in whole.items():
            w = statistics.median(values)
            parts.append(
                f"{label} over its whole run, engine start and check included, {w:,.1f} (ratio {w / d:.3f})"
            )
        print("\nmedian tokens/s: " + "; ".join(parts))
        paired = []
        for label in median:
            ratios = [
                row[label] / row[baseline] for row in by_round.values() if label in row and baseline in row
            ]
            if label != baseline and ratios:
                each = ", ".join(f"{x:.3f}" for x in ratios)
                paired.append(f"{label} / {baseline} {statistics.median(ratios):.3f} ({each})")
        if paired:
            print("median of the ratios within each round: " + "; ".join(paired))


def main() -> None:
    args = parse_args()

    root = Path(tempfile.mkdtemp(prefix="panel-bench-"))
    model = tinymodel.build(root / "tiny")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    kind = "stock (no --structured-outputs-config)" if args.stock_server else "whitespace flag on"
    print(f"starting a vLLM CPU server with the tiny random-weight model, {kind} ...", flush=True)
    server = start_vllm_server(model, root / "server.log", structured_flag=not args.stock_server)
    try:
        base = server.base_url
        chosen: ConstraintForm | None = None if args.constraint == "profile" else args.constraint
        models = models_file(root / "models.yaml", base, model, args.concurrency, chosen)
        profile = Session.open(models_file=models).models.models["bench"]
        env = {"PANEL_MODELS_FILE": str(models)}
        # (label, direct or panel, form for the direct client's bodies, models file for panel)
        sides: list[tuple[str, str, ConstraintForm | None, Path]]
        if args.compare_forms:
            per_form = {
                form: models_file(root / f"models-{form}.yaml", base, model, args.concurrency, form)
                for form in ("json", "grammar")
            }
            sides = [
                ("direct json", "direct", "json", models),
                ("direct grammar", "direct", "grammar", models),
                ("panel batch json", "panel", None, per_form["json"]),
                ("panel batch grammar", "panel", None, per_form["grammar"]),
            ]
        else:
            sides = [("direct", "direct", chosen, models), ("panel batch", "panel", None, models)]
        # Warm the server (first requests compile grammars and kernels) so no side pays it.
        for form in {side[2] for side in sides if side[1] == "direct"}:
            asyncio.run(direct(base, payloads(tools(2, "Warmup"), profile, form), args.concurrency))

        rows = tools(args.tools, "Bench")
        requests = {form: payloads(rows, profile, form) for form in {side[2] for side in sides}}
        n_requests = len(rows) * len(load_personas())
        print(
            f"\n## Throughput: {args.tools} tools x 4 personas = {n_requests} requests, "
            f"concurrency {args.concurrency}, max_tokens {MAX_TOKENS}, server: {kind}"
        )
        print(
            "| round | side | requests | replies that parse | generated tokens (server) | s | mean running "
            "| tokens/s |"
        )
        print("|---|---|---|---|---|---|---|---|")
        rates: dict[str, list[float]] = {}
        whole: dict[str, list[float]] = {}
        by_round: dict[int, dict[str, float]] = {}  # for ratios within a round (drift cancels)

        def run_direct(r: int, label: str, form: ConstraintForm | None) -> None:
            before = generated_tokens(base)
            bodies: list[bytes] = []
            with Occupancy(base) as busy:
                wall = asyncio.run(direct(base, requests[form], args.concurrency, bodies))
            tokens = generated_tokens(base) - before
            rates.setdefault(label, []).append(tokens / wall)
            by_round.setdefault(r, {})[label] = tokens / wall
            print(
                f"| {r} | {label} | {len(bodies)} | {reply_health(bodies)} | {tokens:,.0f} | {wall:.1f} "
                f"| {busy.mean:.1f} | {tokens / wall:,.1f} |"
            )

        def run_batch(r: int, label: str, models_path: Path) -> None:
            work = root / f"batch-{r}-{label.replace(' ', '-')}"
            work.mkdir()
            write_feed(work / "feed.jsonl", rows)
            before = generated_tokens(base)
            with Occupancy(base) as busy:
                code, proc_wall, _, err = run_panel(
                    ["batch", "feed.jsonl", "-c", str(args.concurrency), "--run-id", "bench"],
                    work,
                    {"PANEL_MODELS_FILE": str(models_path)},
                )
            tokens = generated_tokens(base) - before
            manifest_path = work / "outputs/runs/bench/manifest.json"
            manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
            if code != 0 and not args.compare_forms:
                raise AssertionError(err[-2000:])
            if code != 0 or not manifest.get("generation_s"):
                lines = [line for line in err.splitlines() if line.strip()][-3:]
                why = manifest.get("message") or " / ".join(lines)
                sent = manifest.get("requests_sent", "-")
                print(
                    f"| {r} | {label} | {sent} | failed (exit {code}): {why[:300]} "
                    f"| {tokens:,.0f} | - | - | - |"
                )
                return
            wall, window = manifest["wall_s"], manifest["generation_s"]
            counts = manifest.get("counts", {})
            done, failed = counts.get("reviews_generated", 0), counts.get("reviews_failed", 0)
            health = f"{done}/{done + failed}"
            rates.setdefault(label, []).append(tokens / window)
            whole.setdefault(label, []).append(tokens / wall)
            by_round.setdefault(r, {})[label] = tokens / window
            print(
                f"| {r} | {label} | {manifest['requests_sent']} | {health} | {tokens:,.0f} | {window:.1f} "
                f"(run {wall:.1f}, process {proc_wall:.1f}) | {busy.mean:.1f} | {tokens / window:,.1f} "
                f"(run {tokens / wall:,.1f}) |"
            )

        for r in range(1, args.rounds + 1):  # rotate which side goes first
            shift = (r - 1) % len(sides)
            for label, how, form, models_path in sides[shift:] + sides[:shift]:
                if how == "direct":
                    run_direct(r, label, form)
                else:
                    run_batch(r, label, models_path)
        print_summary(sides[0][0], rates, whole, by_round)

        if args.compare_forms:
            form_costs(base, model, profile)
        if args.throughput_only:
            return

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
