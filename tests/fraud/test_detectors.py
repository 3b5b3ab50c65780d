"""The detectors' arithmetic, on values whose answers are known independently (numpy, scipy, by hand)."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from scipy import stats

from apps.fraud import detectors
from apps.fraud.models import Rule


def test_running_history_is_the_sample_mean_and_deviation():
    values = np.log([1200, 3400, 999, 15000, 2500, 2600])
    count, mean, m2 = 0, 0.0, 0.0
    for value in values:  # Welford, as the SQL update does it
        count += 1
        delta = value - mean
        mean += delta / count
        m2 += delta * (value - mean)
    history = detectors.history_from_running(count=count, mean=mean, m2=m2)
    assert history.center == pytest.approx(values.mean())
    assert history.deviation == pytest.approx(values.std(ddof=1))


def test_robust_history_is_median_and_scaled_mad_and_ignores_a_few_outliers():
    values = np.log([1000, 1100, 1200, 1300, 900, 1000, 1150, 1050, 500000, 800000])
    history = detectors.history_from_sample(values)
    assert history.center == pytest.approx(np.median(values))
    assert history.deviation == pytest.approx(stats.median_abs_deviation(values, scale="normal"))
    assert history.deviation < 0.3 < values.std(ddof=1)


def test_zscore_on_a_long_history_is_the_plain_z():
    history = detectors.History(count=100_000, center=math.log(10_000), deviation=0.5, method="zscore")
    assert detectors.zscore(amount_minor=round(10_000 * math.exp(1.5)), history=history) == pytest.approx(3.0, abs=1e-3)
    assert detectors.zscore(amount_minor=round(10_000 * math.exp(-1.0)), history=history) == pytest.approx(
        -2.0, abs=1e-3
    )


def test_zscore_asks_more_of_a_short_history():
    amount = round(10_000 * math.exp(1.6))  # 3.2 deviations out
    short = detectors.History(count=20, center=math.log(10_000), deviation=0.5, method="zscore")
    long = detectors.History(count=5000, center=math.log(10_000), deviation=0.5, method="zscore")
    assert (
        detectors.zscore(amount_minor=amount, history=short) < 3.0 < detectors.zscore(amount_minor=amount, history=long)
    )


def test_a_history_without_spread_is_floored():
    history = detectors.History(count=50, center=math.log(1000), deviation=0.0, method="zscore")
    # $10.50 against fifty $10.00 subscriptions is not infinitely unusual; $20 is.
    assert abs(detectors.zscore(amount_minor=1050, history=history)) < 3
    assert detectors.zscore(amount_minor=2000, history=history) > 3


def test_amount_outlier_says_what_it_saw():
    history = detectors.History(count=48, center=math.log(31_000), deviation=0.6, method="zscore")
    z, finding = detectors.amount_outlier(
        rule=Rule.AMOUNT_OUTLIER_EMPLOYEE,
        amount_minor=980_000,
        currency="USD",
        history=history,
        whose="alice@techcorp.com's usual spend",
        threshold=3.0,
        min_history=20,
    )
    assert z > 3
    assert finding.score == round(z, 2)
    assert finding.detail.startswith(f"$9,800 is {z:.1f}{detectors.SIGMA} above alice@techcorp.com's usual spend (")
    assert "geometric mean $310 over 48 spends" in finding.detail


def test_amount_outlier_is_silent_on_a_short_history():
    history = detectors.History(count=19, center=math.log(1000), deviation=0.2, method="zscore")
    z, finding = detectors.amount_outlier(
        rule=Rule.AMOUNT_OUTLIER_EMPLOYEE,
        amount_minor=10_000_000,
        currency="USD",
        history=history,
        whose="x",
        threshold=3.0,
        min_history=20,
    )
    assert (z, finding) == (None, None)


def test_value_to_fold_winsorizes_only_judged_histories():
    history = detectors.History(count=30, center=math.log(1000), deviation=0.5, method="zscore")
    assert detectors.value_to_fold(amount_minor=10**7, history=history, threshold=3, min_history=20) == pytest.approx(
        math.log(1000) + 1.5
    )
    assert detectors.value_to_fold(amount_minor=1200, history=history, threshold=3, min_history=20) == pytest.approx(
        math.log(1200)
    )
    assert detectors.value_to_fold(amount_minor=10**7, history=history, threshold=3, min_history=40) == pytest.approx(
        math.log(10**7)
    )


@pytest.mark.parametrize(
    ("first", "second", "apart"),
    [(0, 0, 0), (60, 180, 120), (23 * 60 + 30, 30, 60), (30, 23 * 60 + 30, 60), (0, 720, 720)],
)
def test_times_of_day_are_apart_round_the_clock(first, second, apart):
    assert detectors.clock_distance(first, second) == apart


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 4, hour, minute, tzinfo=UTC)


def test_unusual_hours_measures_the_gap_to_the_nearest_usual_time_of_day():
    usual = [9 * 60 + 15, 12 * 60, 23 * 60 + 40]  # 09:15, 12:00, 23:40
    gap, finding = detectors.unusual_hours(
        local_time=_at(4, 10), history=usual, gap_minutes=120, min_history=3, timezone_name="Europe/London", who="a@b.c"
    )
    assert gap == 270  # 4 h 30 after 23:40
    assert finding.score == 2.25
    assert finding.detail == (
        "Spent at 04:10 Europe/London time; none of a@b.c's last 3 spends was within 2 hours of that time of day "
        "(the nearest: 23:40)."
    )
    # Within the gap of a usual time, across midnight too: nothing to say.
    assert detectors.unusual_hours(
        local_time=_at(1, 30), history=usual, gap_minutes=120, min_history=3, timezone_name="UTC", who="a"
    ) == (110, None)


def test_unusual_hours_says_nothing_before_the_employees_hours_are_known():
    assert detectors.unusual_hours(
        local_time=_at(4), history=[12 * 60] * 39, gap_minutes=120, min_history=40, timezone_name="UTC", who="a"
    ) == (None, None)


def test_structuring_band_is_just_under_the_threshold():
    assert detectors.structuring_band(threshold_minor=500_000, margin_percent=10) == (450_000, 500_000)
    assert detectors.structuring_band(threshold_minor=999, margin_percent=10) == (900, 999)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1 second"), (60, "60 seconds"), (600, "10 minutes"), (7200, "2 hours"), (604800, "7 days")],
)
def test_durations_read_naturally(seconds, text):
    assert detectors.describe_duration(seconds) == text


def test_velocity_amount_leaves_a_single_large_spend_to_the_outlier_rules():
    assert (
        detectors.velocity_amount(
            total_minor=900_000, spend_count=1, limit_minor=250_000, window_seconds=600, currency="USD", who="a"
        )
        is None
    )
    finding = detectors.velocity_amount(
        total_minor=300_000, spend_count=2, limit_minor=250_000, window_seconds=600, currency="USD", who="a"
    )
    assert finding.detail == "$3,000 spent by a in 2 spends within 10 minutes (limit $2,500)."
