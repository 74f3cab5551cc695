"""The web pages' files, shipped inside the package (served by upstat.api.routes.pages with a strict
Content-Security-Policy).

- The public status page at ``/status`` and at ``/``: its script reads ``v1/status/page`` (one request per
  refresh; public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on, else it asks for a key).
- The operator dashboard at ``/dashboard``: its script asks for a read key once (kept in the tab's session
  storage, sent as a bearer token) and reads only the documented API routes.

No page holds data, and nothing is loaded from another host (the chart library, uPlot, is vendored under
``static/vendor``). Links are relative, so the pages work behind an API Gateway stage path. The only
server-side change to a page is its title (``UPSTAT_STATUS_PAGE_TITLE``, HTML-escaped), so it shows before
the script runs. Assets are read once per process (they ship inside the layer).
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources

#: Scripts and style sheets are separate files so the policy can forbid inline code.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Asset name (as linked) -> (file under static/, media type). Only these are served.
ASSETS = {
    "status.html": ("status.html", "text/html; charset=utf-8"),
    "dashboard.html": ("dashboard.html", "text/html; charset=utf-8"),
    "common.js": ("common.js", "text/javascript; charset=utf-8"),
    "status.js": ("status.js", "text/javascript; charset=utf-8"),
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "common.css": ("common.css", "text/css; charset=utf-8"),
    "status.css": ("status.css", "text/css; charset=utf-8"),
    "dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "uplot.min.js": ("vendor/uplot.min.js", "text/javascript; charset=utf-8"),
    "uplot.min.css": ("vendor/uplot.min.css", "text/css; charset=utf-8"),
}
#: Replaced by the configured title in the HTML pages.
TITLE_MARK = "{{title}}"


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    """The bytes of one packaged asset (``upstat/web/static/<file>``)."""
    return resources.files("upstat.web").joinpath("static", *ASSETS[name][0].split("/")).read_bytes()


@lru_cache(maxsize=16)
def page(name: str, title: str) -> bytes:
    """An HTML page with the configured title in it (HTML-escaped)."""
    return asset(name).replace(TITLE_MARK.encode(), html.escape(title).encode())
