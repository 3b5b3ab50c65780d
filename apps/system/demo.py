"""The demo: TechCorp and Globex, and three months of their spend, made through the services.

fixtures/demo_organizations.json is shaped like a Django fixture (model, fields, natural keys) but
never goes to `loaddata`, which would write rows behind the services' back: no ledger accounts, no
audit events, no hashed passwords. Each row goes to the service that makes it. The spend history
(fixtures/demo_history.json, written by fixtures/generate_history.py) is not rows at all but what
people did. It is replayed in time order on a travelling clock, through submission, settlement,
fraud scoring, approval decisions and reversal, so that the journal and its hash chain, the
budgets, the approvals, the alerts and the audit log agree as they would in production.

Running it again changes nothing: rows are found by their natural keys, spends by their
idempotency keys, and a run that stopped half-way carries on from where it stopped.
"""

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

# The spend workflow's services (bound for apps/spending) are imported here only, from where they are today.
from apps.approvals.models import ApprovalPolicy, ApprovalRequest
from apps.approvals.services import approval_policy_create
from apps.budgets.services import budget_rollover
from apps.controls.models import SpendRule
from apps.controls.services import RuleFields, spend_rule_create
from apps.fraud.models import TransactionRisk
from apps.fraud.services import transactions_score
from apps.fx.models import FxRate
from apps.fx.services import fx_rate_set
from apps.ledger.chain import ledger_seal_all
from apps.ledger.chart_edits import AccountFields, MappingFields, gl_account_save, gl_mapping_save
from apps.ledger.models import GLAccount, GLMapping, Transaction
from apps.spending.drain_lease import organization_drain_lease
from apps.spending.services import approval_decide, settlement_run, transaction_reverse, transaction_submit
from apps.tenancy.models import Department, Organization, Role, User
from apps.tenancy.services import department_create, organization_create, user_create
from ledgerx.months import month_start

DEMO_PASSWORD = "ledgerx-demo"
ORGANIZATIONS_FIXTURE = settings.BASE_DIR / "fixtures" / "demo_organizations.json"
HISTORY_FIXTURE = settings.BASE_DIR / "fixtures" / "demo_history.json"
# A worker settles a spend moments after it arrives; the replay settles each this long after.
SETTLED_AFTER = timedelta(seconds=2)
# The organizations are made this early on the first day of the history's first month.
FOUNDED_AT = "07:00"
# A worker's drain lets go of its lease within a fraction of a second of finding nothing to do.
DRAIN_LEASE_ATTEMPTS = 50
DRAIN_LEASE_RETRY_SECONDS = 0.1


def seed_demo(*, history: bool = True) -> list[str]:
    """Make what is missing of the demo, and replay its spend history unless `history` is False.

    The history replays outside any transaction, as requests and workers run (settlement takes
    its lock before its transaction starts). Returns what was made, for people to read.
    """
    rows = json.loads(ORGANIZATIONS_FIXTURE.read_text())
    recorded = json.loads(HISTORY_FIXTURE.read_text())
    now = timezone.now()
    timezones = [row["fields"]["timezone"] for row in rows if row["model"] == "tenancy.organization"]
    founded = min(_local_moment(now, name, months_back=recorded["months"], day=1, at=FOUNDED_AT) for name in timezones)
    with time_machine.travel(founded, tick=False) as clock:
        with transaction.atomic():
            created = _Organizations().load([row for row in rows if row["model"] != "fx.fxrate"])
        if history:
            created += _history_replay(recorded["spends"], clock=clock, now=now)
    created += _fx_rates_today([row["fields"] for row in rows if row["model"] == "fx.fxrate"])
    if history:
        # What the sealer (a beat task) would have done by now: the replayed entries are months old.
        ledger_seal_all()
    # What the hourly rollover would have done by now: the departments were made months ago.
    budget_rollover()
    return created


def _fx_rates_today(rates: list[dict[str, Any]]) -> list[str]:
    """The demo's FX rates, set for each organization's today once the clock is back, so that a spend
    abroad converts at once. A rate already set for today is left as it is."""
    created = []
    for fields in rates:
        organization = Organization.objects.get(slug=fields["organization"][0])
        today = timezone.localdate(timezone=ZoneInfo(organization.timezone))
        if FxRate.objects.of(organization).filter(currency=fields["currency"], rate_date=today).exists():
            continue
        fx_rate_set(
            actor=None,
            organization=organization,
            currency=fields["currency"],
            rate_date=today,
            rate=Decimal(fields["rate"]),
        )
        created.append(f"FX rate {organization.name}/{fields['currency']} for {today}")
    return created


