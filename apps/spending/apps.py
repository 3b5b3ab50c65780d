from django.apps import AppConfig


class SpendingConfig(AppConfig):
    name = "apps.spending"
    label = "spending"
