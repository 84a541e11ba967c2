"""Helpers for testing against a real chinwag: our own suite uses them first.

``chinwag.testing.plugin`` is the pytest plugin (registered through the ``pytest11`` entry
point); :class:`ControlClient` calls the control API, :class:`WebhookReceiver` records
webhooks, :class:`ThreadedServer` runs an app object in a background thread.
"""

from chinwag.testing.control import ControlClient, ControlError, ServerClock
from chinwag.testing.server import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver

__all__ = ["ControlClient", "ControlError", "ServerClock", "ThreadedServer", "WebhookReceiver"]
