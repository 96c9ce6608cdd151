"""Domain errors: the edge turns each into a localized line for the member."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse. `key` names the message template; `params` fill it."""

    key = "error"
    here = False  # answered in the chat it came from (not in private): e.g. a choice to tap

    def __init__(self, key: str | None = None, **params: Any) -> None:
        if key is not None:
            self.key = key
        super().__init__(self.key)
        self.params = params


class NotAllowed(DomainError):
    key = "not_allowed"


class UnknownMember(DomainError):
    key = "unknown_member"


class InsufficientPoints(DomainError):
    key = "insufficient_points"


class NotBirthdayMonth(DomainError):
    key = "not_birthday_month"


class AlreadyClaimed(DomainError):
    key = "already_claimed"


class NoBirthday(DomainError):
    key = "no_birthday"


class GroupNotBound(DomainError):
    key = "group_not_bound"


class Usage(DomainError):
    """Wrong or missing arguments: the answer is the command's usage."""

    key = "usage"

    def __init__(self, command: str, **params: Any) -> None:
        super().__init__(f"usage_{command}", **params)


class NeedsSession(Exception):
    """What an operation run on a Direct transaction (the light lane: handlers.glance) cannot
    do there, the full path (a Session) does: nothing of that transaction is kept."""
