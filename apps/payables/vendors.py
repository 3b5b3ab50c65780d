"""Writes of vendors, their payment details (two people for every change) and the organization's paying
accounts. Every change is an audit event with its actor."""

import uuid

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.ledger.chart_edits import MappingFields, gl_mapping_save
from apps.ledger.models import GLAccount, GLMapping
from apps.tenancy.models import Department, Role, User
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound

from .bank_details import ACH, SEPA, BankDetails
from .models import PayingAccount, Vendor, VendorBankChange

VENDOR_FIELDS = ("legal_name", "contact_name", "contact_email", "default_gl_account_id", "default_department_id")


def require_finance(actor: User) -> None:
    if actor.role not in FINANCE_ROLES:
        raise Forbidden("Only finance managers and org admins manage vendors and their payments.")


def _vendor_snapshot(vendor: Vendor) -> dict:
    return {field: str(getattr(vendor, field) or "") for field in VENDOR_FIELDS}


def _check_defaults(actor: User, *, default_gl_account_id: uuid.UUID | None, default_department_id: uuid.UUID | None):
    """Another organization's department or GL account is not found (404), as any id of it is; an account of
    this chart that is not an active expense account is refused (400)."""
    if default_department_id is not None and not (
        Department.objects.of(actor.organization).filter(id=default_department_id).exists()
    ):
        raise NotFound("Department not found.")
    if default_gl_account_id is None:
        return
    account = GLAccount.objects.of(actor.organization).filter(id=default_gl_account_id).first()
    if account is None:
        raise NotFound("GL account not found.")
    if account.type != GLAccount.Type.EXPENSE or not account.is_active:
        raise InvalidInput(
            "The vendor's defaults are not valid.",
            fields={"default_gl_account": ["An active expense account of this organization's chart."]},
        )


def vendor_create(
    *,
    actor: User,
    legal_name: str,
    contact_name: str = "",
    contact_email: str = "",
    default_gl_account_id: uuid.UUID | None = None,
    default_department_id: uuid.UUID | None = None,
    bank_details: BankDetails | None = None,
) -> Vendor:
    """A new vendor of the actor's organization. Its payment details, when given, are a change request that
    a second person approves before anything is paid to them."""
    require_finance(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise InvalidInput("A vendor needs its legal name.", fields={"legal_name": ["Required."]})
    _check_defaults(actor, default_gl_account_id=default_gl_account_id, default_department_id=default_department_id)
    with transaction.atomic():
        if Vendor.objects.of(actor.organization).filter(legal_name__iexact=legal_name).exists():
            raise Conflict(f"A vendor named {legal_name!r} exists already.")
        vendor = Vendor.objects.create(
            organization=actor.organization,
            legal_name=legal_name,
            contact_name=contact_name.strip(),
            contact_email=contact_email.strip(),
            default_gl_account_id=default_gl_account_id,
            default_department_id=default_department_id,
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.VENDOR_CREATED, target=vendor, after=_vendor_snapshot(vendor)
        )
        _default_gl_rule_save(vendor)
        if bank_details is not None:
            _bank_change_create(actor=actor, vendor=vendor, details=bank_details)
    return vendor


def vendor_update(*, actor: User, vendor_id: uuid.UUID, **changes) -> Vendor:
    """Change a vendor's name, contact or defaults (not its payment details: vendor_bank_change_request)."""
    require_finance(actor)
    unknown = set(changes) - set(VENDOR_FIELDS)
    if unknown:
        raise InvalidInput(
            "Unknown vendor fields.", fields={field: ["Not a vendor field."] for field in sorted(unknown)}
        )
    with transaction.atomic():
        vendor = Vendor.objects.of(actor.organization).select_for_update().get(id=vendor_id)
        before = _vendor_snapshot(vendor)
        if "legal_name" in changes and not changes["legal_name"].strip():
            raise InvalidInput("A vendor needs its legal name.", fields={"legal_name": ["Required."]})
        _check_defaults(
            actor,
            default_gl_account_id=changes.get("default_gl_account_id"),
            default_department_id=changes.get("default_department_id"),
        )
        for field, value in changes.items():
            setattr(vendor, field, value.strip() if isinstance(value, str) else value)
        vendor.save(update_fields=[field.removesuffix("_id") for field in changes])
        _default_gl_rule_save(vendor)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.VENDOR_UPDATED,
            target=vendor,
            before=before,
            after=_vendor_snapshot(vendor),
        )
    return vendor


def _default_gl_rule_save(vendor: Vendor) -> None:
    """A vendor's default GL account is the chart's merchant rule for its name (bills carry it as their
    merchant): one way to decide a posting's GL code, which the journal writer already follows."""
    if vendor.default_gl_account_id is None:
        return
    rule = (
        GLMapping.objects.of(vendor.organization)
        .filter(kind=GLMapping.Kind.MERCHANT, merchant__iexact=vendor.legal_name)
        .first()
    )
    gl_mapping_save(
        organization=vendor.organization,
        fields=MappingFields(
            kind=GLMapping.Kind.MERCHANT, gl_account_id=vendor.default_gl_account_id, merchant=vendor.legal_name
        ),
        mapping=rule,
    )


def vendor_bank_change_request(*, actor: User, vendor_id: uuid.UUID, details: BankDetails) -> VendorBankChange:
    """Ask to pay the vendor to `details` (already checked: bank_details_validate). One request waits at a
    time per vendor (409 for a second); the vendor is not paid while it waits."""
    require_finance(actor)
    with transaction.atomic():
        vendor = Vendor.objects.of(actor.organization).select_for_update().get(id=vendor_id)
        return _bank_change_create(actor=actor, vendor=vendor, details=details)


