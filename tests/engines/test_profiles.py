"""models.yaml: profiles, which file wins, and errors that say how to fix them."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.core import resources
from panel.engines.profiles import get_profile, load_models, models_file_path
from panel.errors import ConfigError


def test_installed_models_file_has_the_promised_profiles():
    _, models = load_models(resources.installed("models.yaml"))
    assert models.default == "embedded"
    assert models.models["embedded"].model == "embedded:gemma-3-270m"
    assert models.models["embedded"].prompt_format == "completion"
    assert models.models["local"].base_url == ["http://127.0.0.1:8000/v1"]
    assert {"qwen2.5-7b", "mistral-small-3.1-24b", "embedded-transformers"} <= set(models.models)
    engines = {p.engine for p in models.models.values()}
    assert engines == {"vllm-server", "vllm-offline", "transformers"}


def test_resolution_order(tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch):
    assert models_file_path() == resources.installed("models.yaml")
    (workdir / "models.yaml").write_text("default: a\nmodels: {a: {engine: transformers, model: x}}\n")
    assert models_file_path() == workdir / "models.yaml"
    env_file = tmp_path / "env.yaml"
    monkeypatch.setenv("PANEL_MODELS_FILE", str(env_file))
    assert models_file_path() == env_file
    explicit = tmp_path / "explicit.yaml"
    assert models_file_path(explicit) == explicit


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("default: a\nmodels: {}\n", "default profile 'a' is not among models"),
        ("default: a\nmodels: {a: {engine: vllm-server, model: x}}\n", "needs base_url"),
        ("default: a\nmodels: {a: {engine: tgi, model: x}}\n", "models.a.engine"),
        (
            "default: a\nmodels: {a: {engine: transformers, model: x, tempreature: 1}}\n",
            "tempreature: unknown field",
        ),
        ("default: a\nmodels: {a: {engine: transformers, model: x, base_url: http://h}}\n", "only apply to"),
        (
            "default: a\nmodels: {a: {engine: vllm-server, model: x, base_url: ftp://h}}\n",
            "must start with http",
        ),
        ("default: a\nmodels: {a: {engine: transformers, model: x, max_tokens: 2}}\n", "max_tokens"),
    ],
)
def test_bad_models_files(tmp_path: Path, content: str, message: str):
    path = tmp_path / "models.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_models(path)
    assert message in info.value.line() and str(path) in info.value.line()


def test_unknown_profile_lists_the_known_ones(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text("default: a\nmodels: {a: {engine: transformers, model: x}}\n")
    _, models = load_models(path)
    with pytest.raises(ConfigError, match=r"unknown model profile 'b'.*known profiles: a"):
        get_profile(models, "b", path)


def test_base_url_may_be_a_list(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "default: a\nmodels: {a: {engine: vllm-server, model: x, base_url: [http://h1/v1/, http://h2/v1]}}\n"
    )
    assert load_models(path)[1].models["a"].base_url == ["http://h1/v1", "http://h2/v1"]


def test_fingerprint_changes_with_sampling_not_with_where_it_runs(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "default: a\nmodels:\n"
        "  a: {engine: vllm-server, model: x, base_url: http://h1/v1}\n"
        "  b: {engine: vllm-server, model: x, base_url: http://h2/v1, concurrency: 99}\n"
        "  c: {engine: vllm-server, model: x, base_url: http://h1/v1, temperature: 0.1}\n"
    )
    m = load_models(path)[1].models
    assert m["a"].fingerprint() == m["b"].fingerprint()
    assert m["a"].fingerprint() != m["c"].fingerprint()


def test_the_installed_models_file_has_an_example_jury_of_three_families():
    _, models = load_models(resources.installed("models.yaml"))
    jury = models.juries["open-trio"]
    assert (jury.members, jury.quorum) == (["qwen2.5-7b", "llama-3.1-8b", "mistral-small-3.1-24b"], 2)
    assert [models.models[m].family for m in jury.members] == ["qwen", "llama", "mistral"]
