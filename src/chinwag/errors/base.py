"""What every catalogue error is: :class:`ChinwagError` and the helpers its messages use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


def one_of(options: Iterable[str]) -> str:
    """The ``expected`` text of a parameter that takes one of a few values."""
    return "one of: " + ", ".join(options)


def in_range(allowed: range) -> str:
    """The ``expected`` text of an integer parameter limited to ``allowed``."""
    return f"an integer from {allowed.start} to {allowed.stop - 1}"


class ChinwagError(Exception):
    """Base of every client-visible error.

    Subclasses set ``status``, ``code`` and ``template``; ``template`` may contain ``{name}``
    fields filled from the constructor's keyword arguments.
    """

    status: ClassVar[int] = 500
    code: ClassVar[int] = 20500
    template: ClassVar[str] = "Internal Server Error"

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        self.message = message if message is not None else self.template.format(**fields)
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The Twilio error body: exactly code, message, more_info and status."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }
