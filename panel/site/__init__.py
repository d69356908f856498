"""The published site: static pages, feeds, a sitemap, structured data and a JSON API, built from
the records under outputs/published/, incrementally, and swapped in whole.

One module per job: `layout` (where each file goes and its address), `collect` (read the published
records, one at a time), `catalog` (the build's manifest: what each record says and what each
output was built from), `views` (what each page shows), `pages` (HTML, through the templates the
published page uses), `jsonld`, `feeds`, `sitemap`, `api`, `digest`, `releases` (a build folder
swapped in atomically) and `build`, which joins them; `serve` previews a built site.
"""