def _bank_change_create(*, actor: User, vendor: Vendor, details: BankDetails) -> VendorBankChange:
    if vendor.bank_changes.filter(status=VendorBankChange.Status.PENDING).exists():
        raise Conflict(f"A change of {vendor.legal_name}'s payment details already waits for approval.")
    change = VendorBankChange.objects.create(
        organization_id=vendor.organization_id, vendor=vendor, requested_by=actor, **details.as_dict()
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VENDOR_BANK_CHANGE_REQUESTED,
        target=change,
        before=_masked(vendor.bank_details()),
        after={"vendor": str(vendor.id), **_masked(details)},
    )
    return change


def _masked(details: BankDetails | None) -> dict:
    return {"payment_details": details.masked() if details else ""}


def vendor_bank_change_decide(*, actor: User, change_id: uuid.UUID, approve: bool, note: str = "") -> VendorBankChange:
    """Approve or reject a waiting change. The person who asked cannot decide (403): approval makes the
    details the vendor's, the next version of them."""
    require_finance(actor)
    with transaction.atomic():
        try:
            change = VendorBankChange.objects.of(actor.organization).select_for_update().get(id=change_id)
        except VendorBankChange.DoesNotExist:
            raise NotFound("Bank details change not found.") from None
        if change.status != VendorBankChange.Status.PENDING:
            raise Conflict(f"This change was already {change.status}.")
        if change.requested_by_id == actor.id:
            raise Forbidden("A second person approves a change of payment details: not the one who asked for it.")
        vendor = Vendor.objects.select_for_update().get(id=change.vendor_id)
        before = _masked(vendor.bank_details())
        now = timezone.now()
        change.status = VendorBankChange.Status.APPROVED if approve else VendorBankChange.Status.REJECTED
        change.decided_by = actor
        change.decided_at = now
        change.note = note.strip()
        change.save(update_fields=["status", "decided_by", "decided_at", "note"])
        if approve:
            for field, value in change.bank_details().as_dict().items():
                setattr(vendor, field, value)
            vendor.bank_details_version += 1
            vendor.bank_details_approved_at = now
            vendor.save()
        audit_record(
            actor=actor,
            action=(
                AuditEvent.Action.VENDOR_BANK_CHANGE_APPROVED
                if approve
                else AuditEvent.Action.VENDOR_BANK_CHANGE_REJECTED
            ),
            target=change,
            before=before,
            after={"vendor": str(vendor.id), **_masked(vendor.bank_details()), "note": change.note},
        )
    return change


def paying_account_create(
    *, actor: User, name: str, details: BankDetails, ach_company_id: str = "", ach_company_name: str = ""
) -> PayingAccount:
    """One of the organization's own accounts to pay from: SEPA in EUR, ACH in USD with its company id."""
    if actor.role != Role.ORG_ADMIN:
        raise Forbidden("Only org admins add the organization's own bank accounts.")
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Required."]
    if details.rail == ACH:
        if not ach_company_id.strip() or len(ach_company_id.strip()) > 10:
            errors["ach_company_id"] = ["The company identification your bank gave you, up to 10 characters."]
        if not ach_company_name.strip() or len(ach_company_name.strip()) > 16:
            errors["ach_company_name"] = ["Up to 16 characters."]
    elif ach_company_id or ach_company_name:
        errors["ach_company_id"] = ["Only for ACH accounts."]
    if errors:
        raise InvalidInput("The paying account is not valid.", fields=errors)
    with transaction.atomic():
        if PayingAccount.objects.of(actor.organization).filter(name__iexact=name).exists():
            raise Conflict(f"A paying account named {name!r} exists already.")
        account = PayingAccount.objects.create(
            organization=actor.organization,
            name=name,
            currency="EUR" if details.rail == SEPA else "USD",
            ach_company_id=ach_company_id.strip(),
            ach_company_name=ach_company_name.strip().upper(),
            **details.as_dict(),
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PAYING_ACCOUNT_ADDED,
            target=account,
            after={"name": account.name, "currency": account.currency, **_masked(details)},
        )
    return account


# A run is drafted for bills due within this many days at most: a quarter ahead.
SCHEDULE_DAYS_MAX = 90


def paying_account_schedule_set(*, actor: User, account_id: uuid.UUID, due_within_days: int | None) -> PayingAccount:
    """Have the schedule draft this account's runs of the bills due within `due_within_days` (None: stop it).

    A scheduled run is a draft like any other: nothing is paid until a finance user releases it."""
    require_finance(actor)
    if due_within_days is not None and not 0 <= due_within_days <= SCHEDULE_DAYS_MAX:
        raise InvalidInput(
            f"Bills due within 0 to {SCHEDULE_DAYS_MAX} days, or null to draft runs by hand only.",
            fields={"scheduled_due_within_days": [f"From 0 to {SCHEDULE_DAYS_MAX}, or null."]},
        )
    with transaction.atomic():
        account = PayingAccount.objects.of(actor.organization).select_for_update().filter(id=account_id).first()
        if account is None:
            raise NotFound("Paying account not found.")
        before = account.scheduled_due_within_days
        if before == due_within_days:
            return account
        account.scheduled_due_within_days = due_within_days
        account.save(update_fields=["scheduled_due_within_days"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PAYING_ACCOUNT_SCHEDULE_SET,
            target=account,
            before={"scheduled_due_within_days": before},
            after={"scheduled_due_within_days": due_within_days},
        )
    return account
