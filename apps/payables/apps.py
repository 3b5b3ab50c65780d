from django.apps import AppConfig


class PayablesConfig(AppConfig):
    name = "apps.payables"
    label = "payables"
