"""Who is who on a team desk, over HTTP against the real uvicorn server: personal sign-in links,
names from the account (never the form), roles enforced on the server (a reviewer's forged
requests get 403 and change nothing), sessions that end, the sign-in rate limit, no token in any
log line, and the trusted proxy's header (honoured from its address only). Each defence's test
was run with the defence taken out and fails without it (docs/desk.md)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from test_desk_security import RECORD, TEXT, form_of

from panel.desk.identity import ProxyMode
from panel.records import Comparison
from panel.records.store import load_record
from panel.team.accounts import Accounts
from panel.team.work import WorkStore

from conftest import record_tree, run_panel

REL = "comparisons/quillstack-vs-ledgerlight.json"


def client(desk, token: str | None = None, source: str = "127.0.0.1") -> httpx.Client:
    """A client from `source` (any 127/8 address reaches the desk), signed in when given a token."""
    transport = httpx.HTTPTransport(local_address=source)
    made = httpx.Client(base_url=desk.url, headers={"Origin": desk.url}, transport=transport)
    if token is not None:
        response = made.post("/login", data={"token": token})
        assert response.status_code == 303, response.text
    return made


def wrong(token: str) -> str:
    """The token with its last character changed: the right key, a wrong secret."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def history(example_outputs: Path) -> list[tuple[str, str]]:
    record = load_record(example_outputs / REL, Comparison).record
    return [(c.by, c.action) for c in record.history]


def audit(example_outputs: Path) -> list[dict]:
    path = example_outputs / ".team/audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# -- Accounts and names --------------------------------------------------------------------------


def test_two_accounts_sign_in_with_their_own_links_and_the_history_names_them(
    desk_server, example_outputs, team_links
):
    desk = desk_server(example_outputs)
    ana, pat = client(desk, team_links["ana"]), client(desk, team_links["pat"])
    assert "Signed in as </span>ana" in ana.get("/").text and "(reviewer)" in ana.get("/").text
    assert "Signed in as </span>pat" in pat.get("/").text and "(publisher)" in pat.get("/").text
    forged = {"name": "mallory", "by": "mallory", "editor": "mallory", "user": "mallory"}
    form = {**form_of(ana), "tools[0].reviews.builder.review": TEXT, **forged}
    assert ana.post(RECORD + "/save", data=form).status_code == 303
    form = {**form_of(pat), "tools[0].reviews.builder.score": "81", **forged}
    assert pat.post(RECORD + "/save", data=form).status_code == 303
    assert history(example_outputs)[-2:] == [("ana", "edited"), ("pat", "edited")]
    assert "mallory" not in (example_outputs / REL).read_text()
    signed_in = [e["user"] for e in audit(example_outputs) if e["action"] == "signed-in"]
    assert signed_in == ["ana", "pat"]


def test_the_shared_token_signs_in_nobody_once_there_are_accounts(desk_server, example_outputs):
    desk = desk_server(example_outputs, editor="solo")
    alone = client(desk, desk.token)
    assert alone.get("/").status_code == 200
    Accounts(example_outputs).add("ana", "reviewer", "cli")  # the first account: the desk is a team's now
    assert alone.get("/").status_code == 401
    assert client(desk).post("/login", data={"token": desk.token}).status_code == 401


# -- Roles: a reviewer's forged requests ---------------------------------------------------------


def _requested(desk, team_links) -> None:
    """ana asks for publication, so approving or sending back would have something to act on."""
    ana = client(desk, team_links["ana"])
    assert ana.post(RECORD + "/request", data=form_of(ana)).status_code == 303


FORGED = {
    # action: (prepare, method, url, extra form fields); the CSRF token and version are the reviewer's own
    "publish": (None, "POST", RECORD + "/publish", {}),
    "approve": (_requested, "POST", RECORD + "/approve", {}),
    "send-back": (_requested, "POST", RECORD + "/send-back", {"note": "no"}),
    "assign": (None, "POST", RECORD + "/assign", {"assignee": "bo"}),
    "users-page": (None, "GET", "/users", {}),
    "users-add": (None, "POST", "/users/add", {"name": "eve", "role": "admin"}),
    "users-remove": (None, "POST", "/users/remove", {"name": "lee"}),
    "users-reset": (None, "POST", "/users/reset", {"name": "lee"}),
}


