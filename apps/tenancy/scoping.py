"""The one mechanism that scopes reads and writes to the caller's organization.

Every tenant model's manager comes from TenantQuerySet, and every tenant lookup goes through
`.of(organization)`; an id from another tenant therefore simply does not exist (404).
"""

from django.db import models


class TenantQuerySet(models.QuerySet):
    def of(self, organization) -> "TenantQuerySet":
        if organization is None:
            return self.none()
        # By the column, which a model keeping its organization id without a foreign key has too (AuditEvent).
        return self.filter(organization_id=organization.pk)
