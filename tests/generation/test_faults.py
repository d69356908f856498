"""Fault injection against a real vLLM CPU server (tiny model), through a misbehaving proxy.

The proxy (tests/faultproxy.py) forwards to the real server and breaks things on purpose; no
engine is mocked. Each case checks what a nightly run needs: it finishes or fails within its
retry budget, says why, exits with the right code, and leaves only whole, valid files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_batch import feed_tools, no_temp_files, panels, write_feed

from panel.records import ToolPanel
from panel.records.store import load_record

from conftest import run_panel, tiny_profiles, write_models, write_tool
from faultproxy import FaultProxy, Faults
from vllmserver import VLLMServer, free_port, start_vllm_server, stop_vllm_server

pytestmark = pytest.mark.server


@pytest.fixture
def proxy(vllm_server: VLLMServer) -> Iterator[FaultProxy]:
    p = FaultProxy(upstream=vllm_server.base_url.removesuffix("/v1")).start()
    yield p
    p.stop()


def setup(tmp_path: Path, tiny_model: Path, base_url: str, **profile: object) -> tuple[Path, dict]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    models = tiny_profiles(tiny_model, base_url)
    models["models"]["tiny-server"].update(profile)
    env = {"PANEL_MODELS_FILE": str(write_models(tmp_path / "models.yaml", models))}
    return work, env


def batch(work: Path, env: dict, *args: str, timeout: float = 600):
    return run_panel("batch", "feed.jsonl", "-m", "tiny-server", *args, cwd=work, env=env, timeout=timeout)


def all_complete(work: Path, n: int) -> None:
    found = panels(work / "outputs")
    assert len(found) == n and len(list((work / "outputs/panels").glob("*.json"))) == n
    assert all(p.summary.complete and len(p.reviews) == 4 for p in found.values())
    assert no_temp_files(work)


def test_http_500s_and_connection_resets_are_retried(tmp_path: Path, tiny_model: Path, proxy: FaultProxy):
    proxy.faults = Faults(fail_every=3, reset_every=5)
    work, env = setup(tmp_path, tiny_model, proxy.base_url, retries=3)
    write_feed(work / "feed.jsonl", feed_tools(4))
    result = batch(work, env, "--run-id", "flaky")
    assert result.returncode == 0, result.stdout + result.stderr
    faults = [e["fault"] for e in proxy.log if "fault" in e]
    assert faults.count("500") >= 3 and faults.count("reset") >= 2
    all_complete(work, 4)


def test_replies_slower_than_the_timeout_fail_fast_and_resume(
    tmp_path: Path, tiny_model: Path, proxy: FaultProxy
):
    proxy.faults = Faults(delay_s=4.0, delay_from=2)  # the structured-output check goes through
    work, env = setup(tmp_path, tiny_model, proxy.base_url, timeout=1, retries=1, concurrency=4)
    write_feed(work / "feed.jsonl", feed_tools(6))
    started = time.monotonic()
    result = batch(work, env, "--run-id", "slow", timeout=120)
    assert time.monotonic() - started < 90  # within the retry budget, not a hang
    assert result.returncode == 1
    manifest = json.loads((work / "outputs/runs/slow/manifest.json").read_text())
    assert manifest["status"] == "aborted" and "stopped answering" in manifest["message"]
    errors = (work / "outputs/runs/slow/errors.jsonl").read_text()
    assert "no reply within 1 s" in errors
    assert no_temp_files(work)

    # The server is fast again (and the profile's timeout back to a tiny model's pace on a
    # busy CPU): the same command finishes the job.
    proxy.faults = Faults()
    work, env = setup(tmp_path, tiny_model, proxy.base_url, concurrency=4)
    again = batch(work, env, "--run-id", "slow")
    assert again.returncode == 0, again.stdout + again.stderr
    all_complete(work, 6)


def test_truncated_replies_are_retried_with_a_larger_budget(
    tmp_path: Path, tiny_model: Path, proxy: FaultProxy
):
    proxy.faults = Faults(cap_max_tokens=40, cap_below=1500)  # first attempts (1024) stop on "length"
    work, env = setup(tmp_path, tiny_model, proxy.base_url)
    write_feed(work / "feed.jsonl", feed_tools(2))
    result = batch(work, env)
    assert result.returncode == 0, result.stdout + result.stderr
    for panel in panels(work / "outputs").values():
        assert all(r.provenance.attempts == 2 and r.provenance.finish_reason == "stop" for r in panel.reviews)


def test_truncated_twice_fails_the_review_and_never_parses_it(
    tmp_path: Path, tiny_model: Path, proxy: FaultProxy
):
    proxy.faults = Faults(cap_max_tokens=40)  # every review attempt stops on "length"
    work, env = setup(tmp_path, tiny_model, proxy.base_url)
    write_feed(work / "feed.jsonl", feed_tools(1))
    result = batch(work, env, "--run-id", "cut")
    assert result.returncode == 1
    (panel,) = panels(work / "outputs").values()
    assert panel.reviews == [] and len(panel.failures) == 4
    assert all("hit the token limit twice" in f.reason for f in panel.failures)
    assert all(f.provenance.finish_reason == "length" and f.provenance.attempts == 2 for f in panel.failures)
    errors = [json.loads(line) for line in (work / "outputs/runs/cut/errors.jsonl").read_text().splitlines()]
    assert len(errors) == 4 and errors[0]["line"] == 1 and errors[0]["persona"]


def test_a_server_that_ignores_structured_output_is_refused(
    tmp_path: Path, tiny_model: Path, proxy: FaultProxy
):
    proxy.faults = Faults(strip_structured=True)
    work, env = setup(tmp_path, tiny_model, proxy.base_url)
    check = run_panel("models", "--check", "-m", "tiny-server", cwd=work, env=env)
    assert check.returncode == 2
    assert "ignored the JSON schema" in check.stderr and "vLLM 0.12 or newer" in check.stderr
    write_tool(work / "a.json", name="A", description="d")
    write_tool(work / "b.json", name="B", description="d")
    result = run_panel("compare", "a.json", "b.json", "-m", "tiny-server", cwd=work, env=env)
    assert result.returncode == 2 and "ignored the JSON schema" in result.stderr
    assert not (work / "outputs/panels").exists() or not list((work / "outputs/panels").glob("*.json"))
    generation = [e for e in proxy.log if e["path"].endswith("completions")]
    assert len(generation) == 2  # one check per command; no review was ever asked for


def test_sigkill_of_the_server_mid_batch_then_restart_and_resume(tmp_path: Path, tiny_model: Path):
    port = free_port()
    server = start_vllm_server(tiny_model, tmp_path / "server1.log", port=port)
    work, env = setup(tmp_path, tiny_model, server.base_url, retries=2, concurrency=4)
    n = 16
    write_feed(work / "feed.jsonl", feed_tools(n, prefix="Crash"))
    cmd = [sys.executable, "-m", "panel.cli", "batch", "feed.jsonl", "-m", "tiny-server", "--run-id", "crash"]
    proc = subprocess.Popen(
        cmd, cwd=work, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(work.glob("outputs/panels/*.json"))) >= 2:
                break
            time.sleep(0.05)
        os.killpg(server.process.pid, signal.SIGKILL)  # the whole server, mid-batch
        server.process.wait()
        out, err = proc.communicate(timeout=180)  # must not hang
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err.decode()[-2000:]
    manifest = json.loads((work / "outputs/runs/crash/manifest.json").read_text())
    assert manifest["status"] == "aborted" and "stopped answering" in manifest["message"]
    assert "run the same command again to resume" in (out + err).decode()
    done_before = len(list((work / "outputs/panels").glob("*.json")))
    assert done_before < n
    assert no_temp_files(work)

    server = start_vllm_server(tiny_model, tmp_path / "server2.log", port=port)
    try:
        result = batch(work, env, "--run-id", "crash")
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        stop_vllm_server(server.process)
    all_complete(work, n)
    assert sorted(panels(work / "outputs")) == sorted(f"Crash {i}" for i in range(n))


def test_two_batches_over_one_outputs_folder(tmp_path: Path, tiny_model: Path, vllm_server: VLLMServer):
    work, env = setup(tmp_path, tiny_model, vllm_server.base_url, concurrency=4)
    n = 10
    write_feed(work / "feed.jsonl", feed_tools(n, prefix="Both"))
    before = vllm_server.requests_total()
    cmd = [sys.executable, "-m", "panel.cli", "batch", "feed.jsonl", "-m", "tiny-server"]
    procs = [
        subprocess.Popen(
            [*cmd, "--run-id", f"run{i}"],
            cwd=work,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    for p in procs:
        p.communicate(timeout=600)
        assert p.returncode == 0
    all_complete(work, n)
    # Each tool was reviewed by one run only: the other found it locked, or already done.
    assert vllm_server.requests_total() - before <= 4 * n + 2
    counts = [
        json.loads((work / f"outputs/runs/run{i}/manifest.json").read_text())["counts"] for i in range(2)
    ]
    assert sum(c["panels_written"] for c in counts) == n
    for c in counts:
        assert c["panels_written"] + c["panels_busy"] + c["panels_unchanged"] == n


def test_the_api_key_is_sent_and_never_written_anywhere(tmp_path: Path, tiny_model: Path, proxy: FaultProxy):
    secret = "sk-panel-test-5c1d0e2b9a7f"
    proxy.faults = Faults(require_key=secret)
    work, env = setup(tmp_path, tiny_model, proxy.base_url, api_key_env="PANEL_TEST_KEY")
    env["PANEL_TEST_KEY"] = secret
    write_tool(work / "a.json", name="A", description="First tool.")
    write_tool(work / "b.json", name="B", description="Second tool.")
    write_feed(work / "feed.jsonl", [*feed_tools(2), "{broken"])
    outputs: list[str] = []
    for args in (
        ("compare", "a.json", "b.json", "-m", "tiny-server", "--json"),
        ("batch", "feed.jsonl", "-m", "tiny-server"),
        ("models", "--check", "-m", "tiny-server"),
    ):
        result = run_panel(*args, cwd=work, env=env)
        outputs += [result.stdout, result.stderr]
        assert result.returncode in (0, 1), result.stderr
    assert any(e["auth"] == f"Bearer {secret}" for e in proxy.log)
    # A wrong key and a missing variable: clear errors that do not echo any key.
    wrong_env = {**env, "PANEL_TEST_KEY": "nope"}
    wrong = run_panel("compare", "a.json", "b.json", "-m", "tiny-server", "--fresh", cwd=work, env=wrong_env)
    assert wrong.returncode == 2 and "refused the API key" in wrong.stderr and "nope" not in wrong.stderr
    missing_env = {k: v for k, v in env.items() if k != "PANEL_TEST_KEY"}
    missing = run_panel(
        "compare", "a.json", "b.json", "-m", "tiny-server", "--fresh", cwd=work, env=missing_env
    )
    assert missing.returncode == 2 and "$PANEL_TEST_KEY, which is not set" in missing.stderr
    outputs += [wrong.stdout, wrong.stderr, missing.stdout, missing.stderr]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 10
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    assert not any(secret in text for text in outputs)
    assert load_record(work / "outputs/panels/a.json", ToolPanel).record.summary.complete
