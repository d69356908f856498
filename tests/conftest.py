"""Shared fixtures: the tiny model, a real vLLM CPU server, a working directory, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from panel.grounding.material import Material
    from panel.records import Claim

sys.path.insert(0, str(Path(__file__).parent))
# The bench scripts that hold labelled corpora and their scorers (claims.py, quality.py): the
# tests assert on the figures they print. Imported once, under their own names.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import headless
import tinymodel
from vendorsite import VendorSite
from vllmserver import SERVER_NAME, VLLMServer, start_vllm_server, stop_vllm_server

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session", autouse=True)
def record_index_listens() -> Iterator[None]:
    """As the entry points do: the record index hears of every record written in-process."""
    from panel.core import files
    from panel.index.database import record_written

    files.add_write_listener(record_written)
    yield
    files.remove_write_listener(record_written)


@pytest.fixture
def grounding_runs(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(tool name, review text) -> how many times grounding ran the claim rules on it in this
    process (the desk's threads included) since the fixture started."""
    from panel.grounding import ground

    runs: Counter[tuple[str, str]] = Counter()
    real = ground.rules_claims

    def counting(review: str, material: Material) -> list[Claim]:
        runs[(material.name, review)] += 1
        return real(review, material)

    monkeypatch.setattr(ground, "rules_claims", counting)
    return runs


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama (hidden 128, 2 heads) and a locally trained tokenizer."""
    return tinymodel.build(tmp_path_factory.mktemp("tiny-model"))


# The session's servers. An idle vLLM CPU server keeps ~40% of a core busy, and CI has two:
# tests that need a server run last, grouped by server, and each server stops after the last
# test that needs it (pytest_collection_modifyitems and pytest_runtest_teardown below).
SERVER_FIXTURES = ("vllm_server", "stock_vllm_server")
_servers: dict[str, VLLMServer] = {}


def _start_server(name: str, tiny_model: Path, folder: Path, structured_flag: bool) -> VLLMServer:
    pytest.importorskip("vllm")
    server = start_vllm_server(tiny_model, folder / "server.log", structured_flag=structured_flag)
    _servers[name] = server
    return server


def _stop_server(name: str) -> None:
    server = _servers.pop(name, None)
    if server is not None:
        stop_vllm_server(server.process)


@pytest.fixture(scope="session")
def vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """A real vLLM CPU server (OpenAI API) serving the tiny model, started with the whitespace
    flag as the README's server commands are."""
    yield _start_server("vllm_server", tiny_model, tmp_path_factory.mktemp("vllm"), structured_flag=True)
    _stop_server("vllm_server")


@pytest.fixture(scope="session")
def stock_vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """A stock vLLM CPU server: no `--structured-outputs-config`, so a JSON-schema request lets
    the model pad its reply with whitespace. Started only when a test asks for it."""
    yield _start_server(
        "stock_vllm_server", tiny_model, tmp_path_factory.mktemp("stock"), structured_flag=False
    )
    _stop_server("stock_vllm_server")


def _server_group(item: pytest.Item) -> int:
    names = getattr(item, "fixturenames", ())
    return next((i + 1 for i, name in enumerate(SERVER_FIXTURES) if name in names), 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests without a session server first, then each server's tests together (stable sort:
    the order within a group is the file order). PANEL_TEST_ORDER=files keeps the file order,
    to measure what the grouping saves."""
    if os.environ.get("PANEL_TEST_ORDER") != "files":
        items.sort(key=_server_group)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop a server as soon as the next test does not need it: it would only idle."""
    if os.environ.get("PANEL_TEST_ORDER") == "files":
        return
    for name in SERVER_FIXTURES:
        needed_next = nextitem is not None and name in getattr(nextitem, "fixturenames", ())
        if name in _servers and not needed_next:
            _stop_server(name)


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
def vendor_site() -> Iterator[VendorSite]:
    """Invented vendor websites and package registries on a loopback port (tests/vendorsite.py):
    what `panel intake` and `panel recheck` fetch in tests. Nothing else is ever a target."""
    site = VendorSite(slow=3.0).start()
    yield site
    site.stop()


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


def panel_command(env: dict | None = None) -> tuple[str, dict[str, str]]:
    """The real `panel` console script, and the environment a user's shell would give it: no
    colour, and no PANEL_OUTPUTS or PANEL_MODELS_FILE from this session unless `env` sets them."""
    exe = shutil.which("panel", path=str(Path(sys.executable).parent)) or "panel"
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    for var in ("PANEL_OUTPUTS", "PANEL_MODELS_FILE"):
        if not env or var not in env:
            full_env.pop(var, None)
    return exe, full_env


