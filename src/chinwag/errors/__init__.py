"""The Twilio error catalogue: the only place error codes live.

Every failure a client can see is a :class:`ChinwagError` subclass declaring its HTTP ``status``,
Twilio ``code`` and message template (the short titles real Twilio sends, without the
dictionary's "Programmable Chat:" prefix). Handlers and domain code *raise* these; the single
renderer in ``chinwag.http.errors`` turns them into the wire form.

Statuses of chat-specific codes are not published by Twilio; the choices follow
the conventions of Twilio's other APIs (409 duplicates, 403 limits, 400 validation).

A refusal of input says what was wrong and what is allowed: Twilio's title first (clients may
match on it), then what the caller can change, with the limit or the choices filled in by the
code that holds them (``limit``, ``expected``), so no limit is written twice.

The base class lives in ``base``; the channel webhook codes (5032x, v2) in ``channel_webhooks``;
every error is named here, so callers write ``errors.<Name>`` whatever module holds it.
"""

from __future__ import annotations

from chinwag.errors.base import MORE_INFO as MORE_INFO
from chinwag.errors.base import ChinwagError as ChinwagError
from chinwag.errors.base import in_range as in_range
from chinwag.errors.base import one_of as one_of
from chinwag.errors.channel_webhooks import (
    ChannelWebhookFilterMissingError as ChannelWebhookFilterMissingError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookLimitError as ChannelWebhookLimitError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookRetryCountError as ChannelWebhookRetryCountError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookTriggerMissingError as ChannelWebhookTriggerMissingError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookTypeMissingError as ChannelWebhookTypeMissingError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookUrlMissingError as ChannelWebhookUrlMissingError,
)
from chinwag.errors.channel_webhooks import (
    ChannelWebhookUrlTooLongError as ChannelWebhookUrlTooLongError,
)
from chinwag.errors.channel_webhooks import (
    InvalidChannelWebhookFilterError as InvalidChannelWebhookFilterError,
)
from chinwag.errors.channel_webhooks import (
    InvalidChannelWebhookTriggerError as InvalidChannelWebhookTriggerError,
)
from chinwag.errors.channel_webhooks import (
    InvalidChannelWebhookTypeError as InvalidChannelWebhookTypeError,
)
from chinwag.errors.channel_webhooks import (
    InvalidFlowSidError as InvalidFlowSidError,
)
from chinwag.errors.channel_webhooks import (
    TooManyTriggersError as TooManyTriggersError,
)

# --- generic (2xxxx) ----------------------------------------------------------------------------


class InvalidParameterError(ChinwagError):
    """A parameter is present but invalid at the API layer (bad enum, boolean, integer);
    ``expected`` says what it takes ("one of: public, private", "true or false")."""

    status, code, template = 400, 20001, "{name} must be {expected}"


class MissingParameterError(ChinwagError):
    status, code, template = 400, 20001, "Missing required parameter {name} in the post body"


class MalformedRequestError(ChinwagError):
    """The body or query string cannot be decoded at all (invalid UTF-8, NUL bytes, bad type)."""

    status, code, template = 400, 20001, "{detail}"


class PayloadTooLargeError(ChinwagError):
    """Request body over the configured cap. No Twilio code exists; 20001 is the nearest."""

    status, code, template = 413, 20001, "Request body exceeds the limit of {limit} bytes"


class MediaQuotaError(ChinwagError):
    """A chat user's stored media would pass ``media_quota_bytes``. No Twilio code exists."""

    status, code, template = 413, 20001, "Media quota of {limit} bytes per user exceeded"


class RequestTimeoutError(ChinwagError):
    """A request's head or body stopped arriving (the server's read timeouts). No Twilio code."""

    status, code, template = 408, 20001, "The request did not arrive in time"


class HeadersTooLargeError(ChinwagError):
    """Request line and headers over the configured cap. No Twilio code; 20001 as for 413."""

    status, code, template = 431, 20001, "Request headers exceed the limit of {limit} bytes"


