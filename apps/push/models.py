import uuid

from django.db import models

from apps.tenancy.scoping import TenantQuerySet


class PushSubscription(models.Model):
    """One browser's Web Push subscription (PushSubscription.toJSON()): where its push service takes
    messages for it, and the keys they are encrypted to. Kept until the push service says it is gone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("tenancy.User", on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=2048)
    p256dh = models.CharField(max_length=128, help_text="The browser's P-256 public key, base64url.")
    auth = models.CharField(max_length=64, help_text="The browser's authentication secret, base64url.")
    created_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "endpoint"], name="push_subscription_unique_endpoint"),
        ]
        indexes = [models.Index(fields=["organization", "user"], name="push_subscription_user")]

    def __str__(self) -> str:
        return f"push subscription of {self.user_id}"
