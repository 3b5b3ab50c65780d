import logging

from celery import shared_task

from . import balance_checkpoints, chain

logger = logging.getLogger(__name__)


@shared_task
def seal_ledger() -> int:
    return chain.ledger_seal_all()


@shared_task
def write_balance_checkpoints() -> int:
    try:
        return balance_checkpoints.balance_checkpoints_write()
    except balance_checkpoints.WritersInFlight as error:
        # The next run checkpoints what this one could not; balances stay exact meanwhile, only slower.
        logger.warning("balance checkpoints not written: %s", error)
        return 0
