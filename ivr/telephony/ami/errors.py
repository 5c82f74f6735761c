"""Exceptions raised by the AMI client.

ConnectionLost deliberately means "outcome unknown": the action may or may
not have run on Asterisk, and it is never re-sent for you.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parser import Message


class AMIException(Exception):
    """Base class for every error of this package."""


class AMIError(AMIException):
    """Asterisk answered `Response: Error`; `.response` is the full Message."""

    def __init__(self, response: Message) -> None:
        super().__init__(response.get("Message", "AMI error"))
        self.response = response


class AuthenticationFailed(AMIError):
    """The Login action was refused (wrong username/secret or ACL)."""


class ActionTimeout(AMIException):
    """No (complete) response arrived within the action's timeout."""


class ConnectionLost(AMIException):
    """The connection dropped (or never came up) while the action was pending."""


class NotConnected(AMIException):
    """The client is not ready (not logged in or FullyBooted not seen yet)."""
