import re

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers: money travels as decimal strings, never as JSON numbers.

    Free text (names, notes) is trimmed as DRF does; a field naming something exact (an amount, a
    currency, a timezone, a URL) passes `trim_whitespace=False`, so " USD" is refused, not rewritten.
    """

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that takes a JSON integer only: DRF would also take "7", 7.0 and true."""

    default_error_messages = {"not_an_integer": "Must be a whole number."}

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]+)?$", "maxLength": 40})
class AmountField(StrictCharField):
    """A decimal string in major units ("6000.00"); ledgerx.money parses it per currency."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=40, trim_whitespace=False, **kwargs)


_CURRENCY_CODE = re.compile("[A-Z]{3}")


@extend_schema_field({"type": "string", "pattern": "^[A-Z]{3}$"})
class CurrencyField(StrictCharField):
    """An ISO 4217 code as sent: exactly three upper-case ASCII letters, never trimmed or upper-cased."""

    default_error_messages = {"not_a_code": "Three upper-case letters, such as USD."}

    def __init__(self, **kwargs) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not _CURRENCY_CODE.fullmatch(text):
            self.fail("not_a_code")
        return text


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"})
class PeriodField(serializers.RegexField):
    """A budget month, YYYY-MM, untrimmed.

    `\\Z`, not `$`: RegexValidator searches, and `$` also matches before a final newline.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z", trim_whitespace=False, **kwargs)


class QueryFilters(serializers.Serializer):
    """Query-string filters. DRF reads `?status=` as "not given"; here a blank value is bad input like any other."""

    def to_internal_value(self, data):
        blank = {name: ["May not be blank."] for name in self.fields if name in data and data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "format": "date-time"})
class InstantField(serializers.Field):
    """An ISO 8601 date and time with its UTC offset (or Z), untrimmed. A time without an offset is
    refused: which instant it means would be a guess."""

    default_error_messages = {
        "invalid": "An ISO 8601 date and time with its offset, such as 2026-11-30T18:00:00+01:00 "
        "(in a query string, '+' is sent as %2B).",
        "naive": "The time needs its offset from UTC, such as +01:00 or Z.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(data)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None:
            self.fail("naive")
        return parsed

    def to_representation(self, value):
        return value.isoformat()
