"""The published site: static pages, feeds, a sitemap, structured data and a JSON API, built from
the records under outputs/published/, incrementally, and swapped in whole.

One module per job: `layout` (where each file goes and its address), `collect` (read the published
records, one at a time), `catalog` (the build's manifest: what each record says and what each
output was made from), `views` (what each page shows), `pages` (HTML, through the templates the
published page uses), `jsonld`, `feeds`, `sitemap`, `api`, `outputs` (each output from its inputs),
`staging` (the files of one build), `releases` (two build slots, swapped in by one rename, and a
lock per site), `build` (what changed records touch, and the build), `digest` (the weekly e-mail)
and `serve` (a loopback preview). docs/site.md has the whole story.
"""
