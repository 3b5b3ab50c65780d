"""A spend's receipts page: the receipts with their thumbnails (served by the API's authorised views)
and, for the spender, a camera-friendly form that attaches one through the same service as the API."""

import uuid

from django.http import Http404
from django.shortcuts import redirect, render

from apps.receipts import selectors as receipt_selectors
from apps.receipts import services as receipt_services
from apps.receipts.services import ATTACHABLE
from apps.tenancy.permissions import TENANT_ROLES
from ledgerx.errors import InvalidInput, LedgerXError

from .access import navigation, role_required


def _context(user, transaction_id: uuid.UUID) -> dict:
    spend = receipt_selectors.spends_with_visible_receipts(user=user).filter(id=transaction_id).first()
    if spend is None:
        raise Http404
    receipts = list(receipt_selectors.receipts_of_spend(user=user, transaction_id=spend.id))
    return {
        "organization": user.organization,
        "spend": spend,
        "receipts": receipts,
        "processing": any(receipt.status == receipt.Status.PROCESSING for receipt in receipts),
        "required_above": receipt_selectors.receipt_required_above(spend=spend),
        "may_attach": spend.employee_id == user.id and spend.status in ATTACHABLE,
    }


@role_required(*TENANT_ROLES)
def spend_receipts(request, transaction_id):
    context = _context(request.user, transaction_id)
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput("Choose a photo or a PDF of the receipt first.")
            receipt_services.receipt_upload(
                actor=request.user, transaction_id=transaction_id, data=upload.read(), original_name=upload.name or ""
            )
        except LedgerXError as error:
            context["upload_error"] = error.message
            status = error.status
        else:
            return redirect("spend-receipts", transaction_id=transaction_id)
    context.update({"navigation": navigation(request.user, "home"), "page_title": "Receipts"})
    return render(request, "web/spend_receipts.html", context, status=status)


@role_required(*TENANT_ROLES)
def spend_receipts_panel(request, transaction_id):
    return render(request, "web/_receipts_panel.html", _context(request.user, transaction_id))
