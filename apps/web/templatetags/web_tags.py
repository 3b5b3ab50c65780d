from django import template

from apps.fraud.models import Rule
from ledgerx.money import format_money, format_money_as_spent

register = template.Library()

# The budget bar turns amber at this share of the limit, and red at the limit.
WARNING_PERCENT = 80


@register.filter
def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


@register.simple_tag
def fraud_rule_labels() -> dict:
    """Each fraud rule's name for people, for the fraud panel (static/web/finance.js)."""
    return dict(Rule.choices)


@register.filter
def spend_amount(transaction) -> str:
    """The base amount, and the amount as spent beside it when that was another currency: "$133.78 (€123.45)".
    A reversal is a credit: "-$6,000", never read as a second charge."""
    if transaction.kind == "reversal":
        return format_money(-transaction.amount_minor, transaction.currency)
    return format_money_as_spent(
        transaction.amount_minor,
        transaction.currency,
        transaction.original_amount_minor,
        transaction.original_currency,
    )


@register.inclusion_tag("web/_budget_card.html")
def budget_card(period, currency: str, heading_level: int = 3, depth: int = 0) -> dict:
    percent = period.used_percent
    if percent >= 100:
        level, level_text = "over", "At or over the limit"
    elif percent >= WARNING_PERCENT:
        level, level_text = "warning", "Near the limit"
    else:
        level, level_text = "ok", "Within budget"
    bar_percent = min(percent, 100)
    # The bar shows what is spent, then what is held for approval, together `bar_percent` wide.
    if period.limit_minor > 0:
        spent_bar = min(period.spent_minor * 100 // period.limit_minor, bar_percent)
    else:
        spent_bar = 100 if period.spent_minor > 0 else 0
    return {
        "department": period.department,
        "currency": currency,
        "limit": period.limit_minor,
        "spent": period.spent_minor,
        "held": period.held_minor,
        "available": period.available_minor,
        "month": period.month,
        "percent": percent,
        "bar_percent": bar_percent,
        "spent_bar": spent_bar,
        "held_bar": bar_percent - spent_bar,
        "level": level,
        "level_text": level_text,
        "heading_level": heading_level,
        "depth": depth,
    }
