"""Writes of the spend workflow, as the rest of LedgerX calls them.

Each lives in the module of its stage (intake, bulk intake, wake-ups and the drain, settlement, holds and approval
requests, reversal, fraud review); this module names the ones other apps, tasks, commands and views use.
"""

from .approval_requests import approval_decide, approval_expire_due
from .bulk_intake import BulkAnswer, BulkItem, transaction_submit_bulk
from .drain import settlement_drain, settlement_sweep
from .fraud_review import FraudReview, fraud_alert_resolve
from .intake import transaction_submit
from .notices import decision_notices_send
from .reversal import transaction_reverse
from .settlement import SettlementResult, settlement_run
from .wakeups import settlement_request

__all__ = [
    "BulkAnswer",
    "BulkItem",
    "FraudReview",
    "SettlementResult",
    "approval_decide",
    "approval_expire_due",
    "decision_notices_send",
    "fraud_alert_resolve",
    "settlement_drain",
    "settlement_request",
    "settlement_run",
    "settlement_sweep",
    "transaction_reverse",
    "transaction_submit",
    "transaction_submit_bulk",
]
