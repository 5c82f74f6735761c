"""Small asyncio Asterisk Manager Interface client.

parser (pure bytes <-> Message), connection (one TCP session), client
(supervisor with reconnect/backoff and event dispatch). Pending actions are
never re-sent after a reconnect: see errors.ConnectionLost.
"""

from .client import AMIClient, backoff_delay
from .connection import AMIConnection, new_action_id
from .errors import (
    ActionTimeout,
    AMIError,
    AMIException,
    AuthenticationFailed,
    ConnectionLost,
    NotConnected,
)
from .parser import Message, Parser, serialize

__all__ = [
    "AMIClient",
    "AMIConnection",
    "AMIError",
    "AMIException",
    "ActionTimeout",
    "AuthenticationFailed",
    "ConnectionLost",
    "Message",
    "NotConnected",
    "Parser",
    "backoff_delay",
    "new_action_id",
    "serialize",
]
