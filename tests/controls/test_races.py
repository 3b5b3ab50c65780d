"""Policy changes against real concurrency: threads, each with its own PostgreSQL connection.

transaction=True: every contender commits for real, as the API and the settlement workers do.
"""

import threading
import time

import pytest
from django.db import connections, transaction

from apps.controls import services
from apps.controls.models import SpendPolicyVersion
from apps.ledger.models import Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from tests.conftest import run_in_threads
from tests.controls.conftest import rule
from tests.spends import settle_all, spend_submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SPENDS = 60
SETTLERS = 3
CHANGE_AFTER = 15
BLOCKED = "Policy 'No gambling' (version 2): the category 'gambling' is blocked."


def _settled_ids() -> set:
    return set(Transaction.objects.exclude(status=Transaction.Status.PENDING).values_list("id", flat=True))


def _unclaimed_ids() -> set:
    """Spends still pending that no settlement transaction has claimed: a batch that claims one from
    now on starts after this moment."""
    with transaction.atomic():
        return set(
            Transaction.objects.select_for_update(skip_locked=True)
            .filter(status=Transaction.Status.PENDING)
            .values_list("id", flat=True)
        )


def test_a_policy_change_applies_to_spends_settled_after_it_and_not_before(tenant):
    rule(tenant, "blocked_category", "No crypto", category="crypto")  # version 1
    spends = [spend_submit(tenant.employee, "1.00", category="gambling") for _ in range(SPENDS)]
    changed = threading.Event()
    seen: dict[str, set] = {}

    def act(index: int):
        if index < SETTLERS:
            while True:
                result = spending_services.settlement_run(organization_id=tenant.organization.id, batch_size=2)
                if changed.is_set() and not result.settled:
                    return
        try:
            while len(_settled_ids()) < CHANGE_AFTER:
                time.sleep(0.001)
            seen["settled_before"] = _settled_ids()
            rule(tenant, "blocked_category", "No gambling", category="gambling")  # version 2, committed
            seen["unclaimed_after"] = _unclaimed_ids()
        finally:
            changed.set()
            connections.close_all()

    run_in_threads(SETTLERS + 1, act)
    settle_all(tenant.organization)

    decided = {
        spend.id: spend
        for spend in Transaction.objects.filter(id__in=[spend.id for spend in spends]).order_by("processed_at")
    }
    under_one = [spend for spend in decided.values() if spend.policy_version == 1]
    under_two = [spend for spend in decided.values() if spend.policy_version == 2]
    assert len(under_one) + len(under_two) == SPENDS
    # Each spend was decided on the version it records.
    assert all(spend.status == Transaction.Status.POSTED for spend in under_one)
    assert all(spend.status == Transaction.Status.REJECTED and spend.rejection_reason == BLOCKED for spend in under_two)
    # Not before: what was settled before the change was decided without it.
    assert seen["settled_before"] and all(decided[i].policy_version == 1 for i in seen["settled_before"])
    # After: what no batch had claimed when it committed was decided with it.
    assert seen["unclaimed_after"] and all(decided[i].policy_version == 2 for i in seen["unclaimed_after"])
    # And never the old version again once a batch had used the new one.
    assert max(spend.processed_at for spend in under_one) <= min(spend.processed_at for spend in under_two)
    assert ledger_verify()["ok"]


def test_concurrent_rule_changes_make_one_version_each_in_order(tenant):
    def add(index: int):
        return services.spend_rule_create(
            actor=tenant.admin,
            organization=tenant.organization,
            fields=services.RuleFields(name=f"Rule {index}", kind="blocked_category", category=f"category-{index}"),
        )

    results = run_in_threads(8, add)
    numbers = sorted(version.number for _, version in results)
    assert numbers == list(range(1, 9))
    latest = SpendPolicyVersion.objects.get(organization=tenant.organization, number=8)
    assert {rule["name"] for rule in latest.rules} == {f"Rule {index}" for index in range(8)}
    # Each version holds the rules of the versions before it and its own.
    for version in SpendPolicyVersion.objects.filter(organization=tenant.organization):
        assert len(version.rules) == version.number