class AuthenticationError(ChinwagError):
    status, code, template = 401, 20003, "Authenticate"


class ForbiddenError(ChinwagError):
    """Credentials that are good but not enough (an API key on the control API), or a request
    a browser made on behalf of another site (cross-site)."""

    status, code, template = 403, 20403, "Forbidden: {detail}"


class MethodNotAllowedError(ChinwagError):
    status, code, template = 405, 20004, "Method not allowed"


class NoUpdateParametersError(ChinwagError):
    status, code, template = (
        400,
        20161,
        "Parameters are not specified for update request: send at least one parameter to change",
    )


class NotFoundError(ChinwagError):
    """A path object or route does not exist.

    The message names the request path (without ``/v1``), which only the HTTP layer knows;
    it fills ``path`` in when rendering.
    """

    status, code, template = 404, 20404, "The requested resource {path} was not found"

    def __init__(self, path: str = "") -> None:
        super().__init__(path=path)


class TooManyRequestsError(ChinwagError):
    """A client connection over its upstream request rate or concurrency, or a connection
    refused because its identity or the process holds too many already."""

    status, code, template = 429, 20429, "Too Many Requests"


class InternalError(ChinwagError):
    status, code, template = 500, 20500, "Internal Server Error"


class ServiceUnavailableError(ChinwagError):
    status, code, template = 503, 20503, "Service Unavailable"


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database could not be reached or stayed locked; nothing was changed."""

    template = "Service Unavailable: the database is busy or unreachable, try again"


class ClockNotControllableError(ChinwagError):
    """The control API was asked to move the clock of a server that runs the system clock."""

    status, code, template = (
        400,
        20001,
        (
            "This server runs the system clock; start it with --clock controllable to set or "
            "advance it"
        ),
    )


class SnapshotConflictError(ChinwagError):
    """A snapshot's row reuses a SID (or unique key) another account's data holds."""

    status, code, template = 409, 20001, "The snapshot holds a SID that another account uses"


class InvalidPageTokenError(ChinwagError):
    status, code, template = (
        400,
        21481,
        "Invalid PageToken: use the one in a page's next_page_url or previous_page_url",
    )


class NegativeMessagePageTokenError(ChinwagError):
    status, code, template = 400, 19038, "Page token must be bigger than or equal to 0"


# --- access tokens (201xx): client connections only ---------------------------------------------
# Twilio documents the codes, not their statuses; all are 401, the status the twilio-chat SDK
# treats as a terminal "denied" (and, for 20104, as tokenExpired).


class AccessTokenError(ChinwagError):
    """Base of the access-token failures a client connection can be refused with."""

    status, code, template = 401, 20101, "Invalid Access Token"


class InvalidAccessTokenError(AccessTokenError):
    """The token cannot be parsed as a compact JWS with a JSON object payload (20101)."""


class InvalidAccessTokenHeaderError(AccessTokenError):
    """``cty`` is not ``twilio-fpa;v=1`` or ``alg`` is not HS256, HS384 or HS512."""

    status, code, template = 401, 20102, "Invalid Access Token header"


class InvalidAccessTokenIssuerError(AccessTokenError):
    """``iss`` is not a live API key of the account ``sub`` names."""

    status, code, template = 401, 20103, "Invalid Access Token issuer/subject"


class AccessTokenExpiredError(AccessTokenError):
    status, code, template = 401, 20104, "Access Token expired or expiration date invalid"


class AccessTokenNotYetValidError(AccessTokenError):
    status, code, template = 401, 20105, "Access Token not yet valid"


class InvalidAccessTokenGrantsError(AccessTokenError):
    """No identity, no chat grant, or a service that is not the account's."""

    status, code, template = 401, 20106, "Invalid Access Token grants"


class InvalidAccessTokenSignatureError(AccessTokenError):
    status, code, template = 401, 20107, "Invalid Access Token signature"


class AccessTokenLifetimeError(AccessTokenError):
    """The token lives longer than 24 hours."""

    status, code, template = 401, 20157, "Expiration Time Exceeds Maximum Time Allowed"


