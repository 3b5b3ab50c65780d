"""The ledger's models, a module per part: the journal (accounts, transactions, entries and their chain),
the running balances kept over it, the chart of accounts (GL accounts and the rules mapping spends to
them), the month-end closes, the entries' monthly partitions, and the points the ledger was verified at."""

from .balances import BalanceCheckpoint
from .chart import ChartOfAccounts, GLAccount, GLMapping
from .closing import MonthClose
from .journal import CREDIT_ACCOUNT_OF_KIND, Account, ChainCheckpoint, Entry, EntrySeal, Transaction
from .partitions import EntryHistory, EntryPartition
from .verification import VerifiedPoint

__all__ = [
    "CREDIT_ACCOUNT_OF_KIND",
    "Account",
    "BalanceCheckpoint",
    "ChainCheckpoint",
    "ChartOfAccounts",
    "Entry",
    "EntryHistory",
    "EntryPartition",
    "EntrySeal",
    "GLAccount",
    "GLMapping",
    "MonthClose",
    "Transaction",
    "VerifiedPoint",
]