def _state(example_outputs: Path) -> tuple:
    work = WorkStore(example_outputs)
    try:
        return (
            record_tree(example_outputs),
            (example_outputs / ".team/users.json").read_bytes(),
            work.state(REL),
        )
    finally:
        work.close()


@pytest.mark.parametrize("action", list(FORGED))
def test_a_reviewers_forged_request_is_403_and_changes_nothing(
    desk_server, example_outputs, team_links, action
):
    desk = desk_server(example_outputs)
    prepare, method, url, extra = FORGED[action]
    if prepare is not None:
        prepare(desk, team_links)
    bo = client(desk, team_links["bo"])
    before = _state(example_outputs)
    data = {**form_of(bo), **extra}
    response = bo.get(url) if method == "GET" else bo.post(url, data=data)
    assert response.status_code == 403, response.text
    assert "Forbidden" in response.text and "Nothing was changed" in response.text
    assert _state(example_outputs) == before
    assert audit(example_outputs)[-1]["action"] == "denied" and audit(example_outputs)[-1]["user"] == "bo"
    # The same request from someone whose role allows it goes through: the 403 was the role.
    allowed = client(desk, team_links["ada"])
    data = {**form_of(allowed), **extra}
    done = allowed.get(url) if method == "GET" else allowed.post(url, data=data)
    assert done.status_code in (200, 303), done.text
    assert method == "GET" or _state(example_outputs) != before


# -- Sessions ------------------------------------------------------------------------------------


def test_removing_or_resetting_a_user_ends_their_sessions_at_once(
    desk_server, example_outputs, team_links, tmp_path
):
    desk = desk_server(example_outputs)
    ana, bo = client(desk, team_links["ana"]), client(desk, team_links["bo"])
    removed = run_panel(
        "desk", "users", "remove", "ana", "--out", str(example_outputs), cwd=tmp_path
    )  # another process
    assert removed.returncode == 0, removed.stderr
    assert ana.get("/").status_code == 401
    assert client(desk).post("/login", data={"token": team_links["ana"]}).status_code == 401
    ada = client(desk, team_links["ada"])
    page = ada.post("/users/reset", data={**form_of(ada, "/users"), "name": "bo"})
    assert page.status_code == 200 and "New link for bo" in page.text
    assert bo.get("/").status_code == 401
    new = re.search(r"login\?token=([\w.-]+)", page.text).group(1)  # type: ignore[union-attr]
    assert client(desk, new).get("/").status_code == 200


def test_sessions_expire_and_signing_out_ends_them(desk_server, example_outputs, team_links):
    desk = desk_server(example_outputs, session_ttl=1.0)
    ana = client(desk, team_links["ana"])
    assert ana.get("/").status_code == 200
    time.sleep(1.3)
    assert ana.get("/").status_code == 401
    pat = client(desk, team_links["pat"])
    assert pat.post("/logout", data={"csrf": form_of(pat)["csrf"]}).status_code == 303
    assert pat.get("/").status_code == 401
    assert [e["action"] for e in audit(example_outputs) if e["user"] == "pat"] == ["signed-in", "signed-out"]


# -- Sign-in: the rate limit, the tokens ---------------------------------------------------------


def test_wrong_tokens_are_rate_limited_per_address(desk_server, example_outputs, team_links):
    desk = desk_server(example_outputs, sign_in_failures=3, sign_in_window=60.0)
    here = client(desk)
    for _ in range(3):
        assert here.post("/login", data={"token": wrong(team_links["ana"])}).status_code == 401
    limited = here.post("/login", data={"token": team_links["ana"]})  # even the right one, for now
    assert limited.status_code == 429 and "set-cookie" not in limited.headers
    assert "too many wrong sign-in links from this address; wait" in limited.text
    assert re.search(r"wait (\d+ seconds|1 minutes?)", limited.text)
    elsewhere = client(desk, source="127.0.0.2")  # another address is not held up
    assert elsewhere.post("/login", data={"token": team_links["ana"]}).status_code == 303


