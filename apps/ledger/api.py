from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.months import month_parse
from ledgerx.pagination import OldestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import closing, selectors
from .balances import account_balance, account_totals_as_of
from .models import Account, Transaction
from .serializers import (
    AccountOutput,
    BalanceFilters,
    BalanceOutput,
    EntryListFilters,
    EntryOutput,
    GLAccountListFilters,
    GLAccountListOutput,
    LedgerVerifyOutput,
    MonthCloseInput,
    MonthListOutput,
    MonthOutput,
    MonthReopenInput,
    TrialBalanceFilters,
    TrialBalanceOutput,
    account_representation,
    balance_representation,
    entry_representation,
    gl_account_representation,
    month_representation,
    trial_balance_representation,
)
from .trial_balance import trial_balance


class EntryListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = EntryListFilters
    paginator_class = OldestFirst

    @extend_schema(
        operation_id="ledger_entries_list",
        parameters=[EntryListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("EntryPage", EntryOutput), **error_responses(400, 404)},
        description="Oldest first.",
    )
    def get(self, request):
        transaction_id = self.filters.get("transaction")
        if transaction_id is not None:
            transaction_id = self.get_scoped(Transaction.objects, transaction_id).id
        entries = selectors.entry_list(organization=self.organization, transaction_id=transaction_id)
        return self.paginated(entries, entry_representation)


class LedgerVerifyApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="ledger_verify", responses={200: LedgerVerifyOutput, **error_responses()})
    def get(self, request):
        return Response(selectors.ledger_verify(organization=self.organization))


class AccountListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    paginator_class = OldestFirst

    @extend_schema(
        operation_id="ledger_accounts_list",
        parameters=CURSOR_PARAMETERS,
        responses={200: cursor_page("AccountPage", AccountOutput), **error_responses(400)},
        description="By name; each with its balance now.",
    )
    def get(self, request):
        paginator = self.paginator_class()
        page = paginator.paginate_queryset(selectors.account_list(organization=self.organization), request, view=self)
        as_of = timezone.now()
        totals = account_totals_as_of(account_ids=[account.id for account in page], as_of=as_of)
        return paginator.get_paginated_response(
            [account_representation(account, totals[account.id], as_of) for account in page]
        )


class AccountBalanceApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = BalanceFilters

    @extend_schema(
        operation_id="ledger_account_balance",
        parameters=[BalanceFilters],
        responses={200: BalanceOutput, **error_responses(400, 404)},
    )
    def get(self, request, account_id):
        account = self.get_scoped(Account.objects, account_id)
        as_of = self.filters.get("as_of") or timezone.now()
        return Response(balance_representation(account, account_balance(account_id=account.id, as_of=as_of), as_of))


class TrialBalanceApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = TrialBalanceFilters

    @extend_schema(
        operation_id="ledger_trial_balance",
        parameters=[TrialBalanceFilters],
        responses={200: TrialBalanceOutput, **error_responses(400)},
    )
    def get(self, request):
        report = trial_balance(organization=self.organization, month=month_parse(self.filters["month"]))
        return Response(trial_balance_representation(report, self.organization.currency))


class GLAccountListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = GLAccountListFilters

    @extend_schema(
        operation_id="ledger_gl_accounts_list",
        parameters=[GLAccountListFilters],
        responses={200: GLAccountListOutput, **error_responses(400)},
        description="The chart of accounts: GL accounts by code, each with the rules that map spends to it.",
    )
    def get(self, request):
        accounts = selectors.gl_account_list(
            organization=self.organization, type_=self.filters.get("type"), active=self.filters.get("active")
        )
        return Response(
            {
                "default_expense_account": selectors.chart_default_expense_code(organization=self.organization),
                "results": [gl_account_representation(account) for account in accounts],
            }
        )


def _month_state(organization, month) -> dict:
    state = next(each for each in closing.month_list(organization=organization) if each.month == month)
    return month_representation(state)


class MonthListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="ledger_months_list",
        responses={200: MonthListOutput, **error_responses()},
        description="Every month with entries or a close, oldest first.",
    )
    def get(self, request):
        months = closing.month_list(organization=self.organization)
        return Response({"results": [month_representation(state) for state in months]})


class MonthCloseApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="ledger_months_close",
        request=MonthCloseInput,
        responses={200: MonthOutput, **error_responses(400, 409)},
    )
    def post(self, request, month):
        validated(MonthCloseInput, request.data)
        first_day = month_parse(month)
        closing.month_close(actor=request.user, month=first_day)
        return Response(_month_state(self.organization, first_day))


class MonthReopenApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="ledger_months_reopen",
        request=MonthReopenInput,
        responses={200: MonthOutput, **error_responses(400, 409)},
    )
    def post(self, request, month):
        data = validated(MonthReopenInput, request.data)
        first_day = month_parse(month)
        closing.month_reopen(actor=request.user, month=first_day, reason=data["reason"])
        return Response(_month_state(self.organization, first_day))
