from django import template

from ledgerx.money import format_money

register = template.Library()

# The budget bar turns amber at this share of the limit, and red at the limit.
WARNING_PERCENT = 80


@register.filter
def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


@register.inclusion_tag("web/_budget_card.html")
def budget_card(period, currency: str, heading_level: int = 3, depth: int = 0) -> dict:
    percent = period.used_percent
    if percent >= 100:
        level, level_text = "over", "At or over the limit"
    elif percent >= WARNING_PERCENT:
        level, level_text = "warning", "Near the limit"
    else:
        level, level_text = "ok", "Within budget"
    return {
        "department": period.department,
        "currency": currency,
        "limit": period.limit_minor,
        "spent": period.spent_minor,
        "available": period.available_minor,
        "month": period.month,
        "percent": percent,
        "bar_percent": min(percent, 100),
        "level": level,
        "level_text": level_text,
        "heading_level": heading_level,
        "depth": depth,
    }
