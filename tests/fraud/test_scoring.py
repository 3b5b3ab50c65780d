"""Each detector through the scoring service, on constructed histories: it flags what it should, and
stays quiet on normal spend and on short histories. Statistics in PostgreSQL, windows in real Redis."""

from datetime import timedelta

import numpy as np
import pytest
from django_redis import get_redis_connection

from apps.fraud import detectors, services
from apps.fraud.models import FraudAlert, FraudSettings, OutlierMethod, Rule, SpendStatistic, TransactionRisk
from apps.fraud.velocity import window_key
from apps.ledger.models import Transaction
from tests.fraud.conftest import BASE_TIME, make_spend, score

# Ordinary amounts around $100, spread like real spend (no two equal, none far out).
ORDINARY = [8200, 9100, 10400, 11900, 9700, 12800, 7600, 10100, 13500, 8800]


def build_history(employee, count: int, *, category: str = "supplies", start=BASE_TIME, scale: float = 1.0):
    """`count` (at most 30) ordinary spends 20 minutes apart within the day, each scored as it happens.
    Returns the alerts they raised."""
    raised = []
    for index in range(count):
        amount = round(ORDINARY[index % len(ORDINARY)] * scale * (1 + 0.01 * (index // len(ORDINARY))))
        spend = make_spend(employee, amount, at=start + timedelta(minutes=20 * index), category=category)
        raised += list(score(spend).values())
    return raised


def settings_of(tenant, **thresholds) -> FraudSettings:
    return FraudSettings.objects.create(organization=tenant.organization, **thresholds)


def test_employee_outlier_flags_a_spend_far_above_their_history(tenant):
    assert build_history(tenant.employee, 30) == []
    big = make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2), category="travel")
    alerts = score(big)
    assert set(alerts) == {Rule.AMOUNT_OUTLIER_EMPLOYEE}  # travel in Engineering has no history yet
    alert = alerts[Rule.AMOUNT_OUTLIER_EMPLOYEE]
    assert alert.score > 3
    assert alert.detail.startswith("$9,800 is ")
    assert f"{detectors.SIGMA} above {tenant.employee.email}'s usual spend" in alert.detail
    assert "over 30 spends" in alert.detail


def test_department_category_outlier_uses_the_department_history(tenant):
    build_history(tenant.other_employee, 25, category="travel", scale=3)
    # The employee has no history of their own; the department's travel spend says $9,000 is unusual.
    alerts = score(make_spend(tenant.employee, 900_000, at=BASE_TIME + timedelta(days=2), category="travel"))
    assert set(alerts) == {Rule.AMOUNT_OUTLIER_DEPARTMENT_CATEGORY}
    assert "the usual travel spend in Engineering" in alerts[Rule.AMOUNT_OUTLIER_DEPARTMENT_CATEGORY].detail


def test_an_amount_far_below_the_history_is_flagged_too(tenant):
    build_history(tenant.employee, 30)
    alerts = score(make_spend(tenant.employee, 50, at=BASE_TIME + timedelta(days=2)))  # a $0.50 card test
    assert "below" in alerts[Rule.AMOUNT_OUTLIER_EMPLOYEE].detail


def test_outliers_stay_quiet_on_normal_spend(tenant):
    build_history(tenant.employee, 30)
    assert score(make_spend(tenant.employee, 14_000, at=BASE_TIME + timedelta(days=2))) == {}


def test_outliers_stay_quiet_on_a_short_history(tenant):
    build_history(tenant.employee, 19)
    spend = make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2))
    assert score(spend) == {}
    measured = TransactionRisk.objects.get(transaction=spend).scores
    assert measured[Rule.AMOUNT_OUTLIER_EMPLOYEE] == {"z": None, "history": 19}


def test_minimum_history_is_per_organization(tenant):
    settings_of(tenant, outlier_min_history=10)
    build_history(tenant.employee, 12)
    assert Rule.AMOUNT_OUTLIER_EMPLOYEE in score(make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2)))


