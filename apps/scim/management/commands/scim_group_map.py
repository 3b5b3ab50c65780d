from django.core.management.base import BaseCommand, CommandError

from apps.scim import selectors, services
from apps.scim.commands import command_department, command_org_admin
from apps.tenancy.commands import command_organization
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = (
        "Map an identity provider's group (by its display name) to a department or a role of the "
        "organization, remove a mapping, or list them. The group's members are placed at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["set", "remove", "list"])
        parser.add_argument("--organization", required=True, help="Slug or id.")
        parser.add_argument("--group", help="The group's displayName as the provider sends it.")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--department", help="The department's name (unique in the organization) or id.")
        target.add_argument("--role", choices=["employee", "finance_manager", "org_admin"])
        parser.add_argument(
            "--as", dest="actor", help="Email of the org admin who asked. Without it, the platform acts."
        )

    def handle(self, *args, **options) -> None:
        organization = command_organization(options["organization"])
        actor = command_org_admin(organization=organization, email=options["actor"])
        mappings = selectors.group_mappings(organization=organization)
        if options["action"] == "list":
            for mapping in mappings:
                self.stdout.write(f"{mapping.group_name}  ->  {mapping.department or mapping.role}")
            return
        if not options["group"]:
            raise CommandError(f"{options['action']} needs --group.")
        try:
            if options["action"] == "remove":
                mapping = mappings.filter(group_name=options["group"]).first()
                if mapping is None:
                    raise CommandError(f"No mapping of {options['group']!r}.")
                services.group_mapping_remove(mapping=mapping, actor=actor)
                self.stdout.write(f"Removed the mapping of {options['group']!r}.")
                return
            department = None
            if options["department"]:
                department = command_department(organization=organization, text=options["department"])
            mapping = services.group_mapping_set(
                organization=organization,
                group_name=options["group"],
                department=department,
                role=options["role"] or "",
                actor=actor,
            )
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{mapping.group_name}  ->  {mapping.department or mapping.role}")
