from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "apps.system"
    label = "system"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the publish stamp
