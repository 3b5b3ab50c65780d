"""The chart of accounts at posting: every journal line gets its GL code and cost centre from one
precedence (merchant > category > department > default), keeps them when the chart changes, and a
reversal carries its original's. The default chart is made at the first posting, once, however
many postings race for it.

transaction=True: settlement takes the organization's lock outside any transaction, as workers do.
"""

import time
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.ledger.chart import chart_ensure
from apps.ledger.chart_defaults import DEFAULT_CATEGORY_CODES, DEFAULT_GL_ACCOUNTS
from apps.ledger.chart_edits import AccountFields, MappingFields, gl_account_save, gl_mapping_save
from apps.ledger.models import Account, ChartOfAccounts, Entry, GLAccount, GLMapping
from apps.ledger.services import Journal, journal_write
from apps.reimbursements import services as reimbursement_services
from apps.tenancy.models import Role
from ledgerx.db import run_serializable
from tests.conftest import Tenant, run_in_threads
from tests.factories import DepartmentFactory, UserFactory
from tests.reimbursements.claims import batch_of_all, claim_submit
from tests.spends import settle_all, spend_reverse, spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def lines_of(spend) -> dict[str, tuple[str, str]]:
    """The spend's journal lines by account kind: (GL code, cost centre)."""
    return {
        kind: (gl_code, cost_centre)
        for kind, gl_code, cost_centre in Entry.objects.filter(transaction_id=spend.id).values_list(
            "account__kind", "gl_code", "cost_centre"
        )
    }


def account(tenant, code: str, name: str, type_: str = GLAccount.Type.EXPENSE) -> GLAccount:
    return gl_account_save(
        organization=tenant.organization,
        fields=AccountFields(code=code, name=name, type=type_, is_active=True),
        account=None,
    )


def rule(tenant, kind: str, gl_account: GLAccount, **target) -> GLMapping:
    return gl_mapping_save(
        organization=tenant.organization,
        fields=MappingFields(kind=kind, gl_account_id=gl_account.id, **target),
        mapping=None,
    )


def test_the_default_chart_is_made_at_the_first_posting(tenant):
    assert not ChartOfAccounts.objects.exists()
    spend = spend_settled(tenant.employee, "10.00", merchant="Delta", category="travel")

    assert lines_of(spend) == {Account.Kind.EXPENSE: ("6100", ""), Account.Kind.CARD_FUNDING: ("2100", "")}
    assert ChartOfAccounts.objects.of(tenant.organization).get().default_expense_account.code == "6000"
    assert GLAccount.objects.of(tenant.organization).count() == len(DEFAULT_GL_ACCOUNTS)
    assert GLMapping.objects.of(tenant.organization).filter(kind=GLMapping.Kind.CATEGORY).count() == len(
        DEFAULT_CATEGORY_CODES
    )


def test_merchant_beats_category_beats_department_beats_the_default(tenant):
    research = account(tenant, "6900", "Research")
    flights = account(tenant, "6105", "Flights")
    rule(tenant, GLMapping.Kind.DEPARTMENT, research, department_id=tenant.department.id, cost_centre="ENG-100")
    rule(tenant, GLMapping.Kind.MERCHANT, flights, merchant="Delta Air")
    other = DepartmentFactory(organization=tenant.organization, name="Sales")
    seller = UserFactory(role=Role.EMPLOYEE, department=other)

    by_merchant = spend_submit(tenant.employee, "1.00", merchant="DELTA air", category="travel")
    by_category = spend_submit(tenant.employee, "2.00", merchant="United", category="travel")
    by_department = spend_submit(tenant.employee, "3.00", merchant="Corner shop", category="sundries")
    by_default = spend_submit(seller, "4.00", merchant="Corner shop", category="sundries")
    settle_all(tenant.organization)

    # The cost centre is the department's, whichever rule chose the account; the card line has none.
    assert lines_of(by_merchant)[Account.Kind.EXPENSE] == ("6105", "ENG-100")
    assert lines_of(by_category)[Account.Kind.EXPENSE] == ("6100", "ENG-100")
    assert lines_of(by_department)[Account.Kind.EXPENSE] == ("6900", "ENG-100")
    assert lines_of(by_default) == {Account.Kind.EXPENSE: ("6000", ""), Account.Kind.CARD_FUNDING: ("2100", "")}


def test_a_department_without_a_rule_takes_its_nearest_ancestors(tenant):
    research = account(tenant, "6900", "Research")
    rule(tenant, GLMapping.Kind.DEPARTMENT, research, department_id=tenant.department.id, cost_centre="ENG-100")
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    engineer = UserFactory(role=Role.EMPLOYEE, department=platform)

    spend = spend_settled(engineer, "5.00", merchant="Corner shop", category="sundries")

    assert lines_of(spend)[Account.Kind.EXPENSE] == ("6900", "ENG-100")


def test_claims_owe_and_payouts_clear_on_the_ledger_account_kinds_codes(tenant):
    claim = claim_submit(tenant.employee, "25.00", category="meals")
    settle_all(tenant.organization)
    batch = batch_of_all(tenant.finance)
    reimbursement_services.batch_release(actor=tenant.finance, batch_id=batch.id)

    codes = sorted(Entry.objects.filter(transaction_id=claim.id).values_list("amount_minor", "gl_code", "cost_centre"))
    assert codes == [(-2500, "1150", ""), (-2500, "2200", ""), (2500, "2200", ""), (2500, "6150", "")]


