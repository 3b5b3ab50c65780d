"""What tenancy tells the apps above it, without importing them (tenancy is the bottom layer).

`administration_changed` is sent inside the transaction of a change to a department, a user or an
invitation, with `actor`, `action` (one of the audit log's action codes, e.g. "department.created"),
`target`, `before` and `after`; the audit app records it (apps/audit/apps.py). A receiver that
raises rolls the change back, as a direct call would.
"""

from django.dispatch import Signal

administration_changed = Signal()
