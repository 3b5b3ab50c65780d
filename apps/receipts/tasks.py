from celery import Task, shared_task

from . import services


class ProcessReceiptTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # The retries are spent: the receipt keeps its file and shows "no preview" rather than "processing" forever.
        services.receipt_processing_failed(receipt_id=args[0], reason=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=ProcessReceiptTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
    retry_jitter=True,
)
def process_receipt(receipt_id: str) -> str | None:
    receipt = services.receipt_process(receipt_id=receipt_id)
    return receipt.status if receipt else None


@shared_task
def sweep_receipts() -> int:
    return services.receipts_sweep()


@shared_task
def remind_missing_receipts() -> int:
    return services.receipt_reminders_send_all()
