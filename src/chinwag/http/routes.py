"""Every REST route in one table per API version: reads like an index of the API.

Each row is a :class:`~chinwag.api.routing.Route`: method, path, spec operationId and handler;
the table type is the one both doors share. Paths use ``{service}``, ``{channel}``… where the
spec says ``{Sid}`` or ``{ServiceSid}`` (each capture needs its own name); the contract test
maps the two. Handlers are named after the operationId and take the app's state (:class:`Api`)
before Falcon's request and response; :func:`bind` turns a table into the
:class:`Endpoint` rows the server (``chinwag.http.server``) serves.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import falcon.asgi

from chinwag.api.routing import Route
from chinwag.http.context import Api
from chinwag.http.observe import OPERATION
from chinwag.http.raw_path import segment
from chinwag.http.render import Renderer
from chinwag.http.resources import (
    bindings,
    channel_webhooks,
    channels,
    credentials,
    invites,
    members,
    messages,
    roles,
    services,
    user_channels,
    users,
    v2,
)

#: a REST handler: ``(api, req, resp, **path_params)``
Handler = Callable[..., Awaitable[None]]
#: what the server calls: ``(req, resp, **path_params)``
Responder = Callable[..., Awaitable[None]]

WEBHOOK_ENABLED = "X-Twilio-Webhook-Enabled"


class Access(enum.Enum):
    """Which credentials a route needs."""

    #: HTTP Basic with the account's SID and auth token, or one of its API keys
    ACCOUNT = enum.auto()
    #: the account's own SID and auth token only (the control API, which can wipe the account:
    #: back ends hold API keys to mint tokens, not to reset servers)
    ACCOUNT_ONLY = enum.auto()
    #: none: health, metrics, the console's page (media checks its own token)
    OPEN = enum.auto()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What the server serves for one route: its responder and the credentials it needs."""

    responder: Responder
    access: Access


S = "/v1/Services/{service}"
CH = f"{S}/Channels/{{channel}}"


