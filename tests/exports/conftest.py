"""A month of books written straight into the ledger's tables, every column chosen: GL codes and cost
centres on the entries, a spend in another currency with its receipt and approval, a reversal, a
three-line journal, a rejected spend (no journal), and entries on both sides of the month's edges in
the organization's timezone (Asia/Tokyo, nine hours ahead of UTC). Another organization has a journal
in the same month, which no export of the first may show.
"""

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from apps.approvals.models import ApprovalDecision, ApprovalRequest
from apps.ledger.models import Account, Entry, Transaction
from apps.receipts.models import Receipt
from apps.tenancy.models import Organization
from tests.conftest import Tenant

MONTH = "2025-03"


def journal(
    tenant: Tenant,
    at: datetime,
    legs: list[tuple[Account, int, str, str]],
    *,
    kind: str = Transaction.Kind.SPEND,
    status: str = Transaction.Status.POSTED,
    merchant: str = "Dell",
    reversal_of: Transaction | None = None,
    original: tuple[int, str, str, date] | None = None,
    **fields,
) -> Transaction:
    """A transaction and its entries (account, amount in minor units, GL code, cost centre) at `at`."""
    amount = sum(amount for _, amount, _, _ in legs if amount > 0) or fields.pop("amount_minor")
    original_amount, original_currency, rate, rate_date = original or (amount, "USD", "1", None)
    transaction = Transaction.objects.create(
        organization=tenant.organization,
        kind=kind,
        status=status,
        amount_minor=amount,
        currency="USD",
        original_amount_minor=original_amount,
        original_currency=original_currency,
        fx_rate=Decimal(rate),
        fx_rate_date=rate_date,
        merchant=merchant,
        category="equipment",
        department=tenant.department,
        employee=tenant.employee,
        created_by=tenant.employee,
        budget_month=date(at.year, at.month, 1),
        idempotency_key=str(uuid.uuid4()),
        request_fingerprint="0" * 64,
        created_at=at,
        reversal_of=reversal_of,
        **fields,
    )
    Entry.objects.bulk_create(
        Entry(
            organization=tenant.organization,
            transaction=transaction,
            account=account,
            amount_minor=amount,
            currency="USD",
            created_at=at,
            gl_code=gl_code,
            cost_centre=cost_centre,
        )
        for account, amount, gl_code, cost_centre in legs
    )
    return transaction


@dataclass
class Books:
    tenant: Tenant
    other: Tenant
    plain: Transaction
    foreign: Transaction
    reversal: Transaction
    split: Transaction
    rejected: Transaction
    receipt: Receipt
    approval: ApprovalRequest
    before_month: Transaction
    after_month: Transaction
    other_journal: Transaction


def accounts(tenant: Tenant) -> tuple[Account, Account]:
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    return tenant.department.expense_account, card


@pytest.fixture
def books(db) -> Books:
    tenant, other = Tenant("Acme"), Tenant("Globex")
    Organization.objects.filter(id=tenant.organization.id).update(timezone="Asia/Tokyo")
    tenant.organization.refresh_from_db()
    expense, card = accounts(tenant)

    def at(month: int, day: int, hour: int) -> datetime:
        return datetime(2025, month, day, hour, tzinfo=UTC)

    # 2025-02-28 15:00 UTC is 2025-03-01 00:00 in Tokyo: the month's first instant.
    plain = journal(tenant, at(2, 28, 15), [(expense, 12_000, "6000", "ENG"), (card, -12_000, "2100", "")])
    foreign = journal(
        tenant,
        at(3, 10, 2),
        [(expense, 5_425, "6100", "ENG"), (card, -5_425, "2100", "")],
        merchant="Lufthansa",
        original=(5_000, "EUR", "1.0850000000", date(2025, 3, 9)),
        policy_version=3,
        description="Flight to Berlin",
    )
    reversal = journal(
        tenant,
        at(3, 12, 5),
        [(card, 12_000, "2100", ""), (expense, -12_000, "6000", "ENG")],
        kind=Transaction.Kind.REVERSAL,
        reversal_of=plain,
        reason="Duplicate charge",
    )
    split = journal(
        tenant,
        at(3, 20, 8),
        [(expense, 3_000, "6000", "ENG"), (expense, 2_001, "6000", "OPS"), (card, -5_001, "2100", "")],
        merchant='=HYPERLINK("x")',
    )
    rejected = journal(
        tenant,
        at(3, 21, 8),
        [],
        status=Transaction.Status.REJECTED,
        amount_minor=99_900,
        rejection_reason="Over the spend rule's limit",
        policy_version=3,
    )
    # 2025-03-31 15:00 UTC is 2025-04-01 00:00 in Tokyo: April's, not March's.
    after_month = journal(tenant, at(3, 31, 15), [(expense, 700, "6000", "ENG"), (card, -700, "2100", "")])
    # 2025-02-28 14:59 UTC is still February in Tokyo.
    before_month = journal(
        tenant, datetime(2025, 2, 28, 14, 59, tzinfo=UTC), [(expense, 800, "6000", "ENG"), (card, -800, "2100", "")]
    )
    other_expense, other_card = accounts(other)
    other_journal = journal(
        other, at(3, 15, 1), [(other_expense, 4_242, "6000", "X"), (other_card, -4_242, "2100", "")]
    )

    receipt = Receipt.objects.create(
        organization=tenant.organization,
        transaction=foreign,
        uploaded_by=tenant.employee,
        file_name="receipts/abc.jpg",
        content_type="image/jpeg",
        size=10,
        sha256="a" * 64,
        status=Receipt.Status.READY,
    )
    approval = ApprovalRequest.objects.create(
        organization=tenant.organization,
        transaction=foreign,
        levels=["finance_manager"],
        status=ApprovalRequest.Status.APPROVED,
        expires_at=at(3, 17, 2),
        decided_at=at(3, 10, 4),
    )
    ApprovalDecision.objects.create(
        organization=tenant.organization,
        request=approval,
        level=0,
        approver=tenant.finance,
        outcome=ApprovalDecision.Outcome.APPROVED,
    )
    return Books(
        tenant,
        other,
        plain,
        foreign,
        reversal,
        split,
        rejected,
        receipt,
        approval,
        before_month,
        after_month,
        other_journal,
    )


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def xlsx_rows(content: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, ("" if value is None else value for value in row), strict=True)) for row in rows]


def header_of(content: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(content.decode())))
