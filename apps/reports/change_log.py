"""Reading the database's change log (apps.audit AuditChange) for the reports: a row's value as of a
moment, and who and from where in words."""

from datetime import datetime
from typing import Any

from apps.audit.models import AuditChange

_UNKNOWN = object()


def value_as_of(history: list[AuditChange], column: str, moment: datetime, current: Any) -> Any:
    """`column` of one row as it stood just before `moment`, from that row's changes in capture order:
    the value the last change before `moment` left it with, else the value the first change after
    it found (so a later change does not rewrite the past), else `current` (never changed since the
    log began)."""
    found = _UNKNOWN
    for change in history:
        if change.changed_at < moment:
            if column in (change.after or {}):
                found = change.after[column]
        elif found is _UNKNOWN:
            if column in (change.before or {}):
                return change.before[column]
        else:
            break
    return current if found is _UNKNOWN else found


def last_change_of(history: list[AuditChange], column: str, moment: datetime) -> AuditChange | None:
    """The last change before `moment` that set `column` (an INSERT sets every column)."""
    setting = [change for change in history if change.changed_at < moment and column in (change.after or {})]
    return setting[-1] if setting else None


def origin_text(origin: dict) -> str:
    """From where, in words: the client's address and request, or the host and pid, keys sorted."""
    return "; ".join(f"{key} {origin[key]}" for key in sorted(origin))
