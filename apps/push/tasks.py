from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def send_notice(user_ids: list[str], notice: dict) -> int:
    return services.notices_send(user_ids=user_ids, notice=services.Notice(**notice))
