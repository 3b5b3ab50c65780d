"""Spend rules at acceptance: what a spend breaks by itself is refused at once (403 `policy_refused`,
the rule in words, nothing written, the key left free); the limits that count earlier spend wait for
settlement; a replay always replays; and the hot path reads the policy from a short in-process cache.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.controls import selectors, services
from apps.controls.models import WEEKDAYS
from apps.controls.policy import PolicyRefused
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from tests.controls.conftest import rule
from tests.spends import refreshed, settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

SPEND = {"amount": "600.00", "currency": "USD", "merchant": "Air France", "category": "travel"}


def post_spend(client, key: str, **changes):
    return client.post("/api/v1/transactions", {**SPEND, **changes}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _every_day_but_today() -> list[str]:
    """Weekdays that leave out today's (the tenant's organization is on UTC): asked just before the spend."""
    return [day for day in WEEKDAYS if day != WEEKDAYS[timezone.now().weekday()]]


REFUSED_AT_ONCE = [
    pytest.param(
        {"kind": "blocked_category", "category": "gambling"},
        {"category": "Gambling"},
        "Policy 'Blocked category' (version 1): the category 'gambling' is blocked.",
        "category",
        id="blocked_category",
    ),
    pytest.param(
        {"kind": "blocked_merchant", "merchant": "*casino*"},
        {"merchant": "Grand CASINO"},
        "Policy 'Blocked merchant' (version 1): the merchant 'Grand CASINO' is blocked "
        "(merchants matching '*casino*').",
        "merchant",
        id="blocked_merchant",
    ),
    pytest.param(
        {"kind": "employee_limit", "amount_minor": 50_000, "period": "spend"},
        {},
        "Policy 'Employee limit' (version 1): at most $500 per spend, for each employee. Requested: $600",
        "amount",
        id="per_spend_limit",
    ),
    pytest.param(
        {"kind": "allowed_hours", "from_minute": 0, "until_minute": 1440, "weekdays": _every_day_but_today},
        {},
        "Policy 'Allowed hours' (version 1): spending is allowed ",
        None,
        id="allowed_hours",
    ),
    pytest.param(
        {"kind": "description_required_above", "amount_minor": 50_000},
        {"description": "  "},
        "Policy 'Description required above' (version 1): a description is required above $500. Requested: $600",
        "description",
        id="description_required_above",
    ),
]


@pytest.mark.parametrize(("fields", "changes", "reason", "field_name"), REFUSED_AT_ONCE)
def test_a_spend_that_breaks_a_rule_by_itself_is_refused_at_once_and_writes_nothing(
    api, tenant, fields, changes, reason, field_name
):
    if callable(fields.get("weekdays")):
        fields = {**fields, "weekdays": fields["weekdays"]()}
    made = rule(tenant, **fields)
    response = post_spend(api(tenant.employee), "k1", **changes)
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "policy_refused"
    assert error["message"].startswith(reason)
    assert error["fields"] == ({field_name: [error["message"]]} if field_name else {})
    assert not Transaction.objects.exists()

    # Nothing was recorded for the key: once the rule is lifted, the same request is accepted.
    services.spend_rule_delete(actor=tenant.admin, rule_id=made.id, organization=tenant.organization)
    accepted = post_spend(api(tenant.employee), "k1", **changes)
    assert accepted.status_code == 202 and "Idempotent-Replayed" not in accepted


def test_the_limits_that_count_earlier_spend_wait_for_settlement(api, tenant):
    rule(tenant, "employee_limit", "Daily", amount_minor=50_000, period="day")
    rule(tenant, "category_limit", "Travel", category="travel", amount_minor=50_000, department_id=tenant.department.id)
    response = post_spend(api(tenant.employee), "k1")
    assert response.status_code == 202
    settle_all(tenant.organization)
    spend = Transaction.objects.get()
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason.startswith("Policy 'Daily' (version 2)")


def test_a_spend_accepted_before_a_rule_still_replays_after_it(api, tenant):
    first = post_spend(api(tenant.employee), "k1", category="gambling")
    assert first.status_code == 202
    rule(tenant, "blocked_category", category="gambling")
    again = post_spend(api(tenant.employee), "k1", category="gambling")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.count() == 1
    # Its replay answers as accepted; settlement decides it on the rules now in force.
    settle_all(tenant.organization)
    assert Transaction.objects.get().status == Transaction.Status.REJECTED


def test_a_reused_key_with_another_body_is_refused_as_reused_not_by_the_policy(api, tenant):
    assert post_spend(api(tenant.employee), "k1").status_code == 202
    rule(tenant, "blocked_category", category="gambling")
    response = post_spend(api(tenant.employee), "k1", category="gambling")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def _queries_of_a_spend(tenant) -> int:
    with CaptureQueriesContext(connection) as captured:
        spend_submit(tenant.employee, "1.00")
    return len(captured)


def test_acceptance_reads_the_policy_once_per_ttl_per_process(tenant, settings):
    """The hot path: with the policy cached, accepting a spend makes the same queries as with no policy."""
    settings.SPEND_POLICY_CACHE_SECONDS = 60
    _queries_of_a_spend(tenant)  # loads the spender's organization and department, and caches "no policy"
    without_policy = _queries_of_a_spend(tenant)
    rule(tenant, "blocked_category", category="gambling")
    assert _queries_of_a_spend(tenant) == without_policy + 1  # read, and kept
    assert _queries_of_a_spend(tenant) == without_policy
    settings.SPEND_POLICY_CACHE_SECONDS = 0
    selectors.forget_cached_policy(tenant.organization.id)  # as if the minute had passed
    assert _queries_of_a_spend(tenant) == without_policy + 1  # kept no longer than the TTL
    assert _queries_of_a_spend(tenant) == without_policy + 1


def test_a_stale_cache_lets_a_spend_through_and_settlement_refuses_it(tenant, settings):
    """Another process added the rule: this one still holds the policy before it, for up to the TTL."""
    settings.SPEND_POLICY_CACHE_SECONDS = 60
    spend_submit(tenant.employee, "1.00")
    stale = selectors._cached_policies[tenant.organization.id]
    rule(tenant, "blocked_category", "No gambling", category="gambling")
    selectors._cached_policies[tenant.organization.id] = stale
    spend = spend_submit(tenant.employee, "5.00", category="gambling")
    settle_all(tenant.organization)
    assert refreshed(spend).rejection_reason == (
        "Policy 'No gambling' (version 1): the category 'gambling' is blocked."
    )


def test_a_cached_refusal_is_asked_again_of_the_policy_in_force(tenant, settings):
    """Another process lifted the rule: a spend it would have refused is not turned away by the stale copy."""
    settings.SPEND_POLICY_CACHE_SECONDS = 60
    made = rule(tenant, "blocked_category", category="gambling")
    spend_submit(tenant.employee, "1.00")
    stale = selectors._cached_policies[tenant.organization.id]
    services.spend_rule_delete(actor=tenant.admin, rule_id=made.id, organization=tenant.organization)
    selectors._cached_policies[tenant.organization.id] = stale
    spend = spend_submit(tenant.employee, "5.00", category="gambling")
    assert spend.status == Transaction.Status.PENDING


def test_a_change_in_this_process_applies_to_its_next_acceptance(tenant, settings):
    settings.SPEND_POLICY_CACHE_SECONDS = 60
    spend_submit(tenant.employee, "1.00")
    rule(tenant, "blocked_category", category="gambling")
    with pytest.raises(PolicyRefused):
        spending_services.transaction_submit(
            user=tenant.employee,
            idempotency_key="k",
            amount="1.00",
            currency="USD",
            merchant="m",
            category="gambling",
        )
