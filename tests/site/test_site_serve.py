"""`panel site serve`: a preview on loopback that serves the built site and nothing else."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from panel.site.build import SiteOptions, build
from panel.site.serve import HEADERS

from conftest import panel_command, run_panel
from factory import write_site_records


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_site_records(tmp_path / "outputs")
    out = tmp_path / "site"
    build(SiteOptions(outputs=tmp_path / "outputs", out=out))
    (tmp_path / "secret.txt").write_text("not part of the site")
    return out


def get(base: str, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw GET (the path is sent as it is, dots and all)."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Host": host} if host else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_it_serves_the_site_with_its_types_and_policy(site: Path, site_server):
    base = site_server(site)
    status, headers, body = get(base, "/")
    assert status == 200 and b"<h1>Panel reviews</h1>" in body
    assert headers["content-type"] == "text/html; charset=utf-8"
    for name, value in HEADERS.items():
        assert headers[name.lower()] == value
    assert get(base, "/feed.xml")[1]["content-type"] == "application/xml"
    assert get(base, "/feed.json")[1]["content-type"] == "application/feed+json"
    assert get(base, "/api/index.json")[1]["content-type"] == "application/json"
    assert get(base, "/assets/site.css")[1]["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/tools/",
        "/tools",
        "/.hidden",
        "/nothing.html",
        "/..%2fsecret.txt",
    ],
)
def test_nothing_outside_the_site_and_no_listings(site: Path, site_server, path: str):
    base = site_server(site)
    status, _, body = get(base, path)
    assert status == 404 and b"not part of the site" not in body


def test_a_link_out_of_the_site_is_not_followed(site: Path, site_server, tmp_path: Path):
    (site / "out.txt").symlink_to(tmp_path / "secret.txt")  # a link planted in the build
    base = site_server(site)
    assert get(base, "/out.txt")[0] == 404


def test_other_host_names_are_refused(site: Path, site_server):
    """A name pointed at 127.0.0.1 (DNS rebinding) does not reach the preview."""
    base = site_server(site)
    port = urllib.parse.urlsplit(base).port
    assert get(base, "/", host="evil.example")[0] == 421
    assert get(base, "/", host=f"evil.example:{port}")[0] == 421
    assert get(base, "/", host=f"localhost:{port}")[0] == 200


def test_a_new_build_is_served_from_the_next_request(site: Path, site_server, tmp_path: Path):
    base = site_server(site)
    assert b"Panel reviews" in get(base, "/")[2]
    build(SiteOptions(outputs=tmp_path / "outputs", out=site, name="Renamed"))
    assert b"<h1>Renamed</h1>" in get(base, "/")[2]


def test_the_command_refuses_other_addresses_and_a_missing_site(tmp_path: Path):
    refused = run_panel("site", "serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert refused.returncode == 2 and "refusing to serve on 0.0.0.0" in refused.stderr
    missing = run_panel("site", "serve", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "no site has been built here" in missing.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_the_command_serves_until_interrupted(site: Path, tmp_path: Path):
    """Ctrl-C stops it, also when it starts with SIGINT ignored (a script's background job)."""
    exe, env = panel_command()
    proc = subprocess.Popen(
        [exe, "site", "serve", str(site), "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert "panel site: serving" in line, proc.stderr.read()  # type: ignore[union-attr]
        url = line.split(" at ")[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:")
        assert get(url, "/index.html")[0] == 200
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # not left serving after the test
            proc.communicate()
            raise
    assert proc.returncode == 0 and "stopped" in out