# --- service settings (500xx) -------------------------------------------------------------------


class FriendlyNameNotProvidedError(ChinwagError):
    status, code, template = 400, 50000, "FriendlyName not provided: it must not be empty"


class FriendlyNameTooLongError(ChinwagError):
    status, code, template = 400, 50003, "Friendly name too long: at most {limit} characters"


class UniqueNameTooLongError(ChinwagError):
    status, code, template = 400, 50004, "Unique Name too long: at most {limit} characters"


class InvalidConsumptionIntervalError(ChinwagError):
    status, code, template = 400, 50052, "Invalid consumption interval format: must be {expected}"


class InvalidTypingIndicatorError(ChinwagError):
    status, code, template = 400, 50053, "Invalid typing indicator format: must be {expected}"


class InvalidWebhookFormatError(ChinwagError):
    """A per-event webhook URL (``expected``: a URL) or a filter (an event name) is refused."""

    status, code, template = 400, 50054, "Invalid webhook format: must be {expected}"


class InvalidWebhookMethodError(ChinwagError):
    status, code, template = 400, 50055, "Invalid webhook method: must be {expected}"


class NotificationTemplateTooLongError(ChinwagError):
    status, code, template = (
        400,
        50058,
        "Notification template too long: at most {limit} characters",
    )


class InvalidUserChannelsLimitError(ChinwagError):
    status, code, template = 400, 50060, "Invalid user channels limit format: must be {expected}"


class InvalidChannelMembersLimitError(ChinwagError):
    status, code, template = 400, 50061, "Invalid channel members limit format: must be {expected}"


class ChannelRateLimitError(ChinwagError):
    status, code, template = 429, 50063, "Actions per second limit exceeded"


class ServiceRateLimitError(ChinwagError):
    status, code, template = 429, 50074, "Global actions per second limit exceeded"


class MutationAppliedError(ChinwagError):
    """Raised inside a transaction when its mutation id is already recorded (a lost race
    between two attempts); the caller answers with the first attempt's reply."""

    status, code, template = 409, 20409, "Mutation already applied"


class WebhookRejectedError(ChinwagError):
    """A pre-event webhook answered other than 200, timed out or could not be reached."""

    status, code, template = 403, 50056, "Webhook disabled processing of command"


class InvalidPreWebhookUrlError(ChinwagError):
    status, code, template = 400, 50077, "Invalid pre-webhook url: must be {expected}"


class InvalidPostWebhookUrlError(ChinwagError):
    status, code, template = 400, 50078, "Invalid post-webhook url: must be {expected}"


# --- roles (501xx) ------------------------------------------------------------------------------


class ChannelRoleNotFoundError(ChinwagError):
    status, code, template = (
        400,
        50101,
        "Channel role not found: name the SID of a channel role of this service",
    )


class DeploymentRoleNotFoundError(ChinwagError):
    status, code, template = (
        400,
        50102,
        "Deployment role not found: name the SID of a deployment role of this service",
    )


class PermissionNotFoundError(ChinwagError):
    status, code, template = (
        400,
        50104,
        "Permission not found: a {type} role takes one or more of: {allowed}",
    )


class InvalidRoleTypeError(ChinwagError):
    status, code, template = 400, 50105, "Invalid role type: must be {expected}"


class ChannelCreatorRoleNotFoundError(ChinwagError):
    status, code, template = (
        400,
        50106,
        "Channel creator role not found: name the SID of a channel role of this service",
    )


class UserNotAuthorizedError(ChinwagError):
    """A chat user's roles do not grant the action (never raised for the REST API)."""

    status, code, template = 403, 50107, "User not authorized for command"


class PermissionRequiredError(UserNotAuthorizedError):
    """50107 naming what would allow the action (``permission``: one name, or "a or b")."""

    template = "User not authorized for command: requires permission {permission}"


class ChatUserNotAllowedError(UserNotAuthorizedError):
    """50107 for what no role can grant a chat user (only the account owner may do it)."""

    template = "User not authorized for command: only the account owner may do this"