def test_running_statistics_are_welford_of_the_log_amounts(tenant):
    build_history(tenant.employee, 15)
    amounts = Transaction.objects.filter(employee=tenant.employee).values_list("amount_minor", flat=True)
    logs = np.log(np.array(list(amounts), dtype=float))
    row = SpendStatistic.objects.get(scope=SpendStatistic.Scope.EMPLOYEE, subject=str(tenant.employee.id))
    assert row.count == 15
    assert row.mean == pytest.approx(logs.mean())
    assert row.m2 / (row.count - 1) == pytest.approx(logs.var(ddof=1))


def test_one_outlier_does_not_teach_the_history_that_outliers_are_normal(tenant):
    build_history(tenant.employee, 30)
    assert Rule.AMOUNT_OUTLIER_EMPLOYEE in score(
        make_spend(tenant.employee, 2_000_000, at=BASE_TIME + timedelta(days=2))
    )
    # Folded in at the threshold, the first does not hide a second, smaller one.
    second = make_spend(tenant.employee, 600_000, at=BASE_TIME + timedelta(days=3))
    assert Rule.AMOUNT_OUTLIER_EMPLOYEE in score(second)


def test_robust_method_judges_by_median_and_mad_of_recent_spends(tenant):
    settings_of(tenant, outlier_method=OutlierMethod.ROBUST, robust_history_size=25)
    assert build_history(tenant.employee, 30) == []
    assert score(make_spend(tenant.employee, 14_000, at=BASE_TIME + timedelta(days=2))) == {}
    alert = score(make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=3)))[Rule.AMOUNT_OUTLIER_EMPLOYEE]
    assert "(median $" in alert.detail and "of the last 25 spends" in alert.detail


def test_robust_method_stays_quiet_on_a_short_history(tenant):
    settings_of(tenant, outlier_method=OutlierMethod.ROBUST)
    build_history(tenant.employee, 19)
    assert score(make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2))) == {}


def test_velocity_count_flags_the_accepted_spends_past_the_limit(tenant):
    raised = []
    for second in range(0, 64, 8):  # 8 attempts in 56 seconds, two refused
        status = Transaction.Status.REJECTED if second in (16, 32) else Transaction.Status.POSTED
        spend = make_spend(tenant.employee, 2500 + second, at=BASE_TIME + timedelta(seconds=second), status=status)
        raised.append(Rule.VELOCITY_COUNT in score(spend))
    # The refused attempts spent nothing: they are not counted, and not judged.
    assert raised == [False] * 7 + [True]
    alert = FraudAlert.objects.get(rule=Rule.VELOCITY_COUNT)
    assert alert.detail == f"6 spends by {tenant.employee.email} within 60 seconds (limit 5)."
    assert alert.score == 1.2


def test_refused_attempts_are_not_counted_as_spent(tenant):
    """Two refused $48,000 attempts are not $96,000 spent, nor a spree with the spend after them."""
    for minute in (0, 2):
        refused = make_spend(
            tenant.employee, 4_800_000, at=BASE_TIME + timedelta(minutes=minute), status=Transaction.Status.REJECTED
        )
        assert Rule.VELOCITY_AMOUNT not in score(refused)
        assert Rule.VELOCITY_AMOUNT not in TransactionRisk.objects.get(transaction=refused).scores
    assert score(make_spend(tenant.employee, 10_000, at=BASE_TIME + timedelta(minutes=4))) == {}
    measured = TransactionRisk.objects.order_by("-scored_at", "-id").first().scores
    assert (measured[Rule.VELOCITY_COUNT], measured[Rule.VELOCITY_AMOUNT]) == (1, 10_000)


def test_a_refused_attempt_is_judged_but_does_not_teach_the_history(tenant):
    build_history(tenant.employee, 30)
    refused = make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2), status=Transaction.Status.REJECTED)
    assert Rule.AMOUNT_OUTLIER_EMPLOYEE in score(refused)
    assert sorted(SpendStatistic.objects.values_list("count", flat=True)) == [30, 30]


def test_velocity_count_stays_quiet_when_spends_are_spread_out(tenant):
    for index in range(8):
        assert score(make_spend(tenant.employee, 2500 + index, at=BASE_TIME + timedelta(seconds=61 * index))) == {}


