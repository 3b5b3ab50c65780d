from django.urls import path

from . import api

urlpatterns = [
    path("transactions", api.TransactionListCreateApi.as_view(), name="transaction-list"),
    path("transactions/<uuid:transaction_id>", api.TransactionDetailApi.as_view(), name="transaction-detail"),
    path("transactions/<uuid:transaction_id>/reverse", api.TransactionReverseApi.as_view(), name="transaction-reverse"),
    path("ledger/entries", api.EntryListApi.as_view(), name="ledger-entries"),
    path("ledger/verify", api.LedgerVerifyApi.as_view(), name="ledger-verify"),
]
