from django.urls import path

from . import api

urlpatterns = [
    path("ledger/entries", api.EntryListApi.as_view(), name="ledger-entries"),
    path("ledger/verify", api.LedgerVerifyApi.as_view(), name="ledger-verify"),
    path("ledger/gl-accounts", api.GLAccountListApi.as_view(), name="ledger-gl-accounts"),
]
