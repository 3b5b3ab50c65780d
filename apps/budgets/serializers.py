from ledgerx.money import to_decimal_string

from .models import BudgetPeriod
from .services import period_text


def budget_representation(period: BudgetPeriod, currency: str) -> dict:
    return {
        "period": period_text(period.month),
        "limit": to_decimal_string(period.limit_minor, currency),
        "spent": to_decimal_string(period.spent_minor, currency),
        "held": to_decimal_string(period.held_minor, currency),
        "available": to_decimal_string(period.available_minor, currency),
        "currency": currency,
    }
