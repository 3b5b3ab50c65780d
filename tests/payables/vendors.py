"""Vendors and paying accounts made through the real services, their payment details approved by a second person."""

from datetime import timedelta

from apps.payables import payment_runs, vendors
from apps.payables.bank_details import bank_details_validate
from apps.payables.models import PayingAccount, PaymentRun, Vendor
from tests.factories import UserFactory
from tests.payables.bills import local_today

SEPA_IBAN = "DE89370400440532013000"
SEPA_BIC = "COBADEFFXXX"
ACH_ROUTING = "011000015"


def second_finance(tenant):
    return UserFactory(role="finance_manager", organization=tenant.organization)


def vendor_paid_by(tenant, *, name: str = "Bolt Supplies GmbH", rail: str = "sepa", approver=None, **details) -> Vendor:
    """A vendor whose payment details were requested by finance and approved by a second person."""
    if rail == "sepa":
        details = {"iban": SEPA_IBAN, "bic": SEPA_BIC, **details}
    else:
        details = {"routing_number": ACH_ROUTING, "account_number": "123456789", **details}
    vendor = vendors.vendor_create(
        actor=tenant.finance,
        legal_name=name,
        contact_email="ap@example.com",
        default_department_id=tenant.department.id,
        bank_details=bank_details_validate(rail=rail, **details),
    )
    change = vendor.bank_changes.get()
    vendors.vendor_bank_change_decide(actor=approver or tenant.admin, change_id=change.id, approve=True)
    vendor.refresh_from_db()
    return vendor


def paying_account(tenant, rail: str = "sepa") -> PayingAccount:
    if rail == "sepa":
        return vendors.paying_account_create(
            actor=tenant.admin,
            name="Operating EUR",
            details=bank_details_validate(rail="sepa", iban="DE02120300000000202051", bic="BYLADEM1001"),
        )
    return vendors.paying_account_create(
        actor=tenant.admin,
        name="Operating USD",
        details=bank_details_validate(rail="ach", routing_number="121000248", account_number="4000123456"),
        ach_company_id="1234567890",
        ach_company_name="Acme Inc",
    )


def run_released(tenant, account: PayingAccount) -> PaymentRun:
    """A payment run of every approved bill due within 30 days, drafted and released by finance."""
    today = local_today(tenant.organization)
    run = payment_runs.payment_run_create(
        actor=tenant.finance,
        paying_account_id=account.id,
        due_until=today + timedelta(days=30),
        execution_date=today + timedelta(days=1),
    )
    return payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)
