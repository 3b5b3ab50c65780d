"""The database itself refuses to edit entries or to commit an unbalanced journal.

These use raw SQL, below the application, and commit for real: the balance trigger is
deferred to COMMIT (transaction=True).
"""

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.ledger.models import Account, Entry
from tests.owner import owner_cursor
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def posted(tenant):
    spend = spend_submit(tenant.employee, "25.00")
    settle_all(tenant.organization)
    return spend


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount_minor = amount_minor * 2",
        "UPDATE ledger_entry SET created_at = now()",
        "DELETE FROM ledger_entry",
        "TRUNCATE ledger_entry CASCADE",
    ],
)
def test_raw_sql_cannot_alter_or_remove_entries(posted, statement):
    before = list(Entry.objects.order_by("id").values_list("id", "amount_minor"))
    # The application role lacks the privilege; the owner, who has it, meets the triggers.
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
        cursor.execute(statement)
    assert list(Entry.objects.order_by("id").values_list("id", "amount_minor")) == before


INSERT_ENTRY = """
    INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
    VALUES (%s, %s, %s, %s, 'USD', now())
"""


def _insert_entries(transaction_id, organization_id, rows):
    with connection.cursor() as cursor:
        for account_id, amount in rows:
            cursor.execute(
                INSERT_ENTRY,
                [organization_id, transaction_id, account_id, amount],
            )


def test_an_unbalanced_journal_cannot_commit(tenant):
    spend = spend_submit(tenant.employee, "25.00")
    expense = Account.objects.get(department=tenant.department)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entries(spend.id, tenant.organization.id, [(expense.id, 2_500)])
    assert not Entry.objects.exists()


def test_a_one_sided_pair_that_does_not_net_to_zero_cannot_commit(tenant):
    spend = spend_submit(tenant.employee, "25.00")
    expense = Account.objects.get(department=tenant.department)
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entries(spend.id, tenant.organization.id, [(card.id, -2_500), (expense.id, 2_400)])
    assert not Entry.objects.exists()


def test_a_balanced_journal_commits(tenant):
    spend = spend_submit(tenant.employee, "25.00")
    expense = Account.objects.get(department=tenant.department)
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    with transaction.atomic():
        _insert_entries(spend.id, tenant.organization.id, [(card.id, -2_500), (expense.id, 2_500)])
    assert Entry.objects.count() == 2


@pytest.mark.parametrize(
    ("column", "constraint"),
    [
        ("department_id", "transaction_department_in_organization"),
        ("employee_id", "transaction_employee_in_organization"),
    ],
)
def test_a_transaction_cannot_name_another_organizations_department_or_employee(
    tenant, other_tenant, column, constraint
):
    spend = spend_submit(tenant.employee, "25.00")
    foreign = {"department_id": other_tenant.department.id, "employee_id": other_tenant.employee.id}[column]
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE ledger_transaction SET {column} = %s WHERE id = %s", [foreign, spend.id])
    spend.refresh_from_db()
    assert (spend.department_id, spend.employee_id) == (tenant.department.id, tenant.employee.id)


def test_an_entry_cannot_post_to_another_organizations_account(tenant, other_tenant):
    spend = spend_submit(tenant.employee, "25.00")
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    foreign_expense = Account.objects.get(department=other_tenant.department)
    with pytest.raises(IntegrityError, match="entry_account_in_organization"), transaction.atomic():
        _insert_entries(spend.id, tenant.organization.id, [(card.id, -2_500), (foreign_expense.id, 2_500)])
    assert not Entry.objects.exists()
