from typing import Any

from ledgerx.errors import InvalidInput


class SpecError(ValueError):
    """A draft query spec that does not validate: the message says what is wrong, for a person."""


class ParseFailed(Exception):
    """A parser could not map the question; carries what it did understand."""

    def __init__(
        self, message: str, *, understood: dict[str, Any] | None = None, unrecognized: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.understood = understood or {}
        self.unrecognized = unrecognized or []


class QuestionNotUnderstood(InvalidInput):
    code = "question_not_understood"


class UnknownValueRefused(InvalidInput):
    """A question naming a department, category, merchant or person the organization does not have."""

    code = "unknown_value"
