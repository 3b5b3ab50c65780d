"""A report as data: its columns, rows and summary, all text, so every rendering states the same thing."""

import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from apps.tenancy.models import Organization

from .periods import Period


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    organization: Organization
    period: Period
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Lines under the table: totals, what was checked.
    summary: tuple[tuple[str, str], ...] = ()

    @property
    def checksum(self) -> str:
        """SHA-256 of the report's data, stated in every file: the same data gives the same checksum."""
        data = {"columns": self.columns, "rows": self.rows, "summary": self.summary}
        canonical = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def moment_text(moment: datetime | None, timezone_name: str) -> str:
    """A timestamp in the organization's timezone, to the second."""
    if moment is None:
        return ""
    return moment.astimezone(zoneinfo.ZoneInfo(timezone_name)).replace(microsecond=0).isoformat()


def json_text(value) -> str:
    """A before/after value as compact JSON, keys sorted, so a regeneration writes it the same."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
