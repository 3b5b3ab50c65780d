import uuid

from django.db.models import QuerySet

from apps.tenancy.models import Organization

from .models import Entry

# Kept here for the callers that read the ledger through its selectors (the verify API, tests).
from .verification import ledger_verify as ledger_verify


def entry_list(*, organization: Organization, transaction_id: uuid.UUID | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.of(organization).select_related("account", "seal")
    if transaction_id:
        entries = entries.filter(transaction_id=transaction_id)
    return entries.order_by("id")
