from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def process_receipt(self, receipt_id: str) -> str | None:
    """Idempotent: a redelivered message finds the receipt processed and leaves it."""
    try:
        receipt = services.receipt_process(receipt_id=receipt_id)
    except OSError as error:  # the storage failed us; a file that cannot be drawn is not retried
        if self.request.retries >= self.max_retries:
            # Retries spent: the receipt keeps its file and shows "no preview" rather than "processing" forever.
            services.receipt_processing_failed(receipt_id=receipt_id, reason=f"{type(error).__name__}: {error}")
            raise
        raise self.retry(exc=error, countdown=2**self.request.retries) from error
    return receipt.status if receipt else None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def read_receipt_text(self, receipt_id: str) -> str | None:
    """Idempotent: a redelivered message finds the receipt read and leaves it. Only a storage failure retries."""
    try:
        receipt = services.receipt_read(receipt_id=receipt_id)
    except OSError as error:
        raise self.retry(exc=error, countdown=2**self.request.retries) from error
    return receipt.reading_status if receipt else None


@shared_task
def sweep_receipts() -> int:
    return services.receipts_sweep()


@shared_task
def remind_missing_receipts() -> int:
    return services.receipt_reminders_send_all()
