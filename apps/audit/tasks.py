from celery import shared_task

from . import chain


@shared_task
def seal_audit_log() -> int:
    return chain.audit_seal_all()
