"""The vendor payments page: what is due per paying account, draft runs to review and release, released
runs with their bank files. Every write goes through apps/payables' services, as the API's do."""

import uuid
from datetime import date, timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.payables import payment_runs
from apps.payables import selectors as payables_selectors
from apps.payables.models import PaymentRun
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import InvalidInput, LedgerXError
from ledgerx.money import format_money

from .access import navigation, role_required

DUE_AHEAD_DAYS = 14


def _day(value: str | None, default: date, field: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a day (YYYY-MM-DD).", fields={field: ["A day, YYYY-MM-DD."]}) from None


def _context(user, due_until: date) -> dict:
    runs = list(payables_selectors.runs_of(organization=user.organization).prefetch_related("lines")[:20])
    return {
        "organization": user.organization,
        "due_until": due_until,
        "execution_date": timezone.localdate() + timedelta(days=1),
        "previews": [
            {
                "account": preview.paying_account,
                "bills": preview.bills,
                "total": format_money(preview.total_minor, preview.paying_account.currency),
            }
            for preview in payables_selectors.payment_preview(organization=user.organization, due_until=due_until)
        ],
        "held": payables_selectors.bills_held(organization=user.organization, due_until=due_until),
        "drafts": [run for run in runs if run.status == PaymentRun.Status.DRAFT],
        "released": [run for run in runs if run.status == PaymentRun.Status.RELEASED],
    }


@role_required(*FINANCE_ROLES)
def vendor_payments(request, error: LedgerXError | None = None):
    today = timezone.localdate()
    try:
        due_until = _day(request.GET.get("due_until"), today + timedelta(days=DUE_AHEAD_DAYS), "due_until")
    except InvalidInput as bad:
        due_until, error = today + timedelta(days=DUE_AHEAD_DAYS), bad
    context = {
        **_context(request.user, due_until),
        "error": error.message if error else "",
        "navigation": navigation(request.user, "vendor-payments"),
        "page_title": "Vendor payments",
    }
    return render(request, "web/vendor_payments.html", context, status=error.status if error else 200)


@require_POST
@role_required(*FINANCE_ROLES)
def payment_run_draft(request):
    try:
        account_id = uuid.UUID(request.POST.get("paying_account", ""))
        today = timezone.localdate()
        payment_runs.payment_run_create(
            actor=request.user,
            paying_account_id=account_id,
            due_until=_day(request.POST.get("due_until"), today, "due_until"),
            execution_date=_day(request.POST.get("execution_date"), today + timedelta(days=1), "execution_date"),
        )
    except ValueError:
        return vendor_payments(request, InvalidInput("Choose a paying account."))
    except LedgerXError as error:
        return vendor_payments(request, error)
    return redirect("vendor-payments")


@require_POST
@role_required(*FINANCE_ROLES)
def payment_run_act(request, run_id, action: str):
    try:
        if action == "release":
            payment_runs.payment_run_release(actor=request.user, run_id=run_id)
        else:
            payment_runs.payment_run_discard(actor=request.user, run_id=run_id)
    except LedgerXError as error:
        return vendor_payments(request, error)
    return redirect("vendor-payments")


@role_required(*FINANCE_ROLES)
def payment_run_file(request, run_id):
    run = (
        payables_selectors.runs_of(organization=request.user.organization)
        .filter(id=run_id, status=PaymentRun.Status.RELEASED)
        .first()
    )
    if run is None:
        raise Http404
    response = HttpResponse(bytes(run.file_content), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
    return response
