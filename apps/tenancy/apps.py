from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _forget_cached_tokens(sender, instance, **kwargs) -> None:
    from .services import user_tokens_forget

    transaction.on_commit(lambda: user_tokens_forget(user_id=instance.pk))


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        # Every way a user changes (services, the back office, a shell) reaches the token cache.
        post_save.connect(_forget_cached_tokens, sender=self.get_model("User"), dispatch_uid="tenancy-forget-tokens")
