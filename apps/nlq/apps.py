from django.apps import AppConfig


class NlqConfig(AppConfig):
    name = "apps.nlq"
    label = "nlq"
    verbose_name = "Questions in plain language"
