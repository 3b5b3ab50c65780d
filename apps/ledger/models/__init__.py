"""The ledger's models, a module per part: the journal (accounts, transactions, entries and their chain),
the running balances kept over it, the chart of accounts (GL accounts and the rules mapping spends to
them), and the month-end closes."""

from .balances import BalanceCheckpoint
from .chart import ChartOfAccounts, GLAccount, GLMapping
from .closing import MonthClose
from .journal import CREDIT_ACCOUNT_OF_KIND, Account, ChainCheckpoint, Entry, EntrySeal, Transaction

__all__ = [
    "CREDIT_ACCOUNT_OF_KIND",
    "Account",
    "BalanceCheckpoint",
    "ChainCheckpoint",
    "ChartOfAccounts",
    "Entry",
    "EntrySeal",
    "GLAccount",
    "GLMapping",
    "MonthClose",
    "Transaction",
]
