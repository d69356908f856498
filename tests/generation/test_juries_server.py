"""Juries end to end: the real `panel` command, three tiny-model profiles on the real vLLM server.

Each member reaches the server through its own fault proxy (tests/faultproxy.py), which counts its
requests and, where a test says so, breaks them: the third member's replies are cut at the token
limit, so it fails; the first two may have the verdict branch of their constraint narrowed, so a
real reply lands on the side the test needs (a 1-1 tie, or two ships short of a quorum of three).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.records import Comparison, ToolPanel, jury_verdict, median_score

from conftest import run_panel, tiny_profiles, tree, write_models, write_tool
from faultproxy import FaultProxy, Faults
from vllmserver import VLLMServer

pytestmark = pytest.mark.server
MEMBERS = ("ja", "jb", "jc", "jd")
PERSONAS = 4


@pytest.fixture
def proxies(vllm_server: VLLMServer) -> Iterator[dict[str, FaultProxy]]:
    started = {m: FaultProxy(upstream=vllm_server.base_url.removesuffix("/v1")).start() for m in MEMBERS}
    yield started
    for p in started.values():
        p.stop()


@pytest.fixture
def work(tmp_path: Path, tiny_model: Path, proxies: dict[str, FaultProxy]) -> tuple[Path, dict]:
    """Four server profiles, one per proxy, with different temperatures; jc is a Mistral model."""
    models = tiny_profiles(tiny_model, None)
    server = {
        "engine": "vllm-server",
        "served_model_name": "tiny",
        "model": str(tiny_model),
        "prompt_format": "completion",
        "max_tokens": 1024,
        "concurrency": 8,
        "timeout": 120,
        "retries": 1,
        "options": {"constraint": "json"},  # the schema as JSON, so a proxy can narrow it
    }
    temperatures = {"ja": 0.5, "jb": 0.9, "jc": 0.7, "jd": 1.1}
    for m in MEMBERS:
        models["models"][m] = {**server, "base_url": proxies[m].base_url, "temperature": temperatures[m]}
    models["models"]["jc"]["family"] = "mistral"
    models["juries"] = {
        "trio": {"members": ["ja", "jb", "jc"], "quorum": 2},
        "reversed": {"members": ["jc", "jb", "ja"], "quorum": 2},
        "quad": {"members": list(MEMBERS), "quorum": 2},
        "strict": {"members": ["ja", "jb", "jc"], "quorum": 3},
    }
    work = tmp_path / "work"
    work.mkdir()
    write_tool(
        work / "a.json", name="Quillstack", description="Builds API reference docs from OpenAPI files, in CI."
    )
    write_tool(
        work / "b.json", name="Ledgerlight", description="A hosted billing API that meters model tokens."
    )
    write_tool(
        work / "mistral.json",
        name="Mistral Large 3",
        description="An open-weight model for long documents and code.",
        url="https://mistral.ai/news/mistral-large-3",
    )
    return work, {"PANEL_MODELS_FILE": str(write_models(tmp_path / "models.yaml", models))}


def sent(proxies: dict[str, FaultProxy]) -> dict[str, int]:
    return {m: p.reviews() for m, p in proxies.items()}


def test_a_trio_votes_a_rerun_sends_nothing_and_a_fourth_member_runs_alone(work, proxies):
    folder, env = work
    first = run_panel("compare", "a.json", "b.json", "--jury", "trio", "--json", cwd=folder, env=env)
    assert first.returncode == 0, first.stderr
    record = Comparison.model_validate(json.loads(first.stdout))
    assert sent(proxies) == {"ja": 8, "jb": 8, "jc": 8, "jd": 0}  # 2 tools x 4 personas each
    for panel in record.panels:
        assert len(panel.reviews) == PERSONAS and not panel.failures
        for review in panel.reviews:
            votes = review.jury.votes
            assert [v.profile for v in votes] == ["ja", "jb", "jc"] and all(
                v.status == "valid" for v in votes
            )
            assert len({v.provenance.cache_key for v in votes}) == 3
            assert {v.provenance.sampling.temperature for v in votes} == {0.5, 0.9, 0.7}
            assert review.score == median_score([v.score for v in votes])
            ship = sum(v.verdict == "ship" for v in votes)
            assert review.verdict == jury_verdict(ship, 3 - ship, 2)
            assert review.review in [v.review for v in votes]
            assert review.provenance.jury.members == ["ja", "jb", "jc"]

    snapshot = tree(folder / "outputs")
    again = run_panel("compare", "a.json", "b.json", "--jury", "trio", "--json", cwd=folder, env=env)
    assert again.returncode == 0, again.stderr
    assert sent(proxies) == {"ja": 8, "jb": 8, "jc": 8, "jd": 0}  # nothing sent
    assert tree(folder / "outputs") == snapshot and json.loads(again.stdout) == json.loads(first.stdout)

    fourth = run_panel("compare", "a.json", "b.json", "--jury", "quad", "--json", cwd=folder, env=env)
    assert fourth.returncode == 0, fourth.stderr
    assert sent(proxies) == {"ja": 8, "jb": 8, "jc": 8, "jd": 8}  # one request per persona and tool
    for panel in Comparison.model_validate(json.loads(fourth.stdout)).panels:
        for review in panel.reviews:
            assert [v.profile for v in review.jury.votes] == list(MEMBERS)
            assert review.score == median_score([v.score for v in review.jury.votes])


def test_a_failed_member_and_a_one_one_tie_is_split_in_either_member_order(work, proxies, tmp_path: Path):
    folder, env = work
    proxies["ja"].faults = Faults(narrow_verdict="ship")
    proxies["jb"].faults = Faults(narrow_verdict="skip")
    proxies["jc"].faults = Faults(cap_max_tokens=40)  # every review attempt stops on "length"
    result = run_panel("compare", "a.json", "b.json", "--jury", "trio", cwd=folder, env=env)
    assert result.returncode == 1, result.stderr  # a member failed: re-run to retry it
    path = folder / "outputs/comparisons/quillstack-vs-ledgerlight.json"
    record = Comparison.model_validate_json(path.read_text())
    for panel in record.panels:
        assert panel.summary.verdict == "split" and panel.summary.split == PERSONAS
        for review in panel.reviews:
            assert review.verdict == "split"
            assert review.jury.summary.tally.line() == "1 ship / 1 skip / 1 failed"
            failed = review.jury.vote_of("jc")
            assert failed.status == "failed" and "token limit twice" in failed.reason
    refused = run_panel("publish", str(path), cwd=folder, env=env)
    assert refused.returncode == 2
    assert "Quillstack: the builder jury is split (1 ship / 1 skip / 1 failed)" in refused.stderr

    # The same members listed the other way round: no new request to ja or jb, the same outcome.
    before = sent(proxies)
    run_panel("compare", "a.json", "b.json", "--jury", "reversed", cwd=folder, env=env)
    after = sent(proxies)
    assert (after["ja"], after["jb"]) == (before["ja"], before["jb"]) and after["jc"] > before["jc"]
    reordered = Comparison.model_validate_json(path.read_text())
    for old, new in zip(record.panels, reordered.panels, strict=True):
        for r_old, r_new in zip(old.reviews, new.reviews, strict=True):
            assert (r_new.verdict, r_new.score, r_new.review) == (r_old.verdict, r_old.score, r_old.review)
            assert [v.profile for v in r_new.jury.votes] == ["jc", "jb", "ja"]
            assert r_new.provenance.jury.digest != r_old.provenance.jury.digest


def test_quorum_and_recusal(work, proxies):
    folder, env = work
    for m in ("ja", "jb"):
        proxies[m].faults = Faults(narrow_verdict="ship")
    proxies["jc"].faults = Faults(cap_max_tokens=40)
    # Two valid votes, both ship, under a quorum of three: split.
    strict = run_panel("review", "a.json", "--jury", "strict", "--json", cwd=folder, env=env)
    (panel,) = [ToolPanel.model_validate(p) for p in json.loads(strict.stdout)]
    assert all(r.verdict == "split" and r.jury.summary.tally.ship == 2 for r in panel.reviews)

    # jc is a Mistral model: recused from Mistral Large 3, and never asked. The quorum counts the
    # two members left, who both ship.
    asked = proxies["jc"].reviews()
    result = run_panel("review", "mistral.json", "--jury", "trio", "--json", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert proxies["jc"].reviews() == asked
    (panel,) = json.loads(result.stdout)
    for review in panel["reviews"]:
        assert review["verdict"] == "ship"
        recused = [v for v in review["jury"]["votes"] if v["status"] == "recused"]
        assert [v["profile"] for v in recused] == ["jc"]
        assert recused[0]["reason"] == "recused: same vendor as the tool (the tool's name says Mistral)"
        assert review["jury"]["summary"]["judges"] == 2
    (written,) = (folder / "outputs/panels").glob("mistral-large-3*.json")
    page = run_panel("render", str(written), "--format", "md", cwd=folder, env=env)
    assert "Recused: jc, same vendor as the tool" in page.stdout and "2 judges" in page.stdout
