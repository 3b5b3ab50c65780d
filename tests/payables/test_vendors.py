"""Vendors' payment details: checked by the banks' own rules, changed only with a second person, audited."""

import pytest
from django.db import IntegrityError, transaction

from apps.audit.models import AuditEvent
from apps.payables import vendors
from apps.payables.bank_details import bank_details_validate
from apps.payables.models import VendorBankChange
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.payables.vendors import ACH_ROUTING, SEPA_BIC, SEPA_IBAN, vendor_paid_by

pytestmark = pytest.mark.django_db


def test_sepa_details_are_checked_and_kept_compact():
    details = bank_details_validate(rail="sepa", iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx")
    assert (details.iban, details.bic) == (SEPA_IBAN, SEPA_BIC)
    # Without a BIC, the bank the IBAN's bank code names.
    assert bank_details_validate(rail="sepa", iban=SEPA_IBAN).bic == "COBADEFFXXX"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"rail": "sepa", "iban": "DE89370400440532013001"}, "iban"),  # checksum
        ({"rail": "sepa", "iban": "DE8937040044053201300"}, "iban"),  # length
        ({"rail": "sepa", "iban": "BR1800360305000010009795493C1"}, "iban"),  # valid, outside SEPA
        ({"rail": "sepa", "iban": SEPA_IBAN, "bic": "COBADEFF9"}, "bic"),
        ({"rail": "sepa", "iban": SEPA_IBAN, "routing_number": ACH_ROUTING}, "routing_number"),
        ({"rail": "ach", "routing_number": "011000016", "account_number": "12345"}, "routing_number"),
        ({"rail": "ach", "routing_number": ACH_ROUTING, "account_number": "12"}, "account_number"),
        (
            {"rail": "ach", "routing_number": ACH_ROUTING, "account_number": "12345", "account_type": "gold"},
            "account_type",
        ),
        ({"rail": "ach", "routing_number": ACH_ROUTING, "account_number": "12345", "iban": SEPA_IBAN}, "iban"),
        ({"rail": "wire"}, "rail"),
    ],
)
def test_bad_details_are_refused_naming_their_field(details, field):
    with pytest.raises(InvalidInput) as refused:
        bank_details_validate(**details)
    assert field in refused.value.fields


def test_aba_routing_number_checksum():
    details = bank_details_validate(rail="ach", routing_number="011000015", account_number="0012-3456")
    assert (details.routing_number, details.account_number, details.account_type) == (
        "011000015",
        "00123456",
        "checking",
    )


def test_a_new_vendor_is_not_paid_until_a_second_person_approves_its_details(tenant):
    vendor = vendors.vendor_create(
        actor=tenant.finance,
        legal_name="Bolt Supplies GmbH",
        bank_details=bank_details_validate(rail="sepa", iban=SEPA_IBAN, bic=SEPA_BIC),
    )
    assert vendor.bank_details() is None
    change = vendor.bank_changes.get()
    with pytest.raises(Forbidden):
        vendors.vendor_bank_change_decide(actor=tenant.finance, change_id=change.id, approve=True)
    vendor.refresh_from_db()
    assert vendor.bank_details() is None and vendor.bank_details_version == 0

    vendors.vendor_bank_change_decide(actor=tenant.admin, change_id=change.id, approve=True)
    vendor.refresh_from_db()
    assert vendor.bank_details().iban == SEPA_IBAN and vendor.bank_details_version == 1
    actions = list(AuditEvent.objects.of(tenant.organization).values_list("action", "actor"))
    assert (AuditEvent.Action.VENDOR_CREATED, tenant.finance.id) in actions
    assert (AuditEvent.Action.VENDOR_BANK_CHANGE_REQUESTED, tenant.finance.id) in actions
    assert (AuditEvent.Action.VENDOR_BANK_CHANGE_APPROVED, tenant.admin.id) in actions


def test_a_changed_account_stays_the_old_one_until_approved_and_one_change_waits_at_a_time(tenant):
    vendor = vendor_paid_by(tenant)
    new = bank_details_validate(rail="ach", routing_number=ACH_ROUTING, account_number="99887766")
    change = vendors.vendor_bank_change_request(actor=tenant.finance, vendor_id=vendor.id, details=new)
    with pytest.raises(Conflict):
        vendors.vendor_bank_change_request(actor=tenant.admin, vendor_id=vendor.id, details=new)
    vendor.refresh_from_db()
    assert vendor.rail == "sepa" and vendor.iban == SEPA_IBAN

    vendors.vendor_bank_change_decide(actor=tenant.admin, change_id=change.id, approve=False, note="Phoned: not theirs")
    vendor.refresh_from_db()
    assert vendor.rail == "sepa" and vendor.bank_details_version == 1
    with pytest.raises(Conflict):
        vendors.vendor_bank_change_decide(actor=tenant.admin, change_id=change.id, approve=True)


def test_the_database_holds_the_second_person(tenant):
    vendor = vendor_paid_by(tenant)
    change = VendorBankChange.objects.create(
        organization=tenant.organization,
        vendor=vendor,
        requested_by=tenant.finance,
        rail="ach",
        routing_number=ACH_ROUTING,
        account_number="1234567",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        VendorBankChange.objects.filter(id=change.id).update(
            status="approved", decided_by=tenant.finance, decided_at=change.requested_at
        )


def test_employees_do_not_manage_vendors(tenant):
    with pytest.raises(Forbidden):
        vendors.vendor_create(actor=tenant.employee, legal_name="Anything Ltd")


def test_vendor_defaults_belong_to_the_organization(tenant, other_tenant):
    with pytest.raises(NotFound):
        vendors.vendor_create(actor=tenant.finance, legal_name="Bolt", default_department_id=other_tenant.department.id)
