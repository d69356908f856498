"""The desk's defences, over HTTP against the real uvicorn server, and the real `panel desk` CLI.

Each test names the guard in panel/desk/security.py it exercises; each was checked to fail with
that guard taken out of `protect` (see docs/desk.md)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import record_tree as tree

RECORD = "/r/comparisons~quillstack-vs-ledgerlight"
TEXT = (
    "A reviewer's text, long enough to be a review: the build check is the product and the pages "
    "are a side effect. Teams that forget descriptions get a failing build on the day it happens, "
    "which is when the habit forms. Worth a trial on one service before anything larger."
)


@pytest.fixture
def desk(desk_server, example_outputs: Path):
    return desk_server(example_outputs)


def signed_in(desk) -> httpx.Client:
    client = httpx.Client(base_url=desk.url, headers={"Origin": desk.url}, follow_redirects=False)
    response = client.post("/login", data={"token": desk.token, "name": "ana"})
    assert response.status_code == 303, response.text
    return client


def form_of(client: httpx.Client, url: str = RECORD) -> dict[str, str]:
    """The record page's hidden fields (csrf, version, opened)."""
    page = client.get(url).text
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def save_form(client: httpx.Client, **changes: str) -> dict[str, str]:
    return {**form_of(client), "tools[0].reviews.builder.review": TEXT, **changes}


# -- SessionGuard --------------------------------------------------------------------------------


def test_without_a_session_everything_but_the_login_is_refused(desk, example_outputs: Path):
    before = tree(example_outputs)
    with httpx.Client(base_url=desk.url, headers={"Origin": desk.url}) as anonymous:
        assert anonymous.get("/").status_code == 401
        assert anonymous.get(RECORD).status_code == 401
        assert anonymous.get(RECORD + "/preview").status_code == 401
        assert anonymous.post(RECORD + "/save", data={"csrf": "x"}).status_code == 401
        browser_get = anonymous.get("/", headers={"Accept": "text/html"})
        assert browser_get.status_code == 303 and browser_get.headers["location"] == "/login"
        assert anonymous.get("/login").status_code == 200
        assert anonymous.get("/static/desk.css").status_code == 200
        wrong = anonymous.post("/login", data={"token": "not-the-token-at-all", "name": "x"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        forged = anonymous.get("/", headers={"Cookie": f"panel_desk_{desk.url.rsplit(':', 1)[1]}=made-up"})
        assert forged.status_code == 401
    assert tree(example_outputs) == before


def test_the_token_is_exchanged_for_a_strict_http_only_cookie(desk):
    client = signed_in(desk)
    cookie = client.cookies.jar
    [set_cookie] = [c for c in cookie]
    assert set_cookie.name.startswith("panel_desk_") and set_cookie.path == "/"
    assert (
        set_cookie.has_nonstandard_attr("HttpOnly")
        and set_cookie.get_nonstandard_attr("SameSite") == "Strict"
    )
    assert client.get("/").status_code == 200
    form = form_of(client)
    assert client.post("/logout", data={"csrf": form["csrf"]}).status_code == 303
    assert client.get("/").status_code == 401


# -- FormGuard: CSRF and malformed forms --------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
def test_a_missing_or_wrong_csrf_token_is_refused(desk, example_outputs: Path, csrf: str | None):
    client = signed_in(desk)
    form = save_form(client)
    if csrf is None:
        form.pop("csrf")
    else:
        form["csrf"] = csrf
    before = tree(example_outputs)
    response = client.post(RECORD + "/save", data=form)
    assert response.status_code == 403 and "CSRF" in response.text
    assert tree(example_outputs) == before
    good = client.post(RECORD + "/save", data=save_form(client))  # the same form with its token: saved
    assert good.status_code == 303 and tree(example_outputs) != before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"csrf=%ZZ&version=1", "application/x-www-form-urlencoded"),  # a bad escape
        (b"csrf=%C3%28", "application/x-www-form-urlencoded"),  # not UTF-8
        (b"csrf=a&csrf=b", "application/x-www-form-urlencoded"),  # the same field twice
        (b"just-words", "application/x-www-form-urlencoded"),
        (b'{"csrf": "x"}', "application/json"),
        (
            b"--x\r\nContent-Disposition: form-data; name=csrf\r\n\r\nx\r\n--x--",
            "multipart/form-data; boundary=x",
        ),
    ],
)
def test_a_malformed_form_is_a_400_and_writes_nothing(
    desk, example_outputs: Path, body: bytes, content_type: str
):
    client = signed_in(desk)
    before = tree(example_outputs)
    response = client.post(RECORD + "/save", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400 and len(response.text.strip().splitlines()) == 1
    assert tree(example_outputs) == before


# -- BodyLimit -----------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_and_writes_nothing(desk, example_outputs: Path):
    client = signed_in(desk)
    before = tree(example_outputs)
    big = save_form(client, **{"tools[0].reviews.builder.review": "x" * (1024 * 1024 + 1)})
    response = client.post(RECORD + "/save", data=big)
    assert response.status_code == 400 and "limit" in response.text
    form = save_form(client)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        yield httpx.QueryParams(form).__str__().encode() + b"&pad="
        for _ in range(40):
            yield b"y" * 32_768

    streamed = client.post(
        RECORD + "/save", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 400
    assert tree(example_outputs) == before


# -- OriginGuard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},  # same host, another port: another origin
        {"Origin": None, "Referer": "http://evil.example/page"},
        {"Origin": None},
    ],
    ids=["foreign", "null", "other-port", "foreign-referer", "none"],
)
def test_a_post_from_another_origin_is_refused_even_with_the_token(
    desk, example_outputs: Path, headers: dict
):
    client = signed_in(desk)
    form = save_form(client)  # a valid CSRF token: only the origin is wrong
    before = tree(example_outputs)
    sent = {k: v for k, v in headers.items() if v is not None}
    client.headers.pop("Origin")
    response = client.post(RECORD + "/save", data=form, headers=sent)
    assert response.status_code == 403 and "not sent from the desk" in response.text
    assert tree(example_outputs) == before
    same = client.post(RECORD + "/save", data=form, headers={"Referer": desk.url + RECORD})
    assert same.status_code == 303  # no Origin, but the desk's own Referer: accepted


