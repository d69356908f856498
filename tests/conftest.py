"""Shared fixtures: the tiny model, a real vLLM CPU server, a working directory, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import tinymodel
from vllmserver import SERVER_NAME, VLLMServer, start_vllm_server, stop_vllm_server

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama (hidden 128, 2 heads) and a locally trained tokenizer."""
    return tinymodel.build(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """A real vLLM CPU server (OpenAI API) serving the tiny model, for the whole session."""
    pytest.importorskip("vllm")
    server = start_vllm_server(tiny_model, tmp_path_factory.mktemp("vllm") / "server.log")
    yield server
    stop_vllm_server(server.process)


def tiny_profiles(model: Path, server_url: str | None = None) -> dict:
    """models.yaml content with tiny-model profiles for every engine."""
    common = {"model": str(model), "prompt_format": "completion", "max_tokens": 1024, "temperature": 0.8}
    models = {
        "tiny-hf": {"engine": "transformers", "seed": 11, **common},
        "tiny-offline": {
            "engine": "vllm-offline",
            "seed": 11,
            "options": {"kv_cache_gib": 1, "llm": {"max_model_len": 4096}},
            **common,
        },
    }
    if server_url:
        models["tiny-server"] = {
            "engine": "vllm-server",
            "base_url": server_url,
            "served_model_name": SERVER_NAME,
            "concurrency": 16,
            "timeout": 120,
            "retries": 2,
            **common,
        }
    return {"default": "tiny-hf", "models": models}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, made current; no outputs or model settings leak in."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for var in ("PANEL_OUTPUTS", "PANEL_MODELS_FILE"):
        monkeypatch.delenv(var, raising=False)
    return work


def write_models(path: Path, content: dict) -> Path:
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


@dataclass
class CLIResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> object:
        return json.loads(self.stdout)


def run_panel(*args: str, cwd: Path, env: dict | None = None, timeout: float = 900) -> CLIResult:
    """Run the real `panel` console script in a subprocess, as a user would."""
    exe = shutil.which("panel", path=str(Path(sys.executable).parent)) or "panel"
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    for var in ("PANEL_OUTPUTS", "PANEL_MODELS_FILE"):
        if not env or var not in env:
            full_env.pop(var, None)
    proc = subprocess.run(
        [exe, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    return CLIResult(proc.returncode, proc.stdout, proc.stderr)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: compare before and after to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_tool(path: Path, **fields: object) -> Path:
    path.write_text(
        json.dumps(fields, ensure_ascii=False) if path.suffix == ".json" else yaml.safe_dump(fields)
    )
    return path
