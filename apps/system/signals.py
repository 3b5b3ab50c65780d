"""Stamps every task message with the time it was sent, so a queue's oldest job has an age."""

import time

from celery.signals import before_task_publish

SENT_AT_HEADER = "ledgerx_sent_at"


@before_task_publish.connect(dispatch_uid="ledgerx-stamp-sent-at")
def stamp_sent_at(headers: dict | None = None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())
