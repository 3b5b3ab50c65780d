from django.apps import AppConfig


class PayablesConfig(AppConfig):
    name = "apps.payables"
    label = "payables"

    def ready(self) -> None:
        from apps.ledger.models import Transaction
        from apps.ledger.services import expense_split_register

        from .selectors import bill_expense_shares

        # A bill's accrual debits one expense line per GL line of it; the ledger sits below and asks.
        expense_split_register(kind=Transaction.Kind.BILL, reader=bill_expense_shares)
