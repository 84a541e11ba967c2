"""``GET /``: a page for whoever opens the server's address in a browser.

The API lives under ``/v1`` and needs credentials; a browser pointed at the bare address would
otherwise meet a 404 or a Basic-auth prompt. This page holds no data and asks for none: it
says what the server is and links to the console, health and metrics, and names the docs.
"""

from __future__ import annotations

import html

import falcon
import falcon.asgi

from chinwag.api.routing import Route
from chinwag.http.routes import Access, Endpoint, resource_routes

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"


def _page(console: bool) -> bytes:
    from chinwag import __version__  # the package imports this module while it loads

    links = (
        [
            (
                "/_chinwag/ui/",
                "Admin console",
                "browse, watch live, the webhook log (sign in with the account SID and auth token)",
            )
        ]
        if console
        else []
    )
    links += [
        ("/healthz", "Health", "the database's and Redis's state, as JSON"),
        ("/metrics", "Metrics", "Prometheus text"),
    ]
    items = "".join(
        f'<li><a href="{href}">{html.escape(name)}</a>: {html.escape(what)}</li>'
        for href, name, what in links
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>chinwag</title><style>{_STYLE}</style>"
        f"<h1>chinwag {html.escape(__version__)}</h1>"
        "<p>A self-hosted Twilio Programmable Chat server. The REST API is under "
        "<code>/v1</code> (HTTP Basic: the account SID and auth token, or an API key); chat "
        "clients connect with the twilio-chat SDK and an access token.</p>"
        f"<ul>{items}</ul>"
        "<p>Documentation: <code>README.md</code> and the <code>docs/</code> folder of the "
        "chinwag source (configuration, clients, deploy, operations, testing).</p>"
    ).encode()


class _Home:
    def __init__(self, console: bool) -> None:
        self.body = _page(console)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.set_headers(_HEADERS)
        resp.data = self.body

    on_head = on_get


def home_routes(console: bool) -> list[Route[Endpoint]]:
    """``/``, open to anyone; ``console``: whether to link the admin console."""
    return resource_routes("/", _Home(console), Access.OPEN)
