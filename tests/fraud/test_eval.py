"""`fraud_eval`, run small: the real detectors on a labelled synthetic stream reach their targets."""

import json
import zoneinfo
from io import StringIO

from django.core.management import call_command
from django_redis import get_redis_connection

from apps.fraud.evaluation import EARLY_SHIFT_HOURS, RuleResult, StreamGenerator
from apps.fraud.models import FraudSettings
from apps.ledger.models import Transaction
from apps.tenancy.models import Organization


def test_fraud_eval_reaches_precision_and_recall_targets_for_every_rule(db):
    out = StringIO()
    call_command(
        "fraud_eval", "--seed", "1", "--employees", "12", "--days", "36", "--warmup-days", "20", "--json", stdout=out
    )
    report = json.loads(out.getvalue())
    assert report["spends"] > report["normal_spends"] > 600
    assert report["targets"] == {"precision": 0.8, "recall": 0.9}
    for rule, result in [*report["rules"].items(), ("overall", report["overall"])]:
        assert result["positives"] >= 4, rule
        assert result["recall"] >= 0.9, (rule, result)
        assert result["precision"] >= 0.8, (rule, result)
        assert result["short_of"] == [], (rule, result)
    # It leaves nothing behind: its organization, spends and velocity windows are gone.
    assert not Organization.objects.filter(name__startswith="Fraud evaluation").exists()
    assert not Transaction.objects.exists()
    assert not list(get_redis_connection("default").scan_iter(match="ledgerx:fraud:velocity:*"))


def test_fraud_eval_prints_a_table(db):
    out = StringIO()
    call_command("fraud_eval", "--seed", "2", "--employees", "3", "--days", "14", "--warmup-days", "10", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("seed 2, outlier method zscore: ")
    assert lines[1].split()[:9] == ["rule", "positives", "flagged", "TP", "FP", "FN", "cross", "precision", "recall"]
    assert lines[1].endswith("short of target (precision 0.8, recall 0.9)")
    assert [line.split()[0] for line in lines[2:]] == [
        "amount_outlier_employee",
        "amount_outlier_department_category",
        "velocity_count",
        "velocity_amount",
        "duplicate_charge",
        "structuring",
        "unusual_hours",
        "blocked_category",
        "overall",
    ]
    rules, overall = [line.split() for line in lines[2:-1]], lines[-1].split()
    # Overall adds up every rule's positives, flagged, TP, FP, FN and cross.
    assert [int(value) for value in overall[1:7]] == [sum(int(row[column]) for row in rules) for column in range(1, 7)]


def test_a_rule_short_of_its_targets_says_which():
    assert RuleResult("r", 10, 10, 9, 1, 1, 0).short_of == []
    assert RuleResult("r", 10, 20, 9, 11, 1, 0).short_of == ["precision"]
    assert RuleResult("r", 10, 8, 8, 0, 2, 0).short_of == ["recall"]
    assert RuleResult("r", 10, 16, 6, 10, 4, 0).short_of == ["precision", "recall"]


def test_a_seed_always_gives_the_same_stream():
    def stream(seed):
        generator = StreamGenerator(seed=seed, employees=4, days=16, warmup_days=10, fraud_settings=FraudSettings())
        return [(s.employee, s.at, s.amount_minor, s.merchant, s.scenario, s.labels) for s in generator.stream()]

    assert stream(5) == stream(5)
    assert stream(5) != stream(6)


def test_the_stream_keeps_office_hours_in_several_timezones():
    """Organizations in three timezones, with employees working from other ones and early shifts: on
    the organization's clock some ordinary spend falls between midnight and 05:00, the old
    fixed quiet hours, while the night scenarios lie in each employee's own night."""
    generator = StreamGenerator(seed=1, employees=12, days=20, warmup_days=10, fraud_settings=FraudSettings())
    employees = generator.employees
    assert {e.organization for e in employees} == {"America/New_York", "Europe/London", "Asia/Tokyo"}
    assert any(e.office != e.organization for e in employees)
    assert any(e.shift_hours == EARLY_SHIFT_HOURS for e in employees)
    stream = generator.stream()

    def organization_hour(spend) -> int:
        return spend.at.astimezone(zoneinfo.ZoneInfo(employees[spend.employee].organization)).hour

    def office_hour(spend) -> float:
        local = spend.at.astimezone(zoneinfo.ZoneInfo(employees[spend.employee].office))
        return (local.hour + local.minute / 60 - employees[spend.employee].shift_hours) % 24

    normal = [spend for spend in stream if spend.scenario == "normal"]
    at_night_on_the_organizations_clock = [spend for spend in normal if organization_hour(spend) < 5]
    assert len(at_night_on_the_organizations_clock) > 0.02 * len(normal)
    assert all(7.5 <= office_hour(spend) < 23 for spend in normal)
    nights = [spend for spend in stream if spend.scenario == "night"]
    assert nights and all(1.7 <= office_hour(spend) <= 4.7 for spend in nights)
