"""How an answer writes dates and labels for people: one way everywhere ("May 4, 2026")."""

from datetime import date


def format_day(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def format_month(day: date) -> str:
    return f"{day:%B %Y}"


def format_span(start: date, end: date) -> str:
    """ "May 1 to 14, 2026", "Apr 1 to May 14, 2026", "Dec 1, 2025 to Jan 31, 2026"; one day alone."""
    if start == end:
        return format_day(start)
    if start.year != end.year:
        return f"{format_day(start)} to {format_day(end)}"
    if start.month != end.month:
        return f"{start:%b} {start.day} to {end:%b} {end.day}, {end.year}"
    return f"{start:%b} {start.day} to {end.day}, {end.year}"


def label_of(code: str) -> str:
    """A code ("awaiting_approval", "budget_usage") as a label ("Awaiting approval")."""
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
