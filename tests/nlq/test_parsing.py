"""The parse cache in Redis: keyed by organization, local date and normalized question."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings

from apps.nlq.errors import UnknownValueRefused
from apps.nlq.parsing import parse_cache_key, parse_context_for, question_parse
from apps.nlq.rules import RulesParser
from apps.tenancy.services import department_create

from .conftest import NOW


def parse(user, question, now=NOW):
    return question_parse(question=question, user=user, now=now, parsers=[RulesParser()])


def test_a_repeated_question_comes_from_the_cache(tenant):
    first = parse(tenant.finance, "Show me top expenses this month")
    second = parse(tenant.finance, "show me   TOP expenses this month??")
    assert (first.cached, second.cached) == (False, True)
    assert first.spec == second.spec
    assert second.source == "rules"


def test_the_entry_is_the_draft_and_its_source_under_the_organizations_date(tenant):
    parse(tenant.finance, "Show me top expenses this month")
    context = parse_context_for(user=tenant.finance, now=NOW)
    key = parse_cache_key(
        question="Show me top expenses this month", organization=tenant.organization, context=context, sources=["rules"]
    )
    assert f":{tenant.organization.id}:2026-05-14:rules:" in key
    assert cache.get(key) == {
        "draft": {
            "metric": "list",
            "group_by": None,
            "filters": {},
            "period": {"kind": "this_month"},
            "order": {"by": "amount", "direction": "desc"},
            "limit": 10,
        },
        "source": "rules",
    }


def test_the_next_day_parses_afresh(tenant):
    parse(tenant.finance, "spend this month")
    assert parse(tenant.finance, "spend this month", now=NOW + timedelta(hours=1)).cached is True
    assert parse(tenant.finance, "spend this month", now=NOW + timedelta(days=1)).cached is False


def test_organizations_do_not_share_entries(tenant, other_tenant):
    parse(tenant.finance, "spend this month")
    assert parse(other_tenant.finance, "spend this month").cached is False


def test_a_new_department_changes_the_key(tenant):
    with pytest.raises(UnknownValueRefused, match="No department 'marketing'"):
        parse(tenant.finance, "spend in Marketing this month")
    department_create(actor=None, organization=tenant.organization, name="Marketing", monthly_limit_minor=100_000)
    fresh = parse(tenant.finance, "spend in Marketing this month")
    assert fresh.cached is False
    assert fresh.spec.filters.department == "Marketing"


def test_a_cached_draft_is_validated_again(tenant):
    context = parse_context_for(user=tenant.finance, now=NOW)
    key = parse_cache_key(
        question="spend this month", organization=tenant.organization, context=context, sources=["rules"]
    )
    cache.set(key, {"draft": {"metric": "total", "sql": "DELETE FROM ledger_transaction"}, "source": "rules"})
    parsed = parse(tenant.finance, "spend this month")
    assert parsed.cached is False
    assert parsed.spec.metric == "total"
    assert cache.get(key)["draft"] == {
        "metric": "total",
        "group_by": None,
        "filters": {},
        "period": {"kind": "this_month"},
    }


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            # Nothing listens on port 1: a Redis that is down.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
)
def test_a_cache_that_is_down_only_costs_a_parse(tenant):
    first = parse(tenant.finance, "Show me top expenses this month")
    second = parse(tenant.finance, "Show me top expenses this month")
    assert (first.cached, second.cached) == (False, False)
    assert first.spec == second.spec
