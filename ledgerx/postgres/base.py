"""Django's PostgreSQL backend, grouping aggregates by every selected column.

Django groups a model's rows by `id` alone when `id` is the model's primary key, counting on PostgreSQL
to know that the primary key determines the other columns. In the database, a tenant table's primary key
is `(id, organization_id)` (ledgerx/tenant_keys.py), so for PostgreSQL `id` alone determines nothing and
such a query is refused ("must appear in the GROUP BY clause"). Grouping by the selected columns is right
for every table, whatever its key.
"""

from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    allows_group_by_selected_pks = False


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
