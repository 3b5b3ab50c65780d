"""Migration operations that make a tenant table distributable by `organization_id` (docs/scaling.md).

Citus, like any sharding by organization, needs the distribution column in every primary key, unique
key and foreign key between distributed tables. Django 5.2 can say neither a primary key Django does
not use as the model's pk nor a multi-column foreign key, so these operations change the database
only, and say so:

- `TenantPrimaryKey("app.model")`: the table's PRIMARY KEY becomes `(id, organization_id)`. Django's
  state keeps `id` as the model's pk, which stays true: `id` is still unique (a uuid or a sequence),
  and every lookup by `id` alone still finds its row through the key's first column, which is why
  `id` leads.
- `CompositeForeignKey("app.model", "field")`: `(organization_id, field_id) REFERENCES
  target(organization_id, id)`, DEFERRABLE INITIALLY DEFERRED as Django makes its own, so a row can
  reference only a row of its own organization. The model's field says `db_constraint=False`, so
  Django neither creates nor expects the single-column key: an AlterField to db_constraint=False
  drops it first (forwards), and brings it back last (backwards).
- `UniqueInOrganization("app.model", "field")`: a OneToOneField's single-column UNIQUE becomes
  `(field_id, organization_id)`. Django's state keeps the OneToOneField, whose reverse accessor the
  code uses; the two keys are equivalent only because the field's composite foreign key makes its
  value determine the organization, so use it after `CompositeForeignKey` on the same field. A later
  AlterField of that field must undo it first: Django looks for the single-column key.

A PRIMARY KEY cannot be swapped while a single-column foreign key still depends on it: convert the
keys that point at a table before its primary key (PostgreSQL refuses otherwise, naming them).
`OrganizationFromParent` fills a new `organization_id` from the row's parent, between the AddField
that adds it nullable and the AlterField that makes it NOT NULL.
"""

from django.db.migrations.operations.base import Operation
from django.db.models import ForeignKey

ORGANIZATION_COLUMN = "organization_id"
TENANT_PRIMARY_KEY = ("id", ORGANIZATION_COLUMN)
POSTGRES_NAME_MAX = 63


def _model(state, label: str):
    app_label, model_name = label.split(".")
    return state.apps.get_model(app_label, model_name)


class TenantPrimaryKey(Operation):
    """The table's PRIMARY KEY becomes `columns` in the database; the model's state is unchanged."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model: str, columns: tuple[str, ...] = TENANT_PRIMARY_KEY):
        self.model = model
        self.columns = tuple(columns)

    def deconstruct(self):
        kwargs = {"model": self.model}
        if self.columns != TENANT_PRIMARY_KEY:
            kwargs["columns"] = self.columns
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        """Django's pk stays `id`: no state to change (see the module's docstring)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._set_primary_key(schema_editor, _model(to_state, self.model), self.columns)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(to_state, self.model)
        self._set_primary_key(schema_editor, model, (model._meta.pk.column,))

    @staticmethod
    def _set_primary_key(schema_editor, model, columns: tuple[str, ...]) -> None:
        table = model._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table])
            (name,) = cursor.fetchone()
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)},"
            f" ADD CONSTRAINT {quote(name)} PRIMARY KEY ({', '.join(quote(column) for column in columns)})"
        )

    def describe(self):
        return f"Primary key of {self.model} becomes ({', '.join(self.columns)})"

    @property
    def migration_name_fragment(self):
        return f"{self.model.replace('.', '_')}_tenant_primary_key"


class _FieldKey(Operation):
    """A named key of the database on one field of a model, which the migration names after that field."""

    reversible = True
    reduces_to_sql = True
    name_pattern = ""

    def __init__(self, model: str, field: str, name: str | None = None):
        self.model = model
        self.field = field
        self.name = name or self.name_pattern.format(model=model.split(".")[1], field=field)
        if len(self.name) > POSTGRES_NAME_MAX:
            raise ValueError(f"constraint name {self.name!r} is longer than PostgreSQL's {POSTGRES_NAME_MAX}")

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model": self.model, "field": self.field, "name": self.name}

    @property
    def migration_name_fragment(self):
        return self.name


class CompositeForeignKey(_FieldKey):
    """`(organization_id, <field>_id) REFERENCES target(organization_id, <target pk>)`, database only."""

    name_pattern = "{model}_{field}_in_organization"

    def state_forwards(self, app_label, state):
        """Django 5.2 has no multi-column foreign key: the field's db_constraint=False is the state's part."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(to_state, self.model)
        field = model._meta.get_field(self.field)
        if not isinstance(field, ForeignKey) or field.db_constraint:
            raise ValueError(f"{self.model}.{self.field} must be a ForeignKey with db_constraint=False")
        target = field.related_model._meta
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} ADD CONSTRAINT {quote(self.name)}"
            f" FOREIGN KEY ({quote(ORGANIZATION_COLUMN)}, {quote(field.column)})"
            f" REFERENCES {quote(target.db_table)} ({quote(ORGANIZATION_COLUMN)}, {quote(target.pk.column)})"
            " DEFERRABLE INITIALLY DEFERRED"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(from_state, self.model)
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} DROP CONSTRAINT {quote(self.name)}")

    def describe(self):
        return f"Composite foreign key {self.name} on {self.model}.{self.field}"


class UniqueInOrganization(_FieldKey):
    """A OneToOneField's single-column UNIQUE becomes `(column, organization_id)`, database only: the column
    leads, so the key still serves the lookups by it alone that the single-column one served."""

    name_pattern = "{model}_one_{field}_in_organization"

    def state_forwards(self, app_label, state):
        """The OneToOneField stays in the state: its reverse accessor is the ORM behaviour the code relies on."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(to_state, self.model)
        table, column = model._meta.db_table, model._meta.get_field(self.field).column
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'"
                " AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s)]",
                [table, table, column],
            )
            (single,) = cursor.fetchone()
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(single)},"
            f" ADD CONSTRAINT {quote(self.name)} UNIQUE ({quote(column)}, {quote(ORGANIZATION_COLUMN)})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(from_state, self.model)
        table, column = model._meta.db_table, model._meta.get_field(self.field).column
        quote = schema_editor.quote_name
        # PostgreSQL names the restored key as it named the one CREATE TABLE made.
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(self.name)}, ADD UNIQUE ({quote(column)})"
        )

    def describe(self):
        return f"Unique key {self.name} on {self.model} ({self.field}, organization)"


class OrganizationFromParent(Operation):
    """Fills `organization_id` of each row from the row its `via` foreign key names (no state change)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model: str, via: str):
        self.model = model
        self.via = via

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model": self.model, "via": self.via}

    def state_forwards(self, app_label, state):
        """Data only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = _model(to_state, self.model)
        field = model._meta.get_field(self.via)
        parent = field.related_model._meta
        quote = schema_editor.quote_name
        organization = quote(ORGANIZATION_COLUMN)
        schema_editor.execute(
            f"UPDATE {quote(model._meta.db_table)} AS child SET {organization} = parent.{organization}"
            f" FROM {quote(parent.db_table)} AS parent"
            f" WHERE parent.{quote(parent.pk.column)} = child.{quote(field.column)}"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        """The column goes with the AddField's reverse."""

    def describe(self):
        return f"Fill {self.model}.organization from its {self.via}"
