import uuid

from django.db.models import QuerySet

from apps.tenancy.models import Organization

from .models import Account, Entry

# Kept here for the callers that read the ledger through its selectors (the verify API, tests).
from .verification import ledger_verify as ledger_verify


def entry_list(*, organization: Organization, transaction_id: uuid.UUID | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.of(organization).select_related("account", "seal")
    if transaction_id:
        entries = entries.filter(transaction_id=transaction_id)
    return entries.order_by("id")


def claims_paid_out(*, claim_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The reimbursement claims among these that a payout has paid: their journal has a payout clearing leg."""
    return set(
        Entry.objects.filter(transaction_id__in=claim_ids, account__kind=Account.Kind.PAYOUT_CLEARING)
        .values_list("transaction_id", flat=True)
        .distinct()
    )
