"""The pages. Each reads through the apps' selectors; each `*_panels` view renders the same partial
the page includes, so the page refreshes in place from one template."""

import zoneinfo

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.approvals import selectors as approval_selectors
from apps.approvals.models import ApprovalRequest
from apps.budgets import selectors as budget_selectors
from apps.controls import selectors as control_selectors
from apps.fx import selectors as fx_selectors
from apps.ledger.models import Transaction
from apps.receipts import selectors as receipt_selectors
from apps.reimbursements import selectors as reimbursement_selectors
from apps.reimbursements import services as reimbursement_services
from apps.spending import selectors as spending_selectors
from apps.system import selectors as system_selectors
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES, TENANT_ROLES
from ledgerx.errors import InvalidInput, LedgerXError
from ledgerx.money import format_money, to_decimal_string
from ledgerx.months import month_parse, month_start

from .access import EMPLOYEE_ROLES, landing_url, navigation, role_required
from .forms import ClaimForm, EmailLoginForm
from .trends import trends_context

RECENT_TRANSACTIONS = 10
OWN_TRANSACTIONS = 20
OWN_CLAIMS = 20
RECENT_DECISIONS = 10
DECIDED = (ApprovalRequest.Status.APPROVED, ApprovalRequest.Status.REJECTED, ApprovalRequest.Status.EXPIRED)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True
    extra_context = {"page_title": "Log in"}


class LogoutView(auth_views.LogoutView):
    next_page = "login"


def _page(request, template: str, url_name: str, title: str, context: dict, status: int = 200):
    return render(
        request,
        template,
        {**context, "navigation": navigation(request.user, url_name), "page_title": title},
        status=status,
    )


def _this_month(user):
    return month_start(timezone.now(), user.organization.timezone)


def home(request):
    """Employees land on their spend page; every other role on the first page it may open."""
    if request.user.is_authenticated and request.user.role not in EMPLOYEE_ROLES:
        return redirect(landing_url(request.user))
    return employee_home(request)


@role_required(*EMPLOYEE_ROLES)
def employee_home(request):
    context = {**_employee_context(request.user), "claim_form": ClaimForm(), "claimed": "claimed" in request.GET}
    return _page(request, "web/employee_home.html", "home", "My spend", context)


@role_required(*EMPLOYEE_ROLES)
@require_POST
def claim_submit(request):
    """The "Claim an expense" form: a claim through the reimbursement service, then back to the page; a
    refusal shows the page again with the form as filled in and the reason by its field (400)."""
    form = ClaimForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reimbursement_services.claim_submit(
                user=request.user,
                idempotency_key=str(data["request_id"]),
                amount=data["amount"],
                currency=request.user.organization.currency,
                merchant=data["merchant"],
                category=data["category"],
                incurred_on=data["incurred_on"],
                description=data["description"],
                department_id=None,
                receipt=data["receipt"],
            )
        except LedgerXError as error:
            named = {name: messages for name, messages in error.fields.items() if name in form.fields}
            for name, messages in named.items():
                form.add_error(name, list(messages))
            if not named:
                form.add_error(None, error.message)
        else:
            return redirect(f"{reverse('home')}?claimed=1#own-claims")
    context = {**_employee_context(request.user), "claim_form": form, "claimed": False}
    return _page(request, "web/employee_home.html", "home", "My spend", context, status=400)


@role_required(*EMPLOYEE_ROLES)
def employee_panels(request):
    return render(request, "web/_employee_panels.html", _employee_context(request.user))


def _employee_context(user) -> dict:
    department = user.department
    budget = None
    if department is not None:
        budget = budget_selectors.budget_period_for(department=department, month=_this_month(user))
    organization = user.organization
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
    return {
        "organization": organization,
        # The base currency first: the form's default.
        "currencies": [
            organization.currency,
            *fx_selectors.fx_currencies_priced(organization=organization, day=today),
        ],
        "department": department,
        "budget": budget,
        "spending_rules": control_selectors.spending_rules_for(user=user),
        # Claims have their own list, with their payment state: shown once, there.
        "transactions": receipt_selectors.with_receipt_counts(
            spending_selectors.transaction_list(user=user, employee_id=user.id).exclude(
                kind=Transaction.Kind.REIMBURSEMENT
            )
        )[:OWN_TRANSACTIONS],
        "missing_receipts": list(
            receipt_selectors.spends_missing_receipts(organization_id=user.organization_id, employee_id=user.id)[
                :OWN_TRANSACTIONS
            ]
        ),
        "claims": [
            (claim, status, reimbursement_selectors.ClaimStatus.LABELS[status])
            for claim in reimbursement_selectors.claim_list(user=user)[:OWN_CLAIMS]
            for status in [reimbursement_selectors.claim_status(claim)]
        ],
    }


