"""seed_demo: the demo of fixtures/ made through the services, and its spend history replayed so that
the ledger, the budgets, the approvals, the fraud alerts and the audit log agree."""

import importlib.util
from collections import defaultdict
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.approvals.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from apps.audit.models import AuditEvent
from apps.budgets.models import BudgetPeriod
from apps.controls.models import SpendRule
from apps.controls.policy import PolicyRefused
from apps.fraud.models import FraudAlert, Rule, SpendStatistic, TransactionRisk
from apps.ledger.models import Account, ChainCheckpoint, Entry, EntrySeal, GLMapping, Transaction
from apps.ledger.verification import ledger_verify
from apps.spending.services import transaction_submit
from apps.system.demo import DEMO_PASSWORD, HISTORY_FIXTURE
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Department, Organization, Role, User
from apps.webhooks.models import OutboxEvent
from ledgerx.months import month_start
from tests.factories import otp_fields

ROOT = Path(__file__).resolve().parents[2]


def _demo_snapshot() -> dict:
    """Every row the demo writes, as what a second run must leave unchanged."""
    return {
        "organizations": sorted(Organization.objects.values_list("id", "slug", "name", "timezone", "created_at")),
        "departments": sorted(Department.objects.values_list("id", "name", "parent_id", "monthly_limit_minor")),
        "users": sorted(User.objects.values_list("id", "email", "role", "department_id", "password", "date_joined")),
        "accounts": sorted(Account.objects.values_list("id", "kind", "department_id")),
        "policies": sorted(ApprovalPolicy.objects.values_list("id", "name", "min_amount_minor", "category")),
        "transactions": sorted(Transaction.objects.values_list("id", "status", "processed_at")),
        "entries": Entry.objects.count(),
        "chart": sorted(GLMapping.objects.values_list("id", "gl_account__code", "cost_centre")),
        "seals": EntrySeal.objects.count(),
        "checkpoints": ChainCheckpoint.objects.count(),
        "budget_periods": sorted(
            BudgetPeriod.objects.values_list("id", "limit_minor", "spent_minor", "held_minor", "updated_at")
        ),
        "approvals": sorted(ApprovalRequest.objects.values_list("id", "status", "current_level")),
        "decisions": ApprovalDecision.objects.count(),
        "risks": TransactionRisk.objects.count(),
        "statistics": sorted(SpendStatistic.objects.values_list("id", "count", "mean")),
        "alerts": FraudAlert.objects.count(),
        "audit": AuditEvent.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def _months_before(month: date, count: int) -> set[date]:
    index = month.year * 12 + month.month - 1
    return {date((index - back) // 12, (index - back) % 12 + 1, 1) for back in range(1, count + 1)}


@pytest.mark.django_db
def test_without_history_it_makes_the_organizations_of_the_fixture_through_the_services():
    output = StringIO()
    call_command("seed_demo", "--without-history", stdout=output)

    techcorp, globex = Organization.objects.get(slug="techcorp"), Organization.objects.get(slug="globex")
    assert (techcorp.name, techcorp.currency, techcorp.timezone) == ("TechCorp", "USD", "America/New_York")
    assert (globex.name, globex.timezone) == ("Globex", "Europe/London")
    departments = {(d.organization.slug, d.name): d for d in Department.objects.select_related("organization")}
    assert {key: (d.parent_id, d.monthly_limit_minor) for key, d in departments.items()} == {
        ("techcorp", "Engineering"): (None, 5_000_000),
        ("techcorp", "Sales"): (None, 2_500_000),
        ("globex", "Research"): (None, 3_000_000),
        ("globex", "Operations"): (None, 1_000_000),
    }
    users = {u.email: (u.role, u.department_id) for u in User.objects.exclude(role=Role.SYSTEM_ADMIN)}
    assert users == {
        "alice@techcorp.com": (Role.EMPLOYEE, departments["techcorp", "Engineering"].id),
        "bob@techcorp.com": (Role.EMPLOYEE, departments["techcorp", "Engineering"].id),
        "carol@techcorp.com": (Role.EMPLOYEE, departments["techcorp", "Sales"].id),
        "finance@techcorp.com": (Role.FINANCE_MANAGER, None),
        "admin@techcorp.com": (Role.ORG_ADMIN, None),
        "dave@globex.com": (Role.EMPLOYEE, departments["globex", "Research"].id),
        "erin@globex.com": (Role.EMPLOYEE, departments["globex", "Operations"].id),
        "finance@globex.com": (Role.FINANCE_MANAGER, None),
    }
    root = User.objects.get(role=Role.SYSTEM_ADMIN)
    assert (root.email, root.organization_id, root.is_superuser) == ("root@ledgerx.local", None, True)
    for email in [*users, root.email]:
        otp_code = otp_fields(User.objects.get(email=email)).get("otp_code")
        _, user = tenancy_services.token_issue(
            email=email, password=DEMO_PASSWORD, client_ip="127.0.0.1", otp_code=otp_code
        )
        assert user.email == email
    # Made by the services: each department has its expense account, and the audit log says who made what.
    assert Account.objects.filter(kind=Account.Kind.EXPENSE).count() == 4
    assert Account.objects.filter(kind=Account.Kind.CARD_FUNDING).count() == 2
    created_users = AuditEvent.objects.filter(action=AuditEvent.Action.USER_CREATED)
    assert sorted(created_users.values_list("actor_email", "after__email")) == sorted(
        (root.email, email) for email in users
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DEPARTMENT_CREATED).count() == 4
    assert sorted(ApprovalPolicy.objects.values_list("organization__slug", "name", "min_amount_minor", "category")) == [
        ("globex", "Large spend", 1_000_000, ""),
        ("globex", "Travel over $2,000", 200_000, "travel"),
        ("techcorp", "Large spend", 1_000_000, ""),
    ]
    assert not Transaction.objects.exists()
    assert "created organization TechCorp" in output.getvalue()


@pytest.mark.django_db(transaction=True)  # settlement takes its lock outside any transaction
def test_the_history_is_replayed_through_the_services_and_a_second_run_changes_nothing():
    call_command("seed_demo", stdout=StringIO())

    assert ledger_verify()["ok"], ledger_verify()["problems"]
    call_command("verify_ledger", stdout=StringIO())  # raises CommandError on any problem

    spends = Transaction.objects.filter(kind=Transaction.Kind.SPEND).select_related("organization")
    assert spends.count() >= 250
    assert not spends.filter(status=Transaction.Status.PENDING).exists()
    assert not ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING).exists()

    # Each organization's spend falls in each of the three months before this one, and only there,
    # made and settled in the past on the replay's clock.
    now = timezone.now()
    for organization in Organization.objects.all():
        months = set(spends.filter(organization=organization).values_list("budget_month", flat=True))
        assert months == _months_before(month_start(now, organization.timezone), 3), organization.slug
    for spend in spends:
        assert month_start(spend.created_at, spend.organization.timezone) == spend.budget_month
        assert spend.created_at < spend.processed_at < now

    # Budgets agree with the posted spends per department and month, and nothing is held any more.
    posted = defaultdict(int)
    for spend in spends.filter(status=Transaction.Status.POSTED):
        posted[(spend.department_id, spend.budget_month)] += spend.amount_minor
    periods = {(p.department_id, p.month): p for p in BudgetPeriod.objects.all()}
    assert {key: period.spent_minor for key, period in periods.items() if period.spent_minor} == posted
    assert all(period.held_minor == 0 for period in periods.values())

    # Some were rejected by an approver, one for its budget, some reversed, some flagged.
    rejected_by_approver = ApprovalDecision.objects.filter(outcome=ApprovalDecision.Outcome.REJECTED)
    assert rejected_by_approver.count() >= 2
    assert all(decision.request.transaction.status == Transaction.Status.REJECTED for decision in rejected_by_approver)
    assert ApprovalDecision.objects.filter(outcome=ApprovalDecision.Outcome.APPROVED).count() >= 2
    assert spends.filter(status=Transaction.Status.REJECTED, rejection_reason__contains="budget exceeded").exists()
    reversed_spends = spends.filter(status=Transaction.Status.REVERSED)
    assert reversed_spends.count() >= 3
    for original in reversed_spends:
        reversal = Transaction.objects.get(reversal_of=original)
        assert original.created_at < reversal.created_at < now
        audit = AuditEvent.objects.get(action=AuditEvent.Action.TRANSACTION_REVERSED, target_id=str(original.id))
        assert audit.created_at == reversal.created_at
    assert TransactionRisk.objects.count() == spends.count()
    rules = set(FraudAlert.objects.values_list("rule", flat=True))
    assert {Rule.DUPLICATE_CHARGE, Rule.STRUCTURING, Rule.UNUSUAL_HOURS, Rule.BLOCKED_CATEGORY} <= rules
    assert FraudAlert.objects.count() < spends.count() // 10  # a few, not noise

    # TechCorp's chart: Apple and Dell capitalized, each department's cost centre on its expense lines.
    techcorp_expenses = Entry.objects.filter(account__kind=Account.Kind.EXPENSE, account__organization__slug="techcorp")
    capitalized = techcorp_expenses.filter(transaction__merchant__in=["Apple", "Dell"])
    assert capitalized.exists() and set(capitalized.values_list("gl_code", flat=True)) == {"1500"}
    for department, cost_centre in (("Engineering", "ENG-100"), ("Sales", "SLS-200")):
        lines = techcorp_expenses.filter(account__department__name=department)
        assert set(lines.values_list("cost_centre", flat=True)) == {cost_centre}
    assert set(Entry.objects.filter(account__kind=Account.Kind.CARD_FUNDING).values_list("gl_code", flat=True)) == {
        "2100"
    }

    first = _demo_snapshot()
    output = StringIO()
    call_command("seed_demo", stdout=output)

    assert "(0 created)" in output.getvalue()
    assert _demo_snapshot() == first


def test_the_history_file_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("generate_history", ROOT / "fixtures" / "generate_history.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)

    assert generator.as_json(generator.history()) == HISTORY_FIXTURE.read_text()


@pytest.mark.django_db
def test_seed_demo_at_verbosity_0_seeds_and_says_nothing():
    # `make demo` says "Loading the TechCorp demo..." itself.
    output = StringIO()

    call_command("seed_demo", "--without-history", verbosity=0, stdout=output)

    assert output.getvalue() == ""
    assert Organization.objects.filter(name="TechCorp").exists()


@pytest.mark.django_db
def test_techcorp_refuses_gambling_before_money_moves():
    """The demo's spend rules, made through the controls services: the issue's Lucky Casino spend is
    refused at once, naming the rule, and nothing is recorded."""
    call_command("seed_demo", "--without-history", stdout=StringIO())
    techcorp = Organization.objects.get(slug="techcorp")
    assert set(SpendRule.objects.of(techcorp).values_list("name", flat=True)) == {"No gambling", "No casinos"}
    alice = User.objects.get(email="alice@techcorp.com")

    with pytest.raises(PolicyRefused, match="No gambling"):
        transaction_submit(
            user=alice,
            idempotency_key="demo-casino",
            amount="500.00",
            currency="USD",
            merchant="Lucky Casino",
            category="gambling",
        )

    assert not Transaction.objects.filter(idempotency_key="demo-casino").exists()
