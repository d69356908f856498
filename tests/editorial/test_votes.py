"""Community votes: reading votes files, `panel votes import`, and what votes never change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.editorial import votes
from panel.editorial.votes import read_votes, set_votes
from panel.errors import ConflictError, InputError
from panel.generation.compare import save_comparison
from panel.generation.runner import PanelOutcome
from panel.records import CommunityVotes, Comparison
from panel.records.store import Outputs, dump_record, file_version, load_record, write_record, write_record_if

from conftest import run_panel, tree
from factory import panel, write_comparison

COUNTS_CSV = "tool,ship,skip\nQuillstack,12,3\nLedgerlight,4,9\n"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working folder with outputs/: Quillstack vs Ledgerlight, and Quillstack vs Inkwell."""
    write_comparison(tmp_path / "outputs", panel("Quillstack"), panel("Ledgerlight", (40, 30, 70, 65)))
    write_comparison(tmp_path / "outputs", panel("Quillstack"), panel("Inkwell", (90, 85, 80, 75)))
    return tmp_path


def _comparison(work: Path, name: str = "quillstack-vs-ledgerlight") -> Path:
    return work / "outputs" / "comparisons" / f"{name}.json"


def _community(path: Path) -> dict[str, tuple[int, int]]:
    record = load_record(path, Comparison).record
    return {k: (v.ship, v.skip) for k, v in record.community.items()}


def test_csv_counts_fill_every_comparison_and_the_rendered_page(work: Path) -> None:
    (work / "votes.csv").write_text(COUNTS_CSV)
    before = load_record(_comparison(work), Comparison).record
    result = run_panel("votes", "import", "votes.csv", "--editor", "dana", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "Quillstack 12 ship / 3 skip, Ledgerlight 4 ship / 9 skip" in result.stdout
    assert _community(_comparison(work)) == {"Quillstack": (12, 3), "Ledgerlight": (4, 9)}
    assert _community(_comparison(work, "quillstack-vs-inkwell")) == {"Quillstack": (12, 3)}
    loaded = load_record(_comparison(work), Comparison)
    assert not loaded.edited  # written by panel, checksum and all
    after = loaded.record
    assert after.decision == before.decision  # votes never move the panel's decision
    assert after.panels == before.panels
    voted = [c for c in after.history if c.action == "voted"]
    assert [(c.by, c.fields, c.previous) for c in voted] == [
        ("dana", ["community.Quillstack"], {"community.Quillstack": None}),
        ("dana", ["community.Ledgerlight"], {"community.Ledgerlight": None}),
    ]
    for fmt in ("md", "html"):
        page = run_panel("render", str(_comparison(work)), "--format", fmt, cwd=work)
        assert page.returncode == 0, page.stderr
        assert "12 ship / 3 skip" in page.stdout and "4 ship / 9 skip" in page.stdout
        assert "No community votes yet" not in page.stdout
    # The same file again changes nothing.
    again = run_panel("votes", "import", "votes.csv", cwd=work)
    assert again.returncode == 0 and again.stdout.count("Unchanged") == 2
    assert load_record(_comparison(work), Comparison).record == after


def test_jsonl_single_votes_count_each_voter_once(work: Path) -> None:
    rows = [
        {"tool": "Quillstack", "voter": "r1", "vote": "ship"},
        {"tool": "Quillstack", "voter": "r2", "vote": "ship"},
        {"tool": "Quillstack", "voter": "r1", "vote": "skip"},  # r1 changed their mind: skip counts
        {"tool": "quillstack", "voter": "r3", "vote": "SKIP"},  # same tool by its slug
        {"tool": "Ledgerlight", "voter": "r1", "vote": "ship"},
        {"tool": "Ledgerlight", "voter": "r1", "vote": "ship"},  # the same vote twice: once
    ]
    (work / "votes.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert read_votes(work / "votes.jsonl") == [
        votes.Tally("Quillstack", 1, 2),
        votes.Tally("Ledgerlight", 1, 0),
    ]
    result = run_panel("votes", "import", "votes.jsonl", "--comparison", str(_comparison(work)), cwd=work)
    assert result.returncode == 0, result.stderr
    assert _community(_comparison(work)) == {"Quillstack": (1, 2), "Ledgerlight": (1, 0)}
    assert _community(_comparison(work, "quillstack-vs-inkwell")) == {}  # not the one given


def test_csv_single_votes_and_jsonl_counts(tmp_path: Path) -> None:
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("voter,tool,vote\nv1,Alpha,ship\nv2,Alpha,skip\nv1,Alpha,skip\nv1,Beta,ship\n")
    assert read_votes(ballots) == [votes.Tally("Alpha", 0, 2), votes.Tally("Beta", 1, 0)]
    counts = tmp_path / "counts.jsonl"
    counts.write_text('{"tool": "Alpha", "ship": 3, "skip": 0}\n{"tool": "Beta", "ship": "7", "skip": 1}\n')
    assert read_votes(counts) == [votes.Tally("Alpha", 3, 0), votes.Tally("Beta", 7, 1)]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "v.csv",
            "tool,ship,skip\nQuillstack,12,3\nLedgerlight,-4,9\n",
            "line 3: ship: expected a whole number",
        ),
        ("v.csv", "tool,ship,skip\nQuillstack,lots,3\n", "line 2: ship: expected a whole number"),
        (
            "v.csv",
            "tool,ship,skip\nQuillstack,1,2\nquillstack,3,4\n",
            "line 3: tool 'quillstack' is listed twice",
        ),
        ("v.csv", "tool,ship,skip\nQuillstack,1\n", "line 2: expected 3 fields, found 2"),
        ("v.csv", "tool,yes,no\nQuillstack,1,2\n", "line 1: CSV header 'tool,yes,no'"),
        ("v.csv", "tool,voter,vote\nQuillstack,r1,maybe\n", "line 2: vote: expected ship or skip"),
        ("v.csv", "tool,voter,vote\n,r1,ship\n", "line 2: tool: required"),
        ("v.csv", "", "the file is empty"),
        ("v.csv", "tool,ship,skip\n", "no votes in the file"),
        (
            "v.jsonl",
            '{"tool": "Quillstack", "ship": 1, "skip": 2}\n'
            '{"tool": "Ledgerlight", "voter": "a", "vote": "ship"}\n',
            "line 2: expected the fields tool, ship, skip",
        ),
        (
            "v.jsonl",
            '{"tool": "Quillstack", "ship": 1, "skip": 2}\n{"tool": "Ledgerlight", "ship": 1\n',
            "line 2: invalid JSON",
        ),
        ("v.jsonl", '["Quillstack", 1, 2]\n', "line 1: expected an object"),
        # The one strict JSON reader (core.loading.loads_json), as for tool files and feeds:
        (
            "v.jsonl",
            '{"tool": "Quillstack", "ship": 1, "skip": 2}\n'
            '{"tool": "Ledgerlight", "ship": 1, "ship": 5, "skip": 0}\n',
            "line 2: invalid JSON: duplicate key 'ship'",
        ),
        (
            "v.jsonl",
            '{"tool": "Quillstack", "ship": 1, "skip": 2}\n\n'
            '{"tool": "Ledgerlight", "ship": NaN, "skip": 0}\n',
            "line 3: invalid JSON: NaN is not allowed",
        ),
        (
            "v.jsonl",
            '{"tool": "Quill\\ud800", "ship": 1, "skip": 2}\n',
            "line 1: $.tool: the text holds a lone",
        ),
        (
            "v.jsonl",
            '{"tool": "Quillstack", "ship": true, "skip": 2}\n',
            "line 1: ship: expected a whole number",
        ),
        ("v.txt", "tool,ship,skip\n", "unknown votes file type '.txt'"),
    ],
)
def test_bad_rows_exit_2_with_one_line_and_write_nothing(
    work: Path, name: str, content: str, problem: str
) -> None:
    (work / name).write_text(content)
    before = tree(work / "outputs")
    result = run_panel("votes", "import", name, cwd=work)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert name in result.stderr and problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert tree(work / "outputs") == before


