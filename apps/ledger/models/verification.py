from django.db import models
from django.utils import timezone


class VerifiedPoint(models.Model):
    """A snapshot the ledger passed verify_ledger in: where `--incremental` resumes the whole-ledger checks
    (apps/ledger/verified_points.py). Signed like a chain checkpoint; append-only for the application."""

    id = models.BigAutoField(primary_key=True)
    # None: the whole ledger was verified. Not a foreign key: the verifier's own record, which stays on the
    # coordinator when the tenants' tables are distributed (docs/scaling.md).
    organization_id = models.UUIDField(null=True, blank=True)
    # The run's snapshot as PostgreSQL writes it (pg_snapshot: xmin:xmax:xip,...): every database transaction
    # before its xmin had ended, and the run saw what they wrote.
    snapshot = models.TextField()
    snapshot_xmax = models.BigIntegerField(help_text="The snapshot's xmax, by which points are ordered.")
    verified_at = models.DateTimeField(default=timezone.now)
    incremental = models.BooleanField(
        help_text="Whether the run was asked to resume from an earlier point (--incremental)."
    )
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-snapshot_xmax"]
        indexes = [models.Index(fields=["organization_id", "-snapshot_xmax"], name="verified_point_latest")]

    def __str__(self) -> str:
        return f"verified at {self.verified_at:%Y-%m-%d %H:%M}"
