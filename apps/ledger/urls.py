from django.urls import path

from . import api

urlpatterns = [
    path("ledger/entries", api.EntryListApi.as_view(), name="ledger-entries"),
    path("ledger/accounts", api.AccountListApi.as_view(), name="ledger-accounts"),
    path("ledger/accounts/<uuid:account_id>/balance", api.AccountBalanceApi.as_view(), name="ledger-account-balance"),
    path("ledger/trial-balance", api.TrialBalanceApi.as_view(), name="ledger-trial-balance"),
    path("ledger/verify", api.LedgerVerifyApi.as_view(), name="ledger-verify"),
    path("ledger/gl-accounts", api.GLAccountListApi.as_view(), name="ledger-gl-accounts"),
    path("ledger/months", api.MonthListApi.as_view(), name="ledger-months"),
    path("ledger/months/<str:month>/close", api.MonthCloseApi.as_view(), name="ledger-month-close"),
    path("ledger/months/<str:month>/reopen", api.MonthReopenApi.as_view(), name="ledger-month-reopen"),
]
