"""A mutation fuzz of every input panel reads: no input yields a traceback.

Valid records, tool files, feeds, votes files and models files are mutated the ways hand edits
and vendors break them (a field set to null, NaN, 10^30, a lone surrogate or a wrong type; a key
deleted or given twice; an item added; the file cut short), and every command that reads them
runs on the result. What the project promises: exit 0, 1 or 2; a refusal (2) is one line on
stderr and leaves every file as it was; never a traceback.

Commands run in this process through `panel.cli.app.main`, the console script's own entry point
with its one place that turns errors into lines and exit codes, so an exception that escapes it
fails the test with its traceback. The model profile points at a loopback port nothing listens
on: commands that need a model stop there. Examples are derandomized, so CI is reproducible.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from panel.cli import app as cli_app
from panel.core import files
from panel.grounding import ground
from panel.inputs.personas import load_personas
from panel.records import Change, Check, CommunityVotes, Comparison, ToolPanel
from panel.records.store import load_record

from conftest import tree
from factory import panel, write_comparison

SURROGATE = "\ud800"
BIG = 10**30
DUPLICATE = "__duplicate__:"
SUFFIXES = (
    ".json",
    ".jsonl",
    ".csv",
    ".yaml",
    "feed",
)  # file arguments, left out of the statistics  # a key that, once written, repeats the key after the marker

QUILL_DESCRIPTION = (
    "Quillstack builds API reference pages from OpenAPI files and type hints. It is free and MIT "
    "licensed, and it runs as a single binary in the build."
)
QUILL_REVIEW = (
    "Quillstack turns an OpenAPI description into reference pages during the build, and it fails "
    "the build when an endpoint has no description. The license is GPL-3.0, which legal teams will "
    "ask about, and the hosted plan costs $30 per seat, more than a docs site usually costs. The "
    "first hour is pointing it at one service; the check on missing descriptions is the reason to try it."
)


def fuzz_settings(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        derandomize=True,  # the same examples on every run: CI is reproducible
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------------------------------------
# Running the CLI in this process


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: every connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def run(work: Path, *args: str) -> Ran:
    """`panel ARGS` in `work`, through the console script's entry point, as a user's shell runs
    it: no outputs folder or models file from the environment, an editor that saves nothing."""
    out, err = io.StringIO(), io.StringIO()
    env = {"NO_COLOR": "1", "COLUMNS": "120", "VISUAL": "true", "EDITOR": "true", "USER": "fuzz"}
    sigterm = signal.getsignal(signal.SIGTERM)
    code: object = 0
    with (
        contextlib.chdir(work),
        mock.patch.dict(os.environ, env),
        mock.patch.object(sys, "argv", ["panel", *args]),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        for var in ("PANEL_OUTPUTS", "PANEL_MODELS_FILE"):
            os.environ.pop(var, None)
        try:
            cli_app.main()
        except SystemExit as exc:
            code = exc.code
        finally:
            files.remove_write_listener(cli_app._keep_index_in_step)
            signal.signal(signal.SIGTERM, sigterm)
    return Ran(args, code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def check_promise(work: Path, *args: str) -> Ran:
    """Run one command and hold it to the project's promise."""
    before = tree(work)
    ran = run(work, *args)
    said = ran.stdout + ran.stderr
    event(f"{' '.join(a for a in args[:2] if not a.endswith(SUFFIXES))}: exit {ran.code}")
    assert ran.code in (0, 1, 2), (args, ran.code, said[-2000:])
    assert "Traceback" not in said, (args, said[-4000:])
    if ran.code == 2:
        errors = [line for line in ran.stderr.splitlines() if line.startswith("panel: error: ")]
        if args[0] == "validate":  # a report on stdout, one line a problem, each naming the file
            assert errors == [], (args, ran.stderr)
            assert all(line.startswith(args[1]) for line in ran.stdout.splitlines() if line.strip())
        else:  # progress or warnings may come first; the refusal is one line, the last
            assert len(errors) == 1 and ran.stderr.splitlines()[-1] == errors[0], (args, ran.stderr)
        assert tree(work) == before, (args, "a refusal wrote or changed files", ran.stderr)
    return ran


