from django.core.management.base import BaseCommand, CommandError

from apps.scim import selectors, services
from apps.scim.commands import command_org_admin, uuid_or_none
from apps.tenancy.commands import command_organization
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = (
        "An organization's SCIM tokens, for its identity provider (Okta, Entra ID): issue one (its key is "
        "printed once, only its hash is kept), rotate one (the old key stops at once), revoke one, or list them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["issue", "rotate", "revoke", "list"])
        parser.add_argument("--organization", required=True, help="Slug or id.")
        parser.add_argument("--name", help="issue: which client the token is for, e.g. okta.")
        parser.add_argument("--token", help="rotate, revoke: the token's id.")
        parser.add_argument(
            "--as", dest="actor", help="Email of the org admin who asked. Without it, the platform acts."
        )

    def handle(self, *args, **options) -> None:
        organization = command_organization(options["organization"])
        actor = command_org_admin(organization=organization, email=options["actor"])
        tokens = selectors.scim_tokens(organization=organization)
        if options["action"] == "list":
            for token in tokens:
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
                self.stdout.write(f"{token.id}  {token.name}  {token.key_prefix}…  {state}")
            return
        try:
            if options["action"] == "issue":
                if not options["name"]:
                    raise CommandError("issue needs --name.")
                key, token = services.scim_token_issue(organization=organization, name=options["name"], actor=actor)
            else:
                token_id = uuid_or_none(options["token"])
                token = tokens.filter(id=token_id).first() if token_id else None
                if token is None:
                    raise CommandError("--token must name a token of the organization (see list).")
                if options["action"] == "revoke":
                    services.scim_token_revoke(token=token, actor=actor)
                    self.stdout.write(f"Revoked {token.name} ({token.key_prefix}…).")
                    return
                key, token = services.scim_token_rotate(token=token, actor=actor)
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"SCIM token {token.id} for {token.name}. Its key, shown this once:\n{key}")
