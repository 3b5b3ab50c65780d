"""`fraud_eval`: a labelled synthetic spend stream run through the real detectors, scored per rule.

The stream: organizations in New York, London and Tokyo, each with employees in three departments,
lognormal amounts (each their own typical amount, scaled by category) and daily rhythms (lunch-time
and evening peaks, quiet weekends). An employee keeps office hours where they work, which is not
always the organization's timezone (a London team of a New York company, a Sydney office of a Tokyo
one), and some work an early shift. Into it go labelled scenarios, each aimed at one rule: amount
outliers, bursts of spends, sprees that add up past the velocity limit, refused attempts that must
not count as spent, duplicate charges, structuring just under the threshold, spends in the dead of
the employee's night and in blocked categories. Scenarios are placed where the rule can see them (an
outlier only once the histories are long enough to judge) and follow the organization's thresholds,
as someone probing them would.

Everything runs in one database transaction that is rolled back, and the Redis windows it made are
deleted, so an evaluation leaves nothing behind. Spends are written as the settled rows settlement
would leave (its subject is not settlement) and scored by `services.transactions_score`, the function
the fraud task calls.

Per rule: positives are the spends its scenarios label; the rule's alerts on them are true positives,
its alerts on normal spends and on unlabelled spends of its own scenarios are false positives. Alerts a
rule raises on another rule's scenario (a spree's large amounts are also outliers) are counted apart as
`cross`, neither right nor wrong.
"""

import bisect
import math
import time
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.db import transaction
from django_redis import get_redis_connection

from apps.ledger.models import Transaction
from apps.tenancy.models import Role, User
from apps.tenancy.services import department_create, organization_create

from . import services
from .models import FraudAlert, FraudSettings, Rule

# Each organization's timezone and the offices its employees work from, in turn: the days start at
# different hours of the organization's clock, and move by an hour where daylight saving time
# begins on another date.
ORGANIZATIONS = {
    "America/New_York": ["America/New_York", "Europe/London", "America/New_York", "America/Los_Angeles"],
    "Europe/London": ["Europe/London", "Asia/Kolkata", "Europe/London", "America/New_York"],
    "Asia/Tokyo": ["Asia/Tokyo", "Australia/Sydney", "Asia/Tokyo", "Europe/London"],
}
# A fixed start (a Monday, the week before US daylight saving time begins; the UK's follows three
# weeks later, Sydney's ends after five) keeps a seed's stream the same any day.
FIRST_DAY = date(2025, 3, 3)
# Every fifth employee starts three hours early (a warehouse, a support rota).
EARLY_SHIFT_HOURS = -3.0
# The middle of the night of someone keeping the usual hours (07:30-23:00), and how far either side
# of it a night scenario lies: 01:42 to 04:42, at least 2.8 hours from any time they spend by day (an
# hour less on the organization's clock while its daylight saving time and theirs disagree).
NIGHT_CENTER_HOURS = 3.2
NIGHT_HALF_WIDTH_HOURS = 1.5
CATEGORY_SCALE = {"meals": 0.5, "supplies": 1.0, "software": 2.0, "equipment": 3.0, "travel": 4.0}
MERCHANTS = {
    "meals": ["Sweetgreen", "Chipotle", "Pret A Manger", "Corner Deli"],
    "supplies": ["Office Depot", "Staples", "Amazon"],
    "software": ["GitHub", "Atlassian", "JetBrains", "AWS"],
    "equipment": ["Dell", "Apple", "B&H Photo"],
    "travel": ["Delta", "United", "Marriott", "Hilton", "Uber"],
}
DEPARTMENTS = {
    "Engineering": {"software": 0.3, "supplies": 0.25, "meals": 0.25, "equipment": 0.1, "travel": 0.1},
    "Sales": {"meals": 0.4, "travel": 0.35, "supplies": 0.15, "software": 0.1},
    "Operations": {"supplies": 0.4, "meals": 0.3, "equipment": 0.2, "travel": 0.1},
}
LARGE_AMOUNT_SCENARIOS = {"outlier", "spree", "structuring"}
LARGE_TICKET_CATEGORIES = ["equipment", "travel", "software"]
BLOCKED_MERCHANTS = ["Lucky Star Casino", "BetOnline", "Coinbase", "Cash Now"]
AMOUNT_SIGMA = 0.5  # log-scale spread of one employee's amounts within a category
OUTLIER_DEVIATIONS = (4.0, 6.0)  # how far out an injected outlier lies in the employee's own distribution
# Scenarios per employee-day after the warm-up, and at least this many of each.
SCENARIO_RATES = {
    "outlier": 0.04,
    "burst": 0.008,
    "spree": 0.008,
    "refused": 0.008,
    "duplicate": 0.02,
    "structuring": 0.005,
    "night": 0.02,
    "blocked": 0.015,
}
SCENARIO_MINIMUM = 4
# What the detectors are held to, overall and rule by rule.
TARGET_PRECISION = 0.8
TARGET_RECALL = 0.9
SCENARIO_RULES = {
    "outlier": {Rule.AMOUNT_OUTLIER_EMPLOYEE, Rule.AMOUNT_OUTLIER_DEPARTMENT_CATEGORY},
    "burst": {Rule.VELOCITY_COUNT},
    "spree": {Rule.VELOCITY_AMOUNT},
    # Nothing in it is a positive: refused attempts spent nothing, so neither they nor the spend after
    # them may be called too much spent, or too many spends.
    "refused": {Rule.VELOCITY_AMOUNT, Rule.VELOCITY_COUNT},
    "duplicate": {Rule.DUPLICATE_CHARGE},
    "structuring": {Rule.STRUCTURING},
    "night": {Rule.UNUSUAL_HOURS},
    "blocked": {Rule.BLOCKED_CATEGORY},
}


