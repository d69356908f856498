"""The review desk under load: 10,000 panels and 2,000 comparisons behind the real `panel desk`.

    python bench/desk.py [--panels 10000] [--comparisons 2000] [--keep DIR]

Writes the records (one real record per kind, varied by name and scores, checksums recomputed, so
every file is valid), starts the real desk server (`python -m panel.cli desk`, as `panel desk`),
and prints: start-up time until the first queue page answers, with no index yet (cold) and with
the index from the first run (warm); the median of 20 requests for the queue's first page, a
filtered query and a record page; the median of 20 real saves (a POST with its CSRF token); the
server's peak RSS; and its RSS after 20 and after 200 repeated requests (memory must not grow).
Then, as a team (accounts added while it runs, 50 drafts assigned to a reviewer and 50 awaiting
approval): a sign-in with a personal link (an argon2id check), "My drafts", "Awaiting approval",
a record page with its team panel, and taking a draft.
Targets on a 2-core machine: start-up under 10 s; queue and record pages under 300 ms median; a
save under 200 ms; no growth with repeated requests; a sign-in (a deliberately slow hash) under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from panel.records import (
    Comparison,
    Provenance,
    ReviewEntry,
    ReviewFailure,
    Sampling,
    Tool,
    ToolPanel,
    verdict_for,
)
from panel.records.store import checksum, slugify

TOKEN = "bench-desk-token-0123456789abcdef"
PERSONAS = ("builder", "skeptic", "futurist", "founder")
TEXT = (
    "The tool turns a schema into typed clients for four languages and checks in the build that "
    "the generated code still matches the service. The first hour is pointing it at one schema "
    "and reading the diff it produces. A weekend script could template the clients, but it would "
    "not notice the field that changed type last week, and that check is the reason to adopt it."
)
PROFILES = ((82, 55, 71, 64), (40, 45, 62, 30), (90, 88, 75, 70), (58, 61, 33, 47))


def provenance(persona: str) -> Provenance:
    return Provenance(
        profile="bench",
        model="bench-model",
        engine="vllm-server",
        persona_digest="p",
        prompt_digest="q",
        schema_digest="s",
        cache_key=f"key-{persona}",
        sampling=Sampling(temperature=0.7, top_p=0.9, max_tokens=512),
    )


def base_panel(scores: tuple[int, ...], failed: bool) -> ToolPanel:
    reviews = [
        ReviewEntry(persona=p, score=s, verdict=verdict_for(s, 60), review=TEXT, provenance=provenance(p))
        for p, s in zip(PERSONAS, scores, strict=True)
    ]
    failures = []
    if failed:
        reviews.pop()
        failures = [ReviewFailure(persona="founder", reason="the server answered HTTP 500")]
    return ToolPanel(
        tool=Tool(name="@@A@@", description="@@A@@ generates typed clients from a schema."),
        reviews=reviews,
        failures=failures,
    )


def templates() -> tuple[list[str], list[str]]:
    """JSON texts with @@A@@ / @@B@@ where the tool names go: varied, then re-checksummed."""
    panels = [
        json.dumps(base_panel(s, failed=i == 3).model_dump(mode="json")) for i, s in enumerate(PROFILES)
    ]
    comparisons = []
    for i in range(len(PROFILES)):
        a = base_panel(PROFILES[i], failed=False)
        b = base_panel(PROFILES[(i + 1) % len(PROFILES)], failed=False)
        b = b.model_copy(update={"tool": b.tool.model_copy(update={"name": "@@B@@"})})
        b = b.model_copy(update={"tool": b.tool.model_copy(update={"description": "@@B@@ does it too."})})
        comparisons.append(json.dumps(Comparison(panels=[a, b]).model_dump(mode="json")))
    return panels, comparisons


def write(path: Path, template: str, names: dict[str, str], hand_edited: bool = False) -> None:
    text = template
    for key, name in names.items():
        text = text.replace(key, name)
    data = json.loads(text)
    if not hand_edited:
        data["checksum"] = checksum(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def make_records(root: Path, n_panels: int, n_comparisons: int) -> None:
    panels, comparisons = templates()
    (root / "panels").mkdir(parents=True)
    (root / "comparisons").mkdir()
    for i in range(n_panels):
        name = f"Tool {i:05d}"
        write(
            root / "panels" / f"{slugify(name)}.json", panels[i % len(panels)], {"@@A@@": name}, i % 97 == 0
        )
    for i in range(n_comparisons):
        a, b = f"Tool {2 * i:05d}", f"Tool {2 * i + 1:05d}"
        path = root / "comparisons" / f"{slugify(a)}-vs-{slugify(b)}.json"
        write(path, comparisons[i % len(comparisons)], {"@@A@@": a, "@@B@@": b})


def median_ms(action: Callable[[], object], n: int = 20) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    if response.status_code != status:
        raise SystemExit(f"bench: {response.request.method} {response.request.url} -> {response.status_code}")
    return response


class Desk:
    """The real `panel desk` in a subprocess, signed in over HTTP."""

    def __init__(self, root: Path):
        env = {**os.environ, "PANEL_DESK_TOKEN": TOKEN, "NO_COLOR": "1"}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panel.cli", "desk", str(root), "--port", "0", "--editor", "bench"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = None
        while url is None:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"bench: the desk did not start: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            found = re.search(r"sign in at (http://\S+)/login", line)
            url = found.group(1) if found else None
        self.url = url
        self.client = httpx.Client(base_url=url, headers={"Origin": url}, timeout=60)
        ok(self.client.post("/login", data={"token": TOKEN, "name": "bench"}), 303)
        ok(self.client.get("/"))
        self.startup_s = time.perf_counter() - self.started
        self.process = psutil.Process(self.proc.pid)

    def wait_indexed(self) -> float:
        """Seconds from launch until the desk says its index is up to date."""
        while True:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"bench: the desk stopped: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            if "records found" in line:
                return time.perf_counter() - self.started

    def rss_mib(self) -> float:
        return self.process.memory_info().rss / 2**20

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        self.client.close()
        self.proc.send_signal(2)
        self.proc.wait(timeout=60)


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panels", type=int, default=10_000)
    parser.add_argument("--comparisons", type=int, default=2_000)
    parser.add_argument("--keep", type=Path, help="Write the records here and keep them.")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="panel-desk-bench-")) / "outputs"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    started = time.perf_counter()
    make_records(root, args.panels, args.comparisons)
    print(
        f"records: {args.panels:,} panels + {args.comparisons:,} comparisons in {root} "
        f"({time.perf_counter() - started:.1f} s to write)"
    )

    cold = Desk(root)
    line("start-up, no index yet: first page", cold.startup_s, "s")
    line("  ... index built (in the background)", cold.wait_indexed(), "s")
    cold.stop()
    desk = Desk(root)
    line("start-up, index present: first page", desk.startup_s, "s")
    line("  ... index checked against the files", desk.wait_indexed(), "s")
    c = desk.client
    try:
        k = args.comparisons // 2
        record = "/r/comparisons~" + f"{slugify(f'Tool {2 * k:05d}')}-vs-{slugify(f'Tool {2 * k + 1:05d}')}"
        line("queue, first page", median_ms(lambda: ok(c.get("/"))), "ms, median of 20")
        filtered = "/?kind=panel&flag=failed&q=tool%2000&sort=changed"
        rows = len(re.findall(r'<a href="/r/', ok(c.get(filtered)).text))
        line(f"queue, filtered ({rows} rows)", median_ms(lambda: ok(c.get(filtered))), "ms, median of 20")
        line("record page (a comparison)", median_ms(lambda: ok(c.get(record))), "ms, median of 20")
        saves = []
        for n in range(20):
            form = hidden(ok(c.get(record)).text)
            form["tools[0].reviews.builder.review"] = TEXT.replace("four languages", f"{n + 5} languages")
            started = time.perf_counter()
            ok(c.post(record + "/save", data=form), 303)
            saves.append((time.perf_counter() - started) * 1000)
        line("save (a POST with CSRF, CAS write)", statistics.median(saves), "ms, median of 20")

        pages = ["/", filtered, record, "/?page=7", "/r/panels~" + slugify(f"Tool {args.panels // 3:05d}")]
        for i in range(20):
            ok(c.get(pages[i % len(pages)]))
        after_20 = desk.rss_mib()
        for i in range(200):
            ok(c.get(pages[i % len(pages)]))
        after_220 = desk.rss_mib()
        for i in range(200):
            ok(c.get(pages[i % len(pages)]))
        after_420 = desk.rss_mib()
        line("RSS after 20 requests", after_20, "MiB")
        line("RSS after 200 more requests", after_220, f"MiB ({after_220 - after_20:+.1f} MiB)")
        line("RSS after 200 more again", after_420, f"MiB ({after_420 - after_220:+.1f} MiB)")
        line("peak RSS of the desk server", desk.peak_rss_mib(), "MiB")
        team(desk, root, args.comparisons)
    finally:
        desk.stop()


def team(desk: Desk, root: Path, comparisons: int) -> None:
    """The same desk as a team's: accounts appear while it runs (its single token stops working)."""
    from panel.team.accounts import Accounts
    from panel.team.work import WorkStore

    accounts = Accounts(root)
    ana, pat = accounts.add("ana", "reviewer", "bench").token, accounts.add("pat", "publisher", "bench").token
    work = WorkStore(root)
    names = [
        f"{slugify(f'Tool {2 * k:05d}')}-vs-{slugify(f'Tool {2 * k + 1:05d}')}" for k in range(comparisons)
    ]
    for name in names[:50]:
        work.assign(f"comparisons/{name}.json", "ana", "pat")
    for name in names[50:100]:
        work.request(f"comparisons/{name}.json", "ana", 1)
    work.close()
    reviewer = httpx.Client(base_url=desk.url, headers={"Origin": desk.url}, timeout=60)
    publisher = httpx.Client(base_url=desk.url, headers={"Origin": desk.url}, timeout=60)
    line(
        "sign-in with a personal link",
        median_ms(lambda: ok(reviewer.post("/login", data={"token": ana}), 303)),
        "ms, median of 20",
    )
    ok(publisher.post("/login", data={"token": pat}), 303)
    line("queue, My drafts (50 assigned)", median_ms(lambda: ok(reviewer.get("/"))), "ms, median of 20")
    line("queue, Awaiting approval (50)", median_ms(lambda: ok(publisher.get("/"))), "ms, median of 20")
    record = f"/r/comparisons~{names[60]}"
    line("record page, awaiting approval", median_ms(lambda: ok(publisher.get(record))), "ms, median of 20")
    takes = []
    for name in names[100:120]:
        csrf = hidden(ok(reviewer.get(f"/r/comparisons~{name}")).text)["csrf"]
        started = time.perf_counter()
        ok(reviewer.post(f"/r/comparisons~{name}/take", data={"csrf": csrf}), 303)
        takes.append((time.perf_counter() - started) * 1000)
    line("take a draft (a POST)", statistics.median(takes), "ms, median of 20")
    reviewer.close()
    publisher.close()


def line(label: str, value: float, unit: str) -> None:
    print(f"{label + ':':<40}{value:8.1f} {unit}", flush=True)


if __name__ == "__main__":
    main()