class PrivateChannelError(UserNotAuthorizedError):
    """50107 for a private channel the user is not a member of, invited to or the creator of."""

    template = "User not authorized for command: the channel is private (members and invitees only)"


# --- users (502xx) ------------------------------------------------------------------------------


class UserAlreadyExistsError(ChinwagError):
    status, code, template = 409, 50201, "User already exists"


class IdentityReservedError(ChinwagError):
    status, code, template = 400, 50203, "Identity reserved: {identity} cannot be used"


class IdentityNotProvidedError(ChinwagError):
    status, code, template = 400, 50204, "Identity not provided: it must not be empty"


class IdentityMatchesSidError(ChinwagError):
    status, code, template = 400, 50206, "Identity should not match user SID pattern"


class IdentityTooLongError(ChinwagError):
    status, code, template = 400, 50207, "Identity too long: at most {limit} characters"


class RoleChangeNotAllowedError(ChinwagError):
    """A chat user tried to choose a role: only the REST API (the account owner) assigns roles."""

    status, code, template = 403, 50205, "User unauthorized to set role"


class UserChannelLimitError(ChinwagError):
    status, code, template = 403, 50208, "User channel limit exceeded"


class UserAlreadyInvitedError(ChinwagError):
    status, code, template = 409, 50212, "User already invited"


# --- channels (503xx) ---------------------------------------------------------------------------


class AttributesTooLongError(ChinwagError):
    status, code, template = 400, 50303, "Attributes too long: at most {limit} characters"


class AttributesNotJsonError(ChinwagError):
    status, code, template = (
        400,
        50304,
        'Attributes not valid JSON: send a JSON document, such as {{"key": "value"}}',
    )


class UniqueNameMatchesSidError(ChinwagError):
    status, code, template = 400, 50306, "Unique name should not match channel SID pattern"


class UniqueNameExistsError(ChinwagError):
    status, code, template = 409, 50307, "Channel with provided unique name already exists"


class AuthorTooLongError(ChinwagError):
    status, code, template = 400, 50310, "Author parameter is too long: at most {limit} characters"


class NoChannelUpdateParametersError(ChinwagError):
    status, code, template = (
        400,
        50347,
        "Parameters are missing for channel update request: send at least one parameter to change",
    )


# --- members (504xx) ----------------------------------------------------------------------------


class UserNotMemberError(ChinwagError):
    """A chat user asked for something only members of the channel may do."""

    status, code, template = 403, 50400, "User not member of channel"


class MemberPermissionRequiredError(UserNotMemberError):
    """50400 for an action a channel role's permission allows: it names the permission."""

    template = (
        "User not member of channel: requires permission {permission}, which a member's "
        "channel role grants"
    )


class ChannelMemberLimitError(ChinwagError):
    status, code, template = 403, 50403, "Channel member limit exceeded"


class MemberAlreadyExistsError(ChinwagError):
    status, code, template = 409, 50404, "Member already exists"


class InvalidConsumedIndexError(ChinwagError):
    status, code, template = (
        400,
        50406,
        "Invalid last consumed message index format: must be {expected}",
    )


# --- messages (505xx) ---------------------------------------------------------------------------


class BodyTooLongError(ChinwagError):
    status, code, template = (
        400,
        50504,
        "Message body parameter is too long: at most {limit} characters",
    )


# --- Sync (54xxx), answered to clients over the gateway (client protocol 2.7) ----------------


class SyncAccessForbiddenError(ChinwagError):
    """The connected identity may not open or subscribe to this Sync object (protocol 6.4)."""

    status, code, template = 403, 54007, "Access forbidden for identity"


class SyncDocumentNotFoundError(ChinwagError):
    status, code, template = 404, 54100, "Document not found"


class SyncListNotFoundError(ChinwagError):
    status, code, template = 404, 54150, "List not found"


class SyncMapNotFoundError(ChinwagError):
    status, code, template = 404, 54200, "Map not found"
