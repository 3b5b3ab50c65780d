from django.apps import AppConfig
from django.db.models.signals import post_save


def _open_card_funding_account(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    from .services import account_open_card_funding

    if created and not raw:
        account_open_card_funding(organization=instance)


def _open_expense_account(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    from .services import account_open_expense

    if created and not raw:
        account_open_expense(department=instance)


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"

    def ready(self) -> None:
        # Every organization and department has its accounts from the transaction that creates it, however it
        # is created; tenancy sits below the ledger and does not know it.
        post_save.connect(
            _open_card_funding_account, sender="tenancy.Organization", dispatch_uid="ledger-open-card-funding"
        )
        post_save.connect(_open_expense_account, sender="tenancy.Department", dispatch_uid="ledger-open-expense")