def test_a_chart_change_rewrites_no_posted_line_and_a_reversal_carries_its_originals(tenant):
    research = account(tenant, "6900", "Research")
    department_rule = rule(
        tenant, GLMapping.Kind.DEPARTMENT, research, department_id=tenant.department.id, cost_centre="ENG-100"
    )
    spend = spend_settled(tenant.employee, "40.00", merchant="Delta", category="travel")
    posted = lines_of(spend)
    assert posted[Account.Kind.EXPENSE] == ("6100", "ENG-100")

    # Travel moves to another account, the department to another cost centre, the card liability is renumbered.
    travel = GLMapping.objects.of(tenant.organization).get(kind=GLMapping.Kind.CATEGORY, category="travel")
    gl_mapping_save(
        organization=tenant.organization,
        fields=MappingFields(
            kind="category", gl_account_id=account(tenant, "6190", "Travel (new)").id, category="travel"
        ),
        mapping=travel,
    )
    gl_mapping_save(
        organization=tenant.organization,
        fields=MappingFields(
            kind="department", gl_account_id=research.id, department_id=tenant.department.id, cost_centre="ENG-200"
        ),
        mapping=department_rule,
    )
    card = GLAccount.objects.of(tenant.organization).get(code="2100")
    gl_account_save(
        organization=tenant.organization,
        fields=AccountFields(code="2105", name=card.name, type=card.type, is_active=True),
        account=card,
    )

    reversal = spend_reverse(tenant.finance, spend)
    later = spend_settled(tenant.employee, "40.00", merchant="Delta", category="travel")

    assert lines_of(spend) == posted
    assert lines_of(reversal) == posted
    assert sorted(Entry.objects.filter(transaction_id=reversal.id).values_list("amount_minor", flat=True)) == [
        -4000,
        4000,
    ]
    assert lines_of(later) == {Account.Kind.EXPENSE: ("6190", "ENG-200"), Account.Kind.CARD_FUNDING: ("2105", "")}


def test_a_posting_reads_the_chart_in_as_many_queries_for_one_journal_as_for_twenty(tenant):
    spends = [spend_submit(tenant.employee, "1.00", merchant=f"Shop {n}", category="meals") for n in range(21)]
    with transaction.atomic():
        chart_ensure(organization=tenant.organization)

    def queries_to_write(batch) -> int:
        journals = [
            Journal(
                transaction_id=spend.id,
                department_id=spend.department_id,
                amount_minor=spend.amount_minor,
                kind=spend.kind,
                employee_id=spend.employee_id,
                merchant=spend.merchant,
                category=spend.category,
            )
            for spend in batch
        ]
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            journal_write(organization=tenant.organization, journals=journals, now=timezone.now())
            transaction.set_rollback(True)
        return len(captured.captured_queries)

    assert queries_to_write(spends[:1]) == queries_to_write(spends[1:])


@pytest.mark.parametrize("serializable", [False, True], ids=["read-committed", "serializable"])
def test_racing_first_uses_make_one_default_chart_and_none_fails(serializable):
    tenant = Tenant("Racing")

    def make(index: int) -> None:
        def ensure() -> None:
            chart_ensure(organization=tenant.organization)
            time.sleep(0.2)  # the transaction stays open while the others reach their INSERT

        if serializable:
            run_serializable(ensure)
        else:
            with transaction.atomic():
                ensure()

    run_in_threads(4, make)

    assert ChartOfAccounts.objects.of(tenant.organization).count() == 1
    assert GLAccount.objects.of(tenant.organization).count() == len(DEFAULT_GL_ACCOUNTS)


def test_a_first_posting_racing_a_first_back_office_edit_both_succeed():
    tenant = Tenant("Racing")
    spends = [spend_submit(tenant.employee, "3.00", category="travel") for _ in range(3)]

    def act(index: int) -> None:
        if index == 0:
            settle_all(tenant.organization)
        else:
            account(tenant, f"70{index}0", f"Added {index}")

    run_in_threads(3, act)

    assert ChartOfAccounts.objects.of(tenant.organization).count() == 1
    assert GLAccount.objects.of(tenant.organization).count() == len(DEFAULT_GL_ACCOUNTS) + 2
    for spend in spends:
        assert lines_of(spend) == {Account.Kind.EXPENSE: ("6100", ""), Account.Kind.CARD_FUNDING: ("2100", "")}


def test_the_migration_gives_existing_organizations_the_chart_the_first_posting_would(tenant, other_tenant):
    migration = import_module("apps.ledger.migrations.0021_default_charts")
    chart_ensure(organization=other_tenant.organization)
    migration.default_charts_create(apps, None)
    migration.default_charts_create(apps, None)  # an organization with a chart is left alone

    def chart_of(each) -> tuple:
        mappings = GLMapping.objects.of(each.organization)
        return (
            ChartOfAccounts.objects.of(each.organization).get().default_expense_account.code,
            sorted(GLAccount.objects.of(each.organization).values_list("code", "name", "type", "is_active")),
            sorted(mappings.values_list("kind", "category", "ledger_account_kind", "gl_account__code")),
        )

    assert chart_of(tenant) == chart_of(other_tenant)
    assert ChartOfAccounts.objects.count() == 2
