"""`fraud_eval`, run small: the real detectors on a labelled synthetic stream reach their targets."""

import json
from io import StringIO

from django.core.management import call_command
from django_redis import get_redis_connection

from apps.fraud.evaluation import StreamGenerator
from apps.fraud.models import FraudSettings
from apps.ledger.models import Transaction
from apps.tenancy.models import Organization


def test_fraud_eval_reaches_precision_and_recall_targets_for_every_rule(db):
    out = StringIO()
    call_command(
        "fraud_eval", "--seed", "1", "--employees", "12", "--days", "24", "--warmup-days", "12", "--json", stdout=out
    )
    report = json.loads(out.getvalue())
    assert report["spends"] > report["normal_spends"] > 400
    for rule, result in report["rules"].items():
        assert result["positives"] >= 4, rule
        assert result["recall"] >= 0.9, (rule, result)
        assert result["precision"] >= 0.8, (rule, result)
    # It leaves nothing behind: its organization, spends and velocity windows are gone.
    assert not Organization.objects.filter(name__startswith="Fraud evaluation").exists()
    assert not Transaction.objects.exists()
    assert not list(get_redis_connection("default").scan_iter(match="ledgerx:fraud:velocity:*"))


def test_fraud_eval_prints_a_table(db):
    out = StringIO()
    call_command("fraud_eval", "--seed", "2", "--employees", "3", "--days", "14", "--warmup-days", "10", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("seed 2, outlier method zscore: ")
    assert lines[1].split() == ["rule", "positives", "flagged", "TP", "FP", "FN", "cross", "precision", "recall"]
    assert [line.split()[0] for line in lines[2:]] == [
        "amount_outlier_employee",
        "amount_outlier_department_category",
        "velocity_count",
        "velocity_amount",
        "duplicate_charge",
        "structuring",
        "unusual_hours",
        "blocked_category",
    ]


def test_a_seed_always_gives_the_same_stream():
    def stream(seed):
        generator = StreamGenerator(seed=seed, employees=4, days=16, warmup_days=10, fraud_settings=FraudSettings())
        return [(s.employee, s.at, s.amount_minor, s.merchant, s.scenario, s.labels) for s in generator.stream()]

    assert stream(5) == stream(5)
    assert stream(5) != stream(6)
