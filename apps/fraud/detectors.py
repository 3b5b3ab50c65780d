"""What each detector decides, and how it says so, as pure functions of a spend and its measured history.

services.py gathers the history (PostgreSQL, Redis) and writes the alerts; nothing here touches storage.
A detector answers a Finding when its rule fires, else None.
"""

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import stats

from ledgerx.money import format_money

from .models import Rule

SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
# A history of identical amounts has no spread; this floor (about 10% on the log scale) keeps a
# subscription's first price change from reading as infinitely unusual.
MIN_LOG_DEVIATION = 0.1


@dataclass(frozen=True)
class Finding:
    rule: str
    score: float
    detail: str


@dataclass(frozen=True)
class History:
    """Where a spend's log amount is expected to sit: a center, a spread, and how many spends say so."""

    count: int
    center: float
    deviation: float
    method: str  # "zscore" (mean and standard deviation) or "robust" (median and scaled MAD)


def log_amount(amount_minor: int) -> float:
    return math.log(amount_minor)


def history_from_running(*, count: int, mean: float, m2: float) -> History:
    """The sample mean and standard deviation that Welford's count, mean and M2 stand for."""
    deviation = math.sqrt(m2 / (count - 1)) if count > 1 else 0.0
    return History(count=count, center=mean, deviation=deviation, method="zscore")


def history_from_sample(log_amounts: np.ndarray) -> History:
    """Median and MAD scaled to match a normal's deviation: a few past outliers barely move either."""
    if log_amounts.size == 0:
        return History(count=0, center=0.0, deviation=0.0, method="robust")
    return History(
        count=int(log_amounts.size),
        center=float(np.median(log_amounts)),
        deviation=float(stats.median_abs_deviation(log_amounts, scale="normal")),
        method="robust",
    )


def zscore(*, amount_minor: int, history: History) -> float:
    """How many standard deviations the log amount lies from the history's center, corrected for the
    history's length: a new value's distribution given n past ones is Student's t with n - 1 degrees of
    freedom, scaled by sqrt(1 + 1/n); its tail probability is turned back into the normal z with the
    same tail. A 20-spend history thus needs a larger raw deviation than a 500-spend one, instead of
    flagging twice as many normal spends."""
    raw = (log_amount(amount_minor) - history.center) / max(history.deviation, MIN_LOG_DEVIATION)
    if history.count < 2:
        return raw
    t_value = raw / math.sqrt(1 + 1 / history.count)
    tail = float(stats.t.sf(abs(t_value), history.count - 1))
    if tail <= 0.0:  # beyond what a double resolves: extreme either way
        return t_value
    return math.copysign(float(stats.norm.isf(tail)), t_value)


def value_to_fold(*, amount_minor: int, history: History, threshold: float, min_history: int) -> float:
    """The log amount to add to a running history, winsorized at the threshold once the history is long
    enough to judge: one fraud cannot teach the history that fraud is normal (nor widen it until the
    next one passes), while a real shift in spending still moves the mean."""
    value = log_amount(amount_minor)
    if history.count < min_history:
        return value
    reach = threshold * max(history.deviation, MIN_LOG_DEVIATION)
    return min(max(value, history.center - reach), history.center + reach)


def describe_duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= 2 * size:
            return f"{seconds // size} {unit}s"
    return f"{seconds} seconds" if seconds != 1 else "1 second"


def amount_outlier(
    *,
    rule: str,
    amount_minor: int,
    currency: str,
    history: History,
    whose: str,
    threshold: float,
    min_history: int,
) -> tuple[float | None, Finding | None]:
    """The spend's z against a history, and a Finding when |z| passes the threshold.

    A history shorter than `min_history` says nothing yet: z is None.
    """
    if history.count < min_history:
        return None, None
    z = zscore(amount_minor=amount_minor, history=history)
    if abs(z) <= threshold:
        return z, None
    typical = format_money(round(math.exp(history.center)), currency)
    basis = (
        f"geometric mean {typical} over {history.count} spends"
        if history.method == "zscore"
        else f"median {typical} of the last {history.count} spends"
    )
    detail = (
        f"{format_money(amount_minor, currency)} is {abs(z):.1f}{SIGMA} {'above' if z > 0 else 'below'} "
        f"{whose} ({basis}, measured on the log scale)"
    )
    return z, Finding(rule=rule, score=round(abs(z), 2), detail=detail)


def velocity_count(*, count: int, limit: int, window_seconds: int, who: str) -> Finding | None:
    if count <= limit:
        return None
    return Finding(
        rule=Rule.VELOCITY_COUNT,
        score=round(count / limit, 2),
        detail=f"{count} spends by {who} within {describe_duration(window_seconds)} (limit {limit}).",
    )


