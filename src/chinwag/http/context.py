"""What every HTTP handler gets besides the request: the domain dependencies and settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import falcon.asgi

from chinwag.config import Settings
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.events import API_ACTOR, API_WEBHOOK_ACTOR


@dataclass
class Api:
    """Per-app state for handlers. ``caller`` is set at startup, once the account is known."""

    deps: Deps
    settings: Settings
    caller: Caller = field(default_factory=lambda: Caller("", API_ACTOR))

    def with_webhooks(self) -> Api:
        """This view with a caller whose mutations fire post-event webhooks."""
        return dataclasses.replace(self, caller=Caller(self.caller.account_sid, API_WEBHOOK_ACTOR))

    def base_url(self, req: falcon.asgi.Request) -> str:
        """Scheme and host for ``url``/``links``/``meta``: ``--public-url``, else the request's
        own (honouring ``Forwarded``/``X-Forwarded-*`` from a proxy)."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return f"{req.forwarded_scheme}://{req.forwarded_host}"

    def list_url(self, req: falcon.asgi.Request) -> str:
        """The requested list URL without query: meta URLs echo the path as requested
        (aliases included, still percent-encoded: see ``chinwag.http.raw_path``)."""
        return self.base_url(req) + req.path
