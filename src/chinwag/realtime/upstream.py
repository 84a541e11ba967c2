"""Upstream requests: HTTP requests the SDK carries inside the socket, routed by path.

The SDK labels each request with a host (``aim.us1.twilio.com``, ``cds.us1.twilio.com``, or an
override) that nothing resolves: chinwag routes on method and path alone, so an app needs only
``twilsock.uri``. :data:`ROUTES` is the one table, like ``http/routes.py``: adding an endpoint is
one row. Handlers call the same domain operations REST handlers call, with the connected
identity as the actor, and raise :class:`~chinwag.errors.ChinwagError`; :meth:`Router.dispatch`
turns that into the reply's ``http_status`` and the Twilio JSON body REST would send.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote

from chinwag import errors
from chinwag.realtime import chat, configuration, mutations, push, typing_indicator
from chinwag.realtime.exchange import Client, Request, Response, error_response
from chinwag.realtime.sync import endpoints as sync

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class UpstreamRoute:
    method: str
    #: ``{name}`` matches one path segment, passed to the handler percent-decoded
    path: str
    name: str
    handler: Handler


_CHAT = "/Client/v1/Services/{service}"
_CH = _CHAT + "/Channels/{channel}"
_USER = _CHAT + "/Users/{identity}"

ROUTES: tuple[UpstreamRoute, ...] = (
    UpstreamRoute(
        "GET", "/Client/v1/Configuration", "FetchConfiguration", configuration.fetch_configuration
    ),
    UpstreamRoute("GET", "/v3/Documents/{sid}", "SyncFetchDocument", sync.fetch_document),
    UpstreamRoute("GET", "/v3/Maps/{sid}", "SyncFetchMap", sync.fetch_map),
    UpstreamRoute("GET", "/v3/Maps/{sid}/Items", "SyncListMapItems", sync.list_map_items),
    UpstreamRoute("GET", "/v3/Lists/{sid}", "SyncFetchList", sync.fetch_list),
    UpstreamRoute("GET", "/v3/Lists/{sid}/Items", "SyncListListItems", sync.list_list_items),
    UpstreamRoute("POST", "/v4/Subscriptions", "SyncSubscriptions", sync.update_subscriptions),
    UpstreamRoute(
        "POST", "/Client/v1/Services/{service}/Typing", "Typing", typing_indicator.post_typing
    ),
    # the chat command API (client-protocol 3.4), under the links Configuration hands out
    UpstreamRoute("POST", f"{_CHAT}/Channels", "ChatCreateChannel", chat.create_channel),
    UpstreamRoute("GET", f"{_CHAT}/Channels", "ChatListChannels", chat.list_channels),
    UpstreamRoute("GET", f"{_CH}", "ChatFetchChannel", chat.fetch_channel),
    UpstreamRoute("POST", f"{_CH}", "ChatUpdateChannel", chat.update_channel),
    UpstreamRoute("DELETE", f"{_CH}", "ChatDeleteChannel", chat.delete_channel),
    UpstreamRoute("POST", f"{_CH}/Participants", "ChatAddMember", chat.add_member),
    UpstreamRoute("POST", f"{_CH}/Participants/{{member}}", "ChatUpdateMember", chat.update_member),
    UpstreamRoute(
        "DELETE", f"{_CH}/Participants/{{member}}", "ChatRemoveMember", chat.remove_member
    ),
    UpstreamRoute("POST", f"{_CH}/Invites", "ChatInvite", chat.invite),
    UpstreamRoute("DELETE", f"{_CH}/Invites/{{identity}}", "ChatDecline", chat.decline),
    UpstreamRoute("POST", f"{_CH}/Messages", "ChatSendMessage", chat.send_message),
    UpstreamRoute("POST", f"{_CH}/Messages/{{message}}", "ChatUpdateMessage", chat.update_message),
    UpstreamRoute(
        "DELETE", f"{_CH}/Messages/{{message}}", "ChatRemoveMessage", chat.remove_message
    ),
    UpstreamRoute("GET", f"{_CHAT}/Users", "ChatListChannelUsers", chat.list_channel_users),
    UpstreamRoute("GET", f"{_USER}", "ChatFetchUser", chat.fetch_user),
    UpstreamRoute("POST", f"{_USER}", "ChatUpdateUser", chat.update_user),
    UpstreamRoute("GET", f"{_USER}/Channels", "ChatListMyChannels", chat.list_my_channels),
    UpstreamRoute(
        "GET", f"{_USER}/Channels/{{channel}}", "ChatFetchMyChannel", chat.fetch_my_channel
    ),
    UpstreamRoute(
        "POST", f"{_USER}/Channels/{{channel}}", "ChatUpdateMyChannel", chat.update_my_channel
    ),
    UpstreamRoute(
        "GET", f"{_CHAT}/Mutations/{{mutation}}", "ChatFetchMutation", mutations.fetch_mutation
    ),
    UpstreamRoute("POST", "/v1/registrations", "CreatePushRegistration", push.create_registration),
    UpstreamRoute(
        "DELETE", "/v1/registrations/{sid}", "DeletePushRegistration", push.delete_registration
    ),
)


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(regex + "/?")


class Router:
    """Finds the route of a request and runs it; every outcome is a :class:`Response`."""

    def __init__(self, routes: tuple[UpstreamRoute, ...] = ROUTES) -> None:
        self._routes = [(route, _pattern(route.path)) for route in routes]

    def match(self, method: str, path: str) -> tuple[UpstreamRoute, dict[str, str]] | None:
        """The route and decoded path parameters for ``method path``, or ``None``.

        A path matching another method's route is treated as unknown (404), as a Sync or Chat
        client never sends a method a resource does not have.
        """
        for route, pattern in self._routes:
            found = pattern.fullmatch(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    async def dispatch(self, client: Client, request: Request) -> tuple[str, Response]:
        """The route name (``none`` if unrouted, for metrics) and the response."""
        matched = self.match(request.method, request.path)
        if matched is None:
            return "none", error_response(errors.NotFoundError(request.path))
        route, params = matched
        if any("\x00" in value for value in params.values()):
            return route.name, error_response(errors.NotFoundError(request.path))
        try:
            mutation = mutations.mutation_of(client, request)
            if mutation is None:
                return route.name, await route.handler(client, request, **params)
            return route.name, await mutations.run_once(
                client, request, mutation, lambda: route.handler(client, request, **params)
            )
        except errors.NotFoundError:
            return route.name, error_response(errors.NotFoundError(request.path))
        except errors.ChinwagError as error:
            return route.name, error_response(error)
        except Exception:
            log.exception("unhandled error on upstream %s %s", request.method, request.path)
            return route.name, error_response(errors.InternalError())
