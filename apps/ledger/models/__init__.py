"""The ledger's models, a module per part: the journal (accounts, transactions, entries and their chain),
and the month-end closes."""

from .closing import MonthClose
from .journal import CREDIT_ACCOUNT_OF_KIND, Account, ChainCheckpoint, Entry, EntrySeal, Transaction

__all__ = [
    "CREDIT_ACCOUNT_OF_KIND",
    "Account",
    "ChainCheckpoint",
    "Entry",
    "EntrySeal",
    "MonthClose",
    "Transaction",
]
