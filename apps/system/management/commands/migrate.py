"""`migrate` as the database's owner, ending with the application role's grants (ledgerx/db_roles.py).

Every other command, and every server and worker, connects as the application role.
"""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from ledgerx import db_roles


class Command(DjangoMigrate):
    help = "Applies migrations as the database owner, then grants the application role what it needs."

    def execute(self, *args, **options) -> str | None:
        # execute, not handle: the system checks before handle connect too, and the application
        # role may not exist yet.
        connection = connections[options["database"]]
        role, password = connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]
        with db_roles.connected_as_owner(connection):
            output = super().execute(*args, **options)
            if not (options["plan"] or options["check_unapplied"]):
                db_roles.grant_app_role(connection, role, password)
        return output