# -- HostGuard -----------------------------------------------------------------------------------


def test_a_foreign_host_header_is_refused(desk_server, example_outputs: Path):
    desk = desk_server(example_outputs, allow_hosts=("desk.internal",))
    client = signed_in(desk)
    port = desk.url.rsplit(":", 1)[1]
    before = tree(example_outputs)
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"127.0.0.2:{port}"):
        assert client.get("/", headers={"Host": host}).status_code == 400
        assert client.get("/login", headers={"Host": host}).status_code == 400
        refused = client.post(RECORD + "/save", data=save_form(client), headers={"Host": host})
        assert refused.status_code == 400
    assert tree(example_outputs) == before
    for host in (f"localhost:{port}", f"desk.internal:{port}"):
        assert client.get("/login", headers={"Host": host}).status_code == 200


# -- SecurityHeaders -----------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(desk):
    client = signed_in(desk)
    for response in (client.get("/"), client.get(RECORD), client.get("/login"), client.get("/nope")):
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'; style-src 'self' 'sha256-")
        assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store"
    with httpx.Client(base_url=desk.url) as anonymous:
        refused = anonymous.get("/", headers={"Host": "evil.example"})
        assert refused.headers["content-security-policy"].startswith("default-src 'none'")
    page = client.get(RECORD).text
    assert "<script" not in page and " style=" not in page and "<style" not in page


# -- Routes: GET changes nothing, URLs are never paths ------------------------------------------


def test_get_never_changes_anything_and_urls_never_become_paths(desk, example_outputs: Path):
    client = signed_in(desk)
    before = tree(example_outputs)
    for url in (RECORD + "/save", RECORD + "/publish", RECORD + "/check", RECORD + "/votes"):
        assert client.get(url).status_code == 405
    form = form_of(client)
    for url in (
        "/r/..%2f..%2fetc%2fpasswd",
        "/r/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/r/..%2f",
        "/r/comparisons~..~..~etc~passwd",
        "/r/%2fetc%2fpasswd",
        "/r/panels~quillstack.json",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url + "/save", data=form).status_code == 404
    assert client.post(RECORD + "/rm", data=form).status_code == 404
    assert client.get("/static/..%2f..%2fapp.py").status_code == 404
    assert tree(example_outputs) == before


# -- The real CLI --------------------------------------------------------------------------------


def desk_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`panel desk` (through `python -m panel.cli desk`)."""
    full = {k: v for k, v in os.environ.items() if k != "PANEL_DESK_TOKEN"} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "panel.cli", "desk", *args],
        env={**full, "NO_COLOR": "1", "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # every interface; other hosts: test_is_loopback
def test_binding_beyond_loopback_without_a_token_exits_2_with_one_line(example_outputs: Path, host: str):
    proc = desk_cli(str(example_outputs), "--host", host, "--port", "0")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "PANEL_DESK_TOKEN" in err and host in err


def test_a_short_token_is_refused(example_outputs: Path):
    proc = desk_cli(
        str(example_outputs), "--host", "0.0.0.0", "--port", "0", env={"PANEL_DESK_TOKEN": "hunter2"}
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "at least 16" in err and len(err.strip().splitlines()) == 1


def test_the_cli_prints_a_one_run_sign_in_address_and_stops_cleanly_on_ctrl_c(example_outputs: Path):
    proc = desk_cli(str(example_outputs), "--port", "0", "--editor", "ana")
    try:
        lines = []
        deadline = time.monotonic() + 120
        while not any("records found" in line for line in lines) and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, f"the desk exited early: {proc.communicate(timeout=60)[1][-2000:]}"
            lines.append(line)
        assert "3 records found in" in lines[-1], lines
        url = re.search(r"sign in at (\S+)", "".join(lines)).group(1)
        base, token = url.split("/login?token=")
        assert len(token) >= 40
        with httpx.Client(base_url=base, headers={"Origin": base}) as client:
            assert client.get("/").status_code == 401
            assert client.post("/login", data={"token": token, "name": "ana"}).status_code == 303
            assert client.get("/").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "panel desk: stopped" in out and "Traceback" not in err
