import uuid

from django.db import models
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class SpendBatch(models.Model):
    """A bulk submission (POST /transactions/bulk) under its Idempotency-Key, with the answer it was given.

    Written in the database transaction of the batch's accepted spends, so that a batch is recorded
    with all of them or not at all; its unique key decides between two identical batches racing, and a
    replay answers `answer`, the first response's body, byte for byte (apps/spending/bulk_intake.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed through the key's constraint, which leads with it.
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+", db_index=False)
    submitted_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+", db_index=False)
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    item_count = models.PositiveIntegerField()
    accepted_count = models.PositiveIntegerField()
    # The JSON body of the first answer, as sent: a replay sends it again, byte for byte.
    answer = models.TextField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="spend_batch_key_per_organization"
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_count__lte=models.F("item_count")), name="spend_batch_accepted_of_items"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.idempotency_key}"