@dataclass
class Employee:
    index: int
    organization: str  # its timezone, a key of ORGANIZATIONS
    office: str  # the timezone they keep office hours in
    shift_hours: float  # 0, or EARLY_SHIFT_HOURS
    department: str
    median_minor: float
    daily_rate: float

    def log_spread(self) -> tuple[float, float]:
        """Mean and deviation of ln(amount / median) over this employee's whole category mix: the true
        distribution the outlier detectors estimate."""
        weights = DEPARTMENTS[self.department]
        scales = np.log([CATEGORY_SCALE[category] for category in weights])
        shares = np.array(list(weights.values()))
        mean = float(shares @ scales)
        variance = float(shares @ (scales - mean) ** 2) + AMOUNT_SIGMA**2
        return mean, math.sqrt(variance)


@dataclass
class SyntheticSpend:
    employee: int
    at: datetime
    amount_minor: int
    merchant: str
    category: str
    scenario: str = "normal"  # or the scenario it belongs to
    labels: frozenset = frozenset()
    rejected: bool = False


@dataclass
class RuleResult:
    rule: str
    positives: int
    flagged: int
    true_positives: int
    false_positives: int
    false_negatives: int
    cross: int

    @property
    def precision(self) -> float:
        called = self.true_positives + self.false_positives
        return self.true_positives / called if called else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    @property
    def short_of(self) -> list[str]:
        """The measures below their targets."""
        return [
            name
            for name, value, target in (
                ("precision", self.precision, TARGET_PRECISION),
                ("recall", self.recall, TARGET_RECALL),
            )
            if value < target
        ]

    def as_dict(self) -> dict:
        return {
            "positives": self.positives,
            "flagged": self.flagged,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "cross": self.cross,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "short_of": self.short_of,
        }