@role_required(*FINANCE_ROLES)
def finance_dashboard(request):
    """The panels are this month's and refresh in place; the trends are drawn once per visit, of this month or
    the month ?month=YYYY-MM names (a bad one: this month's, the reason by the picker, and a 400)."""
    user = request.user
    chosen, trends_error = request.GET.get("month"), ""
    try:
        trends = trends_context(user, _this_month(user) if chosen is None else month_parse(chosen))
    except InvalidInput as error:
        trends, trends_error = trends_context(user, _this_month(user)), error.message
    context = {**_finance_context(user), **trends, "trends_error": trends_error, "trends_chosen": chosen or ""}
    return _page(
        request,
        "web/finance_dashboard.html",
        "finance-dashboard",
        "Finance dashboard",
        context,
        status=400 if trends_error else 200,
    )


@role_required(*FINANCE_ROLES)
def finance_panels(request):
    return render(request, "web/_finance_panels.html", _finance_context(request.user))


def _finance_context(user) -> dict:
    organization = user.organization
    currency = organization.currency
    month = _this_month(user)
    per_day = spending_selectors.spend_per_day(user=user, month=month)
    by_category = spending_selectors.spend_by_category(user=user, month=month)
    return {
        "organization": organization,
        "month": month,
        "now": timezone.now(),
        "budgets": budget_selectors.budget_overview(user=user, month=month),
        "by_category": by_category,
        "top_merchants": spending_selectors.top_merchants(user=user, month=month),
        "recent": spending_selectors.transaction_list(user=user)[:RECENT_TRANSACTIONS],
        "chart_data": {
            "currency": currency,
            "per_day": {
                "labels": [f"{row['day']:%b %-d}" for row in per_day],
                "values": [to_decimal_string(row["total_minor"], currency) for row in per_day],
                "summary": _per_day_summary(per_day, currency),
            },
            "by_category": {
                "labels": [row["category"] for row in by_category],
                "values": [to_decimal_string(row["total_minor"], currency) for row in by_category],
            },
        },
    }


def _per_day_summary(per_day: list[dict], currency: str) -> str:
    total = sum(row["total_minor"] for row in per_day)
    if not total:
        return "No posted spend this month yet."
    busiest = max(per_day, key=lambda row: row["total_minor"])
    return (
        f"{format_money(total, currency)} posted this month; the busiest day was "
        f"{busiest['day']:%B %-d} with {format_money(busiest['total_minor'], currency)}."
    )


@role_required(*TENANT_ROLES)
def approvals(request):
    return _page(request, "web/approvals.html", "approvals", "Approvals", _approvals_context(request.user))


@role_required(*TENANT_ROLES)
def approvals_panels(request):
    return render(request, "web/_approvals_panels.html", _approvals_context(request.user))


def _approvals_context(user) -> dict:
    """What waits for this user's signature, and the latest decided approvals they may see."""
    decided = [
        approval for status in DECIDED for approval in approval_selectors.approval_list(user=user, status=status)
    ]
    decided.sort(key=lambda approval: approval.decided_at, reverse=True)
    return {
        "organization": user.organization,
        "pending": approval_selectors.approval_list(user=user, status=ApprovalRequest.Status.PENDING),
        "decided": decided[:RECENT_DECISIONS],
    }


@role_required(*PLATFORM_ROLES)
def system_internals(request):
    return _page(request, "web/system_internals.html", "system-internals", "System internals", _system_context())


@role_required(*PLATFORM_ROLES)
def system_panels(request):
    return render(request, "web/_system_panels.html", _system_context())


def _system_context() -> dict:
    metrics = system_selectors.system_metrics()
    return {
        "metrics": metrics,
        "chart_data": {
            "throughput": {
                "labels": [row["minute"][11:16] for row in metrics["throughput"]],
                "accepted": [row["accepted"] for row in metrics["throughput"]],
                "settled": [row["settled"] for row in metrics["throughput"]],
            }
        },
    }
