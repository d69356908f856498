"""The engine boundary, against real engines on the tiny random-weight model.

Constrained decoding must give schema-valid reviews even from random weights: every reply
parses, validates, names the right persona and carries a verdict that agrees with its score.
"""

from __future__ import annotations

import ast
import asyncio
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from panel.engines import ENGINES, GenRequest, create_engine
from panel.engines.decoding import structured_outputs
from panel.engines.profiles import Profile
from panel.engines.vllm_server import build_payload
from panel.errors import EngineError
from panel.generation.prompts import Prompts
from panel.generation.reviewing import parse_review
from panel.inputs.personas import load_personas
from panel.records import Tool, json_schema, review_decoding_schema

from conftest import REPO, tiny_profiles
from vllmserver import SERVER_NAME, VLLMServer, free_port

REVIEW_SCHEMA = json_schema("review")
TOOL = Tool(name="Quillstack", description="Builds API reference docs from OpenAPI files and type hints.")


def profile(tiny_model: Path, name: str, server: VLLMServer | None = None, **changes) -> Profile:
    data = tiny_profiles(tiny_model, server.base_url if server else None)["models"][name]
    return Profile(name=name, **{**data, **changes})


def review_requests(form: str, thresholds: dict[str, int] | None = None) -> list[tuple[object, GenRequest]]:
    prompts = Prompts()
    out = []
    for persona in load_personas():
        threshold = (thresholds or {}).get(persona.id, persona.ship_threshold)
        persona = persona.model_copy(update={"ship_threshold": threshold})
        schema = review_decoding_schema(persona.id, threshold)
        out.append(
            (
                persona,
                GenRequest(
                    key=persona.id,
                    prompt=prompts.render(form, persona, TOOL),
                    schema=schema,
                    max_tokens=1024,
                    tool=TOOL.name,
                    persona=persona.id,
                    seed=len(persona.id),
                ),
            )
        )
    return out


async def collect(engine, requests):
    try:
        return [r async for r in engine.run(_aiter(requests))]
    finally:
        await engine.close()


async def _aiter(items):
    for item in items:
        yield item


async def on_engine(engine, *checks):
    """Run each check (an async function of the started engine) in turn on one engine, then
    close it: an engine that takes half a minute to start is started once."""
    try:
        await engine.start()
        for check in checks:
            await check(engine)
    finally:
        await engine.close()


async def valid_reviews(engine, form: str = "completion") -> None:
    """Four personas (one with a non-default threshold); every reply is a valid, consistent review."""
    pairs = review_requests(form, thresholds={"skeptic": 75})
    results = [r async for r in engine.run(_aiter([r for _, r in pairs]))]
    assert len(results) == len(pairs)
    by_key = {r.request.key: r for r in results}
    for persona, request in pairs:
        result = by_key[request.key]
        assert result.error is None, result.error
        assert result.finish_reason == "stop"
        assert result.completion_tokens and result.completion_tokens > 10
        assert result.prompt_tokens and result.prompt_tokens > 100
        # Valid under the published Review schema. (Not always under the decoding schema itself:
        # decoders overshoot maxLength by a few characters, which is why its bound is tighter.)
        diagnosis = result.diagnosis()
        assert diagnosis.ok and diagnosis.value is not None, diagnosis.message
        jsonschema.validate(diagnosis.value, REVIEW_SCHEMA)
        assert diagnosis.value["persona"] == persona.id
        review = parse_review(diagnosis.value, persona)
        assert 0 <= review.score <= 100
        assert review.verdict == ("ship" if review.score >= persona.ship_threshold else "skip")


def assert_valid_reviews(engine_profile: Profile, form: str = "completion") -> None:
    asyncio.run(on_engine(create_engine(engine_profile), lambda engine: valid_reviews(engine, form)))


def test_engine_registry_is_a_plain_dict():
    assert set(ENGINES) == {"vllm-server", "vllm-offline", "transformers"}