def run_panel(*args: str, cwd: Path, env: dict | None = None, timeout: float = 900) -> CLIResult:
    """Run the real `panel` console script in a subprocess, as a user would."""
    exe, full_env = panel_command({"COLUMNS": "120", **(env or {})})
    proc = subprocess.run(
        [exe, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    return CLIResult(proc.returncode, proc.stdout, proc.stderr)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: compare before and after to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def record_tree(root: Path) -> dict[str, bytes]:
    """`tree` without the record index's own files (rebuildable, never a record) and the team's
    (`.team/`: accounts, rules, the work store and the audit log, which tests check on their own)."""
    return {k: v for k, v in tree(root).items() if not k.startswith((".index", ".team/"))}


def write_tool(path: Path, **fields: object) -> Path:
    path.write_text(
        json.dumps(fields, ensure_ascii=False) if path.suffix == ".json" else yaml.safe_dump(fields)
    )
    return path


# ---------------------------------------------------------------------------------------------
# The review desk: a real uvicorn server in a thread, on a free port, over a temp outputs folder.

DESK_TOKEN = "desk-test-token-0123456789abcdef"


@dataclass
class DeskServer:
    url: str
    root: Path
    token: str
    server: object
    thread: object

    def stop(self) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout=30)  # type: ignore[attr-defined]


def start_desk(
    root: Path, *, editor: str = "desk-default", allow_hosts: tuple[str, ...] = (), **options: object
) -> DeskServer:
    """The desk app as `panel desk` serves it (uvicorn, lifespan, every guard), bound first to a
    free port so there is no race for it. `options`: more DeskConfig fields (proxy, session_ttl,
    sign_in_failures, ...)."""
    import threading
    import time

    import uvicorn

    from panel.cli.desk import listen
    from panel.desk.app import DeskConfig, create_app

    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    indexed = threading.Event()
    config = DeskConfig(
        root=root.resolve(),
        host="127.0.0.1",
        port=port,
        token=DESK_TOKEN,
        editor=editor,
        allow_hosts=list(allow_hosts),
        on_indexed=lambda count, seconds: indexed.set(),
        **options,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and indexed.is_set()):  # serving, and the folder indexed
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the desk did not start")
        time.sleep(0.02)
    return DeskServer(f"http://127.0.0.1:{port}", root, DESK_TOKEN, server, thread)


@pytest.fixture
def example_outputs(tmp_path: Path) -> Path:
    """An outputs folder holding the example comparison and its two panels
    (factory.write_example_comparison): the desk tests' starting point."""
    from factory import write_example_comparison

    root = tmp_path / "outputs"
    write_example_comparison(root)
    return root


TEAM = {"ana": "reviewer", "bo": "reviewer", "pat": "publisher", "lee": "publisher", "ada": "admin"}


@pytest.fixture
def team_links(example_outputs: Path) -> dict[str, str]:
    """Accounts on `example_outputs`, one per TEAM member: name -> personal sign-in token."""
    from panel.team.accounts import Accounts

    accounts = Accounts(example_outputs)
    return {name: accounts.add(name, role, "setup").token for name, role in TEAM.items()}


@pytest.fixture
def desk_server() -> Iterator[object]:
    """start(root, **options) -> DeskServer; every server started is stopped at teardown."""
    started: list[DeskServer] = []

    def start(root: Path, **options: object) -> DeskServer:
        server = start_desk(root, **options)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def chromium() -> str:
    """Debian's chromium, for tests that dump or shoot a page."""
    return headless.chromium_path()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium per module, driven by Playwright; each test opens its own contexts."""
    exe = headless.chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    flags = [f for f in headless.CHROMIUM_FLAGS if f != "--headless"]
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=exe, args=flags, headless=True)
        yield launched
        launched.close()


# ---------------------------------------------------------------------------------------------
# The published site: `panel site serve`'s server in a thread, on a free loopback port.


@pytest.fixture
def site_server() -> Iterator[object]:
    """start(site_folder) -> base URL ("http://127.0.0.1:PORT/"); every server is stopped at teardown."""
    import threading

    from panel.cli.desk import listen
    from panel.site import serve

    started: list[tuple[object, threading.Thread]] = []

    def start(site: Path) -> str:
        sock = listen("127.0.0.1", 0)
        httpd = serve.server(site, sock, quiet=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        started.append((httpd, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"

    yield start
    for httpd, thread in started:
        httpd.shutdown()  # type: ignore[attr-defined]
        httpd.server_close()  # type: ignore[attr-defined]
        thread.join(timeout=10)