def _local_moment(now: datetime, timezone_name: str, *, months_back: int, day: int, at: str) -> datetime:
    """`day` at local time `at`, `months_back` months before the month `now` falls in there.

    In UTC: time-machine would also set the process's local timezone to a destination's zone.
    """
    this_month = month_start(now, timezone_name)
    index = this_month.year * 12 + this_month.month - 1 - months_back
    hour, minute = (int(part) for part in at.split(":"))
    return datetime(index // 12, index % 12 + 1, day, hour, minute, tzinfo=ZoneInfo(timezone_name)).astimezone(UTC)


class _Organizations:
    """Makes the missing rows of demo_organizations.json in file order, each through its service.

    Natural keys: an organization is [slug], a department [organization slug, name]. Users are
    made by the file's first system admin, who is made as `createsuperuser` makes one.
    """

    def __init__(self) -> None:
        self.created: list[str] = []
        self.system_admin: User | None = None

    def load(self, rows: list[dict[str, Any]]) -> list[str]:
        makers = {
            "tenancy.organization": self.organization,
            "tenancy.department": self.department,
            "tenancy.user": self.user,
            "approvals.approvalpolicy": self.approval_policy,
            "controls.spendrule": self.spend_rule,
            "ledger.glaccount": self.gl_account,
            "ledger.glmapping": self.gl_mapping,
        }
        for row in rows:
            makers[row["model"]](**row["fields"])
        return self.created

    def organization(self, *, slug: str, name: str, currency: str, timezone: str) -> None:
        if Organization.objects.filter(slug=slug).exists():
            return
        organization = organization_create(name=name, currency=currency, timezone_name=timezone)
        if organization.slug != slug:
            raise ValueError(f"The demo names '{name}' by the slug '{slug}', but it was given '{organization.slug}'.")
        self.created.append(f"organization {name}")

    def department(
        self, *, organization: list[str], name: str, parent: list[str] | None, monthly_limit_minor: int
    ) -> None:
        owner = Organization.objects.get(slug=organization[0])
        parent_department = _department(parent)
        if Department.objects.of(owner).filter(name=name, parent=parent_department).exists():
            return
        department_create(
            organization=owner,
            name=name,
            monthly_limit_minor=monthly_limit_minor,
            parent_id=parent_department.id if parent_department else None,
            actor=None,
        )
        self.created.append(f"department {owner.name}/{name}")

    def user(self, *, email: str, role: str, organization: list[str] | None, department: list[str] | None) -> None:
        existing = User.objects.filter(email=email).first()
        if role == Role.SYSTEM_ADMIN and self.system_admin is None:
            self.system_admin = existing or User.objects.create_user(
                email, DEMO_PASSWORD, role=Role.SYSTEM_ADMIN, is_superuser=True
            )
            if existing is None:
                self.created.append(f"user {email}")
            return
        if existing is not None:
            return
        if self.system_admin is None:
            raise ValueError("demo_organizations.json must name a system admin before any other user.")
        user_create(
            actor=self.system_admin,
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            organization=Organization.objects.get(slug=organization[0]) if organization else None,
            department_id=_department(department).id if department else None,
        )
        self.created.append(f"user {email}")

    def approval_policy(
        self,
        *,
        organization: list[str],
        name: str,
        min_amount_minor: int,
        department: list[str] | None,
        category: str,
        levels: list[str],
    ) -> None:
        owner = Organization.objects.get(slug=organization[0])
        if ApprovalPolicy.objects.of(owner).filter(name=name).exists():
            return
        approval_policy_create(
            organization=owner,
            name=name,
            min_amount_minor=min_amount_minor,
            levels=levels,
            department_id=_department(department).id if department else None,
            category=category,
        )
        self.created.append(f"approval policy {owner.name}/{name}")

    def spend_rule(self, *, organization: list[str], name: str, kind: str, **fields: Any) -> None:
        owner = Organization.objects.get(slug=organization[0])
        if SpendRule.objects.of(owner).filter(name=name).exists():
            return
        spend_rule_create(actor=None, organization=owner, fields=RuleFields(name=name, kind=kind, **fields))
        self.created.append(f"spend rule {owner.name}/{name}")

    def gl_account(self, *, organization: list[str], code: str, name: str, type: str) -> None:
        owner = Organization.objects.get(slug=organization[0])
        if GLAccount.objects.of(owner).filter(code=code).exists():
            return
        fields = AccountFields(code=code, name=name, type=type, is_active=True)
        gl_account_save(organization=owner, fields=fields, account=None)
        self.created.append(f"GL account {owner.name}/{code}")

    def gl_mapping(
        self,
        *,
        organization: list[str],
        kind: str,
        gl_account: str,
        merchant: str = "",
        department: list[str] | None = None,
        cost_centre: str = "",
    ) -> None:
        """A rule of the organization's chart, its account named by code (the chart's default made first)."""
        owner = Organization.objects.get(slug=organization[0])
        department_id = _department(department).id if department else None
        rules = GLMapping.objects.of(owner).filter(kind=kind, merchant__iexact=merchant, department_id=department_id)
        if rules.exists():
            return
        account = GLAccount.objects.of(owner).get(code=gl_account)
        fields = MappingFields(
            kind=kind, gl_account_id=account.id, merchant=merchant, department_id=department_id, cost_centre=cost_centre
        )
        gl_mapping_save(organization=owner, fields=fields, mapping=None)
        self.created.append(f"GL mapping {owner.name}/{kind} {merchant or department[1]}")


def _department(key: list[str] | None) -> Department | None:
    if key is None:
        return None
    slug, name = key
    return Department.objects.get(organization__slug=slug, name=name)


@dataclass(frozen=True)
class _Step:
    """One thing someone did, at the moment they did it."""

    at: datetime
    action: str  # "spend", then its "approval" and "reversal"
    spend: dict[str, Any]


_ACTION_ORDER = {"spend": 0, "approval": 1, "reversal": 2}


def _history_replay(spends: list[dict[str, Any]], *, clock: time_machine.Traveller, now: datetime) -> list[str]:
    """Replay the spends and what followed them in time order, the clock set to each moment.

    Holding each organization's drain lease, it is the one settling their spends: a worker that is
    running would otherwise settle a replayed spend at today's date.
    """
    slugs = {spend["organization"] for spend in spends}
    organizations = {organization.slug: organization for organization in Organization.objects.filter(slug__in=slugs)}
    users = {user.email: user for user in User.objects.filter(organization__slug__in=slugs)}
    steps = []
    for spend in spends:
        timezone_name = organizations[spend["organization"]].timezone
        made_at = _local_moment(now, timezone_name, months_back=-spend["month"], day=spend["day"], at=spend["time"])
        steps.append(_Step(made_at, "spend", spend))
        if "approval" in spend:
            steps.append(_Step(made_at + timedelta(hours=spend["approval"]["after_hours"]), "approval", spend))
        if "reversal" in spend:
            steps.append(_Step(made_at + timedelta(days=spend["reversal"]["after_days"]), "reversal", spend))
    steps.sort(key=lambda step: (step.at, _ACTION_ORDER[step.action], step.spend["key"]))

    replays = {"spend": _spend_replay, "approval": _approval_replay, "reversal": _reversal_replay}
    done = dict.fromkeys(_ACTION_ORDER, 0)
    with ExitStack() as leases:
        for organization in organizations.values():
            _drain_lease_take(leases, organization)
        for step in steps:
            organization = organizations[step.spend["organization"]]
            done[step.action] += replays[step.action](step, organization=organization, users=users, clock=clock)
    labels = {"spend": "spends", "approval": "approval decisions", "reversal": "reversals"}
    return [f"history: {count} {labels[action]}" for action, count in done.items() if count]


def _drain_lease_take(leases: ExitStack, organization: Organization) -> None:
    for _ in range(DRAIN_LEASE_ATTEMPTS):
        if leases.enter_context(organization_drain_lease(organization.id)):
            return
        time.sleep(DRAIN_LEASE_RETRY_SECONDS)
    raise RuntimeError(f"A settlement worker kept draining {organization.name}; try the demo again.")


def _spend_replay(
    step: _Step, *, organization: Organization, users: dict[str, User], clock: time_machine.Traveller
) -> bool:
    """Submit the spend, settle it and score it, whichever of these it still needs."""
    key = step.spend["key"]
    spend = Transaction.objects.of(organization).filter(idempotency_key=key).first()
    submitted = spend is None
    if submitted:
        clock.move_to(step.at)
        spend, _ = transaction_submit(
            user=users[step.spend["employee"]],
            idempotency_key=key,
            amount=step.spend["amount"],
            currency=organization.currency,
            merchant=step.spend["merchant"],
            category=step.spend["category"],
            description=step.spend["description"],
        )
    clock.move_to(step.at + SETTLED_AFTER)
    if spend.status == Transaction.Status.PENDING:
        # Only this spend, the oldest pending: anything pending beside it arrived today and is a worker's.
        settlement_run(organization_id=organization.id, batch_size=1)
    if not TransactionRisk.objects.filter(transaction_id=spend.id).exists():
        transactions_score(transaction_ids=[spend.id])
    return submitted


def _approval_replay(
    step: _Step, *, organization: Organization, users: dict[str, User], clock: time_machine.Traveller
) -> bool:
    """The finance manager's decision, if the spend still waits for it (one over its budget never did)."""
    request_id = (
        ApprovalRequest.objects.of(organization)
        .filter(transaction__idempotency_key=step.spend["key"], status=ApprovalRequest.Status.PENDING)
        .values_list("id", flat=True)
        .first()
    )
    if request_id is None:
        return False
    decision = step.spend["approval"]
    clock.move_to(step.at)
    approval_decide(
        actor=users[decision["by"]], request_id=request_id, approve=decision["approve"], note=decision["note"]
    )
    return True


def _reversal_replay(
    step: _Step, *, organization: Organization, users: dict[str, User], clock: time_machine.Traveller
) -> bool:
    """Reverse the spend, if it was posted and is not reversed yet."""
    spend_id = (
        Transaction.objects.of(organization)
        .filter(idempotency_key=step.spend["key"], status=Transaction.Status.POSTED)
        .values_list("id", flat=True)
        .first()
    )
    if spend_id is None:
        return False
    reversal = step.spend["reversal"]
    clock.move_to(step.at)
    transaction_reverse(
        actor=users[reversal["by"]],
        original_id=spend_id,
        reason=reversal["reason"],
        idempotency_key=f"{step.spend['key']}-reversal",
    )
    return True
