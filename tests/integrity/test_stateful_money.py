"""The money invariants under any interleaving of the operations that move money (issue 18).

A Hypothesis state machine drives the real services against PostgreSQL on a three-level tree,
Company > {Engineering > {Platform, Data}, Sales}, one fresh organization per example: spends
submitted (fitting or not) and settled, spends held under a one-step or a two-step approval policy,
approved or rejected by eligible approvers (and refused to anyone else), expired by the sweep or on
a late decision, posted spends reversed, a period's limit set up and down (below what is spent and
held too, which freezes it), departments moved in the tree (refused where the money does not fit or
where the move would make a cycle).

The machine keeps its own model: the tree, each period's limit, and each spend's status, amount,
department and approval route. It predicts every outcome (posted, held, rejected, approved,
BudgetExceeded, Conflict, Forbidden, InvalidInput) before calling the service, and after every step
checks the database against it: spent and held of every period equal the model's subtree totals and
the ledger's, nothing is posted past a limit, journals balance, reversals exist, and
`ledger_verify` finds no budget or journal problem.

transaction=True: settlement, approvals, limit changes and moves take the organization's settlement
lock outside any transaction, so every step commits for real. Each example has its own
organization, so examples never see each other's money.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db.models import Count, Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalRequest, ApproverKind
from apps.budgets.department_moves import department_change
from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_period_set_limit
from apps.budgets.totals import BudgetExceeded
from apps.ledger.models import Account, Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Department, Role
from apps.tenancy.services import department_set_head
from ledgerx.errors import Conflict, Forbidden, InvalidInput
from ledgerx.money import to_decimal_string
from ledgerx.months import month_start
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from tests.spends import settle_all, spend_reverse, spend_submit

try:  # the two checks ledger_verify makes of budgets and journals (the module is being reworked)
    from apps.ledger.verification import budget_problems, journal_problems
except ImportError:
    budget_problems = journal_problems = None

pytestmark = pytest.mark.django_db(transaction=True)

Status = Transaction.Status
FINANCE, ADMIN, HEAD = (
    ApproverKind.FINANCE_MANAGER.value,
    ApproverKind.ORG_ADMIN.value,
    ApproverKind.DEPARTMENT_HEAD.value,
)

DEPARTMENTS = ("Company", "Engineering", "Platform", "Data", "Sales")
INITIAL_PARENTS: dict[str, str | None] = {
    "Company": None,
    "Engineering": "Company",
    "Platform": "Engineering",
    "Data": "Engineering",
    "Sales": "Company",
}
STANDING_LIMITS = {
    "Company": 2_000_000,
    "Engineering": 1_200_000,
    "Platform": 600_000,
    "Data": 500_000,
    "Sales": 800_000,
}
# Employees spend from their own department; finance and the admin name one.
EMPLOYEES = {"eng_head": "Engineering", "platform": "Platform", "data": "Data", "sales": "Sales"}
SPENDERS = (*EMPLOYEES, "finance1", "finance2", "admin")
HEADS = {"Engineering": "eng_head"}  # Platform and Data inherit it while below Engineering; Sales has none
# The policies: 1,000.00 and up waits for finance; 2,000.00 and up in Engineering's subtree waits for
# its head, then finance. Both escalate a step only the spender (or an earlier signer) could sign.
ONE_STEP_FROM, TWO_STEP_FROM = 100_000, 200_000
ONE_STEP, TWO_STEP = [FINANCE], [HEAD, FINANCE]

# Round amounts (at the policies' bands, and landing exactly on limits) as well as odd ones.
amounts = st.sampled_from([50_000, 100_000, 150_000, 200_000, 99_999, 250_000]) | st.integers(1, 250_000)
picks = st.integers(0, 1_000)


@dataclass
class ModelSpend:
    id: uuid.UUID
    department: str
    amount: int
    spender: str
    status: str = Status.PENDING
    levels: list[str] = field(default_factory=list)  # the approval route, as the model expects it
    step: int = 0
    signed: set[str] = field(default_factory=set)
    request_id: uuid.UUID | None = None
    request_status: str | None = None
    reversal_id: uuid.UUID | None = None


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.organization = OrganizationFactory(name=f"Stateful {uuid.uuid4().hex[:8]}")
        self.month = month_start(timezone.now(), self.organization.timezone)
        self.departments: dict[str, Department] = {}
        for name in DEPARTMENTS:  # parents first
            parent = INITIAL_PARENTS[name]
            self.departments[name] = DepartmentFactory(
                organization=self.organization,
                name=name,
                monthly_limit_minor=STANDING_LIMITS[name],
                parent=self.departments[parent] if parent else None,
            )
        self.names = {department.id: name for name, department in self.departments.items()}
        self.users = {
            name: UserFactory(role=Role.EMPLOYEE, department=self.departments[department])
            for name, department in EMPLOYEES.items()
        }
        for name, role in (
            ("finance1", Role.FINANCE_MANAGER),
            ("finance2", Role.FINANCE_MANAGER),
            ("admin", Role.ORG_ADMIN),
        ):
            self.users[name] = UserFactory(role=role, organization=self.organization)
        for department, head in HEADS.items():
            department_set_head(actor=None, department=self.departments[department], head=self.users[head])
        approval_services.approval_policy_create(
            organization=self.organization, name="Large", min_amount_minor=ONE_STEP_FROM, levels=ONE_STEP
        )
        approval_services.approval_policy_create(
            organization=self.organization,
            name="Engineering large",
            min_amount_minor=TWO_STEP_FROM,
            levels=TWO_STEP,
            department_id=self.departments["Engineering"].id,
        )

        # The model.
        self.parents: dict[str, str | None] = dict(INITIAL_PARENTS)
        self.limits: dict[str, int] = dict(STANDING_LIMITS)  # this month's period limit of each department
        self.spent_at_limit_change: dict[str, int] = dict.fromkeys(DEPARTMENTS, 0)
        self.used_at_limit_change: dict[str, int] = dict.fromkeys(DEPARTMENTS, 0)
        self.spends: list[ModelSpend] = []

    def teardown(self) -> None:
        settle_all(self.organization)  # leave nothing pending for the backlog check of later examples
        # The whole of ledger_verify once per example (after every step, only the two checks it makes of
        # budgets and journals: the whole costs ~40 ms a call, mostly the hash chain and the triggers).
        self.assert_no_money_problems(ledger_verify(organization=self.organization)["problems"])

    def frozen(self) -> set[str]:
        """Departments whose period's limit was lowered below what was already spent there."""
        return {
            self.names[period.department_id]
            for period in BudgetPeriod.objects.filter(organization=self.organization)
            if period.spent_minor <= period.spent_at_limit_change_minor
        }

    def assert_no_money_problems(self, problems: list[str]) -> None:
        frozen = self.frozen()
        money = [problem for problem in problems if is_money_problem(problem, frozen)]
        assert not money, money

    # ---- the model's rules ----------------------------------------------------------------------

    def lineage(self, department: str) -> list[str]:
        """The department and its ancestors, nearest first, in the model's tree."""
        lineage = [department]
        while self.parents[lineage[-1]] is not None:
            lineage.append(self.parents[lineage[-1]])
        return lineage

    def subtree(self, department: str) -> set[str]:
        return {d for d in DEPARTMENTS if department in self.lineage(d)}

    def spent(self, department: str) -> int:
        below = self.subtree(department)
        return sum(s.amount for s in self.spends if s.status == Status.POSTED and s.department in below)

    def held(self, department: str) -> int:
        below = self.subtree(department)
        return sum(s.amount for s in self.spends if s.status == Status.AWAITING_APPROVAL and s.department in below)

    def used(self, department: str) -> int:
        return self.spent(department) + self.held(department)

    def fits(self, department: str, amount: int) -> bool:
        """The one rule: spent + held + amount <= limit at the department and every ancestor."""
        return all(self.used(d) + amount <= self.limits[d] for d in self.lineage(department))

    def policy_levels(self, spend: ModelSpend) -> list[str] | None:
        if spend.amount >= TWO_STEP_FROM and "Engineering" in self.lineage(spend.department):
            return list(TWO_STEP)
        if spend.amount >= ONE_STEP_FROM:
            return list(ONE_STEP)
        return None

    def signers(self, kind: str, department: str) -> set[str]:
        if kind == FINANCE:
            return {"finance1", "finance2"}
        if kind == ADMIN:
            return {"admin"}
        head = next((HEADS[d] for d in self.lineage(department) if d in HEADS), None)
        return {head} if head else {"admin"}

    def eligible(self, spend: ModelSpend) -> set[str]:
        return self.signers(spend.levels[spend.step], spend.department) - {spend.spender, *spend.signed}

    def route(self, spend: ModelSpend, level: int) -> list[str] | None:
        """The levels once step `level` is routed: kept, escalated to finance (else the admin), or None."""
        excluded = {spend.spender, *spend.signed}
        kind = spend.levels[level]
        if self.signers(kind, spend.department) - excluded:
            return spend.levels
        for other in (FINANCE, ADMIN):
            if other != kind and self.signers(other, spend.department) - excluded:
                return [*spend.levels[:level], other, *spend.levels[level + 1 :]]
        return None

    def settle(self) -> None:
        """Settle every pending spend, oldest first, as settle_all does, then in the database."""
        newly_held = []
        settling = {s.id for s in self.spends if s.status == Status.PENDING}
        for spend in self.spends:
            if spend.status != Status.PENDING:
                continue
            if not self.fits(spend.department, spend.amount):
                spend.status = Status.REJECTED
                continue
            levels = self.policy_levels(spend)
            if levels is None:
                spend.status = Status.POSTED
                continue
            spend.levels = levels
            routed = self.route(spend, 0)
            if routed is None:
                spend.status = Status.REJECTED
                continue
            spend.levels, spend.status, spend.request_status = routed, Status.AWAITING_APPROVAL, "pending"
            newly_held.append(spend)
        for spend in self.spends:
            if spend.id in settling:
                event(f"settled: {spend.status}")
        settle_all(self.organization)
        requests = dict(
            ApprovalRequest.objects.filter(transaction_id__in=[s.id for s in newly_held]).values_list(
                "transaction_id", "id"
            )
        )
        for spend in newly_held:
            spend.request_id = requests.get(spend.id)

    def with_status(self, *statuses: str) -> list[ModelSpend]:
        return [s for s in self.spends if s.status in statuses]

    def waiting(self) -> list[ModelSpend]:
        return [s for s in self.with_status(Status.AWAITING_APPROVAL) if s.request_id is not None]

    # ---- rules --------------------------------------------------------------------------------

    def submit_spend(self, spender: str, department: str, amount: int) -> None:
        department = EMPLOYEES.get(spender, department)
        named = None if spender in EMPLOYEES else self.departments[department].id
        created = spend_submit(self.users[spender], to_decimal_string(amount, "USD"), department_id=named)
        assert created.amount_minor == amount and created.status == Status.PENDING
        self.spends.append(ModelSpend(id=created.id, department=department, amount=amount, spender=spender))

    @rule(spender=st.sampled_from(SPENDERS), department=st.sampled_from(DEPARTMENTS), amount=amounts)
    def submit(self, spender, department, amount):
        """Submit a spend and settle it (and anything pending before it) at once."""
        self.submit_spend(spender, department, amount)
        self.settle()

    @rule(spender=st.sampled_from(SPENDERS), department=st.sampled_from(DEPARTMENTS), amount=amounts)
    def submit_pending(self, spender, department, amount):
        """Submit a spend and leave it pending, for a later batch to settle with others."""
        self.submit_spend(spender, department, amount)

    @precondition(lambda self: self.with_status(Status.PENDING))
    @rule()
    def settle_pending(self):
        self.settle()

    @precondition(lambda self: self.waiting())
    @rule(pick=picks, who=picks, intruder=st.sampled_from((None, *SPENDERS)), approve=st.booleans())
    def decide(self, pick, who, intruder, approve):
        """Someone the current step does not wait for (the spender, an earlier signer, ...) is refused; then an
        eligible approver signs it: approves (the last step posts, if it still fits) or rejects."""
        waiting = self.waiting()
        self.decide_on(waiting[pick % len(waiting)], who=who, intruder=intruder, approve=approve)

    @precondition(lambda self: [s for s in self.waiting() if s.step + 1 < len(s.levels)])
    @rule(pick=picks, who=picks)
    def approve_first_of_two_steps(self, pick, who):
        first_steps = [s for s in self.waiting() if s.step + 1 < len(s.levels)]
        self.decide_on(first_steps[pick % len(first_steps)], who=who, intruder=None, approve=True)

    @precondition(lambda self: self.waiting())
    @rule(pick=picks, level=picks, percent=st.integers(0, 99), who=picks, raise_again=st.booleans())
    def lower_limit_under_a_hold_then_approve(self, pick, level, percent, who, raise_again):
        """A limit of the held spend's lineage lowered below what is spent and held there: approving its last
        step is refused with BudgetExceeded, the request still pending (an earlier step is still signed).
        Then, maybe, the limit is raised back to what is used there, and approving it again posts it."""
        waiting = self.waiting()
        spend = waiting[pick % len(waiting)]
        lineage = self.lineage(spend.department)
        department = lineage[level % len(lineage)]
        self.set_limit_to(department, (self.used(department) - 1) * percent // 100)
        self.decide_on(spend, who=who, intruder=None, approve=True)
        if raise_again and spend.status == Status.AWAITING_APPROVAL:
            self.set_limit_to(department, self.used(department))
            self.decide_on(spend, who=who, intruder=None, approve=True)

    def decide_on(self, spend: ModelSpend, *, who: int, intruder: str | None, approve: bool) -> None:
        eligible = sorted(self.eligible(spend))
        note_text = "" if approve else "Not in this quarter's plan"
        if intruder is not None and intruder not in eligible:
            with pytest.raises(Forbidden):
                spending_services.approval_decide(
                    actor=self.users[intruder], request_id=spend.request_id, approve=approve, note="no"
                )
        if not eligible:
            # A move put the spend under a head who is its spender: nobody can sign until it expires.
            note(f"nobody may sign step {spend.step} of {spend.id} now")
            event("decide: nobody may sign")
            return
        approver = eligible[who % len(eligible)]
        call = {"actor": self.users[approver], "request_id": spend.request_id, "approve": approve, "note": note_text}
        if not approve:
            spending_services.approval_decide(**call)
            spend.status, spend.request_status = Status.REJECTED, "rejected"
            event("decide: rejected")
            return
        if spend.step + 1 < len(spend.levels):
            spending_services.approval_decide(**call)
            spend.signed.add(approver)
            routed = self.route(spend, spend.step + 1)
            if routed is None:
                spend.status, spend.request_status = Status.REJECTED, "rejected"
            else:
                spend.levels, spend.step = routed, spend.step + 1
            event("decide: first of two steps")
            return
        # The last step: the hold becomes spend only where spent + held still fits every limit above.
        if all(self.used(d) <= self.limits[d] for d in self.lineage(spend.department)):
            spending_services.approval_decide(**call)
            spend.status, spend.request_status = Status.POSTED, "approved"
            event("decide: approved and posted")
        else:
            event("decide: approval refused, over a limit")
            with pytest.raises(BudgetExceeded, match="still waits") as refused:
                spending_services.approval_decide(**call)
            assert refused.value.status == 409

    @precondition(lambda self: self.waiting())
    @rule(pick=picks, sweep=st.booleans(), approve=st.booleans())
    def expire(self, pick, sweep, approve):
        """A request past its expiry: the sweep expires it, or a late decision is refused (409) and expires it."""
        waiting = self.waiting()
        spend = waiting[pick % len(waiting)]
        ApprovalRequest.objects.filter(id=spend.request_id).update(expires_at=timezone.now() - timedelta(seconds=1))
        decision = {"actor": self.users["finance1"], "request_id": spend.request_id, "approve": approve, "note": "late"}
        if sweep:
            assert spending_services.approval_expire_due() == 1
        else:
            with pytest.raises(Conflict, match="expired") as refused:
                spending_services.approval_decide(**decision)
            assert refused.value.status == 409
        spend.status, spend.request_status = Status.REJECTED, "expired"
        # Deciding it afterwards is refused too, and changes nothing.
        with pytest.raises(Conflict, match="no longer waiting") as refused:
            spending_services.approval_decide(**decision)
        assert refused.value.status == 409

    @precondition(lambda self: self.with_status(Status.POSTED))
    @rule(pick=picks, other=st.none() | picks)
    def reverse(self, pick, other):
        """A posted spend is reversed, its budget given back (after, maybe, reversing one that is not posted:
        refused, 409)."""
        others = self.with_status(Status.REVERSED, Status.REJECTED, Status.AWAITING_APPROVAL)
        if others and other is not None:
            with pytest.raises(Conflict, match="Only a posted spend") as refused:
                spend_reverse(self.users["finance1"], Transaction.objects.get(id=others[other % len(others)].id))
            assert refused.value.status == 409
        posted = self.with_status(Status.POSTED)
        spend = posted[pick % len(posted)]
        reversal = spend_reverse(self.users["finance1"], Transaction.objects.get(id=spend.id))
        spend.status, spend.reversal_id = Status.REVERSED, reversal.id

    @rule(
        pick=picks,
        how=st.sampled_from(["below_used", "at_used", "above_used", "any"]),
        percent=st.integers(0, 99),
        steps=st.integers(0, 40),
    )
    def set_limit(self, pick, how, percent, steps):
        """Raise or lower one period's limit; below what is spent and held freezes it (allowed, and said)."""
        in_use = [d for d in DEPARTMENTS if self.used(d)]
        choices = in_use if how in ("below_used", "at_used") and in_use else DEPARTMENTS
        department = choices[pick % len(choices)]
        used = self.used(department)
        limit = {
            "below_used": used * percent // 100,
            "at_used": used,
            "above_used": used + steps * 25_000,
            "any": steps * 100_000,
        }[how]
        self.set_limit_to(department, limit)

    def set_limit_to(self, department: str, limit: int) -> None:
        used = self.used(department)
        period, notice = budget_period_set_limit(
            actor=None, department=self.departments[department], month=self.month, limit_minor=limit
        )
        assert period.limit_minor == limit
        assert bool(notice) == (limit < used), (notice, limit, used)
        self.limits[department] = limit
        self.spent_at_limit_change[department] = self.spent(department)
        self.used_at_limit_change[department] = used
        event(f"set_limit: {'below used' if limit < used else 'at or above used'}")

    def move_call(self, department: str, parent: str | None) -> dict:
        return {
            "department": Department.objects.get(id=self.departments[department].id),
            "parent_id": self.departments[parent].id if parent else None,
            "move": True,
            "actor": None,
        }

    @rule(department=st.sampled_from(DEPARTMENTS), pick=picks, cycle=st.none() | picks)
    def move(self, department, pick, cycle):
        """A move under the department itself or one of its descendants is refused (400, a cycle); then it moves
        with its budget, to the root or under another branch, or is refused (409) where its subtree's spend and
        holds do not fit a new ancestor."""
        if cycle is not None:
            below = sorted(self.subtree(department))
            with pytest.raises(InvalidInput, match="cannot be moved under itself") as refused:
                department_change(**self.move_call(department, below[cycle % len(below)]))
            assert refused.value.status == 400
            event("move: cycle refused")
        targets = [None, *sorted(set(DEPARTMENTS) - self.subtree(department))]
        parent = targets[pick % len(targets)]
        call = self.move_call(department, parent)
        old_above = set(self.lineage(department)[1:])
        new_above = set(self.lineage(parent)) if parent else set()
        moving = self.used(department)
        joining = new_above - old_above
        if moving and any(self.used(d) + moving > self.limits[d] for d in joining):
            with pytest.raises(BudgetExceeded, match="cannot move there"):
                department_change(**call)
            event("move: refused, does not fit")
            return
        department_change(**call)
        event(f"move: moved{' with money' if moving else ''}")
        self.parents[department] = parent

    # ---- invariants -------------------------------------------------------------------------------

    @invariant()
    def tree_matches(self):
        actual = {
            self.names[department_id]: self.names.get(parent_id)
            for department_id, parent_id in Department.objects.filter(organization=self.organization).values_list(
                "id", "parent_id"
            )
        }
        assert actual == self.parents

    @invariant()
    def spends_are_as_expected(self):
        statuses = dict(
            Transaction.objects.filter(organization=self.organization, kind=Transaction.Kind.SPEND).values_list(
                "id", "status"
            )
        )
        assert statuses == {s.id: s.status for s in self.spends}
        requests = {
            request.transaction_id: request
            for request in ApprovalRequest.objects.filter(organization=self.organization)
        }
        for spend in self.spends:
            request = requests.get(spend.id)
            if spend.request_status is None:
                assert request is None, (spend, request)
                continue
            assert request is not None and request.id == spend.request_id, spend
            assert request.status == spend.request_status, (spend, request.status)
            if spend.status == Status.AWAITING_APPROVAL:
                assert (request.levels, request.current_level) == (spend.levels, spend.step), (spend, request.routing)

    @invariant()
    def journals_balance(self):
        entries = {
            row["transaction_id"]: (row["count"], row["total"])
            for row in Entry.objects.filter(organization=self.organization)
            .values("transaction_id")
            .annotate(count=Count("id"), total=Sum("amount_minor"))
        }
        reversals = dict(
            Transaction.objects.filter(organization=self.organization, kind=Transaction.Kind.REVERSAL).values_list(
                "reversal_of_id", "id"
            )
        )
        assert len(reversals) == sum(s.status == Status.REVERSED for s in self.spends)
        for spend in self.spends:
            if spend.status in (Status.POSTED, Status.REVERSED):
                assert entries.get(spend.id) == (2, 0), (spend, entries.get(spend.id))
            else:
                assert spend.id not in entries, spend
            if spend.status == Status.REVERSED:
                assert reversals.get(spend.id) == spend.reversal_id, spend
                assert entries.get(spend.reversal_id) == (2, 0), spend
            else:
                assert spend.id not in reversals, spend

    @invariant()
    def budgets_match_model_and_ledger(self):
        # What each department's expense account holds this month, and what waits for approval there.
        own_ledger = dict.fromkeys(DEPARTMENTS, 0)
        for department_id, total in (
            Entry.objects.filter(organization=self.organization, account__kind=Account.Kind.EXPENSE)
            .values_list("account__department_id")
            .annotate(total=Sum("amount_minor"))
        ):
            own_ledger[self.names[department_id]] = total
        own_awaiting = dict.fromkeys(DEPARTMENTS, 0)
        for department_id, total in (
            Transaction.objects.filter(organization=self.organization, status=Status.AWAITING_APPROVAL)
            .values_list("department_id")
            .annotate(total=Sum("amount_minor"))
        ):
            own_awaiting[self.names[department_id]] = total
        assert not Transaction.objects.filter(organization=self.organization).exclude(budget_month=self.month).exists()

        periods = {
            self.names[p.department_id]: p
            for p in BudgetPeriod.objects.filter(organization=self.organization, month=self.month)
        }
        # Next month's periods are open ahead of time, with nothing in them.
        assert (
            not BudgetPeriod.objects.filter(organization=self.organization)
            .exclude(month=self.month)
            .exclude(spent_minor=0, held_minor=0)
            .exists()
        )
        for department in DEPARTMENTS:
            spent, held = self.spent(department), self.held(department)
            period = periods.get(department)
            if period is None:
                assert (spent, held) == (0, 0), f"{department} has money but no period"
                continue
            below = self.subtree(department)
            figures = (department, period.spent_minor, period.held_minor, period.limit_minor)
            # The database equals the model, and the ledger.
            assert (period.spent_minor, period.held_minor) == (spent, held), (figures, spent, held)
            assert period.spent_minor == sum(own_ledger[d] for d in below), figures
            assert period.held_minor == sum(own_awaiting[d] for d in below), figures
            assert period.limit_minor == self.limits[department], figures
            assert period.spent_at_limit_change_minor == self.spent_at_limit_change[department], figures
            # Nothing posts past a limit: a limit lowered below what was spent freezes the budget there,
            # and spent + held only grows where it fits.
            assert period.held_minor >= 0, figures
            assert period.spent_minor <= max(period.limit_minor, period.spent_at_limit_change_minor), figures
            used = period.spent_minor + period.held_minor
            assert used <= max(period.limit_minor, self.used_at_limit_change[department]), figures

    @invariant()
    def ledger_verifies(self):
        """ledger_verify's budget and journal checks, scoped to this organization."""
        if budget_problems is None or journal_problems is None:  # verification reworked: the whole of it
            self.assert_no_money_problems(ledger_verify(organization=self.organization)["problems"])
            return
        scope, params = "AND {alias}.organization_id = %s", [self.organization.id]
        budgets = budget_problems(scope=scope, params=params)
        if isinstance(budgets, tuple):  # (problems, notices) since verification told frozen budgets apart
            budgets = budgets[0]
        self.assert_no_money_problems(journal_problems(scope=scope, params=params) + budgets)


def is_money_problem(problem: str, frozen: set[str]) -> bool:
    """The budget and journal problems of ledger_verify; the hash chain, seals, checkpoints and triggers
    are not this test's subject (the sealer does not run here, and they are being reworked).

    A period over its limit is reported by verify whether spend was posted past it or the limit was
    lowered below it (a frozen budget); the latter, the period's spent not above what was spent at the
    limit change, is allowed and checked by the invariant above.
    """
    if problem.startswith("Budget of '"):
        department = problem.split("'")[1]
        return not ("over its limit" in problem and department in frozen)
    return problem.startswith(("Journal of ", "Spend ", "Reversal "))


# 25-50 s when it passes (18 examples of up to 30 steps). When it fails, Hypothesis shrinks the steps
# for up to 300 s (its MAX_SHRINKING_SECONDS; every attempt replays real services) before printing
# them: the suite's 300 s timeout would cut it off first.
@pytest.mark.timeout(900)
def test_money_invariants_hold_under_any_interleaving():
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=18,
            stateful_step_count=30,
            deadline=None,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
