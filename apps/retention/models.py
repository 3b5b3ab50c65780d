from django.db import models
from django.utils import timezone


class RetentionArchive(models.Model):
    """One archive of an organization's closed year written by `archive_year` (docs/operations.md,
    Retention). Append-only: the database refuses UPDATE, DELETE and TRUNCATE (migration 0002).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    manifest_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the archive's manifest.json.")
    path = models.CharField(max_length=1000, help_text="Where the archive was written.")
    created_at = models.DateTimeField(default=timezone.now)
    # None when the platform archived it (the command without --as).
    created_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["organization", "year", "id"]
        indexes = [models.Index(fields=["organization", "year"], name="retention_archive_year")]

    def __str__(self) -> str:
        return f"archive of {self.year}"
