import logging

from celery import shared_task

from . import balance_checkpoints, chain, partitions

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


@shared_task
def roll_entry_partitions() -> None:
    partitions.entry_partitions_roll()
