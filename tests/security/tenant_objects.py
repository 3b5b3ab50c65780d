"""Objects of one tenant that security tests name by id, made through the real services, fresh
each call (a request may consume what it names). The caller's test must commit (transaction=True)."""

import datetime
import io
import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalPolicy
from apps.controls import services as control_services
from apps.fraud.models import FraudAlert
from apps.fx import services as fx_services
from apps.ledger import closing as ledger_closing
from apps.ledger.models import Transaction
from apps.payables import payment_returns, payment_runs
from apps.payables import vendors as payable_vendors
from apps.payables.bank_details import bank_details_validate
from apps.payables.models import Bill, PayingAccount
from apps.receipts import services as receipt_services
from apps.reconciliation import services as reconciliation_services
from apps.reconciliation.models import StatementLine
from apps.reimbursements import services as reimbursement_services
from apps.reports import selectors as report_selectors
from apps.reports import services as report_services
from apps.reports.periods import period_parse
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from apps.webhooks import services as webhook_services
from apps.webhooks.models import Delivery
from ledgerx.money import to_decimal_string
from ledgerx.months import month_parse
from tests.conftest import Tenant
from tests.factories import UserFactory
from tests.fraud.conftest import score
from tests.payables.bills import bill_submit
from tests.payables.return_files import unknown_nacha_return_file
from tests.payables.vendors import paying_account, vendor_paid_by
from tests.reconciliation.statements import csv_bytes, source_of
from tests.reimbursements.claims import batch_of, claim_submit
from tests.spends import settle_all, spend_settled


def approval_policy(tenant: Tenant):
    return approval_services.approval_policy_create(
        organization=tenant.organization,
        name=f"Policy {uuid.uuid4().hex[:8]}",
        min_amount_minor=500_000,
        levels=["finance_manager"],
    )


def spend_rule(tenant: Tenant):
    rule, _ = control_services.spend_rule_create(
        actor=tenant.admin,
        organization=tenant.organization,
        fields=control_services.RuleFields(
            name=f"Rule {uuid.uuid4().hex[:8]}", kind="blocked_category", category="lottery"
        ),
    )
    return rule


def fx_rate(tenant: Tenant):
    return fx_services.fx_rate_set(
        actor=tenant.finance,
        organization=tenant.organization,
        currency="GBP",
        rate_date=datetime.date(2026, 12, 1),
        rate=Decimal("1.27"),
    )


def waiting_approval(tenant: Tenant):
    """A spend waiting for a finance manager's signature (the matrix's finance manager may sign it)."""
    if not ApprovalPolicy.objects.of(tenant.organization).exists():
        approval_policy(tenant)
    return spend_settled(tenant.employee, "6000.00").approval


def open_alert(tenant: Tenant):
    spend = spend_settled(tenant.employee, "5.00", category="gambling")
    score(spend)
    return FraudAlert.objects.filter(transaction=spend).first()


def frozen_employee(tenant: Tenant):
    """A new employee whose spending finance froze."""
    employee = UserFactory(role=Role.EMPLOYEE, department=tenant.department)
    return tenancy_services.user_freeze(actor=tenant.finance, user=employee, reason="Card reported stolen.")


def webhook_delivery(tenant: Tenant):
    endpoint = webhook_services.webhook_endpoint_create(
        organization=tenant.organization, url="http://127.0.0.1:9/hook", event_types=["transaction.posted"]
    )
    with transaction.atomic():
        event_id = webhook_services.outbox_emit(
            organization_id=tenant.organization.id, event_type="transaction.posted", payload={"matrix": True}
        )
    webhook_services.outbox_dispatch(event_ids=[event_id])
    return Delivery.objects.get(endpoint=endpoint)


def last_month() -> str:
    """The month before this one (UTC, the test organizations' timezone): ended, so it can be signed off."""
    last = timezone.now().date().replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


_months_apart = itertools.count()


def month_to_close() -> str:
    """A month of 2001 onwards, later than any this run named before: long ended, with no entries, and no
    month closed after it, so that it closes (and, once closed, reopens)."""
    number = next(_months_apart)
    return f"{2001 + number // 12:04d}-{number % 12 + 1:02d}"


def closed_month(tenant: Tenant) -> str:
    month = month_to_close()
    ledger_closing.month_close(actor=tenant.finance, month=month_parse(month))
    return month


def report_run(tenant: Tenant):
    period = period_parse(organization=tenant.organization, month=last_month())
    return report_services.report_generate(
        actor=tenant.finance, organization=tenant.organization, kind="reversals", period=period, file_format="csv"
    ).run


def access_review_sign_off_body(tenant: Tenant) -> dict:
    """The access review of last month, as it reads now, to sign off."""
    month = last_month()
    period = period_parse(organization=tenant.organization, month=month)
    return {
        "period": month,
        "checksum": report_selectors.access_review(organization=tenant.organization, period=period).checksum,
    }


def own_path_ids(tenant: Tenant, transaction_id: str) -> dict[str, str]:
    """One id of each kind the API's paths take, all of this tenant."""
    delivery = webhook_delivery(tenant)
    return {
        "department_id": str(tenant.department.id),
        "account_id": str(tenant.department.expense_account.id),
        "transaction_id": transaction_id,
        "user_id": str(tenant.other_employee.id),
        "policy_id": str(approval_policy(tenant).id),
        "rule_id": str(spend_rule(tenant).id),
        "approval_id": str(waiting_approval(tenant).id),
        "alert_id": str(open_alert(tenant).id),
        "month": closed_month(tenant),
        "endpoint_id": str(delivery.endpoint_id),
        "delivery_id": str(delivery.id),
        "run_id": str(report_run(tenant).id),
        "rate_id": str(fx_rate(tenant).id),
        "claim_id": str(approved_claim(tenant).id),
        "batch_id": str(released_batch(tenant).id),
        "receipt_id": str(receipt(tenant, Transaction.objects.get(id=transaction_id)).id),
        **statement_ids(tenant),
        "vendor_id": str(payable_vendor(tenant).id),
        "change_id": str(pending_bank_change(tenant).id),
        "bill_id": str(approved_bill(tenant).id),
        "paying_account_id": str(ach_paying_account(tenant).id),
        "payment_run_id": str(released_payment_run(tenant).id),
        "payment_id": str(released_payment_run(tenant).lines.get().id),
        "return_file_id": str(return_file(tenant).id),
    }


