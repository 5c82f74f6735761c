"""The dialer's policy: call windows, retries, account classes.

Pure functions over plain data; every function that needs the time takes `now`
(or `today`) as a parameter.  All local reasoning is in Asia/Shanghai.
"""

from .classify import (
    AccountClass,
    AccountState,
    Action,
    FollowUp,
    MessageStage,
    OwnerAnswer,
    PromiseStatus,
    Response,
    check_promise,
    classify,
    next_action,
    select_stage,
    unanswered_days,
)
from .disposition import Disposition, map_dial_result
from .retry import (
    AttemptRecord,
    Reason,
    RetryDecision,
    RetryPolicy,
    next_attempt,
    number_unreachable,
)
from .windows import (
    GUARD_END,
    GUARD_START,
    SHANGHAI,
    CallWindows,
    DayType,
    NoCallableTime,
    day_type,
    hours_on,
    is_callable,
    next_callable,
    to_shanghai,
    window_end,
    windows_on,
)

__all__ = [
    "AccountClass",
    "AccountState",
    "Action",
    "AttemptRecord",
    "CallWindows",
    "DayType",
    "Disposition",
    "FollowUp",
    "GUARD_END",
    "GUARD_START",
    "MessageStage",
    "NoCallableTime",
    "OwnerAnswer",
    "PromiseStatus",
    "Reason",
    "Response",
    "RetryDecision",
    "RetryPolicy",
    "SHANGHAI",
    "check_promise",
    "classify",
    "day_type",
    "hours_on",
    "is_callable",
    "map_dial_result",
    "next_action",
    "next_attempt",
    "next_callable",
    "number_unreachable",
    "select_stage",
    "to_shanghai",
    "unanswered_days",
    "window_end",
    "windows_on",
]
