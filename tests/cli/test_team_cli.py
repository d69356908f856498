"""`panel desk users|policy|audit` and the team options of `panel desk`, through the real CLI."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import run_panel, tree
from factory import write_example_comparison

LINK = re.compile(r"^http://127\.0\.0\.1:8765/login\?token=([A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43})$", re.M)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    write_example_comparison(folder)
    return folder


def panel_desk(root: Path, *args: str, user: str = "lead"):
    return run_panel("desk", *args, "--out", str(root), cwd=root.parent, env={"USER": user})


def test_users_add_prints_the_link_once_and_stores_only_a_hash(root: Path):
    added = panel_desk(root, "users", "add", "ana", "--role", "publisher")
    assert added.returncode == 0, added.stderr
    [token] = LINK.findall(added.stdout)
    users = (root / ".team/users.json").read_text()
    assert token not in users and token.split(".")[1] not in users
    listed = panel_desk(root, "users", "list")
    assert "ana" in listed.stdout and "publisher" in listed.stdout and token[:12] not in listed.stdout
    reset = panel_desk(root, "users", "reset", "ana", "--role", "reviewer")
    [new] = LINK.findall(reset.stdout)
    assert new != token and "ana (reviewer)" in reset.stdout
    removed = panel_desk(root, "users", "remove", "ana")
    assert removed.returncode == 0 and "Removed ana" in removed.stdout
    assert "No users" in panel_desk(root, "users", "list").stdout
    audit = panel_desk(root, "audit", "--user", "lead")
    assert [line.split()[3] for line in audit.stdout.splitlines()] == [
        "user-added",
        "user-reset",
        "user-removed",
    ]
    for text in (audit.stdout, (root / ".team/audit.jsonl").read_text()):
        assert token not in text and new not in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("users", "add", "<script>", "--role", "reviewer"), "is not a user name"),
        (("users", "add", "ana", "--role", "owner"), "unknown role 'owner'"),
        (("users", "add", "bo"), "already a user 'bo'"),
        (("users", "remove", "cy"), "no user 'cy'"),
        (("users", "reset", "cy"), "no user 'cy'"),
        (("policy", "--four-eyes", "maybe"), "use on or off"),
        (("audit", "--action", "deleted"), "unknown action 'deleted'"),
        (("audit", "--since", "last tuesday"), "is not a date"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(root: Path, args: tuple[str, ...], says: str):
    assert panel_desk(root, "users", "add", "bo").returncode == 0
    before = tree(root)
    result = panel_desk(root, *args)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert says in line and "Traceback" not in result.stderr
    assert tree(root) == before


def test_a_missing_outputs_folder_is_one_line(tmp_path: Path):
    result = run_panel("desk", "users", "add", "ana", "--out", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2 and "not a folder" in result.stderr
    assert not (tmp_path / "nope").exists()


def test_policy_is_shown_set_and_audited(root: Path):
    shown = panel_desk(root, "policy")
    assert shown.stdout.splitlines() == ["four-eyes: off", "blind-review: off", "lock-minutes: 30"]
    assert not (root / ".team/policy.json").exists()  # showing writes nothing
    panel_desk(root, "policy", "--four-eyes", "on", "--lock-minutes", "10", user="lead")
    assert json.loads((root / ".team/policy.json").read_text())["four_eyes"] is True
    lines = panel_desk(root, "audit", "--action", "policy-changed", "--json").stdout.splitlines()
    [entry] = [json.loads(x) for x in lines]
    assert (
        entry["user"] == "lead" and entry["note"] == "four-eyes on, lock-minutes 10" and entry["via"] == "cli"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--trust-proxy-header", "X-Forwarded-User"), "go together"),
        (("--trusted-proxy", "127.0.0.1"), "go together"),
        (
            ("--trust-proxy-header", "X-Forwarded-User", "--trusted-proxy", "proxy.lan"),
            "is not an IP address",
        ),
        (("--trust-proxy-header", "X Bad", "--trusted-proxy", "127.0.0.1"), "is not a header name"),
        (("--known-users-only",), "needs --trust-proxy-header"),
    ],
)
def test_proxy_options_are_checked_before_serving(root: Path, args: tuple[str, ...], says: str):
    result = run_panel("desk", str(root), "--port", "0", *args, cwd=root.parent)
    assert result.returncode == 2 and says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_team_desk_prints_no_token_and_takes_personal_links(root: Path):
    link = LINK.findall(panel_desk(root, "users", "add", "ana", "--role", "reviewer").stdout)[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel.cli", "desk", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "NO_COLOR": "1"},
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while not any("records found" in x for x in lines) and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, proc.communicate(timeout=60)[1][-2000:]
            lines.append(line)
        printed = "".join(lines)
        assert "personal links" in printed and "token=" not in printed
        base = re.search(r"at (http://127\.0\.0\.1:\d+)/login", printed).group(1)  # type: ignore[union-attr]
        with httpx.Client(base_url=base, headers={"Origin": base}) as client:
            assert client.post("/login", data={"token": link}).status_code == 303
            assert "Signed in as </span>ana" in client.get("/").text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert link not in out + err  # no log line carries the token