def test_no_token_in_any_log_line_or_file_of_the_desk(desk_server, example_outputs, team_links, caplog):
    caplog.set_level(logging.DEBUG)
    desk = desk_server(example_outputs)
    ada = client(desk, team_links["ada"])
    client(desk).post("/login", data={"token": wrong(team_links["ana"])})  # logged, without the token
    page = ada.post("/users/add", data={**form_of(ada, "/users"), "name": "cy", "role": "reviewer"})
    shown = re.search(r"login\?token=([\w.-]+)", page.text).group(1)  # type: ignore[union-attr]
    assert client(desk, shown).get("/").status_code == 200  # shown once, to the admin, and it works
    secrets_ = [*team_links.values(), shown, desk.token]
    texts = [caplog.text, *(p.read_bytes().decode("latin-1") for p in (example_outputs / ".team").iterdir())]
    assert "a sign-in with a wrong token from 127.0.0.1" in caplog.text
    for text in texts:
        for token in secrets_:
            assert token not in text and token.split(".")[-1] not in text
    assert "cy as reviewer" in (example_outputs / ".team/audit.jsonl").read_text()
    with sqlite3.connect(
        example_outputs / ".team/work.sqlite3"
    ) as db:  # the work store holds no token either
        dump = "\n".join(db.iterdump())
    assert not any(token in dump for token in secrets_)


# -- The trusted proxy ---------------------------------------------------------------------------

PROXY = "127.0.0.2"  # the single sign-on proxy in these tests: a loopback address of its own


def test_a_proxy_header_counts_only_from_the_trusted_address(
    desk_server, example_outputs, team_links, caplog
):
    caplog.set_level(logging.WARNING)
    desk = desk_server(example_outputs, proxy=ProxyMode("X-Forwarded-User", frozenset({PROXY})))
    sent = {"X-Forwarded-User": "pat"}
    direct = client(desk)  # 127.0.0.1: not the proxy
    assert direct.get("/", headers=sent).status_code == 401
    assert "ignored the X-Forwarded-User header on a connection from 127.0.0.1" in caplog.text
    # A signed-in reviewer sending the header straight to the desk stays who they are.
    ana = client(desk, team_links["ana"])
    assert "Signed in as </span>ana" in ana.get("/", headers=sent).text
    assert ana.post(RECORD + "/publish", data=form_of(ana), headers=sent).status_code == 403

    proxy = client(desk, source=PROXY)
    stranger = proxy.get("/", headers={"X-Forwarded-User": "zoe"})  # no account: a reviewer
    assert (
        stranger.status_code == 200
        and 'Signed in as </span>zoe <span class="role">(reviewer)' in stranger.text
    )
    form = {
        **dict(
            re.findall(
                r'name="(csrf|version)" value="([^"]*)"',
                proxy.get(RECORD, headers={"X-Forwarded-User": "zoe"}).text,
            )
        ),
        "tools[0].reviews.builder.review": TEXT,
    }
    assert proxy.post(RECORD + "/save", data=form, headers={"X-Forwarded-User": "zoe"}).status_code == 303
    assert history(example_outputs)[-1] == ("zoe", "edited")
    assert proxy.post(RECORD + "/publish", data=form, headers={"X-Forwarded-User": "zoe"}).status_code == 403
    known = client(desk, source=PROXY).get("/", headers=sent)  # an account: its role
    assert "(publisher)" in known.text
    assert [
        e["note"] for e in audit(example_outputs) if e["user"] == "zoe" and e["action"] == "signed-in"
    ] == [f"through the proxy at {PROXY}"]


def test_known_users_only_refuses_proxy_users_without_an_account(desk_server, example_outputs, team_links):
    desk = desk_server(
        example_outputs, proxy=ProxyMode("X-Forwarded-User", frozenset({PROXY}), known_only=True)
    )
    proxy = client(desk, source=PROXY)
    refused = proxy.get("/", headers={"X-Forwarded-User": "zoe"})
    assert refused.status_code == 403 and "zoe has no account on this desk" in refused.text
    assert proxy.get("/", headers={"X-Forwarded-User": "ana"}).status_code == 200
