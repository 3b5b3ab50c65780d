from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "apps.system"
    label = "system"

    def ready(self) -> None:
        import ledgerx.pooling  # noqa: F401 - registers the session pooling check

        from . import signals  # noqa: F401 - connects the publish stamp
