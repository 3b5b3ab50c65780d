from django.urls import path

from . import api

urlpatterns = [
    path("ledger/entries", api.EntryListApi.as_view(), name="ledger-entries"),
    path("ledger/verify", api.LedgerVerifyApi.as_view(), name="ledger-verify"),
    path("ledger/months", api.MonthListApi.as_view(), name="ledger-months"),
    path("ledger/months/<str:month>/close", api.MonthCloseApi.as_view(), name="ledger-month-close"),
    path("ledger/months/<str:month>/reopen", api.MonthReopenApi.as_view(), name="ledger-month-reopen"),
]
