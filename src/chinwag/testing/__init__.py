"""Helpers for testing against a real chinwag: our own suite uses them first.

The pytest plugin for people who test against chinwag will be built on these.
"""

from chinwag.testing.server import ThreadedServer

__all__ = ["ThreadedServer"]
