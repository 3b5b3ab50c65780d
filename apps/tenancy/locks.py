"""The one place tenancy rows are locked."""

import uuid

from .models import Organization


def lock_department_tree(*, organization_id: uuid.UUID) -> None:
    """Serialize changes to one organization's department tree until the caller's transaction ends.

    FOR NO KEY UPDATE on the organization row: it conflicts with another tree change, but not with
    the key-share locks that inserts referencing the organization take, so spend is never blocked.
    """
    Organization.objects.select_for_update(no_key=True).filter(id=organization_id).first()