def test_server_payload_completion_form():
    p = Profile(
        name="s",
        engine="vllm-server",
        model="org/model",
        served_model_name="m",
        base_url="http://h/v1",
        prompt_format="completion",
        temperature=0.3,
        top_p=0.8,
        api_key_env="SECRET_ENV",
        options={"sampling": {"repetition_penalty": 1.1}},
    )
    (_, request), *_ = review_requests("completion")
    path, body = build_payload(p, request)
    assert path == "/completions"
    assert body["model"] == "m" and body["prompt"] == request.prompt.text
    # By default the schema goes as a grammar with no free whitespace, whatever the server's flags.
    assert body["structured_outputs"] == structured_outputs(request.schema, "grammar")["structured_outputs"]
    assert set(body["structured_outputs"]) == {"grammar"}
    assert body["max_tokens"] == 1024 and body["temperature"] == 0.3 and body["top_p"] == 0.8
    assert body["repetition_penalty"] == 1.1
    # A server takes seeds only when the profile sets one: a seeded request that the server
    # splits across steps (chunked prefill) crashes vLLM's CPU build, for every client.
    assert "seed" not in body and not ENGINES["vllm-server"].takes_seeds(p)
    seeded = p.model_copy(update={"seed": 3})
    assert (
        ENGINES["vllm-server"].takes_seeds(seeded)
        and build_payload(seeded, request)[1]["seed"] == request.seed
    )
    assert ENGINES["vllm-offline"].takes_seeds(p)
    assert "SECRET_ENV" not in json.dumps(body)


def test_server_payload_chat_form_json_constraint_and_no_seed():
    p = Profile(
        name="s",
        engine="vllm-server",
        model="m",
        base_url="http://h/v1",
        options={"constraint": "json"},
    )
    (_, request), *_ = review_requests("chat")
    path, body = build_payload(p, replace(request, seed=None))
    assert path == "/chat/completions" and "seed" not in body
    assert body["structured_outputs"] == {"json": request.schema}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "prompt" not in body


@pytest.mark.parametrize(
    ("engine", "options", "key"),
    [
        ("vllm-server", {"sampling": {"repetition_penalt": 1.1}}, "options.sampling.repetition_penalt"),
        ("vllm-offline", {"kv_cache": 1}, "options.kv_cache"),
        ("transformers", {"dtype": "float8"}, "options.dtype"),
    ],
)
def test_each_engine_has_typed_options(engine: str, options: dict, key: str):
    from pydantic import ValidationError

    base = {"base_url": "http://h/v1"} if engine == "vllm-server" else {}
    with pytest.raises(ValidationError, match=key.replace(".", r"\.")):
        Profile(name="p", engine=engine, model="m", options=options, **base)
    typed = Profile(name="p", engine=engine, model="m", **base).options
    assert type(typed) is ENGINES[engine].Options


@pytest.mark.engine
def test_transformers_engine_gives_valid_reviews(tiny_model: Path):
    assert_valid_reviews(profile(tiny_model, "tiny-hf"))


@pytest.mark.engine
def test_transformers_engine_chat_form_and_check(tiny_model: Path):
    assert_valid_reviews(profile(tiny_model, "tiny-hf", prompt_format="chat"), form="chat")
    engine = create_engine(profile(tiny_model, "tiny-hf"))
    assert "structured output works" in asyncio.run(engine.check())


@pytest.mark.engine
def test_transformers_engine_reports_truncation(tiny_model: Path):
    (_, request), *_ = review_requests("completion")
    small = GenRequest(key="k", prompt=request.prompt, schema=request.schema, max_tokens=20)
    engine = create_engine(profile(tiny_model, "tiny-hf"))
    results = asyncio.run(collect(engine, [small]))
    assert [r.finish_reason for r in results] == ["length"]
    assert results[0].diagnosis().kind == "truncated"  # compact JSON, cut inside the review string


@pytest.mark.server
def test_vllm_server_gives_valid_reviews(tiny_model: Path, vllm_server: VLLMServer):
    assert_valid_reviews(profile(tiny_model, "tiny-server", vllm_server))
    assert_valid_reviews(profile(tiny_model, "tiny-server", vllm_server, prompt_format="chat"), form="chat")


@pytest.mark.server
def test_vllm_server_check_and_truncation(tiny_model: Path, vllm_server: VLLMServer):
    p = profile(tiny_model, "tiny-server", vllm_server)
    engine = create_engine(p)

    async def go():
        await engine.preflight()
        report = await engine.check()
        (_, request), *_ = review_requests("completion")
        small = GenRequest(key="k", prompt=request.prompt, schema=request.schema, max_tokens=16)
        results = [r async for r in engine.run(_aiter([small]))]
        await engine.close()
        return report, results

    report, results = asyncio.run(go())
    assert "structured output works" in report
    assert engine.context_length == 4096  # learnt from /v1/models
    assert results[0].finish_reason == "length" and results[0].diagnosis().kind == "truncated"


