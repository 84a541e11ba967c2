"""What every HTTP handler gets besides the request: the domain dependencies and settings."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import falcon.asgi

from chinwag import errors
from chinwag.config import Settings
from chinwag.domain.deps import Caller, Deps
from chinwag.http.render import V1, Renderer
from chinwag.model.events import API_ACTOR, API_WEBHOOK_ACTOR

#: A host name (letters, digits, ``-``, ``_``, dots) or a bracketed IPv6 literal, and a port.
_HOST = re.compile(r"(?:[A-Za-z0-9_.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


#: Where a request's base URL is kept once checked (on ``req.context``).
_BASE_URL = "chinwag_base_url"


def _first(value: str) -> str:
    return value.partition(",")[0].strip()


@dataclass
class Api:
    """Per-app state for handlers. ``caller`` is set at startup, once the account is known."""

    deps: Deps
    settings: Settings
    caller: Caller = field(default_factory=lambda: Caller("", API_ACTOR))
    #: the API version's shapes: the handlers a version shares with v1 render through this
    render: Renderer = V1
    #: the last valid (forwarded scheme, forwarded host) and its base URL: nearly every request
    #: sends the same two as the one before, so the check is made once, not per request
    _last_base: tuple[tuple[str, str], str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def with_render(self, renderer: Renderer) -> Api:
        """This view rendering another API version's shapes."""
        return dataclasses.replace(self, render=renderer)

    def with_webhooks(self) -> Api:
        """This view with a caller whose mutations fire post-event webhooks."""
        return dataclasses.replace(self, caller=Caller(self.caller.account_sid, API_WEBHOOK_ACTOR))

    def base_url(self, req: falcon.asgi.Request) -> str:
        """Scheme and host for ``url``/``links``/``meta``: ``--public-url``, else the request's
        own (honouring ``Forwarded``/``X-Forwarded-*`` from a proxy).

        A header that lists several values (proxies appending theirs) counts by its first
        entry, the one the client-facing proxy saw. A host or scheme that is not one is refused
        (400), never reflected into URLs; the route responder asks before the handler runs, so
        such a request changes nothing.
        """
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        base: str | None = req.context.get(_BASE_URL)
        if base is None:
            sent = (req.forwarded_scheme, req.forwarded_host)
            last = self._last_base
            if last is not None and sent == last[0]:  # as the previous request's: checked then
                base = last[1]
            else:
                scheme, host = _first(sent[0]).lower(), _first(sent[1])
                if scheme not in ("http", "https") or not _HOST.fullmatch(host):
                    detail = "Invalid Host or X-Forwarded-* header"
                    raise errors.MalformedRequestError(detail=detail)
                base = f"{scheme}://{host}"
                self._last_base = (sent, base)
            req.context[_BASE_URL] = base
        return base

    def list_url(self, req: falcon.asgi.Request) -> str:
        """The requested list URL without query: meta URLs echo the path as requested
        (aliases included, still percent-encoded: see ``chinwag.http.raw_path``)."""
        return self.base_url(req) + req.path
