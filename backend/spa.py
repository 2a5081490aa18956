"""The web app's entry page. Every app route (/, /search, /listings/…, /deals/…) answers the built
index.html, and the React router takes over in the browser; API, admin, escrow and webhook paths never
reach this view. The page sets the CSRF cookie that the app sends back as X-CSRFToken."""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Web app not built</title>
<h1>The web app is not built</h1><p>Run <code>make web</code> (or <code>make demo</code>, which builds it),
or <code>make web-dev</code> for the hot-reloading dev server on :5173.
The API is at <a href="/graphql/">/graphql/</a>.</p></html>"""


def _index() -> bytes | None:
    path = Path(settings.WEB_APP_DIST) / "index.html"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@require_safe
@ensure_csrf_cookie
def web_app(request: HttpRequest, path: str = "") -> HttpResponse:
    body = _index()
    if body is None:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/html; charset=utf-8")
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    # The page names the current asset hashes: always revalidate it, so a new build is picked up.
    response["Cache-Control"] = "no-cache"
    return response