def velocity_amount(
    *, total_minor: int, spend_count: int, limit_minor: int, window_seconds: int, currency: str, who: str
) -> Finding | None:
    """Several spends adding up past the limit; one large spend alone is the outlier detectors' business."""
    if total_minor <= limit_minor or spend_count < 2:
        return None
    return Finding(
        rule=Rule.VELOCITY_AMOUNT,
        score=round(total_minor / limit_minor, 2),
        detail=(
            f"{format_money(total_minor, currency)} spent by {who} in {spend_count} spends within "
            f"{describe_duration(window_seconds)} (limit {format_money(limit_minor, currency)})."
        ),
    )


def duplicate_charge(
    *, earlier: list[datetime], at: datetime, amount_minor: int, currency: str, merchant: str, who: str
) -> Finding | None:
    """`earlier` holds when the same employee was charged the same amount by the same merchant just before."""
    if not earlier:
        return None
    gap = int((at - max(earlier)).total_seconds())
    times = "once" if len(earlier) == 1 else f"{len(earlier)} times"
    return Finding(
        rule=Rule.DUPLICATE_CHARGE,
        score=float(len(earlier)),
        detail=(
            f"{format_money(amount_minor, currency)} at {merchant} by {who} was already charged {times}, "
            f"the last {describe_duration(gap) if gap else 'at the same moment'} before."
        ),
    )


def structuring_band(*, threshold_minor: int, margin_percent: int) -> tuple[int, int]:
    """The amounts that are just under the threshold: [low, threshold)."""
    return -(-threshold_minor * (100 - margin_percent) // 100), threshold_minor


def structuring(
    *,
    amount_minor: int,
    band_amounts: list[int],
    threshold_minor: int,
    margin_percent: int,
    min_count: int,
    window_hours: int,
    currency: str,
    who: str,
) -> Finding | None:
    """`band_amounts`: the employee's spends in the band within the window up to this one, this one included."""
    low, high = structuring_band(threshold_minor=threshold_minor, margin_percent=margin_percent)
    if not low <= amount_minor < high or len(band_amounts) < min_count:
        return None
    return Finding(
        rule=Rule.STRUCTURING,
        score=round(len(band_amounts) / min_count, 2),
        detail=(
            f"{len(band_amounts)} spends by {who} of {format_money(min(band_amounts), currency)} to "
            f"{format_money(max(band_amounts), currency)} within {describe_duration(window_hours * 3600)}, "
            f"each just under the {format_money(threshold_minor, currency)} threshold."
        ),
    )


MINUTES_PER_DAY = 24 * 60


def minute_of_day(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def clock_distance(first: int, second: int) -> int:
    """Minutes between two times of day, round the clock: 23:30 and 00:30 are an hour apart."""
    apart = abs(first - second) % MINUTES_PER_DAY
    return min(apart, MINUTES_PER_DAY - apart)


def unusual_hours(
    *, local_time: datetime, history: list[int], gap_minutes: int, min_history: int, timezone_name: str, who: str
) -> tuple[int | None, Finding | None]:
    """How far the spend's time of day lies from the nearest time of day of the employee's recent spends
    (`history`, minutes after local midnight), and a Finding when that is more than `gap_minutes`.

    Judged against the employee's own days, not fixed quiet hours: someone working in London for a New
    York company spends at 04:00 on New York's clock every morning. A history shorter than `min_history`
    says nothing yet (None, None): a new employee's hours are not known.
    """
    if len(history) < min_history:
        return None, None
    minute = minute_of_day(local_time)
    nearest = min(history, key=lambda usual: clock_distance(minute, usual))
    gap = clock_distance(minute, nearest)
    if gap <= gap_minutes:
        return gap, None
    return gap, Finding(
        rule=Rule.UNUSUAL_HOURS,
        score=round(gap / gap_minutes, 2),
        detail=(
            f"Spent at {local_time:%H:%M} {timezone_name} time; none of {who}'s last {len(history)} spends was "
            f"within {describe_duration(gap_minutes * 60)} of that time of day "
            f"(the nearest: {nearest // 60:02d}:{nearest % 60:02d})."
        ),
    )


def blocked_category(*, category: str, blocked: list[str], organization_name: str) -> Finding | None:
    if category.lower() not in {name.strip().lower() for name in blocked}:
        return None
    return Finding(
        rule=Rule.BLOCKED_CATEGORY,
        score=1.0,
        detail=f"Category '{category}' is blocked at {organization_name}.",
    )