def test_jsonl_lines_are_newline_separated_whatever_the_text_holds(tmp_path: Path) -> None:
    """A tool name may hold U+2028 (a line break to `str.splitlines`, plain text in JSON): it
    stays inside its row, and the rows after it keep their line numbers."""
    path = tmp_path / "v.jsonl"
    path.write_text(
        '{"tool": "Quill\u2028stack", "ship": 3, "skip": 1}\n{"tool": "Ink", "ship": 1, "skip": 0}\n'
    )
    assert [t.tool for t in read_votes(path)] == ["Quill\u2028stack", "Ink"]
    path.write_text('{"tool": "Quill\u2028stack", "ship": 3, "skip": 1}\n{"tool": "Ink", "ship": 1}\n')
    with pytest.raises(InputError, match="line 2: expected the fields tool, ship, skip"):
        read_votes(path)


def test_unknown_tools_and_comparisons(work: Path) -> None:
    (work / "votes.csv").write_text("tool,ship,skip\nQuillstack,2,1\nNobody Knows,5,5\n")
    result = run_panel("votes", "import", "votes.csv", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "No comparison includes 'Nobody Knows'" in result.stderr
    (work / "other.csv").write_text("tool,ship,skip\nNobody Knows,5,5\n")
    before = tree(work / "outputs")
    none = run_panel("votes", "import", "other.csv", cwd=work)
    assert none.returncode == 2 and "no comparison under" in none.stderr
    only = run_panel("votes", "import", "other.csv", "--comparison", str(_comparison(work)), cwd=work)
    assert (
        only.returncode == 2 and "none of the tools in the votes file are in this comparison" in only.stderr
    )
    assert tree(work / "outputs") == before


def test_a_comparison_edited_by_hand_is_left_alone(work: Path) -> None:
    path = _comparison(work)
    data = json.loads(path.read_text())
    data["panels"][0]["reviews"][0]["review"] = data["panels"][0]["reviews"][0]["review"].replace(
        "weekend", "Sunday"
    )
    path.write_text(json.dumps(data, indent=2))
    by_hand = path.read_bytes()
    (work / "votes.csv").write_text(COUNTS_CSV)
    result = run_panel("votes", "import", "votes.csv", cwd=work)
    assert result.returncode == 0, result.stderr
    assert f"Left alone {path}: edited by hand outside panel" in result.stderr
    assert path.read_bytes() == by_hand
    assert _community(_comparison(work, "quillstack-vs-inkwell")) == {"Quillstack": (12, 3)}


def test_a_concurrent_save_is_kept_and_the_votes_applied_to_it(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer (the desk, say) saves the comparison between the import's read and its
    write: the compare-and-swap refuses the stale write, and the import re-reads and re-applies."""
    path = _comparison(work)
    real_load = votes.load_record
    loads = []

    def load_then_someone_saves(p: Path, model: type) -> object:
        loaded = real_load(p, model)
        loads.append(p)
        if len(loads) == 1:  # the other writer's save lands after our first read
            other = {"Quillstack": CommunityVotes(ship=1, skip=1)}
            write_record(p, loaded.record.model_copy(update={"community": other}))
        return loaded

    monkeypatch.setattr(votes, "load_record", load_then_someone_saves)
    tallies = [votes.Tally("Ledgerlight", 5, 0)]
    outcomes, _ = votes.import_votes(tallies, Outputs(work / "outputs"), "dana")
    assert [(o.path, o.status) for o in outcomes] == [(path, "updated")]
    assert loads == [path, path]  # refused once, then applied to the new version
    assert _community(path) == {"Quillstack": (1, 1), "Ledgerlight": (5, 0)}  # both changes kept


def test_a_comparison_that_keeps_changing_is_reported_not_overwritten(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _comparison(work)
    real_load = votes.load_record
    saves = []

    def always_changed(p: Path, model: type) -> object:
        loaded = real_load(p, model)
        saves.append(p)
        other = {"Quillstack": CommunityVotes(ship=len(saves), skip=0)}
        write_record(p, loaded.record.model_copy(update={"community": other}))
        return loaded

    monkeypatch.setattr(votes, "load_record", always_changed)
    outcomes, _ = votes.import_votes([votes.Tally("Ledgerlight", 5, 0)], Outputs(work / "outputs"), "dana")
    assert [o.status for o in outcomes] == ["conflict"]
    assert len(saves) == votes.CONFLICT_RETRIES
    assert _community(path) == {"Quillstack": (votes.CONFLICT_RETRIES, 0)}  # the other writer's last save


def test_write_record_if_refuses_a_stale_version(work: Path) -> None:
    path = _comparison(work)
    expect = file_version(path)
    record = load_record(path, Comparison).record
    write_record(path, set_votes(record, "Ledgerlight", 1, 0, "desk"))
    with pytest.raises(ConflictError):
        write_record_if(path, set_votes(record, "Quillstack", 9, 9, "cli"), expect)
    assert _community(path) == {"Ledgerlight": (1, 0)}


def test_set_votes_is_pure_and_leaves_the_decision(work: Path) -> None:
    record = load_record(_comparison(work), Comparison).record
    assert record.decision.winner == "Quillstack"
    # Readers overwhelmingly prefer the other tool: the panel's decision stays.
    voted = set_votes(record, "Ledgerlight", 500, 0, "desk")
    voted = set_votes(voted, "quillstack", 0, 500, "desk")  # the slug finds the tool
    assert voted.decision == record.decision
    assert voted.community == {
        "Ledgerlight": CommunityVotes(ship=500, skip=0),
        "Quillstack": CommunityVotes(ship=0, skip=500),
    }
    assert record.community == {}  # the input is not changed
    again = set_votes(voted, "Ledgerlight", 2, 3, "desk")
    assert again.history[-1].previous == {"community.Ledgerlight": {"ship": 500, "skip": 0}}
    assert set_votes(again, "Ledgerlight", 2, 3, "desk") is again  # nothing to change
    with pytest.raises(InputError, match="not in this comparison"):
        set_votes(record, "Inkwell", 1, 1, "desk")
    with pytest.raises(InputError, match="whole numbers of 0 or more"):
        set_votes(record, "Ledgerlight", -1, 1, "desk")


def test_votes_survive_regeneration_and_show_in_the_json(work: Path) -> None:
    """`panel compare` rewrites a comparison when a panel changes; the votes stay, and they are
    in what `--json` prints (dump_record of the record save_comparison returns)."""
    (work / "votes.csv").write_text(COUNTS_CSV)
    assert run_panel("votes", "import", "votes.csv", cwd=work).returncode == 0
    out = Outputs(work / "outputs")
    regenerated = [panel("Quillstack", (20, 20, 20, 20)), panel("Ledgerlight", (40, 30, 70, 65))]
    outcomes = [PanelOutcome(p.tool, out.panel_path(p.tool.name), p, "written") for p in regenerated]
    result = save_comparison(outcomes, out)
    assert result.status == "written"
    printed = json.loads(dump_record(result.comparison))
    assert printed["community"] == {
        "Quillstack": {"ship": 12, "skip": 3},
        "Ledgerlight": {"ship": 4, "skip": 9},
    }
    assert printed["decision"]["winner"] == "Ledgerlight"  # from the new reviews, not the votes
