"""Reading a question into a QuerySpec: parsers behind one interface, a Redis cache in front.

Gemini runs first when GEMINI_API_KEY is set; whatever it returns is validated like any input,
and anything invalid or failing falls back to the deterministic rules, which always run last.
Parses are cached by organization, local date and normalized question, so "this month" rolls
over at the organization's midnight; a cache that is down only costs a parse.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from apps.tenancy.models import Organization, User
from ledgerx.errors import Forbidden

from .errors import ParseFailed, QuestionNotUnderstood, SpecError, UnknownValueRefused
from .gemini import GeminiParser, gemini_client
from .refusals import examples_near, understood_in_words
from .rules import RulesParser, normalize_question
from .spec import ParseContext, QuerySpec, spec_from_draft
from .vocabulary import OutOfScope, UnknownValue, vocabulary_for

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 3600
CACHE_VERSION = 2
SOURCES = ("rules", "gemini")


class QuestionParser(Protocol):
    """Turns a question into a draft spec (a JSON object), or raises ParseFailed."""

    source: str

    def draft(self, question: str, *, context: ParseContext) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ParsedQuestion:
    spec: QuerySpec
    source: str
    cached: bool


def parse_context_for(*, user: User, now: datetime) -> ParseContext:
    """The question's setting: the moment, the organization's settings and the names the asker may use."""
    organization = user.organization
    vocabulary = vocabulary_for(user=user)
    return ParseContext(
        now=now,
        timezone=organization.timezone,
        currency=organization.currency,
        department_names=vocabulary.departments,
        vocabulary=vocabulary,
    )


def configured_parsers() -> list[QuestionParser]:
    parsers: list[QuestionParser] = []
    if settings.GEMINI_API_KEY:
        parsers.append(GeminiParser(client=gemini_client(settings.GEMINI_API_KEY), model=settings.GEMINI_MODEL))
    parsers.append(RulesParser())
    return parsers


def parse_cache_key(*, question: str, organization: Organization, context: ParseContext, sources: list[str]) -> str:
    """Organization, the organization's local date, which parsers, and the question as normalized.

    The department names are part of the key because the rules read them as departments.
    """
    material = "\n".join([normalize_question(question), context.timezone, context.currency, *context.department_names])
    digest = hashlib.sha256(material.encode()).hexdigest()
    return f"nlq:parse:v{CACHE_VERSION}:{organization.id}:{context.today.isoformat()}:{'+'.join(sources)}:{digest}"


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except (RedisError, ConnectionInterrupted) as error:
        logger.warning("question cache unavailable, parsing afresh: %s", error)
        return None


def _cache_set(key: str, value: dict[str, Any]) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except (RedisError, ConnectionInterrupted) as error:
        logger.warning("question cache unavailable, not caching: %s", error)


def _from_cache(entry: Any, context: ParseContext) -> ParsedQuestion | None:
    """A cached draft is validated again like any input; anything odd is simply a miss."""
    if not isinstance(entry, dict) or entry.get("source") not in SOURCES:
        return None
    try:
        return ParsedQuestion(spec_from_draft(entry.get("draft"), context=context), entry["source"], cached=True)
    except SpecError:
        return None


def question_parse(
    *, question: str, user: User, now: datetime, parsers: list[QuestionParser] | None = None
) -> ParsedQuestion:
    """The question as a validated QuerySpec, from the cache or from the first parser that manages.

    Raises QuestionNotUnderstood (400) with what the last parser understood and three example
    questions near it; UnknownValueRefused (400) naming a value the organization does not have and
    the closest it has; Forbidden (403) for a department or person outside what the asker may see.
    """
    organization: Organization = user.organization
    context = parse_context_for(user=user, now=now)
    parsers = configured_parsers() if parsers is None else parsers
    key = parse_cache_key(
        question=question, organization=organization, context=context, sources=[p.source for p in parsers]
    )
    hit = _from_cache(_cache_get(key), context)
    if hit is not None:
        return hit
    failure = ParseFailed("No parser is configured.")
    refusal: SpecError | None = None
    for parser in parsers:
        draft: dict[str, Any] = {}
        try:
            draft = parser.draft(question, context=context)
            spec = spec_from_draft(draft, context=context)
        except ParseFailed as error:
            failure, refusal = error, None
        except SpecError as error:
            failure, refusal = ParseFailed(str(error), understood=draft), error
        else:
            _cache_set(key, {"draft": draft, "source": parser.source})
            return ParsedQuestion(spec, parser.source, cached=False)
        logger.info("parser %s could not map the question: %s", parser.source, failure.message)
    if isinstance(refusal, OutOfScope):
        raise Forbidden(failure.message)
    fields = {
        "q": [failure.message],
        "understood": failure.understood,
        "understood_text": understood_in_words(failure.understood),
        "unrecognized": failure.unrecognized,
        "examples": examples_near(question, failure.understood),
    }
    if isinstance(refusal, UnknownValue):
        raise UnknownValueRefused(
            failure.message,
            fields={**fields, "kind": refusal.kind, "value": refusal.value, "suggestions": refusal.suggestions},
        )
    raise QuestionNotUnderstood(failure.message, fields=fields)
