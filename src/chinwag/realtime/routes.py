"""Upstream requests: HTTP requests the SDK carries inside the socket, routed by path.

The SDK labels each request with a host (``aim.us1.twilio.com``, ``cds.us1.twilio.com``, or an
override) that nothing resolves: chinwag routes on method and path alone, so an app needs only
``twilsock.uri``. :data:`ROUTES` is the one table, a table of the route type the REST door's
tables use (``chinwag.api.routing``): adding an endpoint is one row. Handlers call the same
domain operations REST handlers call, with the connected identity as the actor, and raise
:class:`~chinwag.errors.ChinwagError`; :meth:`Router.dispatch` turns that into the reply's
``http_status`` and the Twilio JSON body REST would send.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from chinwag import errors
from chinwag.api.routing import Route, RouteTable
from chinwag.realtime import chat, configuration, legacy_chat, mutations, push, typing_indicator
from chinwag.realtime.context import Client, Request, Response, error_response
from chinwag.realtime.sync import endpoints as sync

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]


_CHAT = "/Client/v1/Services/{service}"
_CH = _CHAT + "/Channels/{channel}"
_USER = _CHAT + "/Users/{identity}"

ROUTES: tuple[Route[Handler], ...] = (
    Route(
        "GET", "/Client/v1/Configuration", "FetchConfiguration", configuration.fetch_configuration
    ),
    Route("GET", "/v3/Documents/{sid}", "SyncFetchDocument", sync.fetch_document),
    Route("GET", "/v3/Maps/{sid}", "SyncFetchMap", sync.fetch_map),
    Route("GET", "/v3/Maps/{sid}/Items", "SyncListMapItems", sync.list_map_items),
    Route("GET", "/v3/Lists/{sid}", "SyncFetchList", sync.fetch_list),
    Route("GET", "/v3/Lists/{sid}/Items", "SyncListListItems", sync.list_list_items),
    Route("POST", "/v4/Subscriptions", "SyncSubscriptions", sync.update_subscriptions),
    Route("POST", "/Client/v1/Services/{service}/Typing", "Typing", typing_indicator.post_typing),
    # the chat command API (client-protocol 3.4), under the links Configuration hands out
    Route("POST", f"{_CHAT}/Channels", "ChatCreateChannel", chat.create_channel),
    Route("GET", f"{_CHAT}/Channels", "ChatListChannels", chat.list_channels),
    Route("GET", f"{_CH}", "ChatFetchChannel", chat.fetch_channel),
    Route("POST", f"{_CH}", "ChatUpdateChannel", chat.update_channel),
    Route("DELETE", f"{_CH}", "ChatDeleteChannel", chat.delete_channel),
    Route("POST", f"{_CH}/Participants", "ChatAddMember", chat.add_member),
    Route("POST", f"{_CH}/Participants/{{member}}", "ChatUpdateMember", chat.update_member),
    Route("DELETE", f"{_CH}/Participants/{{member}}", "ChatRemoveMember", chat.remove_member),
    Route("POST", f"{_CH}/Invites", "ChatInvite", chat.invite),
    Route("DELETE", f"{_CH}/Invites/{{identity}}", "ChatDecline", chat.decline),
    Route("POST", f"{_CH}/Messages", "ChatSendMessage", chat.send_message),
    Route("POST", f"{_CH}/Messages/{{message}}", "ChatUpdateMessage", chat.update_message),
    Route("DELETE", f"{_CH}/Messages/{{message}}", "ChatRemoveMessage", chat.remove_message),
    Route("GET", f"{_CHAT}/Users", "ChatListChannelUsers", chat.list_channel_users),
    Route("GET", f"{_USER}", "ChatFetchUser", chat.fetch_user),
    Route("POST", f"{_USER}", "ChatUpdateUser", chat.update_user),
    Route("GET", f"{_USER}/Channels", "ChatListMyChannels", chat.list_my_channels),
    Route("GET", f"{_USER}/Channels/{{channel}}", "ChatFetchMyChannel", chat.fetch_my_channel),
    Route("POST", f"{_USER}/Channels/{{channel}}", "ChatUpdateMyChannel", chat.update_my_channel),
    Route("POST", "/v1/registrations", "CreatePushRegistration", push.create_registration),
    Route("DELETE", "/v1/registrations/{sid}", "DeletePushRegistration", push.delete_registration),
    # twilio-chat 3.x/4.x, translated into the routes above (docs/client-versions.md)
    *legacy_chat.ROUTES,
)


class Router:
    """Finds the route of a request and runs it; every outcome is a :class:`Response`."""

    def __init__(self, routes: tuple[Route[Handler], ...] = ROUTES) -> None:
        self._table = RouteTable(routes)

    def match(self, method: str, path: str) -> tuple[Route[Handler], dict[str, str]] | None:
        """The route and decoded path parameters for ``method path``, or ``None``.

        A path matching another method's route is treated as unknown (404), as a Sync or Chat
        client never sends a method a resource does not have. One trailing ``/`` is ignored.
        """
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        found = self._table.find(path)
        route = None if found is None else found.routes.get(method)
        if found is None or route is None:
            return None
        return route, {k: unquote(v) for k, v in found.params.items()}

    async def dispatch(self, client: Client, request: Request) -> tuple[str, Response]:
        """The route name (``none`` if unrouted, for metrics) and the response."""
        matched = self.match(request.method, request.path)
        if matched is None:
            return "none", error_response(errors.NotFoundError(request.path))
        route, params = matched
        if any("\x00" in value for value in params.values()):
            return route.name, error_response(errors.NotFoundError(request.path))
        try:
            key = mutations.key_of(client, request)
            if key is not None and (reply := await mutations.applied(client, key)) is not None:
                return route.name, reply  # a retry of an applied command changes nothing
            try:
                return route.name, await route.handler(client, request, **params)
            except errors.MutationAppliedError:  # another attempt recorded it first
                reply = None if key is None else await mutations.applied(client, key)
                if reply is None:  # its transaction was lost after all: the SDK retries
                    raise errors.DatabaseUnavailableError() from None
                return route.name, reply
        except errors.NotFoundError:
            return route.name, error_response(errors.NotFoundError(request.path))
        except errors.ChinwagError as error:
            return route.name, error_response(error)
        except Exception:
            log.exception("unhandled error on upstream %s %s", request.method, request.path)
            return route.name, error_response(errors.InternalError())
