"""Receipts along a spend's life: its approver reads them, a rejected or reversed spend takes none and
keeps its own, and the receipt rule lists the posted spends missing one and reminds their spenders.

Settlement, decisions and reversals take the settlement lock outside any transaction: these tests commit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.approvals.models import ApprovalRequest
from apps.controls import services as control_services
from apps.receipts import selectors, services, tasks
from apps.receipts.models import Receipt, ReceiptReminder
from apps.spending import services as spending_services
from apps.webhooks.models import EventType, OutboxEvent
from tests.controls.conftest import rule
from tests.receipts.conftest import pdf, photo_jpeg, png, upload, waiting_spend
from tests.receipts.test_api import assert_error, post_file
from tests.spends import spend_reverse, spend_settled


@pytest.mark.django_db(transaction=True)
def test_the_approver_reads_the_receipts_before_and_after_deciding(api, tenant, head, other_tenant):
    approval = waiting_spend(tenant)
    spend = approval.transaction
    receipt = upload(tenant.employee, spend, photo_jpeg())
    url = f"/api/v1/receipts/{receipt.id}"

    assert api(head).get(url).status_code == 200
    assert api(head).get(f"/api/v1/transactions/{spend.id}/receipts").status_code == 200
    # An approver reads; only the spender attaches.
    assert_error(post_file(api(head), spend, png()), 403, "forbidden")
    assert_error(api(head).delete(url), 403, "forbidden")

    spending_services.approval_decide(actor=head, request_id=approval.id, approve=True)
    assert ApprovalRequest.objects.get(id=approval.id).status == ApprovalRequest.Status.APPROVED
    assert api(head).get(url).status_code == 200
    assert api(head).get(f"{url}/file").status_code == 200
    assert_error(api(tenant.other_employee).get(url), 404, "not_found")
    assert_error(api(other_tenant.admin).get(url), 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_a_rejected_or_reversed_spend_takes_no_receipt_and_keeps_its_own(api, tenant):
    posted = spend_settled(tenant.employee, "80.00", merchant="Hilton", category="travel")
    receipt = upload(tenant.employee, posted, png())
    spend_reverse(tenant.finance, posted)
    assert_error(post_file(api(tenant.employee), posted, pdf()), 409, "conflict")
    assert_error(api(tenant.employee).delete(f"/api/v1/receipts/{receipt.id}"), 409, "conflict")
    assert Receipt.objects.filter(id=receipt.id).exists()

    rejected = spend_settled(tenant.employee, "60000.00")  # over the department's $50,000 budget
    assert rejected.status == "rejected"
    assert_error(post_file(api(tenant.employee), rejected, pdf()), 409, "conflict")


@pytest.mark.django_db(transaction=True)
def test_posted_spends_above_the_rule_without_a_receipt_are_listed_and_reminded_once_a_day(api, tenant, other_tenant):
    before_the_rule = spend_settled(tenant.employee, "500.00")
    rule(tenant, "receipt_required_above", amount_minor=7_500)
    below = spend_settled(tenant.employee, "75.00")
    missing = spend_settled(tenant.employee, "75.01", merchant="Hilton", category="travel")
    with_receipt = spend_settled(tenant.other_employee, "300.00")
    upload(tenant.other_employee, with_receipt, png())
    elsewhere = spend_settled(other_tenant.employee, "900.00")
    assert {below.status, missing.status, before_the_rule.status, elsewhere.status} == {"posted"}

    listed = api(tenant.finance).get("/api/v1/receipts/missing").json()["results"]
    assert [item["transaction"] for item in listed] == [str(missing.id)]
    assert listed[0]["amount"] == "75.01" and listed[0]["employee"] == tenant.employee.email
    assert listed[0]["policy_version"] == 1
    assert api(other_tenant.finance).get("/api/v1/receipts/missing").json()["results"] == []

    assert tasks.remind_missing_receipts() == 1
    event = OutboxEvent.objects.get(type=EventType.RECEIPT_MISSING)
    assert event.organization_id == tenant.organization.id
    assert event.payload["transaction"]["id"] == str(missing.id)
    assert event.payload["transaction"]["employee"]["email"] == tenant.employee.email
    assert event.payload["receipt"] == {"required_above": "75.00", "reminder_number": 1}
    # The next runs of the day remind no one again.
    assert tasks.remind_missing_receipts() == 0
    tomorrow = timezone.now() + timedelta(hours=25)
    assert services.receipt_reminders_send(organization_id=tenant.organization.id, now=tomorrow) == 1
    assert ReceiptReminder.objects.get(transaction=missing).sent_count == 2

    upload(tenant.employee, missing, photo_jpeg())
    assert not selectors.spends_missing_receipts(organization_id=tenant.organization.id).exists()
    later = tomorrow + timedelta(hours=25)
    assert services.receipt_reminders_send(organization_id=tenant.organization.id, now=later) == 0
    assert OutboxEvent.objects.filter(type=EventType.RECEIPT_MISSING).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_spend_is_held_to_the_receipt_rule_of_the_version_it_was_settled_on(tenant):
    receipt_rule = rule(tenant, "receipt_required_above", amount_minor=10_000)
    asked = spend_settled(tenant.employee, "150.00")
    control_services.spend_rule_update(
        actor=tenant.admin,
        rule_id=receipt_rule.id,
        organization=tenant.organization,
        changes={"amount_minor": 20_000},
    )
    not_asked = spend_settled(tenant.employee, "150.00")
    missing = selectors.spends_missing_receipts(organization_id=tenant.organization.id)
    assert list(missing.values_list("id", flat=True)) == [asked.id]
    assert not_asked.policy_version == 2
    assert (
        list(
            selectors.spends_missing_receipts(
                organization_id=tenant.organization.id, employee_id=tenant.other_employee.id
            )
        )
        == []
    )
