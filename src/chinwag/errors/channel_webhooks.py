"""Channel webhook errors (5032x, Chat v2): Twilio documents the codes; the statuses are
inferred as for the other chat codes (403 limits, 400 validation)."""

from __future__ import annotations

from chinwag.errors.base import ChinwagError


class ChannelWebhookLimitError(ChinwagError):
    status, code, template = (
        403,
        50321,
        "Too many channel webhooks: a channel has at most {limit}; delete one to add another",
    )


class TooManyTriggersError(ChinwagError):
    status, code, template = (
        400,
        50322,
        "Too many channel webhook triggers: Configuration.Triggers takes at most {limit}",
    )


class InvalidChannelWebhookTypeError(ChinwagError):
    status, code, template = 400, 50324, "Invalid channel webhook type: Type must be {expected}"


class InvalidChannelWebhookFilterError(ChinwagError):
    status, code, template = (
        400,
        50325,
        "Invalid channel webhook filter: Configuration.Filters takes {expected}",
    )


class InvalidChannelWebhookTriggerError(ChinwagError):
    status, code, template = (
        400,
        50326,
        "Invalid channel webhook trigger: each of Configuration.Triggers must be {expected}",
    )


class InvalidFlowSidError(ChinwagError):
    status, code, template = (
        400,
        50327,
        "Invalid channel webhook flow sid: Configuration.FlowSid must be {expected}",
    )


class ChannelWebhookTypeMissingError(ChinwagError):
    status, code, template = (
        400,
        50328,
        "Channel webhook type not provided: Type must be {expected}",
    )


class ChannelWebhookUrlMissingError(ChinwagError):
    status, code, template = (
        400,
        50329,
        "Channel webhook url not provided: a {type} webhook needs Configuration.Url",
    )


class ChannelWebhookFilterMissingError(ChinwagError):
    status, code, template = (
        400,
        50330,
        "Channel webhook filter not provided: a webhook needs Configuration.Filters, {expected}",
    )


class ChannelWebhookTriggerMissingError(ChinwagError):
    status, code, template = (
        400,
        50331,
        "Channel webhook trigger not provided: a trigger webhook needs Configuration.Triggers",
    )


class ChannelWebhookUrlTooLongError(ChinwagError):
    status, code, template = (
        400,
        50332,
        "Channel webhook url too long: Configuration.Url takes at most {limit} characters",
    )


class ChannelWebhookRetryCountError(ChinwagError):
    status, code, template = (
        400,
        50065,
        "Invalid webhook retry count: Configuration.RetryCount must be {expected}",
    )
