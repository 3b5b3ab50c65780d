from django.apps import AppConfig


class FxConfig(AppConfig):
    name = "apps.fx"
    label = "fx"
    verbose_name = "FX rates"
