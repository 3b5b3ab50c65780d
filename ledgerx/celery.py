import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")

app = Celery("ledgerx")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the connection around every task unless this is set.
app.conf.CELERY_DB_REUSE_MAX = 1000
app.autodiscover_tasks()
