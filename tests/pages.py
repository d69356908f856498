"""A fixed comparison of two invented tools, and an XSS corpus: shared by every test of a page
(the published page, the desk, the site). Every word below was written for these tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from panel.records import (
    CommunityVotes,
    Comparison,
    Draft,
    Provenance,
    ReviewEntry,
    ReviewFailure,
    Sampling,
    Tool,
    ToolPanel,
)

AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
NAMES = {"builder": "Builder", "skeptic": "Skeptic", "futurist": "Futurist", "founder": "Founder"}

CRONWRIGHT = Tool(
    name="Cronwright",
    tagline="Self-hosted job scheduling with a web console for cron",
    category="Developer Tools",
    pricing={"entry": "open-source", "detail": "Apache-2.0; paid support plans from $400 per month"},
    url="https://cronwright.example",
    description=(
        "Cronwright replaces crontab files with a single binary that stores schedules in Postgres, "
        "runs jobs in containers or as shell commands, and shows every run with its logs in a web "
        "console. Failed runs retry with backoff and page the owner through Slack or email. "
        "Schedules live in a YAML file in the repository, so changes go through code review."
    ),
)
TICKLANE = Tool(
    name="Ticklane",
    tagline="Hosted cron that calls your HTTPS endpoints on schedule",
    category="Developer Tools",
    pricing={"entry": "paid", "detail": "$9 per month for 50 schedules, then $0.10 per schedule"},
    url="https://ticklane.example",
    description=(
        "Ticklane is a hosted scheduler: you register an HTTPS endpoint and a cron expression, and "
        "Ticklane calls it on time from three regions, signs each request and records the response. "
        "A dashboard shows missed and slow calls, and alerts go to webhooks. A REST API and a "
        "Terraform provider manage schedules as code."
    ),
)


def para(text: str) -> str:
    """A review paragraph written across source lines, as one line of text."""
    return " ".join(text.split())


REVIEWS = {
    "Cronwright": [
        (
            "builder",
            82,
            "ship",
            para("""
            The primitive here is a schedule file in the repository that a single binary turns into
            container runs with logs attached. The adoption bet is replacing crontab rather than
            competing with workflow engines, which keeps the first hour short: install the binary, point
            it at Postgres, paste three existing cron lines into the file and watch them appear in the
            console with their output. A weekend alternative is systemd timers plus a log shipper, but
            the retry and paging wiring is what you would get wrong. Shipping it.
        """),
        ),
        (
            "skeptic",
            55,
            "skip",
            para("""
            Every claim here lands on one Postgres database that now sits between a team and its nightly
            jobs. If that database is down, does anything run at all, and who notices? The easy
            migration story comes from the makers and has no method behind it. Container runs also mean
            image pulls at the worst moment. I would want to see how two replicas avoid running the same
            job twice before I trusted payroll exports to it. Until then, skip.
        """),
        ),
        (
            "futurist",
            74,
            "ship",
            para("""
            Schedules as reviewed code is where operations has been heading for years, and this pulls
            the humble cron job into that world. If it keeps the file format open, other tools can read
            and lint it, and the console becomes one view among many. The risk is that orchestration
            platforms absorb scheduling as a checkbox feature. Even so, in three years teams will expect
            every recurring task to have a history and an owner, and this gets them there today.
        """),
        ),
        (
            "founder",
            66,
            "ship",
            para("""
            The buyer is a platform lead who has been burned by a silent cron failure, and that pain is
            real and budgeted. Open source removes the procurement step, and paid support is a sensible
            second purchase once a job matters. The moat is thin because the core is easy to copy, so
            the company has to win on migration tooling and trust. For a small team adopting it, the
            cost of trying is an afternoon, which makes it an easy ship.
        """),
        ),
    ],
    "Ticklane": [
        (
            "builder",
            71,
            "ship",
            para("""
            The primitive is an HTTPS call on a cron expression, signed and recorded, with no process of
            yours to keep alive. The bet is that most scheduled work already lives behind an endpoint,
            which is true for serverless teams. The first hour is a Terraform block, a signature check
            in your handler and a test call from the dashboard. The weekend alternative is a cloud
            scheduler rule per job, which works until you want one place to see misses. Good enough to
            ship.
        """),
        ),
        (
            "skeptic",
            48,
            "skip",
            para("""
            Ticklane asks you to expose every scheduled task as a public endpoint and trust a third
            party to call it. Signed requests help, but now replay windows, clock skew and key rotation
            are your problem. Calls from three regions raise the question of duplicate delivery, and the
            material never says whether a job can run twice. Per-schedule pricing also grows quietly as
            teams add small jobs. I cannot see the failure story clearly enough to recommend it.
        """),
        ),
        (
            "futurist",
            58,
            "ship",
            para("""
            Scheduling as a hosted utility fits the direction of serverless platforms, but those
            platforms add native schedulers of their own every year. The interesting part is the shared
            record of every call across services, which could become an audit trail that compliance
            teams ask for. If Ticklane opens that record through an export API it has a future; if not,
            it is a feature waiting to be bundled by the clouds it runs on.
        """),
        ),
        (
            "founder",
            45,
            "skip",
            para("""
            Nine dollars a month is an easy card swipe, which makes Ticklane easy to try and easy to
            leave. The buyer is an individual developer, not a budget owner, and the per-schedule meter
            means the bill scales with usage that nobody watches. Competition from every cloud
            provider's built-in scheduler is direct and free. For a product team choosing today, the
            lock-in is small, but so is the upside over what they already pay for.
        """),
        ),
    ],
}


def provenance(persona: str) -> Provenance:
    return Provenance(
        profile="test",
        model="test-model",
        engine="vllm-server",
        persona_digest="p" * 8,
        prompt_digest="q" * 8,
        schema_digest="s" * 8,
        cache_key=f"key-{persona}",
        sampling=Sampling(temperature=0.7, top_p=0.95, max_tokens=1024, seed=7),
        created_at=AT,
    )


def entry(persona: str, score: int, verdict: str, text: str, **extra: object) -> ReviewEntry:
    return ReviewEntry(
        persona=persona, score=score, verdict=verdict, review=text, provenance=provenance(persona), **extra
    )


def tool_panel(tool: Tool, reviews: list[ReviewEntry], failures: Sequence[ReviewFailure] = ()) -> ToolPanel:
    return ToolPanel(tool=tool, reviews=reviews, failures=list(failures), created_at=AT, updated_at=AT)


def comparison(a: ToolPanel | None = None, b: ToolPanel | None = None) -> Comparison:
    """The fixed comparison; Ticklane's futurist verdict was hand-edited to disagree with its score."""
    if a is None:
        a = tool_panel(CRONWRIGHT, [entry(*r) for r in REVIEWS["Cronwright"]])
    if b is None:
        reviews = [entry(*r) for r in REVIEWS["Ticklane"]]
        futurist = reviews[2]
        reviews[2] = entry(
            *REVIEWS["Ticklane"][2], original=Draft(score=58, verdict="skip", review=futurist.review)
        )
        b = tool_panel(TICKLANE, reviews)
    return Comparison(
        panels=[a, b],
        community={"Cronwright": CommunityVotes(ship=14, skip=3)},
        created_at=AT,
        updated_at=AT,
    )


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)' x='",
    "javascript:alert(document.cookie)",
    '<a href="javascript:alert(1)">click me</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<iframe src="https://evil.example/frame"></iframe>',
    "{{ 7*7 }} {{ ''.__class__.__mro__ }} {% for x in range(3) %}loop{% endfor %}",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &#60;b&#62;",
    "</style><script>alert(1)</script><style>",
    "</title><script>alert(1)</script>",
    "<!-- --><script>alert(1)</script><!-- -->",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<body onload=alert(1)><form action=https://evil.example><input name=q></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">',
    '<link rel=stylesheet href=https://evil.example/x.css><div style="background:url(//evil.example)">',
    "＜script＞alert(1)＜／script＞ \u202eevil\u202c 数据库工具 🚀 e\u0301 \u200b",
    "nul\x00<script>\x1b[31malert(1)</script>\x7f\x85 control characters",
    "[x](javascript:alert(1)) ![y](https://evil.example/a.png) <https://evil.example> www.evil.example",
    "| a | b |\n|---|---|\n| c | d |\n\n# Heading\n\n---\n> quote\n```\ncode\n```\n* item\n1. one",
    "**bold** _em_ ~~gone~~ `code` $x^2$ :rocket: @octocat #123 \\<script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<img src=x onerror=alert(1)>" * 300,
]
