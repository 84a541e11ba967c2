"""Every route in one table: reads like an index of the API.

Each row is (method, path, spec operationId, handler). Falcon needs one name per variable
segment position, so paths use ``{service}``, ``{channel}``… where the spec says ``{Sid}`` or
``{ServiceSid}``; the contract test maps the two. Handlers are named after the operationId.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import falcon.asgi

from chinwag.http.context import Api
from chinwag.http.observe import OPERATION
from chinwag.http.raw_path import segment
from chinwag.http.resources import (
    channels,
    credentials,
    invites,
    members,
    messages,
    roles,
    services,
    user_channels,
    users,
)

Handler = Callable[..., Awaitable[None]]

WEBHOOK_ENABLED = "X-Twilio-Webhook-Enabled"

S = "/v1/Services/{service}"
CH = f"{S}/Channels/{{channel}}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    handler: Handler


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/Credentials", "ListCredential", credentials.list_credentials),
    Route("POST", "/v1/Credentials", "CreateCredential", credentials.create_credential),
    Route("GET", "/v1/Credentials/{sid}", "FetchCredential", credentials.fetch_credential),
    Route("POST", "/v1/Credentials/{sid}", "UpdateCredential", credentials.update_credential),
    Route("DELETE", "/v1/Credentials/{sid}", "DeleteCredential", credentials.delete_credential),
    Route("GET", "/v1/Services", "ListService", services.list_services),
    Route("POST", "/v1/Services", "CreateService", services.create_service),
    Route("GET", S, "FetchService", services.fetch_service),
    Route("POST", S, "UpdateService", services.update_service),
    Route("DELETE", S, "DeleteService", services.delete_service),
    Route("GET", f"{S}/Roles", "ListRole", roles.list_roles),
    Route("POST", f"{S}/Roles", "CreateRole", roles.create_role),
    Route("GET", f"{S}/Roles/{{role}}", "FetchRole", roles.fetch_role),
    Route("POST", f"{S}/Roles/{{role}}", "UpdateRole", roles.update_role),
    Route("DELETE", f"{S}/Roles/{{role}}", "DeleteRole", roles.delete_role),
    Route("GET", f"{S}/Users", "ListUser", users.list_users),
    Route("POST", f"{S}/Users", "CreateUser", users.create_user),
    Route("GET", f"{S}/Users/{{user}}", "FetchUser", users.fetch_user),
    Route("POST", f"{S}/Users/{{user}}", "UpdateUser", users.update_user),
    Route("DELETE", f"{S}/Users/{{user}}", "DeleteUser", users.delete_user),
    Route(
        "GET", f"{S}/Users/{{user}}/Channels", "ListUserChannel", user_channels.list_user_channels
    ),
    Route("GET", f"{S}/Channels", "ListChannel", channels.list_channels),
    Route("POST", f"{S}/Channels", "CreateChannel", channels.create_channel),
    Route("GET", CH, "FetchChannel", channels.fetch_channel),
    Route("POST", CH, "UpdateChannel", channels.update_channel),
    Route("DELETE", CH, "DeleteChannel", channels.delete_channel),
    Route("GET", f"{CH}/Members", "ListMember", members.list_members),
    Route("POST", f"{CH}/Members", "CreateMember", members.create_member),
    Route("GET", f"{CH}/Members/{{member}}", "FetchMember", members.fetch_member),
    Route("POST", f"{CH}/Members/{{member}}", "UpdateMember", members.update_member),
    Route("DELETE", f"{CH}/Members/{{member}}", "DeleteMember", members.delete_member),
    Route("GET", f"{CH}/Messages", "ListMessage", messages.list_messages),
    Route("POST", f"{CH}/Messages", "CreateMessage", messages.create_message),
    Route("GET", f"{CH}/Messages/{{message}}", "FetchMessage", messages.fetch_message),
    Route("POST", f"{CH}/Messages/{{message}}", "UpdateMessage", messages.update_message),
    Route("DELETE", f"{CH}/Messages/{{message}}", "DeleteMessage", messages.delete_message),
    Route("GET", f"{CH}/Invites", "ListInvite", invites.list_invites),
    Route("POST", f"{CH}/Invites", "CreateInvite", invites.create_invite),
    Route("GET", f"{CH}/Invites/{{invite}}", "FetchInvite", invites.fetch_invite),
    Route("DELETE", f"{CH}/Invites/{{invite}}", "DeleteInvite", invites.delete_invite),
)


class _PathResource:
    """The Falcon resource for one path: an ``on_<method>`` responder per route row."""

    def __init__(self, api: Api, routes: list[Route]) -> None:
        #: method -> responder, for Falcon (as ``on_<method>``) and ``chinwag.http.direct``
        self.responders: dict[str, Handler] = {}
        for route in routes:
            responder = _bind(api, route)
            self.responders[route.method] = responder
            if route.method == "GET":  # HEAD is GET without the body (RFC 9110 9.3.2)
                self.responders["HEAD"] = responder
        for method, responder in self.responders.items():
            setattr(self, f"on_{method.lower()}", responder)
        self._allowed = list(self.responders)

    async def on_options(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **_: str
    ) -> None:
        """The spec has no OPTIONS operation: 405 like any other method, not Falcon's 200."""
        raise falcon.HTTPMethodNotAllowed(self._allowed)


def _bind(api: Api, route: Route) -> Callable[..., Awaitable[None]]:
    handler, operation_id = route.handler, route.operation_id

    async def responder(
        req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str
    ) -> None:
        params = {name: segment(value) for name, value in params.items()}
        req.scope[OPERATION] = operation_id
        api.base_url(req)  # an invalid Host is refused before anything changes
        await handler(_api_for(api, req), req, resp, **params)

    return responder


def _api_for(api: Api, req: falcon.asgi.Request) -> Api:
    """The handler's view of the app: a mutation sent with ``X-Twilio-Webhook-Enabled: true``
    acts as an actor whose changes fire post-event webhooks (reference 6.3)."""
    if req.method != "GET" and req.get_header(WEBHOOK_ENABLED, default="").lower() == "true":
        return api.with_webhooks()
    return api


def add_routes(
    app: falcon.asgi.App[Any, Any], api: Api, table: tuple[Route, ...] = ROUTES
) -> dict[str, dict[str, Handler]]:
    """Add ``table``'s routes (the REST API's by default; the control API's on request).

    Returns each path template's responders by method, for ``chinwag.http.direct``.
    """
    by_path: dict[str, list[Route]] = {}
    for route in table:
        by_path.setdefault(route.path, []).append(route)
    added: dict[str, dict[str, Handler]] = {}
    for path, routes in by_path.items():
        resource = _PathResource(api, routes)
        app.add_route(path, resource)
        added[path] = resource.responders
    return added
