"""`panel site serve`: a built site on loopback, for a look before deploying it.

The standard library's HTTP server, as a preview and nothing more: loopback only (the CLI refuses
any other address; deploy the folder to a static host instead), files under the site folder only,
no directory listings, the Host header checked (so a page elsewhere cannot reach it through a
DNS name that points here), and the same content policy as the pages carry. Each request resolves
the site's link afresh, so a build swapped in while it serves is served from the next request on.
"""

from __future__ import annotations

import http.server
import os
import posixpath
import socket
import urllib.parse
from pathlib import Path
from typing import Any

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
}


def loopback_names(port: int) -> frozenset[str]:
    """The Host header values a loopback preview answers to."""
    names = {"localhost", "127.0.0.1", "[::1]"}
    return frozenset(names | {f"{n}:{port}" for n in names})


class _Handler(http.server.SimpleHTTPRequestHandler):
    site: Path
    hosts: frozenset[str]
    quiet: bool

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, directory=str(self.site), **kwargs)

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        if Path(path).name == "feed.json":
            return "application/feed+json"
        return TYPES.get(Path(path).suffix, "application/octet-stream")

    def send_head(self) -> Any:
        if (self.headers.get("Host") or "").lower() not in self.hosts:
            self.send_error(421, "Misdirected Request")
            return None
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path.endswith("/"):
            self.path = path + "index.html"
        if not self._inside(self.translate_path(self.path)):
            self.send_error(404, "Not Found")
            return None
        return super().send_head()

    def _inside(self, path: str) -> bool:
        """A plain file under the site (a link out of it, a folder, a dot-file: not found)."""
        root = self.site.resolve()
        real = Path(path).resolve()
        parts = posixpath.normpath(urllib.parse.urlsplit(self.path).path).split("/")
        return root in real.parents and real.is_file() and not any(part.startswith(".") for part in parts)

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def server(site: Path, sock: socket.socket, quiet: bool = False) -> http.server.ThreadingHTTPServer:
    """An HTTP server for `site` on an already bound loopback socket (see cli.desk.listen)."""
    port = sock.getsockname()[1]
    handler = type("SiteHandler", (_Handler,), {"site": site, "hosts": loopback_names(port), "quiet": quiet})
    httpd = http.server.ThreadingHTTPServer(sock.getsockname()[:2], handler, bind_and_activate=False)
    httpd.socket.close()
    httpd.socket = sock
    httpd.server_activate()
    return httpd