V1: tuple[Route[Handler], ...] = (
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

S2 = "/v2/Services/{service}"
CH2 = f"{S2}/Channels/{{channel}}"
UC2 = f"{S2}/Users/{{user}}/Channels/{{channel}}"
WH2 = f"{CH2}/Webhooks/{{webhook}}"

#: Chat v2 beside v1, on the same domain: v1's handlers where v2 takes v1's parameters (bound
#: with v2's shapes), v2's own (``resources/v2.py``) where it changed them, and what only v2
#: has: User Channel fetch/update/leave, (User) Bindings (push registrations) and Channel
#: Webhooks.
V2: tuple[Route[Handler], ...] = (
    Route("GET", "/v2/Credentials", "ListCredential", credentials.list_credentials),
    Route("POST", "/v2/Credentials", "CreateCredential", credentials.create_credential),
    Route("GET", "/v2/Credentials/{sid}", "FetchCredential", credentials.fetch_credential),
    Route("POST", "/v2/Credentials/{sid}", "UpdateCredential", credentials.update_credential),
    Route("DELETE", "/v2/Credentials/{sid}", "DeleteCredential", credentials.delete_credential),
    Route("GET", "/v2/Services", "ListService", services.list_services),
    Route("POST", "/v2/Services", "CreateService", services.create_service),
    Route("GET", S2, "FetchService", services.fetch_service),
    Route("POST", S2, "UpdateService", v2.update_service),
    Route("DELETE", S2, "DeleteService", services.delete_service),
    Route("GET", f"{S2}/Roles", "ListRole", roles.list_roles),
    Route("POST", f"{S2}/Roles", "CreateRole", roles.create_role),
    Route("GET", f"{S2}/Roles/{{role}}", "FetchRole", roles.fetch_role),
    Route("POST", f"{S2}/Roles/{{role}}", "UpdateRole", roles.update_role),
    Route("DELETE", f"{S2}/Roles/{{role}}", "DeleteRole", roles.delete_role),
    Route("GET", f"{S2}/Users", "ListUser", users.list_users),
    Route("POST", f"{S2}/Users", "CreateUser", users.create_user),
    Route("GET", f"{S2}/Users/{{user}}", "FetchUser", users.fetch_user),
    Route("POST", f"{S2}/Users/{{user}}", "UpdateUser", users.update_user),
    Route("DELETE", f"{S2}/Users/{{user}}", "DeleteUser", users.delete_user),
    Route(
        "GET", f"{S2}/Users/{{user}}/Channels", "ListUserChannel", user_channels.list_user_channels
    ),
    Route("GET", UC2, "FetchUserChannel", v2.fetch_user_channel),
    Route("POST", UC2, "UpdateUserChannel", v2.update_user_channel),
    Route("DELETE", UC2, "DeleteUserChannel", v2.delete_user_channel),
    Route("GET", f"{S2}/Channels", "ListChannel", channels.list_channels),
    Route("POST", f"{S2}/Channels", "CreateChannel", v2.create_channel),
    Route("GET", CH2, "FetchChannel", channels.fetch_channel),
    Route("POST", CH2, "UpdateChannel", v2.update_channel),
    Route("DELETE", CH2, "DeleteChannel", channels.delete_channel),
    Route("GET", f"{CH2}/Members", "ListMember", members.list_members),
    Route("POST", f"{CH2}/Members", "CreateMember", v2.create_member),
    Route("GET", f"{CH2}/Members/{{member}}", "FetchMember", members.fetch_member),
    Route("POST", f"{CH2}/Members/{{member}}", "UpdateMember", v2.update_member),
    Route("DELETE", f"{CH2}/Members/{{member}}", "DeleteMember", members.delete_member),
    Route("GET", f"{CH2}/Messages", "ListMessage", messages.list_messages),
    Route("POST", f"{CH2}/Messages", "CreateMessage", v2.create_message),
    Route("GET", f"{CH2}/Messages/{{message}}", "FetchMessage", messages.fetch_message),
    Route("POST", f"{CH2}/Messages/{{message}}", "UpdateMessage", v2.update_message),
    Route("DELETE", f"{CH2}/Messages/{{message}}", "DeleteMessage", messages.delete_message),
    Route("GET", f"{CH2}/Invites", "ListInvite", invites.list_invites),
    Route("POST", f"{CH2}/Invites", "CreateInvite", invites.create_invite),
    Route("GET", f"{CH2}/Invites/{{invite}}", "FetchInvite", invites.fetch_invite),
    Route("DELETE", f"{CH2}/Invites/{{invite}}", "DeleteInvite", invites.delete_invite),
    Route("GET", f"{CH2}/Webhooks", "ListChannelWebhook", channel_webhooks.list_channel_webhooks),
    Route(
        "POST", f"{CH2}/Webhooks", "CreateChannelWebhook", channel_webhooks.create_channel_webhook
    ),
    Route("GET", WH2, "FetchChannelWebhook", channel_webhooks.fetch_channel_webhook),
    Route("POST", WH2, "UpdateChannelWebhook", channel_webhooks.update_channel_webhook),
    Route("DELETE", WH2, "DeleteChannelWebhook", channel_webhooks.delete_channel_webhook),
    Route("GET", f"{S2}/Bindings", "ListBinding", bindings.list_bindings),
    Route("GET", f"{S2}/Bindings/{{sid}}", "FetchBinding", bindings.fetch_binding),
    Route("DELETE", f"{S2}/Bindings/{{sid}}", "DeleteBinding", bindings.delete_binding),
    Route("GET", f"{S2}/Users/{{user}}/Bindings", "ListUserBinding", bindings.list_user_bindings),
    Route(
        "GET",
        f"{S2}/Users/{{user}}/Bindings/{{sid}}",
        "FetchUserBinding",
        bindings.fetch_user_binding,
    ),
    Route(
        "DELETE",
        f"{S2}/Users/{{user}}/Bindings/{{sid}}",
        "DeleteUserBinding",
        bindings.delete_user_binding,
    ),
)

#: Chat v3: one operation, a channel's type changed.
V3: tuple[Route[Handler], ...] = (
    Route(
        "POST", "/v3/Services/{service}/Channels/{channel}", "UpdateChannel", v2.update_channel_type
    ),
)


def bind(
    api: Api,
    table: Iterable[Route[Handler]],
    access: Access = Access.ACCOUNT,
    shapes: Renderer | None = None,
) -> list[Route[Endpoint]]:
    """``table``'s routes as the server serves them: each handler bound to ``api``, its path
    segments decoded once (``chinwag.http.raw_path``), its operationId noted for metrics and
    the request's base URL checked before the handler runs (an invalid ``Host`` changes
    nothing). ``shapes``: the version's renderer, when not ``api``'s own (v1's)."""
    return [
        Route(route.method, route.path, route.name, Endpoint(_bind(api, route, shapes), access))
        for route in table
    ]


def _bind(api: Api, route: Route[Handler], shapes: Renderer | None) -> Responder:
    handler, operation_id = route.handler, route.name

    async def responder(
        req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str
    ) -> None:
        params = {name: segment(value) for name, value in params.items()}
        req.scope[OPERATION] = operation_id
        api.base_url(req)  # an invalid Host is refused before anything changes
        await handler(_api_for(api, req, shapes), req, resp, **params)

    return responder


def _api_for(api: Api, req: falcon.asgi.Request, shapes: Renderer | None = None) -> Api:
    """The handler's view of the app: a mutation sent with ``X-Twilio-Webhook-Enabled: true``
    acts as an actor whose changes fire post-event webhooks (reference 6.3); a route of
    another version renders its shapes. The view is made per request (a copy of a few fields),
    since ``api`` learns its caller only at startup, after the routes are bound."""
    if req.method != "GET" and req.get_header(WEBHOOK_ENABLED, default="").lower() == "true":
        api = api.with_webhooks()
    if shapes is not None:
        api = api.with_render(shapes)
    return api


def resource_routes(
    path: str, resource: Any, access: Access, name: str = "none"
) -> list[Route[Endpoint]]:
    """Routes for a resource object's ``on_<method>`` responders (health, metrics, console,
    media): its path parameters arrive as sent, still encoded."""
    return [
        Route(method, path, name, Endpoint(getattr(resource, f"on_{method.lower()}"), access))
        for method in ("GET", "HEAD", "POST", "DELETE", "OPTIONS")
        if hasattr(resource, f"on_{method.lower()}")
    ]
