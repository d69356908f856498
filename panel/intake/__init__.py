"""Launch intake: vendor pages, structured data and package registries, fetched safely, stored as
snapshots and turned into tool files whose sources name the page and the time they were read.

One module per job: `addresses` (which hosts may be fetched), `fetcher` (httpx, pinned to the
checked address), `robots`, `snapshots` (bodies under outputs/evidence/), `extract` and
`structured` (a page's text and data), `links` (the pages claims need), `registries`, `passages`
(what fits a source), `sources` (a body as a source), `feeds`, `gather` (one tool), `toolfile`,
`state` (entries taken in) and `recheck`. Below grounding: the entry points join them.
"""