def test_velocity_amount_flags_spends_that_add_up_past_the_limit(tenant):
    first = score(make_spend(tenant.employee, 120_000, at=BASE_TIME))
    second = score(make_spend(tenant.employee, 120_000, at=BASE_TIME + timedelta(minutes=4), merchant="Apple"))
    third = score(make_spend(tenant.employee, 20_000, at=BASE_TIME + timedelta(minutes=9), merchant="Dell"))
    later = score(make_spend(tenant.employee, 120_000, at=BASE_TIME + timedelta(minutes=25), merchant="B&H"))
    assert Rule.VELOCITY_AMOUNT not in first and Rule.VELOCITY_AMOUNT not in second
    assert third[Rule.VELOCITY_AMOUNT].detail == (
        f"$2,600 spent by {tenant.employee.email} in 3 spends within 10 minutes (limit $2,500)."
    )
    assert Rule.VELOCITY_AMOUNT not in later


def test_velocity_windows_are_per_organization_settings(tenant):
    settings_of(tenant, velocity_count_limit=2, velocity_count_window_seconds=600)
    raised = [
        Rule.VELOCITY_COUNT in score(make_spend(tenant.employee, 1000 + i, at=BASE_TIME + timedelta(minutes=i)))
        for i in range(3)
    ]
    assert raised == [False, False, True]


def test_duplicate_charge_flags_the_same_charge_minutes_later(tenant):
    score(make_spend(tenant.employee, 4510, at=BASE_TIME, merchant="Uber"))
    alerts = score(make_spend(tenant.employee, 4510, at=BASE_TIME + timedelta(minutes=2), merchant="UBER"))
    assert alerts[Rule.DUPLICATE_CHARGE].detail == (
        f"$45.10 at UBER by {tenant.employee.email} was already charged once, the last 2 minutes before."
    )


@pytest.mark.parametrize(
    ("gap", "amount", "merchant", "first_status"),
    [
        (timedelta(minutes=6), 4510, "Uber", Transaction.Status.POSTED),  # outside the window
        (timedelta(minutes=2), 4520, "Uber", Transaction.Status.POSTED),  # another amount
        (timedelta(minutes=2), 4510, "Lyft", Transaction.Status.POSTED),  # another merchant
        (timedelta(minutes=2), 4510, "Uber", Transaction.Status.REJECTED),  # the first was never charged
    ],
)
def test_duplicate_charge_stays_quiet_on_different_charges(tenant, gap, amount, merchant, first_status):
    score(make_spend(tenant.employee, 4510, at=BASE_TIME, merchant="Uber", status=first_status))
    assert Rule.DUPLICATE_CHARGE not in score(
        make_spend(tenant.employee, amount, at=BASE_TIME + gap, merchant=merchant)
    )


def test_duplicate_charge_is_per_employee(tenant):
    score(make_spend(tenant.employee, 4510, at=BASE_TIME, merchant="Uber"))
    assert score(make_spend(tenant.other_employee, 4510, at=BASE_TIME + timedelta(minutes=1), merchant="Uber")) == {}


def test_structuring_flags_repeated_amounts_just_under_the_threshold(tenant):
    day = timedelta(days=1)
    first = score(make_spend(tenant.employee, 480_000, at=BASE_TIME, category="equipment"))
    bigger = score(make_spend(tenant.employee, 520_000, at=BASE_TIME + day, category="equipment"))  # over: not under it
    second = score(make_spend(tenant.employee, 490_000, at=BASE_TIME + 2 * day, category="equipment"))
    third = score(make_spend(tenant.employee, 499_000, at=BASE_TIME + 3 * day, category="equipment"))
    assert Rule.STRUCTURING not in first | bigger | second
    assert third[Rule.STRUCTURING].detail == (
        f"3 spends by {tenant.employee.email} of $4,800 to $4,990 within 7 days, each just under the $5,000 threshold."
    )


