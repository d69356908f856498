"""End to end: the real `panel` command against a real vLLM CPU server and the embedded model."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from panel.grounding.material import material_for
from panel.records import Tool

from conftest import EXAMPLES, panel_command, run_panel, tiny_profiles, tree, write_models, write_tool
from vllmserver import VLLMServer, free_port

A = {
    "name": "Quillstack",
    "description": "Builds API reference docs from OpenAPI files and type hints, in CI.",
    "tagline": "Reference docs that stay in step with the code",
    "category": "Developer Tools",
    "pricing": {"entry": "open-source", "detail": "MIT"},
}
B = {
    "name": "Ledgerlight",
    "description": "A hosted billing API that meters model tokens per customer and invoices them.",
    "pricing": {"entry": "paid", "detail": "0.5% of billed revenue"},
}


@pytest.fixture
def server_models(tmp_path: Path, tiny_model: Path, vllm_server: VLLMServer) -> Path:
    """A models file outside the working directory, with a profile for the tiny server."""
    return write_models(tmp_path / "models.yaml", tiny_profiles(tiny_model, vllm_server.base_url))


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    work = tmp_path / "empty"
    work.mkdir()
    write_tool(work / "a.json", **A)
    write_tool(work / "b.json", **B)
    return work


def check_comparison(record: dict, schema: dict, personas: int) -> None:
    jsonschema.validate(record, schema)
    assert record["kind"] == "comparison" and record["status"] == "draft"
    assert record["title"] == "Quillstack vs Ledgerlight"
    for panel in record["panels"]:
        reviews = panel["reviews"]
        assert len(reviews) == personas and not panel["failures"]
        for r in reviews:
            assert isinstance(r["score"], int) and 0 <= r["score"] <= 100
            assert r["verdict"] == ("ship" if r["score"] >= r["provenance"]["ship_threshold"] else "skip")
            assert not any(f.startswith("verdict") for f in r["flags"])
            assert r["provenance"]["finish_reason"] == "stop"
        s = panel["summary"]
        ships = sum(r["verdict"] == "ship" for r in reviews)
        assert (s["ship"], s["skip"]) == (ships, personas - ships)
        assert s["ship_pct"] == int(100 * ships / personas + 0.5)
        # Ship on a strict majority; an even split is a split panel, never ship.
        assert s["verdict"] == (
            "ship" if 2 * ships > personas else "split" if 2 * ships == personas else "skip"
        )
        assert s["mean_score"] == round(sum(r["score"] for r in reviews) / personas, 1)


@pytest.mark.server
def test_compare_against_the_vllm_server(empty_dir: Path, server_models: Path, vllm_server: VLLMServer):
    env = {"PANEL_MODELS_FILE": str(server_models)}
    schema = json.loads(run_panel("schema", "comparison", cwd=empty_dir).stdout)
    before = vllm_server.requests_total()

    first = run_panel(
        "compare", "a.json", "b.json", "--model", "tiny-server", "--json", cwd=empty_dir, env=env
    )
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)  # stdout is the JSON and nothing else
    check_comparison(record, schema, personas=4)
    assert vllm_server.requests_total() - before == 8 + 1  # 8 reviews and the structured-output check
    for written in (
        "panels/quillstack.json",
        "panels/ledgerlight.json",
        "comparisons/quillstack-vs-ledgerlight.json",
    ):
        assert f"Wrote {empty_dir / 'outputs' / written}" in first.stderr
    on_disk = json.loads((empty_dir / "outputs/comparisons/quillstack-vs-ledgerlight.json").read_text())
    assert on_disk == record

    # Same command again: the panels are reused, the server sees no request at all.
    snapshot = tree(empty_dir / "outputs")
    again = run_panel(
        "compare", "a.json", "b.json", "--model", "tiny-server", "--json", cwd=empty_dir, env=env
    )
    assert again.returncode == 0, again.stderr
    assert vllm_server.requests_total() - before == 9
    assert json.loads(again.stdout) == record
    assert tree(empty_dir / "outputs") == snapshot
    assert "no model requests" in again.stderr

    # A fifth persona file in the working directory: one new review per tool, four reused.
    (empty_dir / "personas").mkdir()
    shutil.copy(EXAMPLES / "personas" / "creator.yaml", empty_dir / "personas")
    fifth = run_panel(
        "compare", "a.json", "b.json", "--model", "tiny-server", "--json", cwd=empty_dir, env=env
    )
    assert fifth.returncode == 0, fifth.stderr
    check_comparison(json.loads(fifth.stdout), schema, personas=5)
    assert vllm_server.requests_total() - before == 9 + 2 + 1


@pytest.mark.server
def test_review_prints_a_scorecard(empty_dir: Path, server_models: Path):
    result = run_panel(
        "review", "a.json", "--model", "tiny-server", "--models-file", str(server_models), cwd=empty_dir
    )
    assert result.returncode == 0, result.stderr
    assert "Quillstack ·" in result.stdout and "/100" in result.stdout
    for name in ("Builder", "Skeptic", "Futurist", "Founder"):
        assert name in result.stdout
    assert "% · mean" in result.stdout
    assert f"Wrote {empty_dir / 'outputs/panels/quillstack.json'}" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"description": "no name"}, "a.json: name: required field is missing"),
        ({"name": "", "description": "empty name"}, "a.json: name: String should have at least 1 character"),
        ({"name": "A"}, "a.json: description: required field is missing"),
        ("{not json", "a.json: line 1 column 2: invalid JSON"),
    ],
)
def test_bad_tool_file_exits_2_with_one_line_and_writes_nothing(empty_dir: Path, content, message):
    path = empty_dir / "a.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    before = tree(empty_dir)
    result = run_panel("compare", "a.json", "b.json", cwd=empty_dir)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert tree(empty_dir) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nope"], "unknown model profile 'nope'"),
        (["--persona", "nobody"], "unknown persona 'nobody'"),
    ],
)
def test_unknown_profile_or_persona_exits_2(empty_dir: Path, args, message):
    result = run_panel("compare", "a.json", "b.json", *args, cwd=empty_dir)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (empty_dir / "outputs").exists()


def test_unreachable_server_exits_2_and_writes_nothing(empty_dir: Path, tmp_path: Path, tiny_model: Path):
    models = tiny_profiles(tiny_model, f"http://127.0.0.1:{free_port()}/v1")
    models["models"]["tiny-server"]["retries"] = 1
    path = write_models(tmp_path / "m.yaml", models)
    result = run_panel(
        "compare", "a.json", "b.json", "-m", "tiny-server", "--models-file", str(path), cwd=empty_dir
    )
    assert result.returncode == 2
    assert "cannot reach the vLLM server at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (empty_dir / "outputs").exists()


def test_schema_command(empty_dir: Path):
    for name in ("tool", "review", "panel", "comparison"):
        result = run_panel("schema", name, cwd=empty_dir)
        assert result.returncode == 0
        jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))
    bad = run_panel("schema", "nope", cwd=empty_dir)
    assert bad.returncode == 2 and "choose one of: tool, review, panel, comparison" in bad.stderr


def test_personas_and_models_listings(empty_dir: Path):
    personas = run_panel("personas", cwd=empty_dir)
    assert personas.returncode == 0 and all(
        p in personas.stdout for p in ("builder", "skeptic", "futurist", "founder")
    )
    show = run_panel("personas", "show", "skeptic", cwd=empty_dir)
    assert show.returncode == 0 and json.loads(show.stdout.split("\n", 1)[1])["id"] == "skeptic"
    models = run_panel("models", cwd=empty_dir)
    assert models.returncode == 0 and "embedded (default)" in models.stdout and "qwen2.5-7b" in models.stdout


@pytest.mark.server
def test_models_check_against_the_server(empty_dir: Path, server_models: Path):
    result = run_panel(
        "models", "--check", "-m", "tiny-server", "--models-file", str(server_models), cwd=empty_dir
    )
    assert result.returncode == 0, result.stderr
    assert "tiny-server: structured output works" in result.stdout


def run_panel_timed(*args: str, cwd: Path, timeout: float) -> tuple[int, str, list[tuple[float, str]]]:
    """Run `panel` with stderr piped (not a terminal); every stderr line with when it arrived."""
    exe, env = panel_command()
    proc = subprocess.Popen(
        [exe, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[tuple[float, str]] = []
    out: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.monotonic(), line.rstrip("\n")))

    def read_stdout() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    # Each pipe has one reader: communicate() would also read stderr and take lines from `lines`.
    readers = [threading.Thread(target=f, daemon=True) for f in (read_stderr, read_stdout)]
    for reader in readers:
        reader.start()
    proc.wait(timeout=timeout)
    for reader in readers:
        reader.join(timeout=10)
    return proc.returncode, "".join(out), lines


@pytest.mark.embedded
def test_readme_main_job_on_the_embedded_default(tmp_path: Path):
    """The README's main job: compare the two example tools on the embedded default model,
    with the output piped: a progress line at least every 10 s once the engine is ready."""
    work = tmp_path / "readme"
    shutil.copytree(EXAMPLES / "tools", work)
    code, stdout, lines = run_panel_timed(
        "compare", "quillstack.yaml", "ledgerlight.yaml", "--json", cwd=work, timeout=1500
    )
    stderr = "\n".join(line for _, line in lines)
    assert code == 0, stderr[-3000:]
    record = json.loads(stdout)
    schema = json.loads(run_panel("schema", "comparison", cwd=work).stdout)
    jsonschema.validate(record, schema)
    seeds = set()
    for panel in record["panels"]:
        assert len(panel["reviews"]) == 4
        for r in panel["reviews"]:
            assert r["provenance"]["model"] == "embedded:gemma-3-270m"
            assert r["provenance"]["engine"] == "vllm-offline"
            assert r["verdict"] == ("ship" if r["score"] >= 60 else "skip")
            assert len(r["review"].split()) >= 30  # real prose, not an empty string
            assert "claims" in r and all(c["origin"] == "rules" for c in r["claims"])
            seeds.add(r["provenance"]["sampling"]["seed"])
    assert len(seeds) == 8  # every review its own draw
    assert (work / "outputs/comparisons/quillstack-vs-ledgerlight.json").is_file()
    # Progress: after the engine is ready, never ten seconds without a line, until the end.
    ready = next(i for i, (_, line) in enumerate(lines) if "vLLM engine ready" in line)
    last_review = max(i for i, (_, line) in enumerate(lines) if line.startswith("[8/8]"))
    times = [t for t, _ in lines[ready : last_review + 1]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and max(gaps) < 11, (max(gaps), stderr[-3000:])
    assert sum(line.startswith("[") for _, line in lines) >= 8  # a line per finished review, at least


@pytest.fixture
def stock_models(tmp_path: Path, tiny_model: Path, stock_vllm_server: VLLMServer) -> Path:
    """Profiles for a stock server (no whitespace flag): the default grammar form, and the JSON
    form, on which the random model pads its replies with whitespace."""
    models = tiny_profiles(tiny_model, stock_vllm_server.base_url)
    server = models["models"].pop("tiny-server")
    models["models"]["stock"] = server
    # Seed 2 draws a check reply that pads (measured with this random model; about half of the
    # draws do). The check is one short request, which even a stock CPU server can take seeded.
    models["models"]["stock-json"] = {**server, "seed": 2, "options": {"constraint": "json"}}
    return write_models(tmp_path / "stock-models.yaml", models)


@pytest.mark.server
def test_a_stock_server_is_served_per_request_or_refused_naming_the_flag(
    empty_dir: Path, stock_models: Path, stock_vllm_server: VLLMServer
):
    env = {"PANEL_MODELS_FILE": str(stock_models)}
    # The JSON form: the model pads the JSON until the token budget runs out. Diagnosed as such,
    # with the flag to add; never "ignored the JSON schema"; nothing written.
    padded = run_panel("models", "--check", "-m", "stock-json", cwd=empty_dir, env=env)
    assert padded.returncode == 2, padded.stderr
    assert "disable_any_whitespace" in padded.stderr and "ignored" not in padded.stderr
    before = tree(empty_dir)
    refused = run_panel("compare", "a.json", "b.json", "-m", "stock-json", cwd=empty_dir, env=env)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1 and "disable_any_whitespace" in lines[0]
    assert tree(empty_dir) == before
    # The grammar form (the default): no free whitespace whatever the server's flags.
    check = run_panel("models", "--check", "-m", "stock", cwd=empty_dir, env=env)
    assert check.returncode == 0 and "structured output works" in check.stdout, check.stderr
    result = run_panel("compare", "a.json", "b.json", "-m", "stock", "--json", cwd=empty_dir, env=env)
    assert result.returncode == 0, result.stderr
    schema = json.loads(run_panel("schema", "comparison", cwd=empty_dir).stdout)
    check_comparison(json.loads(result.stdout), schema, personas=4)


@pytest.mark.server
def test_the_claims_pass_on_the_tiny_server_writes_schema_valid_model_claims(
    empty_dir: Path, server_models: Path, vllm_server: VLLMServer
):
    env = {"PANEL_MODELS_FILE": str(server_models)}
    before = vllm_server.requests_total()
    args = ("compare", "a.json", "b.json", "-m", "tiny-server", "--claims", "model", "--json")
    result = run_panel(*args, cwd=empty_dir, env=env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    jsonschema.validate(record, json.loads(run_panel("schema", "comparison", cwd=empty_dir).stdout))
    model_claims = 0
    for panel in record["panels"]:
        material = material_for(Tool.model_validate(panel["tool"]))
        for review in panel["reviews"]:
            assert review["provenance"]["claims_key"]  # the second stage ran for every review
            for claim in review["claims"]:
                assert claim["text"] in review["review"]  # quoted verbatim, by construction
                model_claims += claim["origin"] == "model"
                if claim["evidence"]:  # a sentence of the material, by id
                    assert material.get(claim["evidence"]["id"]).text == claim["evidence"]["sentence"]
    sent = vllm_server.requests_total() - before
    assert sent >= 8 + 8 + 1  # reviews, claims passes, the structured-output check
    again = run_panel(*args, cwd=empty_dir, env=env)
    assert again.returncode == 0 and vllm_server.requests_total() - before == sent  # both stages cached
    # A random model lists claims for some reviews and none for others: draw again (--fresh)
    # until one does. Each draw writes the model's claims it found; none in three is a bug.
    for _ in range(3):
        if model_claims:
            break
        fresh = run_panel(*args, "--fresh", cwd=empty_dir, env=env)
        assert fresh.returncode == 0, fresh.stderr
        reviews = [r for p in json.loads(fresh.stdout)["panels"] for r in p["reviews"]]
        model_claims = sum(c["origin"] == "model" for r in reviews for c in r["claims"])
    assert model_claims > 0


def test_thin_material_is_a_warning_or_where_the_profile_says_a_refusal(tmp_path: Path):
    work = tmp_path / "thin"
    work.mkdir()
    write_tool(work / "ok.json", name="Okay", description="ok")
    dead = f"http://127.0.0.1:{free_port()}/v1"
    profile = {"engine": "vllm-server", "model": "m", "base_url": dead, "retries": 0}
    models = write_models(
        tmp_path / "models.yaml",
        {"default": "warn", "models": {"warn": profile, "refuse": {**profile, "thin_material": "refuse"}}},
    )
    env = {"PANEL_MODELS_FILE": str(models)}
    before = tree(work)
    refused = run_panel("review", "ok.json", "-m", "refuse", cwd=work, env=env)
    lines = refused.stderr.strip().splitlines()
    assert (
        refused.returncode == 2
        and len(lines) == 1
        and "ok.json" in lines[0]
        and "too little to review" in lines[0]
    )
    assert tree(work) == before
    warned = run_panel("review", "ok.json", "-m", "warn", cwd=work, env=env)
    assert "panel: warning: ok.json: too little to review" in warned.stderr
    assert "cannot reach the vLLM server" in warned.stderr  # it went on, to the (dead) server
