"""Objects of one tenant that security tests name by id, made through the real services, fresh
each call (a request may consume what it names). The caller's test must commit (transaction=True)."""

import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalPolicy
from apps.controls import services as control_services
from apps.fraud.models import FraudAlert
from apps.ledger.models import Transaction
from apps.receipts import services as receipt_services
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from apps.webhooks import services as webhook_services
from apps.webhooks.models import Delivery
from tests.conftest import Tenant
from tests.factories import UserFactory
from tests.fraud.conftest import score
from tests.spends import spend_settled


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


def own_path_ids(tenant: Tenant, transaction_id: str) -> dict[str, str]:
    """One id of each kind the API's paths take, all of this tenant."""
    delivery = webhook_delivery(tenant)
    return {
        "department_id": str(tenant.department.id),
        "transaction_id": transaction_id,
        "user_id": str(tenant.other_employee.id),
        "policy_id": str(approval_policy(tenant).id),
        "rule_id": str(spend_rule(tenant).id),
        "approval_id": str(waiting_approval(tenant).id),
        "alert_id": str(open_alert(tenant).id),
        "endpoint_id": str(delivery.endpoint_id),
        "delivery_id": str(delivery.id),
        "receipt_id": str(receipt(tenant, Transaction.objects.get(id=transaction_id)).id),
    }


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
