"""The detectors' arithmetic, on values whose answers are known independently (numpy, scipy, by hand)."""

import math

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
    ("hour", "start", "end", "quiet"),
    [(2, 0, 5, True), (5, 0, 5, False), (23, 22, 6, True), (3, 22, 6, True), (12, 22, 6, False), (3, 4, 4, False)],
)
def test_quiet_hours_wrap_around_midnight(hour, start, end, quiet):
    assert detectors.in_quiet_hours(hour=hour, start=start, end=end) is quiet


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