@pytest.mark.server
def test_vllm_server_preflight_errors(tiny_model: Path, vllm_server: VLLMServer):
    wrong_name = create_engine(profile(tiny_model, "tiny-server", vllm_server, served_model_name="nope"))
    with pytest.raises(EngineError, match=f"does not serve model 'nope'.*{SERVER_NAME}"):
        asyncio.run(wrong_name.preflight())
    dead = create_engine(
        profile(
            tiny_model, "tiny-server", vllm_server, base_url=f"http://127.0.0.1:{free_port()}/v1", retries=1
        )
    )
    with pytest.raises(EngineError, match="cannot reach the vLLM server"):
        asyncio.run(dead.preflight())


class CountingTokenizer:
    """The engine's own tokenizer, counting how often a prompt is tokenized."""

    def __init__(self, inner: object):
        self.inner = inner
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        return self.inner(*args, **kwargs)  # type: ignore[operator]

    def apply_chat_template(self, *args: object, **kwargs: object) -> object:
        self.calls += bool(kwargs.get("tokenize", True))  # text only is not yet tokens
        return self.inner.apply_chat_template(*args, **kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def tokenized_once(form: str):
    async def check(engine) -> None:
        """Counting a prompt's tokens (to fit sources into the context) and generating from it
        share one tokenization."""
        (_, request), *_ = review_requests(form)
        own = engine.tokenizer
        engine.tokenizer = tokenizer = CountingTokenizer(own)
        try:
            counted = await engine.count_tokens(request.prompt)
            result = await engine.generate(replace(request, max_tokens=16))
        finally:
            engine.tokenizer = own
        assert result.error is None and result.prompt_tokens == counted > 100
        assert tokenizer.calls == 1

    return check


async def seeded_draws(engine) -> None:
    """The same seed gives the same draw, a different seed another, with requests in flight
    together (the CPU build of vLLM crashed on seeded requests whose prefill was split)."""
    (_, request), *_ = review_requests("completion")
    same = [replace(request, key=f"k{i}", seed=seed) for i, seed in enumerate([101, 202, 101, 303, 202, 404])]
    results = {r.request.key: r async for r in engine.run(_aiter(same))}
    texts = [results[f"k{i}"].text for i in range(len(same))]
    assert all(r.error is None for r in results.values())
    assert texts[0] == texts[2] and texts[1] == texts[4]  # reproducible
    assert len({texts[0], texts[1], texts[3], texts[5]}) == 4  # distinct draws


@pytest.mark.engine
@pytest.mark.parametrize("form", ["completion", "chat"])
def test_transformers_engine_tokenizes_each_prompt_once(tiny_model: Path, form: str):
    engine = create_engine(profile(tiny_model, "tiny-hf", prompt_format=form))
    asyncio.run(on_engine(engine, tokenized_once(form)))


@pytest.mark.engine
def test_transformers_engine_draws_with_each_requests_own_seed(tiny_model: Path):
    asyncio.run(on_engine(create_engine(profile(tiny_model, "tiny-hf")), seeded_draws))


@pytest.mark.engine
def test_vllm_offline_reviews_tokenizes_once_and_draws_with_each_requests_own_seed(tiny_model: Path):
    """The in-process vLLM engine, started once (half a minute on 2 cores) for three checks."""
    pytest.importorskip("vllm")
    engine = create_engine(profile(tiny_model, "tiny-offline"))
    asyncio.run(on_engine(engine, tokenized_once("completion"), valid_reviews, seeded_draws))


def _imports(file: Path) -> list[str]:
    tree = ast.parse(file.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def test_the_engine_boundary_points_one_way():
    """The engines package imports nothing from panel but itself, the core helpers and the
    errors; nothing outside it asks which concrete engine it holds."""
    package = REPO / "panel" / "engines"
    for file in package.glob("*.py"):
        for module in _imports(file):
            if module == "panel" or module.startswith("panel."):
                assert module.startswith(("panel.engines", "panel.core")) or module == "panel.errors", (
                    f"{file.name} imports {module}"
                )
    concrete = {cls.__name__ for cls in ENGINES.values()}
    for file in (REPO / "panel").rglob("*.py"):
        if package in file.parents:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not names & concrete, f"{file.name} checks for a concrete engine class"