def test_structuring_counts_only_the_window(tenant):
    for week in range(3):
        spend = make_spend(tenant.employee, 480_000, at=BASE_TIME + timedelta(days=4 * week), category="equipment")
        assert Rule.STRUCTURING not in score(spend)


def office_hours(employee, *, first_hour_utc: int, count: int = 40) -> list[FraudAlert]:
    """`count` ordinary spends over the days before BASE_TIME, four a day two hours apart from
    `first_hour_utc`, each scored as it happens. Returns the alerts they raised."""
    first_day = BASE_TIME.replace(hour=first_hour_utc) - timedelta(days=count // 4 + 1)
    raised = []
    for index in range(count):
        at = first_day + timedelta(days=index // 4, hours=2 * (index % 4))
        raised += list(score(make_spend(employee, ORDINARY[index % len(ORDINARY)], at=at)).values())
    return raised


def in_new_york(tenant) -> None:
    tenant.organization.timezone = "America/New_York"
    tenant.organization.save()


def test_unusual_hours_are_judged_on_the_organizations_clock_against_the_employees_own_hours(tenant):
    in_new_york(tenant)
    assert office_hours(tenant.employee, first_hour_utc=14) == []  # 09:00 to 15:00 in New York
    night = make_spend(tenant.employee, 9000, at=BASE_TIME.replace(hour=7, minute=30))  # 02:30 in New York
    assert score(night)[Rule.UNUSUAL_HOURS].detail == (
        f"Spent at 02:30 America/New_York time; none of {tenant.employee.email}'s last 40 spends was within "
        "2 hours of that time of day (the nearest: 09:00)."
    )
    assert TransactionRisk.objects.get(transaction=night).scores[Rule.UNUSUAL_HOURS] == 390
    assert score(make_spend(tenant.employee, 9000, at=BASE_TIME + timedelta(hours=1, minutes=30))) == {}  # 10:30


def test_a_team_abroad_keeps_its_own_hours(tenant):
    """A London team of a New York company spends at 04:00 on New York's clock every morning: usual for them."""
    in_new_york(tenant)
    assert office_hours(tenant.employee, first_hour_utc=9) == []  # 09:00 to 15:00 in London
    assert score(make_spend(tenant.employee, 9000, at=BASE_TIME.replace(hour=9, minute=30))) == {}  # 04:30 in NY
    late = make_spend(tenant.employee, 9000, at=BASE_TIME.replace(hour=2, minute=30))  # 21:30 in NY, 02:30 in London
    assert Rule.UNUSUAL_HOURS in score(late)


def test_a_new_employees_hours_are_not_judged(tenant):
    in_new_york(tenant)
    office_hours(tenant.employee, first_hour_utc=14, count=39)
    night = make_spend(tenant.employee, 9000, at=BASE_TIME.replace(hour=7, minute=30))
    assert score(night) == {}
    assert TransactionRisk.objects.get(transaction=night).scores[Rule.UNUSUAL_HOURS] is None


def test_the_gap_and_the_history_needed_are_per_organization(tenant):
    settings_of(tenant, unusual_hours_gap_minutes=30, unusual_hours_min_history=20)
    office_hours(tenant.employee, first_hour_utc=9, count=20)  # 09:00 to 15:00 UTC
    assert Rule.UNUSUAL_HOURS in score(make_spend(tenant.employee, 9000, at=BASE_TIME.replace(hour=16)))


def test_a_night_flagged_does_not_make_the_next_one_usual_until_a_reviewer_calls_it_legitimate(tenant):
    office_hours(tenant.employee, first_hour_utc=9)
    nights = [BASE_TIME.replace(hour=2) + timedelta(days=day) for day in range(3)]
    first = score(make_spend(tenant.employee, 9000, at=nights[0]))[Rule.UNUSUAL_HOURS]
    assert Rule.UNUSUAL_HOURS in score(make_spend(tenant.employee, 9000, at=nights[1]))
    services.alert_resolve(actor=tenant.finance, alert_id=first.id, resolution=FraudAlert.Resolution.LEGITIMATE)
    assert score(make_spend(tenant.employee, 9000, at=nights[2])) == {}


def test_blocked_categories_are_the_organizations_own(tenant, other_tenant):
    assert Rule.BLOCKED_CATEGORY in score(make_spend(tenant.employee, 5000, category="gambling"))
    settings_of(other_tenant, blocked_categories=["Travel"])
    assert score(make_spend(other_tenant.employee, 5000, category="gambling")) == {}
    alerts = score(make_spend(other_tenant.employee, 5000, at=BASE_TIME + timedelta(hours=1), category="travel"))
    assert alerts[Rule.BLOCKED_CATEGORY].detail == "Category 'travel' is blocked at Globex."


def test_scoring_twice_changes_nothing(tenant):
    build_history(tenant.employee, 25)
    spend = make_spend(tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2), category="gambling")
    first = score(spend)
    assert set(first) == {Rule.AMOUNT_OUTLIER_EMPLOYEE, Rule.BLOCKED_CATEGORY}
    statistics = list(SpendStatistic.objects.values_list("subject", "count", "mean", "m2").order_by("subject"))
    window = get_redis_connection("default").zcard(
        window_key(organization_id=tenant.organization.id, employee_id=tenant.employee.id)
    )

    assert score(spend) is None
    assert services.transactions_score(transaction_ids=[spend.id]) == 0
    assert FraudAlert.objects.filter(transaction=spend).count() == 2
    assert list(SpendStatistic.objects.values_list("subject", "count", "mean", "m2").order_by("subject")) == statistics
    assert (
        get_redis_connection("default").zcard(
            window_key(organization_id=tenant.organization.id, employee_id=tenant.employee.id)
        )
        == window
    )


def test_only_settled_spends_are_scored(tenant, spend):
    pending = spend(tenant.employee, 5000, category="gambling", status=Transaction.Status.PENDING)
    posted = spend(tenant.employee, 5000, at=BASE_TIME + timedelta(hours=1), category="gambling")
    refused = spend(tenant.employee, 5000, at=BASE_TIME + timedelta(hours=2), category="gambling", status="rejected")
    assert services.transactions_score(transaction_ids=[pending.id, posted.id, refused.id]) == 2
    assert set(FraudAlert.objects.values_list("transaction_id", flat=True)) == {posted.id, refused.id}


def test_statistics_and_windows_are_per_tenant(tenant, other_tenant):
    build_history(tenant.employee, 30, category="travel")
    # Same department name and category in the other organization: its history is its own, and short.
    alerts = score(make_spend(other_tenant.employee, 980_000, at=BASE_TIME + timedelta(days=2), category="travel"))
    assert alerts == {}
    assert SpendStatistic.objects.of(other_tenant.organization).get(scope="department_category").count == 1
    assert SpendStatistic.objects.of(tenant.organization).get(scope="department_category").count == 30
    redis = get_redis_connection("default")
    assert (
        redis.zcard(window_key(organization_id=other_tenant.organization.id, employee_id=other_tenant.employee.id)) == 1
    )


def test_an_alert_is_raised_once_per_spend_and_rule_however_often_it_is_inserted(tenant):
    spend = make_spend(tenant.employee, 5000, category="gambling")
    blocked = detectors.Finding(rule=Rule.BLOCKED_CATEGORY, score=1.0, detail="Category 'gambling' is blocked.")
    burst = detectors.Finding(rule=Rule.VELOCITY_COUNT, score=1.2, detail="6 spends within 60 seconds.")
    assert [alert.rule for alert in services.alerts_insert(spend=spend, findings=[blocked])] == [Rule.BLOCKED_CATEGORY]
    # Inserted again with a new finding: only the new one is written, and only it is returned (announced).
    again = services.alerts_insert(spend=spend, findings=[blocked, burst])
    assert [(alert.rule, alert.status, alert.score) for alert in again] == [(Rule.VELOCITY_COUNT, "open", 1.2)]
    assert sorted(FraudAlert.objects.filter(transaction=spend).values_list("rule", flat=True)) == [
        Rule.BLOCKED_CATEGORY,
        Rule.VELOCITY_COUNT,
    ]
