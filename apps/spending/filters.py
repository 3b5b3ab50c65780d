"""The transaction list's filters as a django-filter FilterSet; selectors.transaction_list applies it."""

import django_filters

from apps.ledger.models import Transaction

ORDERINGS = ("created_at", "-created_at", "amount", "-amount")


class TransactionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Transaction.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Transaction.Kind.choices)
    department = django_filters.UUIDFilter(field_name="department_id")
    employee = django_filters.UUIDFilter(field_name="employee_id")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # Merchants are typed by people ("Uber", "UBER"); categories are codes.
    merchant = django_filters.CharFilter(lookup_expr="iexact")
    category = django_filters.CharFilter()
    min_amount_minor = django_filters.NumberFilter(field_name="amount_minor", lookup_expr="gte")
    max_amount_minor = django_filters.NumberFilter(field_name="amount_minor", lookup_expr="lte")
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created_at"), ("amount_minor", "amount")))

    class Meta:
        model = Transaction
        fields: list[str] = []