def payable_vendor(tenant: Tenant):
    """A vendor paid by ACH to details a second person approved (a fresh one each time)."""
    return vendor_paid_by(tenant, name=f"Vendor {uuid.uuid4().hex[:8]}", rail="ach")


def pending_bank_change(tenant: Tenant):
    """A change of a vendor's payment details waiting for approval, asked by a finance user of its own, so
    that any other finance user may decide it."""
    asker = UserFactory(role=Role.FINANCE_MANAGER, organization=tenant.organization)
    return payable_vendors.vendor_bank_change_request(
        actor=asker,
        vendor_id=payable_vendor(tenant).id,
        details=bank_details_validate(rail="ach", routing_number="021000021", account_number="77001234"),
    )


def approved_bill(tenant: Tenant) -> Bill:
    """A vendor's bill, settled: approved and owed, in no run."""
    transaction_row = bill_submit(tenant.finance, payable_vendor(tenant), "7.00")
    settle_all(tenant.organization)
    return Bill.objects.get(transaction=transaction_row)


def ach_paying_account(tenant: Tenant) -> PayingAccount:
    return PayingAccount.objects.of(tenant.organization).first() or paying_account(tenant, "ach")


def draft_payment_run(tenant: Tenant):
    """A draft run of one fresh approved bill (a release or a discard consumes it)."""
    bill = approved_bill(tenant)
    today = timezone.localdate()
    return payment_runs.payment_run_create(
        actor=tenant.finance,
        paying_account_id=ach_paying_account(tenant).id,
        due_until=bill.due_date,
        execution_date=today + timedelta(days=1),
        bill_ids=[bill.id],
    )


def released_payment_run(tenant: Tenant):
    return payment_runs.payment_run_release(actor=tenant.finance, run_id=draft_payment_run(tenant).id)


def return_file(tenant: Tenant):
    """A bank's return file the tenant's finance uploaded (naming no payment of theirs: fresh each time)."""
    return payment_returns.return_file_import(
        actor=tenant.finance, file_name="returns.ach", content=unknown_nacha_return_file()
    )


def return_file_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("returns.ach", unknown_nacha_return_file())


def approved_claim(tenant: Tenant):
    """A reimbursement claim of the tenant's employee, settled: approved and owed, in no batch."""
    claim = claim_submit(tenant.employee, "12.00")
    settle_all(tenant.organization)
    return claim


def draft_batch(tenant: Tenant):
    """A draft payout batch of one fresh approved claim (a release or a discard consumes it)."""
    return batch_of(tenant.finance, [approved_claim(tenant)])


def released_batch(tenant: Tenant):
    return reimbursement_services.batch_release(actor=tenant.finance, batch_id=draft_batch(tenant).id)


def receipt_upload_file() -> SimpleUploadedFile:
    """A PNG unlike any other: a spend takes each file once."""
    return SimpleUploadedFile("receipt.png", png_unique(), "image/png")


def png_unique() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), tuple(uuid.uuid4().bytes[:3])).save(output, "PNG")
    return output.getvalue()


def receipt(tenant: Tenant, spend):
    """A receipt of the tenant's spend, attached by its spender, with its thumbnail made."""
    attached = receipt_services.receipt_upload(
        actor=spend.employee, transaction_id=spend.id, data=png_unique(), original_name="receipt.png"
    )
    return receipt_services.receipt_process(receipt_id=attached.id)


def statement_upload_file() -> SimpleUploadedFile:
    """A one-line card statement unlike any other: a file is imported once."""
    today = timezone.now().date().isoformat()
    return SimpleUploadedFile("statement.csv", csv_bytes([(today, "3.00", f"MATRIX {uuid.uuid4().hex}", "")]))


def statement_line_for(tenant: Tenant, spend) -> StatementLine:
    """A new statement's one line, for the spend's money, unmatched: its description is like no merchant."""
    source = source_of(tenant.organization)
    amount = to_decimal_string(spend.original_amount_minor, spend.original_currency)
    content = csv_bytes([(spend.created_at.date().isoformat(), amount, f"Q{uuid.uuid4().hex}", "")])
    imported = reconciliation_services.statement_import(
        actor=tenant.finance, source=source, file_name="statement.csv", content=content
    ).statement_import
    return imported.lines.get()


def matched_statement_line(tenant: Tenant):
    spend = spend_settled(tenant.employee, "2.00")
    line = statement_line_for(tenant, spend)
    reconciliation_services.match_confirm(actor=tenant.finance, line_id=line.id, transaction_id=spend.id)
    return line


def statement_ids(tenant: Tenant) -> dict[str, str]:
    """A new statement of one line that matches nothing (no spend is made, none is settled on the way)."""
    line = reconciliation_services.statement_import(
        actor=tenant.finance,
        source=source_of(tenant.organization),
        file_name="statement.csv",
        content=statement_upload_file().read(),
    ).statement_import.lines.get()
    return {
        "source_id": str(line.source_id),
        "import_id": str(line.statement_import_id),
        "line_id": str(line.id),
    }
