import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")

app = Celery("ledgerx")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the connection around every task unless this is set.
app.conf.CELERY_DB_REUSE_MAX = 1000
# Each worker keeps a heartbeat in Redis for the internals page and the metrics.
app.steps["worker"].add("apps.system.heartbeat:WorkerHeartbeat")
app.autodiscover_tasks()