@dataclass
class Report:
    seed: int
    method: str
    spends: int
    normal_spends: int
    alerts: int
    seconds: float
    rules: list[RuleResult] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "method": self.method,
            "spends": self.spends,
            "normal_spends": self.normal_spends,
            "alerts": self.alerts,
            "seconds": round(self.seconds, 2),
            "targets": {"precision": TARGET_PRECISION, "recall": TARGET_RECALL},
            "rules": {result.rule: result.as_dict() for result in self.rules},
            "overall": self.overall.as_dict(),
        }

    @property
    def overall(self) -> RuleResult:
        """Every rule's counts added up: precision and recall over all alerts and all positives."""
        return RuleResult(
            "overall",
            *(
                sum(getattr(result, name) for result in self.rules)
                for name in ("positives", "flagged", "true_positives", "false_positives", "false_negatives", "cross")
            ),
        )


class StreamGenerator:
    """Builds the labelled stream from a seed; the same seed gives the same stream."""

    def __init__(self, *, seed: int, employees: int, days: int, warmup_days: int, fraud_settings: FraudSettings):
        self.rng = np.random.default_rng(seed)
        self.days = days
        self.warmup_days = warmup_days
        self.settings = fraud_settings
        organizations, departments = list(ORGANIZATIONS), list(DEPARTMENTS)
        self.employees = []
        for i in range(employees):
            organization = organizations[i % len(organizations)]
            place = i // len(organizations)  # the employee's place in their organization
            offices = ORGANIZATIONS[organization]
            self.employees.append(
                Employee(
                    index=i,
                    organization=organization,
                    office=offices[place % len(offices)],
                    shift_hours=EARLY_SHIFT_HOURS if place % 5 == 3 else 0.0,
                    department=departments[place % len(departments)],
                    median_minor=float(np.exp(self.rng.uniform(math.log(4000), math.log(11000)))),
                    daily_rate=float(self.rng.uniform(1.2, 3.0)),
                )
            )

    def _local(self, employee: Employee, day: int, hours: float) -> datetime:
        """`hours` after midnight of the stream's `day` where the employee works, in UTC."""
        zone = zoneinfo.ZoneInfo(employee.office)
        moment = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), tzinfo=zone)
        return (moment + timedelta(hours=hours)).astimezone(UTC)

    @staticmethod
    def _day_start(day: int) -> datetime:
        return datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), tzinfo=UTC)

    def _category(self, employee: Employee) -> str:
        weights = DEPARTMENTS[employee.department]
        return str(self.rng.choice(list(weights), p=list(weights.values())))

    def _amount(self, employee: Employee, category: str) -> int:
        center = math.log(employee.median_minor * CATEGORY_SCALE[category])
        return max(100, round(float(np.exp(self.rng.normal(center, AMOUNT_SIGMA)))))

    def _merchant(self, category: str) -> str:
        return str(self.rng.choice(MERCHANTS[category]))

    def _working_hour(self, employee: Employee) -> float:
        """Local hours after midnight where the employee works: 07:30 to 23:00, earlier on an early shift."""
        if self.rng.random() < 0.75:
            hour = float(np.clip(self.rng.normal(12.5, 2.2), 7.5, 19.0))
        else:
            hour = float(np.clip(self.rng.normal(20.0, 1.2), 17.0, 22.9))
        return hour + employee.shift_hours

    def normal_stream(self) -> list[SyntheticSpend]:
        spends = []
        for employee in self.employees:
            for day in range(self.days):
                weekend = (FIRST_DAY + timedelta(days=day)).weekday() >= 5
                for _ in range(self.rng.poisson(employee.daily_rate * (0.2 if weekend else 1.0))):
                    category = self._category(employee)
                    spends.append(
                        SyntheticSpend(
                            employee=employee.index,
                            at=self._local(employee, day, self._working_hour(employee)),
                            amount_minor=self._amount(employee, category),
                            merchant=self._merchant(category),
                            category=category,
                        )
                    )
        return sorted(spends, key=lambda spend: spend.at)

    def _anchors(self, normal: list[SyntheticSpend]) -> list[tuple[SyntheticSpend, int]]:
        """Normal spends after the warm-up at which both of the spender's amount histories are long enough,
        each with the number of spends the employee made before it."""
        warm = self._day_start(self.warmup_days)
        by_employee: dict[int, int] = {}
        by_group: dict[tuple, int] = {}
        anchors = []
        for spend in normal:
            employee = self.employees[spend.employee]
            group = (employee.organization, employee.department, spend.category)
            enough = self.settings.outlier_min_history
            if spend.at >= warm and by_employee.get(spend.employee, 0) >= enough and by_group.get(group, 0) >= enough:
                anchors.append((spend, by_employee[spend.employee]))
            by_employee[spend.employee] = by_employee.get(spend.employee, 0) + 1
            by_group[group] = by_group.get(group, 0) + 1
        return anchors

    def _scenario(self, name: str, spends: list[SyntheticSpend]) -> list[SyntheticSpend]:
        for spend in spends:
            spend.scenario = name
        return spends

    def outlier(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """An amount 4 to 6 true deviations above what the employee usually spends, across their categories."""
        employee = self.employees[anchor.employee]
        mean, deviation = employee.log_spread()
        amount = round(employee.median_minor * math.exp(mean + self.rng.uniform(*OUTLIER_DEVIATIONS) * deviation))
        at = anchor.at + timedelta(minutes=float(self.rng.uniform(30, 120)))
        spend = SyntheticSpend(anchor.employee, at, amount, self._merchant(anchor.category), anchor.category)
        spend.labels = frozenset(SCENARIO_RULES["outlier"])
        return self._scenario("outlier", [spend])

    def burst(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """More accepted spends than the count limit inside its window, with a refused attempt or two among
        them: the accepted ones past the limit are the positives; a refused one spent nothing and is not."""
        employee = self.employees[anchor.employee]
        limit = self.settings.velocity_count_limit
        accepted = int(self.rng.integers(limit + 1, limit + 5))
        refused = int(self.rng.integers(0, 3))
        span = self.settings.velocity_count_window_seconds * float(self.rng.uniform(0.25, 0.9))
        offsets = np.sort(self.rng.uniform(0, span, accepted + refused))
        refused_positions = set(self.rng.choice(np.arange(1, accepted + refused), size=refused, replace=False).tolist())
        start = anchor.at + timedelta(minutes=float(self.rng.uniform(15, 60)))
        spends, counted = [], 0
        for position, offset in enumerate(offsets):
            category = str(self.rng.choice(["software", "supplies"]))
            spend = SyntheticSpend(
                anchor.employee,
                start + timedelta(seconds=float(offset)),
                self._amount(employee, category),
                str(self.rng.choice(["Amazon", "Apple App Store", "Google Play", "Steam"])),
                category,
                rejected=position in refused_positions,
            )
            if not spend.rejected:
                counted += 1
                if counted > limit:
                    spend.labels = frozenset(SCENARIO_RULES["burst"])
            spends.append(spend)
        return self._scenario("burst", spends)

    def spree(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """A few large spends in minutes: labelled once they have added up past the amount limit."""
        limit = self.settings.velocity_amount_limit_minor
        size = int(self.rng.integers(3, 5))
        span = self.settings.velocity_amount_window_seconds * float(self.rng.uniform(0.3, 0.9))
        offsets = np.sort(self.rng.uniform(0, span, size))
        start = anchor.at + timedelta(minutes=float(self.rng.uniform(20, 60)))
        spends, total = [], 0
        for position, offset in enumerate(offsets):
            amount = round(limit * float(self.rng.uniform(0.4, 0.7)))
            total += amount
            category = str(self.rng.choice(LARGE_TICKET_CATEGORIES))
            spend = SyntheticSpend(
                anchor.employee, start + timedelta(seconds=float(offset)), amount, self._merchant(category), category
            )
            if position >= 1 and total > limit:
                spend.labels = frozenset(SCENARIO_RULES["spree"])
            spends.append(spend)
        return self._scenario("spree", spends)

    def refused(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """Two or three attempts far over the budget, refused, then an ordinary spend within the amount
        window: nothing was spent but the last one, so no velocity rule may fire."""
        employee = self.employees[anchor.employee]
        limit = self.settings.velocity_amount_limit_minor
        span = self.settings.velocity_amount_window_seconds * float(self.rng.uniform(0.3, 0.9))
        attempts = int(self.rng.integers(2, 4))
        offsets = np.sort(self.rng.uniform(0, span, attempts + 1))
        start = anchor.at + timedelta(minutes=float(self.rng.uniform(20, 60)))
        spends = []
        for position, offset in enumerate(offsets):
            last = position == attempts
            category = anchor.category if last else str(self.rng.choice(LARGE_TICKET_CATEGORIES))
            amount = self._amount(employee, category) if last else round(limit * float(self.rng.uniform(5, 20)))
            spends.append(
                SyntheticSpend(
                    anchor.employee,
                    start + timedelta(seconds=float(offset)),
                    amount,
                    self._merchant(category),
                    category,
                    rejected=not last,
                )
            )
        return self._scenario("refused", spends)

    def duplicate(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        window = self.settings.duplicate_window_seconds
        at = anchor.at + timedelta(seconds=float(self.rng.uniform(5, window * 0.8)))
        copy = SyntheticSpend(anchor.employee, at, anchor.amount_minor, anchor.merchant, anchor.category)
        copy.labels = frozenset(SCENARIO_RULES["duplicate"])
        return self._scenario("duplicate", [copy])

    def structuring(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """Amounts just under the threshold spread over days: positives once there are enough of them."""
        threshold = self.settings.structuring_threshold_minor
        low = threshold * (100 - self.settings.structuring_margin_percent) / 100
        needed = self.settings.structuring_min_count
        size = int(self.rng.integers(needed, needed + 3))
        window_hours = self.settings.structuring_window_hours
        employee = self.employees[anchor.employee]
        zone = zoneinfo.ZoneInfo(employee.office)
        spends = []
        for hours in self.rng.uniform(0, window_hours * 0.7, size):
            local_day = anchor.at + timedelta(hours=float(hours))
            at = local_day.astimezone(zone).replace(
                hour=int(self.rng.integers(9, 17) + employee.shift_hours), minute=int(self.rng.integers(0, 60))
            )
            amount = int(self.rng.integers(math.ceil(low), threshold))
            category = str(self.rng.choice(LARGE_TICKET_CATEGORIES))
            spends.append(
                SyntheticSpend(anchor.employee, at.astimezone(UTC), amount, self._merchant(category), category)
            )
        spends.sort(key=lambda spend: spend.at)
        for position, spend in enumerate(spends):
            spend.labels = frozenset(SCENARIO_RULES["structuring"]) if position >= needed - 1 else frozenset()
        return self._scenario("structuring", spends)

    def night(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        """A spend in the dead of the employee's own night, where they work: judged on the organization's
        clock, it is at an hour they never spend at, whatever that clock says."""
        employee = self.employees[anchor.employee]
        zone = zoneinfo.ZoneInfo(employee.office)
        center = NIGHT_CENTER_HOURS + employee.shift_hours
        local_hour = center + float(self.rng.uniform(-NIGHT_HALF_WIDTH_HOURS, NIGHT_HALF_WIDTH_HOURS))
        local_day = anchor.at.astimezone(zone).date() + timedelta(days=1)
        at = datetime.combine(local_day, datetime.min.time(), tzinfo=zone) + timedelta(hours=local_hour)
        category = self._category(employee)
        spend = SyntheticSpend(
            anchor.employee, at.astimezone(UTC), self._amount(employee, category), self._merchant(category), category
        )
        spend.labels = frozenset(SCENARIO_RULES["night"])
        return self._scenario("night", [spend])

    def blocked(self, anchor: SyntheticSpend) -> list[SyntheticSpend]:
        employee = self.employees[anchor.employee]
        category = str(self.rng.choice(self.settings.blocked_categories))
        amount = round(employee.median_minor * float(self.rng.uniform(0.5, 3.0)))
        at = anchor.at + timedelta(minutes=float(self.rng.uniform(30, 120)))
        spend = SyntheticSpend(anchor.employee, at, amount, str(self.rng.choice(BLOCKED_MERCHANTS)), category)
        spend.labels = frozenset(SCENARIO_RULES["blocked"])
        return self._scenario("blocked", [spend])

    def _isolated(
        self, name: str, spends: list[SyntheticSpend], anchor: SyntheticSpend, times: dict, spans: dict
    ) -> bool:
        """A scenario tests its own rule alone: none of its spends comes within the longest velocity or
        duplicate window of the employee's other spends (a duplicate's own original aside), and an
        employee's large-amount scenarios lie a structuring window apart, so one does not widen the
        history the next is judged against (nor add to its structuring count)."""
        if any(spend.at >= self._day_start(self.days) for spend in spends):
            return False
        isolation = timedelta(
            seconds=max(
                self.settings.velocity_count_window_seconds,
                self.settings.velocity_amount_window_seconds,
                self.settings.duplicate_window_seconds,
            )
        )
        others = times[anchor.employee]
        for spend in spends:
            position = bisect.bisect_left(others, spend.at)
            for neighbour in others[max(position - 2, 0) : position + 2]:
                if abs(neighbour - spend.at) < isolation and not (name == "duplicate" and neighbour == anchor.at):
                    return False
        if name in LARGE_AMOUNT_SCENARIOS:
            spacing = timedelta(hours=self.settings.structuring_window_hours)
            first, last = spends[0].at - spacing, spends[-1].at + spacing
            if any(first < end and start < last for start, end in spans.get(anchor.employee, [])):
                return False
            spans.setdefault(anchor.employee, []).append((spends[0].at, spends[-1].at))
        return True

    def stream(self) -> list[SyntheticSpend]:
        normal = self.normal_stream()
        anchors = self._anchors(normal)
        times: dict[int, list[datetime]] = {employee.index: [] for employee in self.employees}
        for spend in normal:
            times[spend.employee].append(spend.at)
        large_spans: dict[int, list] = {}
        employee_days = len(self.employees) * (self.days - self.warmup_days)
        injected: list[SyntheticSpend] = []
        for name, rate in SCENARIO_RATES.items():
            wanted = max(SCENARIO_MINIMUM, round(rate * employee_days))
            # A night only where the employee's hours are known well enough to be judged.
            least = self.settings.unusual_hours_min_history if name == "night" else 0
            candidates = [anchor for anchor, history in anchors if history >= least]
            made = 0
            for index in self.rng.permutation(len(candidates)):
                if made == wanted:
                    break
                anchor = candidates[index]
                spends = getattr(self, name)(anchor)
                if not self._isolated(name, spends, anchor, times, large_spans):
                    continue
                for spend in spends:
                    bisect.insort(times[anchor.employee], spend.at)
                injected += spends
                made += 1
        return sorted(normal + injected, key=lambda spend: spend.at)


def _write(*, stream: list[SyntheticSpend], users: list[User]) -> list[uuid.UUID]:
    rows = []
    for number, spend in enumerate(stream):
        user = users[spend.employee]
        rows.append(
            Transaction(
                organization_id=user.organization_id,
                kind=Transaction.Kind.SPEND,
                status=Transaction.Status.REJECTED if spend.rejected else Transaction.Status.POSTED,
                amount_minor=spend.amount_minor,
                currency=user.organization.currency,
                original_amount_minor=spend.amount_minor,
                original_currency=user.organization.currency,
                fx_rate=1,
                merchant=spend.merchant,
                category=spend.category,
                department_id=user.department_id,
                employee=user,
                created_by=user,
                budget_month=spend.at.date().replace(day=1),
                idempotency_key=f"fraud-eval-{number}",
                request_fingerprint="fraud-eval",
                created_at=spend.at,
                processed_at=spend.at + timedelta(seconds=1),
                rejection_reason="Declined in the evaluation stream." if spend.rejected else "",
            )
        )
    return [row.id for row in Transaction.objects.bulk_create(rows, batch_size=1000)]


class _RollBack(Exception):
    """Raised to undo everything an evaluation wrote."""


def evaluate(
    *, seed: int, employees: int = 30, days: int = 60, warmup_days: int = 14, method: str = "zscore"
) -> Report:
    """Generate the stream for `seed`, score it with the real detectors, and measure each rule."""
    started = time.monotonic()
    report = None
    organization_ids = []
    try:
        with transaction.atomic():
            generator = StreamGenerator(
                seed=seed,
                employees=employees,
                days=days,
                warmup_days=warmup_days,
                fraud_settings=FraudSettings(outlier_method=method),
            )
            departments = {}
            for timezone_name in ORGANIZATIONS:
                organization = organization_create(
                    name=f"Fraud evaluation {seed} {timezone_name}", currency="USD", timezone_name=timezone_name
                )
                organization_ids.append(organization.id)
                FraudSettings.objects.create(organization=organization, outlier_method=method)
                for name in DEPARTMENTS:
                    departments[timezone_name, name] = department_create(
                        organization=organization, name=name, monthly_limit_minor=10**12, actor=None
                    )
            users = []
            for employee in generator.employees:
                department = departments[employee.organization, employee.department]
                users.append(
                    User.objects.create_user(
                        f"employee{employee.index}@eval-{department.organization.slug}.invalid",
                        None,
                        role=Role.EMPLOYEE,
                        organization=department.organization,
                        department=department,
                    )
                )
            stream = generator.stream()
            ids = _write(stream=stream, users=users)
            services.transactions_score(transaction_ids=ids)
            flagged: dict[str, set[uuid.UUID]] = {}
            alerts = FraudAlert.objects.filter(organization_id__in=organization_ids)
            for transaction_id, rule in alerts.values_list("transaction_id", "rule"):
                flagged.setdefault(rule, set()).add(transaction_id)
            report = _measure(stream=stream, ids=ids, flagged=flagged, seed=seed, method=method)
            raise _RollBack
    except _RollBack:
        pass
    finally:
        redis = get_redis_connection("default")
        for organization_id in organization_ids:
            keys = list(redis.scan_iter(match=f"ledgerx:fraud:velocity:{organization_id}:*", count=1000))
            if keys:
                redis.delete(*keys)
    report.seconds = time.monotonic() - started
    return report


def _measure(*, stream: list[SyntheticSpend], ids: list[uuid.UUID], flagged: dict, seed: int, method: str) -> Report:
    own_scenarios = {rule: {name for name, rules in SCENARIO_RULES.items() if rule in rules} for rule in Rule.values}
    report = Report(
        seed=seed,
        method=method,
        spends=len(stream),
        normal_spends=sum(spend.scenario == "normal" for spend in stream),
        alerts=sum(len(found) for found in flagged.values()),
        seconds=0.0,
    )
    for rule in Rule.values:
        alerted = flagged.get(rule, set())
        result = RuleResult(rule, 0, len(alerted), 0, 0, 0, 0)
        for transaction_id, spend in zip(ids, stream, strict=True):
            hit = transaction_id in alerted
            if rule in spend.labels:
                result.positives += 1
                result.true_positives += hit
                result.false_negatives += not hit
            elif spend.scenario == "normal" or spend.scenario in own_scenarios[rule]:
                result.false_positives += hit
            else:
                result.cross += hit
        report.rules.append(result)
    return report