# ---------------------------------------------------------------------------------------------
# Mutations


Path_ = tuple[Any, ...]


def _nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, (*path, i))


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 42
    if isinstance(value, list):
        return {"item": value[:1]}
    if isinstance(value, dict):
        return list(value)
    return True


def _with_surrogate(value: Any) -> Any:
    if isinstance(value, str):
        return value[: len(value) // 2] + SURROGATE + value[len(value) // 2 :]
    return SURROGATE


SET = {
    "null": lambda _: None,
    "nan": lambda _: math.nan,
    "huge": lambda _: BIG,
    "surrogate": _with_surrogate,
    "wrong type": _wrong_type,
}
OPERATIONS = (*SET, "delete", "add item", "duplicate key", "truncate")


def _replace(root: Any, path: Path_, new: Any) -> Any:
    if not path:
        return new
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return root


def mutate(data: st.DataObject, root: Any) -> tuple[Any, str, int | None]:
    """The document with one mutation, its name, and for `truncate` where to cut the file."""
    root = json.loads(json.dumps(root))  # a copy
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    nodes = list(_nodes(root))
    if operation == "truncate":
        return root, operation, data.draw(st.integers(0, 10**6), label="cut at")
    if operation in SET:
        path, value = data.draw(st.sampled_from(nodes), label="node")
        return _replace(root, path, SET[operation](value)), f"{operation} at {path}", None
    containers = [(p, v) for p, v in nodes if isinstance(v, dict | list) and (operation == "add item" or v)]
    if operation == "duplicate key":
        containers = [(p, v) for p, v in containers if isinstance(v, dict) and v]
    if operation == "delete":
        containers = [(p, v) for p, v in containers if v]
    if not containers:
        return root, "unchanged", None
    path, value = data.draw(st.sampled_from(containers), label="container")
    if operation == "delete":
        key = data.draw(st.sampled_from(list(value) if isinstance(value, dict) else range(len(value))))
        del value[key]
    elif operation == "duplicate key":
        key = data.draw(st.sampled_from(list(value)))
        value[DUPLICATE + key] = value[key]
    elif isinstance(value, dict):
        value["added"] = data.draw(st.sampled_from([1, "text", None, [], {}]))
    else:
        value.append(json.loads(json.dumps(value[0])) if value else "added")
    return root, f"{operation} at {path}", None


def _undo_marker(text: str) -> str:
    return text.replace(DUPLICATE, "")


def as_json(root: Any) -> str:
    return _undo_marker(json.dumps(root, indent=2))  # NaN as NaN; a lone surrogate as \ud800


def as_jsonl(root: Any) -> str:
    rows = root if isinstance(root, list) else [root]
    return "".join(_undo_marker(json.dumps(row)) + "\n" for row in rows)


def as_yaml(root: Any) -> str:
    return _undo_marker(yaml.safe_dump(root, sort_keys=False, allow_unicode=True))


def as_csv(root: Any) -> str:
    """Rows of cells; whatever a mutation put in a cell is written as its text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in root if isinstance(root, list) else [[root]]:
        cells = row if isinstance(row, list) else [row]
        writer.writerow(["" if c is None else c if isinstance(c, str) else json.dumps(c) for c in cells])
    return _undo_marker(buffer.getvalue())


def write_mutated(path: Path, root: Any, dump: Callable[[Any], str], data: st.DataObject) -> str:
    """Mutate `root`, write it to `path` (UTF-8; a raw lone surrogate as its invalid bytes)."""
    mutated, what, cut = mutate(data, root)
    raw = dump(mutated).encode("utf-8", "surrogatepass")
    if cut is not None:
        raw = raw[: cut % (len(raw) + 1)]
    path.write_bytes(raw)
    return what


# ---------------------------------------------------------------------------------------------
# Valid inputs


def _records() -> dict[str, bytes]:
    """A grounded comparison that publishes (claims, the contradicted ones checked; history;
    community votes) and its two panel files, as bytes under outputs/."""
    from panel.records.store import write_record

    personas = load_personas()
    mark = Check(by="dana", note="asked the vendor")

    def checked(quill: ToolPanel) -> ToolPanel:
        """The Skeptic's review with a wrong license and price, both checked by a person."""
        reviews = [
            quill.reviews[0],
            quill.reviews[1].model_copy(update={"review": QUILL_REVIEW}),
            *quill.reviews[2:],
        ]
        quill = ground.refresh(quill.model_copy(update={"reviews": reviews}), personas)
        skeptic = quill.reviews[1]
        claims = [
            c.model_copy(update={"checked": mark}) if c.status == "contradicted" else c
            for c in skeptic.claims
        ]
        reviews[1] = skeptic.model_copy(update={"claims": claims})
        return quill.model_copy(update={"reviews": [quill.reviews[0], reviews[1], *quill.reviews[2:]]})

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "outputs"
        quill = checked(panel("Quillstack", description=QUILL_DESCRIPTION))
        path = write_comparison(root, quill, panel("Ledgerlight", (40, 45, 62, 30)))
        record = ground.refresh(load_record(path, Comparison).record, personas)
        change = Change(by="dana", action="checked", fields=["Quillstack: reviews.skeptic.claims"], note="n")
        record = record.model_copy(
            update={"community": {"Quillstack": CommunityVotes(ship=12, skip=3)}, "history": [change]}
        )
        write_record(path, record)
        return {str(p.relative_to(root.parent)): p.read_bytes() for p in root.rglob("*.json")}


RECORDS = _records()
COMPARISON = "outputs/comparisons/quillstack-vs-ledgerlight.json"
PANEL = "outputs/panels/quillstack.json"
TOOL = {
    "name": "Quillstack",
    "tagline": "API reference pages from your OpenAPI files",
    "category": "developer tools",
    "description": QUILL_DESCRIPTION + " Teams point it at a service and publish the pages it writes.",
    "pricing": {"entry": "free", "detail": "Free and open source; a hosted plan for teams."},
    "url": "https://quillstack.example",
    "sources": [
        {"title": "README", "text": "Quillstack reads OpenAPI 3.1 files. It writes static HTML pages."},
        {"title": "Pricing", "path": "pricing.md"},
    ],
}
PRICING_MD = "# Pricing\n\nThe hosted plan is $12 per seat per month. Self-hosting is free.\n"
FEED_ROWS = [
    {"name": "Quillstack", "description": QUILL_DESCRIPTION, "pricing": {"entry": "free", "detail": ""}},
    {"name": "Ledgerlight", "description": "Ledgerlight keeps a ledger of feature flags per team."},
]
FEED_CSV = [
    ["name", "description", "pricing_entry", "url"],
    ["Quillstack", QUILL_DESCRIPTION, "free", "https://quillstack.example"],
    ["Ledgerlight", "Ledgerlight keeps a ledger of feature flags per team.", "", ""],
]
VOTES_ROWS = [{"tool": "Quillstack", "ship": 30, "skip": 4}, {"tool": "Ledgerlight", "ship": 2, "skip": 9}]
BALLOTS_CSV = [["tool", "voter", "vote"], ["Quillstack", "ana", "ship"], ["Ledgerlight", "ana", "skip"]]


def models(port: int) -> dict[str, Any]:
    return {
        "default": "closed",
        "models": {
            "closed": {
                "engine": "vllm-server",
                "model": "tiny",
                "base_url": f"http://127.0.0.1:{port}/v1",
                "served_model_name": "tiny",
                "concurrency": 4,
                "timeout": 5,
                "retries": 0,
                "temperature": 0.7,
                "max_tokens": 512,
            },
            "second": {
                "engine": "vllm-server",
                "model": "tiny",
                "base_url": f"http://localhost:{port}/v1",
                "prompt_format": "completion",
            },
        },
    }


@contextlib.contextmanager
def workdir(port: int) -> Iterator[Path]:
    """A fresh working folder with every valid input in place."""
    with tempfile.TemporaryDirectory(prefix="panel-fuzz-") as tmp:
        work = Path(tmp)
        for rel, content in RECORDS.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_bytes(content)
        (work / "models.yaml").write_text(as_yaml(models(port)))
        (work / "tool.yaml").write_text(as_yaml(TOOL))
        (work / "pricing.md").write_text(PRICING_MD)
        (work / "other.yaml").write_text(
            as_yaml({"name": "Ledgerlight", "description": FEED_ROWS[1]["description"]})
        )
        (work / "votes.csv").write_text(as_csv([["tool", "ship", "skip"], ["Quillstack", "5", "1"]]))
        yield work


# ---------------------------------------------------------------------------------------------
# The fuzz


RECORD_COMMANDS = (
    ("validate",),
    ("claims",),
    ("claims", "--json"),
    ("diff",),
    ("render",),
    ("render", "--format", "html", "--editor"),
    ("edit",),
    ("publish",),
)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with closed_port() as number:
        yield number


@fuzz_settings(examples=120)
@given(data=st.data())
def test_mutated_records(port: int, data: st.DataObject):
    with workdir(port) as work:
        target = data.draw(st.sampled_from([COMPARISON, PANEL]), label="file")
        write_mutated(work / target, json.loads(RECORDS[target]), as_json, data)
        for command in RECORD_COMMANDS:
            check_promise(work, command[0], target, *command[1:])
        check_promise(work, "votes", "import", "votes.csv")


@fuzz_settings(examples=60)
@given(data=st.data())
def test_mutated_tool_files(port: int, data: st.DataObject):
    with workdir(port) as work:
        name = data.draw(st.sampled_from(["tool.yaml", "tool.json"]), label="file")
        dump = as_yaml if name.endswith(".yaml") else as_json
        write_mutated(work / name, TOOL, dump, data)
        check_promise(work, "review", name, "--models-file", "models.yaml")
        check_promise(work, "compare", name, "other.yaml", "--models-file", "models.yaml")


@fuzz_settings(examples=60)
@given(data=st.data())
def test_mutated_feeds(port: int, data: st.DataObject):
    with workdir(port) as work:
        name = data.draw(st.sampled_from(["feed.jsonl", "feed.csv", "feed"]), label="feed")
        if name == "feed":
            (work / name).mkdir()
            write_mutated(work / name / "quillstack.yaml", FEED_ROWS[0], as_yaml, data)
            (work / name / "ledgerlight.json").write_text(as_json(FEED_ROWS[1]))
        elif name.endswith(".jsonl"):
            write_mutated(work / name, FEED_ROWS, as_jsonl, data)
        else:
            write_mutated(work / name, FEED_CSV, as_csv, data)
        check_promise(work, "batch", name, "--models-file", "models.yaml")


@fuzz_settings(examples=60)
@given(data=st.data())
def test_mutated_votes_files(port: int, data: st.DataObject):
    with workdir(port) as work:
        name = data.draw(st.sampled_from(["votes.jsonl", "ballots.csv"]), label="file")
        if name.endswith(".jsonl"):
            write_mutated(work / name, VOTES_ROWS, as_jsonl, data)
        else:
            write_mutated(work / name, BALLOTS_CSV, as_csv, data)
        check_promise(work, "votes", "import", name)


@fuzz_settings(examples=60)
@given(data=st.data())
def test_mutated_models_files(port: int, data: st.DataObject):
    with workdir(port) as work:
        write_mutated(work / "models.yaml", models(port), as_yaml, data)
        check_promise(work, "models", "--models-file", "models.yaml")
        check_promise(work, "review", "tool.yaml", "--models-file", "models.yaml")
